/**
 * Cutover's own state in its storage account: health gates and failover reports (blobs), scope claims (blobs with
 * etag compare-and-swap: the exactly-once rule for failovers), and the alert log (a table). Identity-based in Azure,
 * a connection string locally.
 */
import { RestError } from "@azure/core-rest-pipeline";
import type { TableClient } from "@azure/data-tables";
import { type TableEntity } from "@azure/data-tables";
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

export class StateStore implements GatePort, ReportPort {
  private ready: Promise<void> | undefined;

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

  async readClaim(
    workload: string,
    region: string,
    zone: string | undefined,
  ): Promise<{ claim: ScopeClaim; etag: string } | undefined> {
    await this.init();
    try {
      const found = await readJson<ScopeClaim>(this.container, this.claimName(workload, region, zone));
      return found === undefined ? undefined : { claim: found.value, etag: found.etag };
    } catch (error) {
      throw toCutoverError(error, `read claim ${workload}/${region}`);
    }
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

  async recordAlert(record: AlertRecord, sequence: string): Promise<void> {
    await this.init();
    const entity: TableEntity<AlertRecord> = {
      partitionKey: record.receivedAt.slice(0, 10),
      rowKey: sequence,
      ...record,
    };
    try {
      await this.alerts.createEntity(entity);
    } catch (error) {
      throw toCutoverError(error, `record alert ${record.alertId}`);
    }
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
