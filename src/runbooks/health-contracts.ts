/**
 * Frozen names and wire schemas of Cutover's own health machinery (issue #6): the regional circuit breaker entity,
 * its operations, and the failback runbook.
 *
 * History and entity state store these names: renaming one strands existing breakers and in-flight failbacks, so a
 * breaking change gets a new name instead. Every input and stored state is parsed with these schemas at the boundary,
 * because entity state is data written by a previous version of this code.
 */
import { z } from "zod";
import { breakerStateSchema, type BreakerConfigInput } from "../domain/circuit-breaker";
import { evidenceSchema } from "../domain/probe-evidence";
import { topologySchema, zoneSchema } from "../domain/topology";
import { failbackOptionsSchema } from "../domain/failback";
import { scopeSchema, type Scope } from "./contracts";

export const ENTITIES = {
  /** One per workload-region (`chat:eastus2`) and per workload-region-zone (`chat:eastus2:1`). */
  breaker: "breaker",
} as const;

export const BREAKER_OPERATIONS = {
  /** Apply evidence (possibly none: a tick) at `now`; returns {@link BreakerRecordResult}. */
  record: "record",
  /** The starter reports what became of an opening in the outbox. */
  acknowledge: "acknowledge",
  /** The whole state (null before the first `record`). */
  get: "get",
  /** Judges a failback step's hold on the evidence kept here; returns a small verdict. */
  evaluateFailbackGate: "evaluateFailbackGate",
} as const;

export const HEALTH_ORCHESTRATIONS = {
  failbackWorkload: "failbackWorkload",
} as const;

/** Entity key of the breaker for a workload's scope: `workload:region` or `workload:region:zone`. */
export function breakerKey(workload: string, scope: Scope): string {
  return scope.zone === undefined ? `${workload}:${scope.region}` : `${workload}:${scope.region}:${scope.zone}`;
}

/** Inverse of {@link breakerKey}; undefined for a key that is not one. */
export function parseBreakerKey(key: string): { workload: string; scope: Scope } | undefined {
  const parts = key.split(":");
  const [workload, region, zone] = parts;
  if (parts.length < 2 || parts.length > 3 || workload === undefined || region === undefined) return undefined;
  if (workload === "" || region === "") return undefined;
  if (zone === undefined) return { workload, scope: { region } };
  const z = zoneSchema.safeParse(zone);
  return z.success ? { workload, scope: { region, zone: z.data } } : undefined;
}

/** Deterministic id of the failback of one failover: at most one failback per failover, however often it is asked. */
export function failbackInstanceId(failoverInstanceId: string): string {
  return `failback-${failoverInstanceId}`;
}

const ms = z.number().int().min(0);

/** `record`: evidence in any order (applied by time), the caller's clock, and the breaker configuration to use. */
export const recordInputSchema = z.strictObject({
  now: ms,
  /** Breaker configuration input (parsed by the entity with `parseBreakerConfig`). */
  config: z.record(z.string(), z.unknown()),
  evidence: z.array(evidenceSchema).max(500),
  /**
   * Timestamp of the Monitor metric point the GPU evidence was read from: GPU evidence from a point the breaker has
   * already seen is dropped, so that polling a 1-minute metric every 10 s does not count one point six times.
   */
  gpuMetricAt: ms.optional(),
  /**
   * The round found a GPU pool of this zone changing (scaling) at this time. Monitor serves a minute's point 20–60 s
   * after it ends, so a point that starts before the zone settled describes the zone before the change (nodes not yet
   * counted) and is dropped as GPU evidence; a change of the expected node count does the same.
   */
  gpuUnsettledAt: ms.optional(),
});
export type RecordInput = Omit<z.input<typeof recordInputSchema>, "config"> & { readonly config: BreakerConfigInput };

export const ACK_OUTCOMES = ["started", "joined", "refused", "observed", "failed"] as const;
export type AckOutcome = (typeof ACK_OUTCOMES)[number];

