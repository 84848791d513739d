/**
 * A {@link HistoryStore} in an Azure Storage table (Azurite for long local runs): one row per instance, entity and
 * the host's meta record. A record's JSON is split over `d0…dN` string properties, because one property holds at
 * most 64 KiB; a row holds at most 1 MiB, so one instance's history is limited to about 900 KB of JSON (a clear
 * error says so when it is exceeded).
 *
 * Writes are queued per row and coalesced: the newest version of a row always wins, and a write never overtakes an
 * older one for the same row.
 */
import { TableClient, type TableEntity } from "@azure/data-tables";
import type { EntityRecord, HistoryStore, InstanceRecord, StoreMeta, StoreSnapshot } from "./store";

const CHUNK = 30_000;
const MAX_CHUNKS = 30;
type Partition = "instance" | "entity" | "meta";

export interface TableHistoryStoreOptions {
  /** Storage connection string (e.g. Azurite's). */
  readonly connectionString: string;
  /** Table name (3-63 letters and digits). Default `CutoverLocalHost`. */
  readonly tableName?: string;
}

interface Pending {
  json: string | undefined; // undefined: delete
  waiters: Array<{ ok: () => void; fail: (e: unknown) => void }>;
}

export class TableHistoryStore implements HistoryStore {
  readonly #client: TableClient;
  #created: Promise<void> | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #inFlight = new Set<string>();

  constructor(options: TableHistoryStoreOptions) {
    const name = options.tableName ?? "CutoverLocalHost";
    if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name)) {
      throw new Error(`table name ${JSON.stringify(name)} is invalid: 3-63 letters and digits, starting with a letter`);
    }
    this.#client = TableClient.fromConnectionString(options.connectionString, name, { allowInsecureConnection: true });
  }

  #ensureTable(): Promise<void> {
    this.#created ??= this.#client.createTable();
    return this.#created;
  }

  async load(): Promise<StoreSnapshot> {
    await this.#ensureTable();
    const instances: InstanceRecord[] = [];
    const entities: EntityRecord[] = [];
    let meta: StoreMeta | undefined;
    for await (const row of this.#client.listEntities<Record<string, unknown>>()) {
      const json = join(row);
      if (row.partitionKey === "instance") instances.push(JSON.parse(json) as InstanceRecord);
      else if (row.partitionKey === "entity") entities.push(JSON.parse(json) as EntityRecord);
      else if (row.partitionKey === "meta") meta = JSON.parse(json) as StoreMeta;
    }
    return { instances, entities, meta };
  }

  putInstance(record: InstanceRecord): Promise<void> {
    return this.#enqueue("instance", record.instanceId, JSON.stringify(record));
  }
  deleteInstance(instanceId: string): Promise<void> {
    return this.#enqueue("instance", instanceId, undefined);
  }
  putEntity(record: EntityRecord): Promise<void> {
    return this.#enqueue("entity", record.id, JSON.stringify(record));
  }
  putMeta(meta: StoreMeta): Promise<void> {
    return this.#enqueue("meta", "meta", JSON.stringify(meta));
  }

  #enqueue(partition: Partition, id: string, json: string | undefined): Promise<void> {
    if (json !== undefined && json.length > CHUNK * MAX_CHUNKS) {
      return Promise.reject(
        new Error(
          `${partition} ${id} is ${json.length} characters of JSON; the table store holds at most ${CHUNK * MAX_CHUNKS}`,
        ),
      );
    }
    const key = `${partition}\u0000${id}`;
    return new Promise<void>((ok, fail) => {
      const p = this.#pending.get(key);
      if (p !== undefined) {
        p.json = json;
        p.waiters.push({ ok, fail });
      } else this.#pending.set(key, { json, waiters: [{ ok, fail }] });
      void this.#drain(partition, id, key);
    });
  }

  async #drain(partition: Partition, id: string, key: string): Promise<void> {
    if (this.#inFlight.has(key)) return;
    this.#inFlight.add(key);
    try {
      for (;;) {
        const next = this.#pending.get(key);
        if (next === undefined) break;
        this.#pending.delete(key);
        try {
          await this.#ensureTable();
          const rowKey = Buffer.from(id, "utf8").toString("base64url");
          if (next.json === undefined) {
            await this.#client.deleteEntity(partition, rowKey).catch((e: { statusCode?: number }) => {
              if (e.statusCode !== 404) throw e;
            });
          } else {
            await this.#client.upsertEntity(split(partition, rowKey, next.json), "Replace");
          }
          for (const w of next.waiters) w.ok();
        } catch (error) {
          for (const w of next.waiters) w.fail(error);
        }
      }
    } finally {
      this.#inFlight.delete(key);
    }
  }
}

function split(partitionKey: string, rowKey: string, json: string): TableEntity<Record<string, unknown>> {
  const entity: TableEntity<Record<string, unknown>> = { partitionKey, rowKey, chunks: 0 };
  let n = 0;
  for (let i = 0; i < json.length; i += CHUNK) entity[`d${n++}`] = json.slice(i, i + CHUNK);
  entity["chunks"] = n;
  return entity;
}

function join(row: Record<string, unknown>): string {
  const n = Number(row["chunks"] ?? 0);
  let out = "";
  for (let i = 0; i < n; i++) {
    const part = row[`d${i}`];
    out += typeof part === "string" ? part : "";
  }
  return out;
}
