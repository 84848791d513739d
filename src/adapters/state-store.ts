/**
 * Cutover's own state in its storage account: health gates and failover reports (blobs), scope claims (blobs with
 * etag compare-and-swap: the exactly-once rule for failovers), and the alert log (a table). Identity-based in Azure,
 * a connection string locally.
 */
import { RestError } from "@azure/core-rest-pipeline";
import type { TableClient } from "@azure/data-tables";
import { type TableEntity, type TransactionAction } from "@azure/data-tables";
import type { ContainerClient } from "@azure/storage-blob";
import type { GatePort, GateRecord, ReportPort } from "../activities/ports";
import { CutoverError } from "../domain/errors";
import { toCutoverError } from "./rest-errors";

export const STATE_CONTAINER = "cutover";
export const ALERT_TABLE = "CutoverAlerts";

/** The claim on a workload + scope: which failover generation owns it. */
export interface ScopeClaim {
  readonly generation: number;
  readonly instanceId: string;
  readonly claimedAt: string;
  readonly trigger: string;
}

export interface AlertRecord {
  readonly receivedAt: string;
  readonly alertId: string;
  readonly rule: string;
  readonly condition: string;
  readonly severity: string;
  readonly outcome: "started" | "joined" | "ignored" | "resolved" | "rejected";
  readonly targets: string;
  readonly instanceIds: string;
  readonly reason: string;
}

async function readJson<T>(container: ContainerClient, name: string): Promise<{ value: T; etag: string } | undefined> {
  const blob = container.getBlobClient(name);
  try {
    const response = await blob.download();
    const body = await streamToString(response.readableStreamBody);
    return { value: JSON.parse(body) as T, etag: response.etag ?? "" };
  } catch (error) {
    if (error instanceof RestError && error.statusCode === 404) return undefined;
    throw error;
  }
}

async function streamToString(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (stream === undefined) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function safeSegment(value: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(value))
    throw new CutoverError("INVALID_INPUT", `unsafe name segment ${JSON.stringify(value)}`);
  return value;
}

/** An alert record waiting for its table write, and the caller waiting on it. */
interface PendingRecord {
  readonly entity: TableEntity<AlertRecord>;
  /** Upper bound of its size on the wire (UTF-8 bytes of its strings), for the transaction's 4 MiB limit. */
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Azure Table transactions: at most 100 entities, 4 MiB of payload, one partition (docs: "Performing entity group transactions"). */
const TRANSACTION_ENTITIES = 100;
const TRANSACTION_BYTES = 3 * 1024 * 1024;

export class StateStore implements GatePort, ReportPort {
  private ready: Promise<void> | undefined;
  /** Alert records waiting per partition (day), and the partitions with a write in flight. */
  readonly #pendingRecords = new Map<string, PendingRecord[]>();
  readonly #writingRecords = new Set<string>();
  /** Claim reads in flight, by blob name. */
  readonly #claimReads = new Map<string, Promise<{ claim: ScopeClaim; etag: string } | undefined>>();

  constructor(
    private readonly container: ContainerClient,
    private readonly alerts: TableClient,
  ) {}