export const acknowledgeInputSchema = z.strictObject({
  openingId: z.string().min(1),
  at: ms,
  outcome: z.enum(ACK_OUTCOMES),
  instanceId: z.string().optional(),
  detail: z.string().max(500),
});
export type AcknowledgeInput = z.input<typeof acknowledgeInputSchema>;

/** A closed → open transition waiting for the starter (the probe timer) to start or join its failover. */
export const openingSchema = z.strictObject({
  id: z.string().min(1),
  at: ms,
  reason: z.string(),
  detail: z.string(),
  attempts: z.number().int().min(0),
  lastAttemptAt: ms.optional(),
  lastOutcome: z.string().optional(),
});
export type Opening = z.infer<typeof openingSchema>;

export const handledOpeningSchema = z.strictObject({
  id: z.string().min(1),
  at: ms,
  handledAt: ms,
  outcome: z.enum([...ACK_OUTCOMES, "dropped"]),
  instanceId: z.string().optional(),
  detail: z.string(),
});
export type HandledOpening = z.infer<typeof handledOpeningSchema>;

export const breakerEntityStateSchema = z.strictObject({
  version: z.literal(1),
  workload: z.string().min(1),
  scope: scopeSchema,
  breaker: breakerStateSchema,
  /** Openings not yet acted on (bounded): the outbox the starter drains. */
  outbox: z.array(openingSchema),
  /** What became of past openings, newest last (bounded). */
  handled: z.array(handledOpeningSchema),
  /** Recent evidence, oldest first (bounded): what a failback's step gate judges. */
  recent: z.array(evidenceSchema),
  lastGpuMetricAt: ms.optional(),
  /** Nodes the latest GPU evidence expected in the zone, and when the zone last changed (scaling or a new count). */
  gpuExpectedNodes: z.number().int().min(0).optional(),
  gpuChangedAt: ms.optional(),
  /** The configuration last applied (for the API view). */
  config: z.record(z.string(), z.unknown()),
  updatedAt: ms,
});
export type BreakerEntityState = z.infer<typeof breakerEntityStateSchema>;

/** What `record` returns to a caller that awaits it. */
export interface BreakerRecordResult {
  readonly state: BreakerEntityState;
  readonly transitions: BreakerEntityState["breaker"]["transitions"];
}

// ------------------------------------------------------------------------------------------------------------------
// Failback runbook.

/**
 * A failback refused for a reason time can cure, or that relapsed, is attempted at most this many times in all
 * (src/health/failback-check.ts).
 */
export const FAILBACK_MAX_ATTEMPTS = 10;

/**
 * One earlier attempt of a failback that did not succeed, as a later attempt records it (the check retries refused and
 * relapsed ones; an operator's `POST /api/failovers/{id}/failback` any of them).
 */
const failbackAttemptSchema = z.strictObject({
  outcome: z.enum(["refused", "relapsed", "aborted", "failed"]).default("refused"),
  startedAt: z.string().min(1),
  endedAt: z.string().min(1),
  reasons: z.array(z.string()).max(20),
});
export type FailbackAttempt = z.infer<typeof failbackAttemptSchema>;
export type FailbackAttemptInit = z.input<typeof failbackAttemptSchema>;

