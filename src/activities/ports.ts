/**
 * Ports: what activities need from the outside world. The composition root passes real adapters (Azure SDKs, Blob
 * storage, HTTP) in production and hand-written fakes in tests. Expected outcomes (a rejected scale, a missing model)
 * are returned as unions; adapters throw only `CutoverError`s, and only for transient or unexpected failures.
 */
import type { FrontDoor, ModelStore, Zone } from "../domain/topology";

export interface PoolRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly cluster: string;
  readonly pool: string;
}

export interface PoolObservation {
  readonly count: number;
  readonly provisioningState: string;
  readonly vmSize: string;
  readonly zones: ReadonlyArray<string>;
  /** Set when the last operation failed (AKS `status.provisioningError`). */
  readonly error?: { readonly code: string; readonly message: string };
}

export type ScaleBegin =
  | { readonly kind: "accepted"; readonly operation: string }
  | { readonly kind: "unchanged"; readonly count: number }
  | { readonly kind: "rejected"; readonly code: string; readonly message: string };

export interface OperationObservation {
  readonly status: "InProgress" | "Succeeded" | "Failed" | "Canceled";
  readonly error?: { readonly code: string; readonly message: string };
}

export interface AgentPoolPort {
  get(ref: PoolRef): Promise<PoolObservation>;
  /** Set-to: PUT the pool with `count` (read-modify-write with the pool's etag). */
  beginScale(ref: PoolRef, count: number): Promise<ScaleBegin>;
  /** One poll of the long-running operation started by `beginScale`. */
  operationStatus(ref: PoolRef, operation: string): Promise<OperationObservation>;
  /**
   * Asks AKS to abort the pool's running operation (agentPools/abort): provisioning stops, nodes already Ready stay
   * (an abort does not roll back), the operation ends Canceled. `nothing-running` when there was none to abort.
   */
  abortOperation(ref: PoolRef): Promise<"aborting" | "nothing-running">;
}

/**
 * One agent pool's nodes as the cluster's Kubernetes API reports them. ARM cannot say this: the agent-pool PUT stays
 * `Scaling` until every node is Ready and ARM has no per-pool Ready count, so a scale-up that asked for spares can
 * treat its capacity as there once `ready` reaches the number it needs. Invariant: `0 <= ready <= registered`.
 */
export interface PoolNodes {
  /** Nodes registered with the API server carrying the pool's label (`kubernetes.azure.com/agentpool=<pool>`). */
  readonly registered: number;
  /** Of those: condition Ready=True, not `spec.unschedulable`, and `status.allocatable["nvidia.com/gpu"]` ≥ 1. */
  readonly ready: number;
}

/** Read-only view of a cluster's nodes through its Kubernetes API server (not ARM). */
export interface ClusterNodesPort {
  /**
   * Counts the pool's nodes. Throws `CutoverError`: `UNAUTHORIZED` (missing permission, named in the message),
   * `NOT_FOUND` (unknown cluster), `TRANSIENT` / `TIMEOUT` / `THROTTLED` (retryable: API server unreachable, 5xx).
   */
  poolNodes(ref: PoolRef): Promise<PoolNodes>;
}

export interface OriginObservation {
  readonly name: string;
  readonly enabledState: "Enabled" | "Disabled";
  readonly weight: number;
  readonly priority: number;
  /** Standard/Premium: NotStarted | InProgress | Succeeded | Failed. Classic: the profile's resource state. */
  readonly deploymentStatus?: string;
  readonly provisioningState?: string;
}

export interface OriginPatch {
  readonly enabledState?: "Enabled" | "Disabled" | undefined;
  readonly weight?: number | undefined;
  readonly priority?: number | undefined;
}

export type OriginUpdate =
  | { readonly kind: "accepted" }
  | { readonly kind: "unchanged" }
  | { readonly kind: "rejected"; readonly code: string; readonly message: string };

export interface FrontDoorPort {
  listOrigins(subscriptionId: string, frontDoor: FrontDoor): Promise<OriginObservation[]>;
  /** Applies the patches (one ARM write for classic, one per origin for Standard/Premium); no write when unchanged. */
  updateOrigins(
    subscriptionId: string,
    frontDoor: FrontDoor,
    patches: ReadonlyMap<string, OriginPatch>,
  ): Promise<OriginUpdate>;
}

export type GateState = "open" | "drained";

export interface GateRecord {
  readonly state: GateState;
  readonly reason: string;
  readonly updatedAt: string;
  readonly by: string;
}

export interface GatePort {
  get(workload: string, region: string): Promise<GateRecord | undefined>;
  set(workload: string, region: string, record: GateRecord): Promise<void>;
}

export type ModelStatus =
  | { readonly kind: "present" }
  | { readonly kind: "absent" }
  | { readonly kind: "copying"; readonly detail: string }
  | { readonly kind: "failed"; readonly detail: string };

export interface ModelRef {
  readonly name: string;
  readonly version: string;
}

export interface ModelStorePort {
  status(store: ModelStore, model: ModelRef): Promise<ModelStatus>;
  /** Starts a server-side copy of the model version from `source` (idempotent: restarts only failed parts). */
  beginCopy(source: ModelStore, target: ModelStore, model: ModelRef): Promise<void>;
}

export interface EndpointHealth {
  /** HTTP status; 0 when the endpoint could not be reached. */
  readonly status: number;
  readonly modelVersion?: string;
  readonly latencyMs?: number;
  /**
   * The endpoint's own reason, from the JSON body's `status` when it sends one (the documented contract:
   * `ok`, `loading`, `cold`, `no-capacity`, `stale`, `degraded`, `drained`, `down`). `down` means the serving region
   * itself is impaired; the others describe a region that can still be a failover target.
   */
  readonly state?: string;
  readonly detail?: string;
}

export type WarmupResult =
  | { readonly kind: "loading"; readonly detail: string }
  | { readonly kind: "ready"; readonly modelVersion: string; readonly latencyMs: number }
  | { readonly kind: "error"; readonly status: number; readonly detail: string };

export interface EndpointPort {
  health(healthUrl: string): Promise<EndpointHealth>;
  warmup(warmupUrl: string, model: ModelRef): Promise<WarmupResult>;
}

export interface MetricsPort {
  /** Average origin health % of one Front Door origin over the last `minutes`; undefined when no data. */
  originHealthPercent(
    subscriptionId: string,
    frontDoor: FrontDoor,
    origin: string,
    minutes: number,
    region: string,
  ): Promise<number | undefined>;
}

export interface ReportPort {
  saveReport(instanceId: string, report: unknown): Promise<void>;
  getReport(instanceId: string): Promise<unknown>;
}

/** Everything the failover activities need. */
export interface FailoverPorts {
  readonly pools: AgentPoolPort;
  /** Per-pool node readiness from the cluster's Kubernetes API (registered / Ready with GPUs). */
  readonly nodes: ClusterNodesPort;
  readonly frontDoor: FrontDoorPort;
  readonly gates: GatePort;
  readonly models: ModelStorePort;
  readonly endpoints: EndpointPort;
  readonly metrics: MetricsPort;
  readonly reports: ReportPort;
  /** Epoch milliseconds; the real clock in production, the virtual one in the local host. */
  readonly now: () => number;
}

export type { Zone };
