/**
 * The planner's contract: what it is given and what it returns. The planner itself (planner.ts) is pure: the same
 * input always gives the same plan, so a runbook can call it from an activity and a drill can show it as a preview.
 */
import type { LatencyModel } from "./latency-model";
import type { Topology, Zone } from "./topology";

/** What failed: a whole region, or one zone of a region. */
export interface FailedScope {
  readonly region: string;
  readonly zone?: Zone | undefined;
}

/** Regions and zones known to be impaired right now, besides the failed scope. */
export interface HealthState {
  readonly impairedRegions: ReadonlyArray<string>;
  readonly impairedZones: ReadonlyArray<{ readonly region: string; readonly zone: Zone }>;
}

/**
 * Live node counts, keyed by {@link poolKey}. Pools absent here are taken at their topology `current`.
 * Also carries SKU/zone pairs that failed to allocate at run time: they are excluded like a matrix gap.
 */
export interface CapacityState {
  readonly pools: Readonly<Record<string, number>>;
  readonly unavailable?: ReadonlyArray<{
    readonly region: string;
    readonly zone: Zone;
    readonly vmSize: string;
    readonly reason: string;
  }>;
}

export function poolKey(workload: string, region: string, pool: string): string {
  return `${workload}/${region}/${pool}`;
}

export interface PlanInput {
  readonly topology: Topology;
  readonly scope: FailedScope;
  readonly health?: HealthState | undefined;
  readonly capacity?: CapacityState | undefined;
  /** Only plan this workload (the failover runbook plans one workload at a time). */
  readonly workload?: string | undefined;
  /** Defaults to DEFAULT_LATENCY_MODEL. */
  readonly latency?: LatencyModel | undefined;
  /** How the failure is detected, for the `detect` step's expected duration. Default `alert`. */
  readonly detection?: "alert" | "probe" | "none" | undefined;
  /**
   * What the caller knows about the model stores. Regions listed in `missing` lack the workload's model version, so
   * warming them includes a copy from another region's store. Without this hint the planner assumes the version is
   * present everywhere and says so in the plan's notes (the runbook checks at run time either way).
   */
  readonly modelStores?: ModelStoreHint | undefined;
}

export interface ModelStoreHint {
  readonly missing: ReadonlyArray<{ readonly workload: string; readonly region: string }>;
}

/** One candidate in a pool's fallback chain: where to put the capacity if the first choice cannot allocate. */
export interface PoolCandidate {
  readonly region: string;
  readonly pool: string;
  readonly zone: Zone;
  readonly vmSize: string;
  readonly cluster: { readonly resourceGroup: string; readonly name: string };
  /** Nodes the plan leaves this pool at unless it is used (a released hedge goes back to this count). */
  readonly from: number;
  /** Set-to count on this candidate that would cover the same GPUs. */
  readonly to: number;
  /**
   * True when `to` fits in the vCPU quota while the failed change still holds its own: the candidate may be asked for
   * in parallel with it (a hedge), not only after it failed.
   */
  readonly hedgeable: boolean;
  /** Why this candidate (e.g. "same zone, fallback SKU", "other zone"). */
  readonly why: string;
}

/** A set-to change of one pool. `to` is absolute (never add-to), so retries are harmless. */
export interface PoolChange {
  readonly region: string;
  readonly pool: string;
  readonly zone: Zone;
  readonly vmSize: string;
  readonly cluster: { readonly resourceGroup: string; readonly name: string };
  readonly from: number;
  readonly to: number;
  /**
   * Of `to`, nodes asked for beyond the need (the workload's `capacity.spareNodes`, within the pool's max and the
   * quota): the change is done once `to - spare` nodes are Ready. Absent: every node is needed.
   */
  readonly spare?: number;
  /** Ordered alternatives if this pool cannot allocate (from the capability matrix). */
  readonly fallbacks: ReadonlyArray<PoolCandidate>;
}

export interface OriginRef {
  readonly region: string;
  readonly origin: string;
}