export const failbackInputSchema = z.strictObject({
  workload: z.string().min(1),
  scope: scopeSchema,
  /** The failover this failback undoes. */
  failoverInstanceId: z.string().min(1),
  /**
   * Pool counts before the failover, from its plan (`from` of each pool it changed). Pools the plan did not change
   * fall back to the topology's `current` counts.
   */
  poolsBefore: z.array(z.strictObject({ region: z.string(), pool: z.string(), count: z.number().int().min(0) })),
  /** Who or what started it, for the record. */
  startedBy: z.string().min(1),
  /**
   * Earlier attempts of this failback (same instance id), oldest first: refused for a reason time can cure, or
   * relapsed. A new attempt replaces the finished instance, and its report keeps theirs (nothing is lost).
   */
  earlierAttempts: z.array(failbackAttemptSchema).max(50).default([]),
  /** The topology as it was when the failback started; the runbook never reads config. */
  topology: topologySchema,
  options: z
    .strictObject({
      failback: failbackOptionsSchema,
      pollSeconds: z.number().int().min(1).max(300).default(15),
      /** Each step's Front Door change must have propagated within this long, else the failback returns to safety. */
      propagationTimeoutSeconds: z.number().int().min(60).default(1800),
      scaleTimeoutSeconds: z.number().int().min(60).default(1200),
      warmTimeoutSeconds: z.number().int().min(60).default(1200),
      /** How long an approval is waited for before the failback gives up (traffic stays where it is). */
      approvalTimeoutSeconds: z.number().int().min(60).default(86_400),
      /** How long a hold may wait for enough probes before it counts as failed. */
      holdTimeoutSeconds: z.number().int().min(60).default(3600),
    })
    .prefault({}),
});
export type FailbackInput = z.infer<typeof failbackInputSchema>;
export type FailbackInputInit = z.input<typeof failbackInputSchema>;

export const FAILBACK_OUTCOMES = ["succeeded", "refused", "relapsed", "aborted", "failed"] as const;
export type FailbackOutcome = (typeof FAILBACK_OUTCOMES)[number];

export interface FailbackStepRecord {
  readonly index: number;
  readonly target: number | "original";
  readonly share: number;
  readonly appliedAt?: string;
  readonly propagatedAt?: string;
  readonly passedAt?: string;
  readonly verdict?: string;
}

/** Custom status while a failback runs (phase `approval` while it waits for one). */
export interface FailbackStatus {
  readonly kind: "failback";
  readonly phase: "plan" | "prepare" | "approval" | "step" | "hold" | "scale-down" | "safe-state" | "done";
  readonly workload: string;
  readonly scope: Scope;
  readonly step?: number;
  readonly steps: ReadonlyArray<FailbackStepRecord>;
  readonly detail?: string;
  readonly outcome?: FailbackOutcome;
}

/** The failback's output (also saved as its report). */
export interface FailbackReport {
  readonly kind: "failback";
  readonly workload: string;
  readonly scope: Scope;
  readonly failoverInstanceId: string;
  readonly outcome: FailbackOutcome;
  readonly reasons: ReadonlyArray<string>;
  /** A refusal only: whether a later attempt can succeed (every reason is one time can cure). */
  readonly retryable?: boolean;
  /** Earlier attempts this one replaced (see `FailbackInput.earlierAttempts`). */
  readonly earlierAttempts?: ReadonlyArray<FailbackAttempt>;
  readonly steps: ReadonlyArray<FailbackStepRecord>;
  readonly notes: ReadonlyArray<string>;
  readonly capacity: ReadonlyArray<{
    readonly region: string;
    readonly pool: string;
    readonly to: number;
    readonly outcome: string;
  }>;
  readonly safeState?: ReadonlyArray<{ readonly action: string; readonly outcome: string }>;
  readonly timeline: ReadonlyArray<{ readonly at: string; readonly event: string }>;
  readonly startedAt: string;
  readonly endedAt: string;
}

/** Whether a finished failback ended in a way a later attempt can follow: a retryable refusal, or a relapse. */
export function failbackRetryableEnd(report: FailbackReport | undefined): boolean {
  return (
    report?.kind === "failback" &&
    ((report.outcome === "refused" && report.retryable === true) || report.outcome === "relapsed")
  );
}

/**
 * Whether a finished failback's report lets it be tried again at all: a retryable end with attempts left. When it is
 * tried again is the failback check's back-off (src/health/failback-check.ts).
 */
export function failbackMayBeRetried(report: FailbackReport | undefined): boolean {
  return failbackRetryableEnd(report) && (report?.earlierAttempts?.length ?? 0) + 1 < FAILBACK_MAX_ATTEMPTS;
}
