/**
 * One Azurite reused by the simulations of a long-lived process (the `bench/rto` workers): starting Azurite costs
 * about a second of CPU and wall time per run, as much as a whole short scenario. Before each simulation the pool
 * empties every account (all blob containers and all tables; the app uses no queues) and checks that nothing is left,
 * so each simulation starts from the same empty storage a fresh Azurite would give it.
 *
 * Invariant: at most one simulation holds the pool's Azurite at a time (`acquire` refuses a second holder).
 */
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { AzureNamedKeyCredential, TableServiceClient } from "@azure/data-tables";
import { DEV_ACCOUNT, DEV_KEY, startAzurite, type Azurite, type AzuriteOptions } from "../azurite";

type Account = { readonly name: string; readonly key: string };

export class AzuritePool {
  #azurite: Azurite | undefined;
  #accounts = new Map<string, string>();
  #held = false;
  #starts = 0;

  /** How many Azurite processes the pool has started (1 while the accounts asked for stay the same). */
  get starts(): number {
    return this.#starts;
  }

  /**
   * An empty Azurite with (at least) the accounts asked for. Its `stop()` hands it back to the pool instead of
   * stopping it. Same signature as {@link startAzurite}, so a simulation takes either.
   */
  readonly acquire = async (options: AzuriteOptions = {}): Promise<Azurite> => {
    if (this.#held) throw new Error("[CONFLICT] the Azurite pool is already held by another simulation");
    if (options.location !== undefined) throw new Error("[INVALID_INPUT] a pooled Azurite keeps data in memory only");
    this.#held = true;
    try {
      const wanted = options.accounts ?? [];
      const missing = wanted.filter((a) => this.#accounts.get(a.name) !== a.key);
      if (this.#azurite === undefined || missing.length > 0) {
        await this.#azurite?.stop();
        for (const a of wanted) this.#accounts.set(a.name, a.key);
        const accounts = [...this.#accounts].map(([name, key]) => ({ name, key }));
        this.#azurite = await startAzurite({
          accounts,
          ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
        });
        this.#starts++;
      } else await this.#empty(this.#azurite);
      const azurite = this.#azurite;
      let released = false;
      return {
        ...azurite,
        stop: (): Promise<void> => {
          if (!released) {
            released = true;
            this.#held = false;
          }
          return Promise.resolve();
        },
      };
    } catch (error) {
      this.#held = false;
      throw error;
    }
  };

  /** Stops the pooled Azurite. */
  async close(): Promise<void> {
    const azurite = this.#azurite;
    this.#azurite = undefined;
    this.#accounts.clear();
    await azurite?.stop();
  }

  async #empty(azurite: Azurite): Promise<void> {
    const origin = new URL(azurite.blobEndpoint).origin;
    const tableOrigin = new URL(azurite.tableEndpoint).origin;
    const accounts: Account[] = [
      { name: DEV_ACCOUNT, key: DEV_KEY },
      ...[...this.#accounts].map(([name, key]) => ({ name, key })),
    ];
    await Promise.all(
      accounts.map(async ({ name, key }) => {
        const blobs = new BlobServiceClient(`${origin}/${name}`, new StorageSharedKeyCredential(name, key));
        const tables = new TableServiceClient(`${tableOrigin}/${name}`, new AzureNamedKeyCredential(name, key), {
          allowInsecureConnection: true,
        });
        const containers: string[] = [];
        for await (const c of blobs.listContainers()) containers.push(c.name);
        const tableNames: string[] = [];
        for await (const t of tables.listTables()) if (t.name !== undefined) tableNames.push(t.name);
        await Promise.all([
          ...containers.map((c) => blobs.getContainerClient(c).delete()),
          ...tableNames.map((t) => tables.deleteTable(t)),
        ]);
        // Nothing may be left: a leftover would make this simulation differ from one on a fresh Azurite.
        for await (const c of blobs.listContainers())
          throw new Error(`[INTERNAL] Azurite pool: container ${name}/${c.name} survived the reset`);
        for await (const t of tables.listTables())
          throw new Error(`[INTERNAL] Azurite pool: table ${name}/${t.name ?? "?"} survived the reset`);
      }),
    );
  }
}