  /** Creates the container and table once per process. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await this.container.createIfNotExists();
      try {
        await this.alerts.createTable();
      } catch (error) {
        if (!(error instanceof RestError && error.statusCode === 409)) throw error;
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw toCutoverError(error, "initialise the state store");
    });
    return this.ready;
  }

  async get(workload: string, region: string): Promise<GateRecord | undefined> {
    await this.init();
    try {
      return (await readJson<GateRecord>(this.container, `gates/${safeSegment(workload)}/${safeSegment(region)}.json`))
        ?.value;
    } catch (error) {
      throw toCutoverError(error, `read gate ${workload}/${region}`);
    }
  }

  async set(workload: string, region: string, record: GateRecord): Promise<void> {
    await this.init();
    const body = JSON.stringify(record);
    try {
      await this.container
        .getBlockBlobClient(`gates/${safeSegment(workload)}/${safeSegment(region)}.json`)
        .upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: "application/json" } });
    } catch (error) {
      throw toCutoverError(error, `write gate ${workload}/${region}`);
    }
  }

  async saveReport(instanceId: string, report: unknown): Promise<void> {
    await this.init();
    const body = JSON.stringify(report, null, 2);
    try {
      await this.container
        .getBlockBlobClient(`reports/${safeSegment(instanceId)}.json`)
        .upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: "application/json" } });
    } catch (error) {
      throw toCutoverError(error, `save report ${instanceId}`);
    }
  }

  async getReport(instanceId: string): Promise<unknown> {
    await this.init();
    try {
      return (await readJson<unknown>(this.container, `reports/${safeSegment(instanceId)}.json`))?.value;
    } catch (error) {
      throw toCutoverError(error, `read report ${instanceId}`);
    }
  }

  private claimName(workload: string, region: string, zone: string | undefined): string {
    return `claims/${safeSegment(workload)}/${safeSegment(region)}/${zone === undefined ? "all" : safeSegment(zone)}.json`;
  }

  /**
   * The scope's claim and its etag. Reads of one claim that overlap share one request: a caller that asks while a read
   * is in flight gets that read's answer, which is what it would have read arriving a moment earlier. That is all the
   * claim protocol needs, since acting on a claim goes through the etag compare-and-swap of {@link writeClaim}, and a
   * read that starts after a write finished always sees it.
   */
  async readClaim(
    workload: string,
    region: string,
    zone: string | undefined,
  ): Promise<{ claim: ScopeClaim; etag: string } | undefined> {
    const name = this.claimName(workload, region, zone);
    const pending = this.#claimReads.get(name);
    if (pending !== undefined) return pending;
    const read = (async () => {
      await this.init();
      try {
        const found = await readJson<ScopeClaim>(this.container, name);
        return found === undefined ? undefined : { claim: found.value, etag: found.etag };
      } catch (error) {
        throw toCutoverError(error, `read claim ${workload}/${region}`);
      }
    })().finally(() => this.#claimReads.delete(name));
    this.#claimReads.set(name, read);
    return read;
  }

  /**
   * Compare-and-swap: writes `claim` only if the stored claim still has `etag` (or, with `etag` undefined, only if
   * there is none). Returns false when someone else won the race.
   */
  async writeClaim(
    workload: string,
    region: string,
    zone: string | undefined,
    claim: ScopeClaim,
    etag: string | undefined,
  ): Promise<boolean> {
    await this.init();
    const body = JSON.stringify(claim);
    try {
      await this.container
        .getBlockBlobClient(this.claimName(workload, region, zone))
        .upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: "application/json" },
          conditions: etag === undefined ? { ifNoneMatch: "*" } : { ifMatch: etag },
        });
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return false;
      throw toCutoverError(error, `write claim ${workload}/${region}`);
    }
  }

  /**
   * Inserts one alert record; resolves once it is stored. Group commit: while a write to the day's partition is in
   * flight, the records that arrive meanwhile wait and then go together in one entity group transaction (atomic, one
   * round trip), so an alert storm costs a table call per batch rather than per alert, and a quiet period costs no
   * added wait. A transaction that fails is retried entity by entity, so each caller learns its own record's fate
   * (409 there means an earlier attempt stored it: row keys are unique per alert).
   */
  async recordAlert(record: AlertRecord, sequence: string): Promise<void> {
    await this.init();
    const entity: TableEntity<AlertRecord> = {
      partitionKey: record.receivedAt.slice(0, 10),
      rowKey: sequence,
      ...record,
    };
    let chars = sequence.length;
    for (const value of Object.values(record) as string[]) chars += value.length;
    await new Promise<void>((resolve, reject) => {
      const queue = this.#pendingRecords.get(entity.partitionKey);
      const pending: PendingRecord = { entity, bytes: 3 * chars + 1024, resolve, reject };
      if (queue === undefined) this.#pendingRecords.set(entity.partitionKey, [pending]);
      else queue.push(pending);
      this.#flushRecords(entity.partitionKey);
    });
  }

  #flushRecords(partition: string): void {
    if (this.#writingRecords.has(partition)) return;
    const queue = this.#pendingRecords.get(partition);
    if (queue === undefined || queue.length === 0) return;
    let count = 0;
    let bytes = 0;
    while (count < queue.length && count < TRANSACTION_ENTITIES) {
      const next = queue[count]!.bytes;
      if (count > 0 && bytes + next > TRANSACTION_BYTES) break;
      bytes += next;
      count++;
    }
    const batch = queue.splice(0, count);
    if (queue.length === 0) this.#pendingRecords.delete(partition);
    this.#writingRecords.add(partition);
    void this.#writeRecords(batch).finally(() => {
      this.#writingRecords.delete(partition);
      this.#flushRecords(partition);
    });
  }

  async #writeRecords(batch: ReadonlyArray<PendingRecord>): Promise<void> {
    if (batch.length > 1) {
      try {
        // AlertRecord is an interface (no index signature), which TransactionAction's entity type asks for.
        await this.alerts.submitTransaction(
          batch.map((p): TransactionAction => [
            "create",
            p.entity as TableEntity<AlertRecord> & Record<string, unknown>,
          ]),
        );
        for (const p of batch) p.resolve();
        return;
      } catch {
        // One by one below: each caller gets its own record's outcome.
      }
    }
    await Promise.all(
      batch.map(async (p) => {
        try {
          await this.alerts.createEntity(p.entity);
          p.resolve();
        } catch (error) {
          if (batch.length > 1 && error instanceof RestError && error.statusCode === 409) p.resolve();
          else p.reject(toCutoverError(error, `record alert ${p.entity.alertId}`));
        }
      }),
    );
  }

  async listAlerts(day: string): Promise<AlertRecord[]> {
    await this.init();
    const out: AlertRecord[] = [];
    try {
      for await (const e of this.alerts.listEntities<AlertRecord>({
        queryOptions: { filter: `PartitionKey eq '${day.replace(/'/g, "''")}'` },
      })) {
        out.push({
          receivedAt: e.receivedAt,
          alertId: e.alertId,
          rule: e.rule,
          condition: e.condition,
          severity: e.severity,
          outcome: e.outcome,
          targets: e.targets,
          instanceIds: e.instanceIds,
          reason: e.reason,
        });
      }
    } catch (error) {
      throw toCutoverError(error, `list alerts of ${day}`);
    }
    return out;
  }
}