export interface TrafficChange {
  readonly frontDoor: string;
  readonly kind: "standard" | "classic";
  /** Origins to drain (health gate first, then Front Door configuration). */
  readonly drain: ReadonlyArray<OriginRef>;
  /** Origins that take the load (stay or become enabled). */
  readonly take: ReadonlyArray<OriginRef & { readonly weight: number; readonly priority: number }>;
}

export interface WarmupStep {
  readonly region: string;
  readonly model: string;
  readonly version: string;
  /** True when the planner expects the target store to lack the version (the runbook checks at run time). */
  readonly copyFrom?: string;
}

export interface TrainingResume {
  readonly hub: string;
  readonly secondary: string;
  readonly runId: string;
}

export type StepKind =
  | "detect"
  | "decide"
  | "approve"
  | "scale"
  | "warm"
  | "drain-gate"
  | "probe-window"
  | "frontdoor"
  | "propagate"
  | "resume-training"
  | "verify"
  /** Added at run time: scales a hedge that lost the race back to its count before the failover (not on the RTO path). */
  | "release";

export interface PlanStep {
  /** Unique within the workload plan, e.g. `scale:westus3/a100z1`. */
  readonly id: string;
  readonly kind: StepKind;
  /** Ids of steps that must finish first. */
  readonly after: ReadonlyArray<string>;
  readonly expectedSeconds: number;
  /** True when the step is on the path to verified cutover (RTO); false for trailing work such as propagation. */
  readonly countsForRto: boolean;
  readonly region?: string;
  readonly zone?: Zone | undefined;
  readonly pool?: string;
  readonly detail?: string;
}

export interface WorkloadPlan {
  readonly status: "ok";
  readonly workload: string;
  readonly kind: "inference" | "training";
  /** Where the workload's load goes. For a zone failure recovered in-region, the region itself. */
  readonly target: { readonly region: string; readonly zones: ReadonlyArray<Zone> };
  /** Every region that takes load (the target first). */
  readonly targets: ReadonlyArray<{ readonly region: string; readonly zones: ReadonlyArray<Zone> }>;
  readonly pools: ReadonlyArray<PoolChange>;
  readonly traffic: TrafficChange | undefined;
  readonly warmups: ReadonlyArray<WarmupStep>;
  readonly training: TrainingResume | undefined;
  readonly steps: ReadonlyArray<PlanStep>;
  /** Ids along the longest path to `verify` (RTO). */
  readonly criticalPath: ReadonlyArray<string>;
  readonly predictedRtoSeconds: number;
  readonly notes: ReadonlyArray<string>;
  /**
   * How the workload's traffic is split after the plan, per region that serves it (the planner always fills this).
   * `loadGpus` is the region's share of `capacity.gpus` under the plan's weights; `gpus` what its pools in healthy zones
   * hold once the pool changes are done (never less than `loadGpus` rounded up).
   */
  readonly loads?: ReadonlyArray<RegionLoad>;
}

export interface RegionLoad {
  readonly region: string;
  readonly beforeGpus: number;
  readonly loadGpus: number;
  readonly gpus: number;
}

export interface WorkloadRefusal {
  readonly status: "refused";
  readonly workload: string;
  readonly kind: "inference" | "training";
  readonly reasons: ReadonlyArray<string>;
}

export interface PlanResult {
  /** `refused` when any affected workload was refused. */
  readonly status: "ok" | "refused";
  readonly scope: FailedScope;
  /** Every refusal reason, each prefixed with its workload. */
  readonly reasons: ReadonlyArray<string>;
  readonly workloads: ReadonlyArray<WorkloadPlan | WorkloadRefusal>;
  /** Largest predicted RTO among the planned workloads (0 when none). */
  readonly predictedRtoSeconds: number;
  /**
   * Plan-wide notes, each prefixed with its workload where it has one: workloads the scope leaves untouched and why,
   * or "nothing to do" when no workload is affected. The planner always fills this.
   */
  readonly notes?: ReadonlyArray<string>;
}
