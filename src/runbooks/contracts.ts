/**
 * Frozen names of every durable function, and the zod schemas of what crosses the orchestration boundary.
 *
 * History stores these name strings: renaming one breaks in-flight instances, so a breaking change gets a new name
 * (or a version branch) instead. Inputs and outputs are parsed at every boundary, including the value a `yield`
 * returns, because history is data written by a previous version of this code.
 */
import { z } from "zod";
import { topologySchema, zoneSchema } from "../domain/topology";

export const ORCHESTRATIONS = {
  failoverWorkload: "failoverWorkload",
} as const;

export const ACTIVITIES = {
  confirmSignal: "confirmSignal",
  snapshotWorkload: "snapshotWorkload",
  planFailover: "planFailover",
  beginScalePool: "beginScalePool",
  getScaleStatus: "getScaleStatus",
  abortScalePool: "abortScalePool",
  ensureModel: "ensureModel",
  warmEndpoint: "warmEndpoint",
  setHealthGate: "setHealthGate",
  updateFrontDoor: "updateFrontDoor",
  getFrontDoorStatus: "getFrontDoorStatus",
  verifyCutover: "verifyCutover",
  checkOriginExcluded: "checkOriginExcluded",
  restoreTraffic: "restoreTraffic",
  saveReport: "saveReport",
} as const;

/** External events a failover waits for. */
export const EVENTS = {
  approval: "approval",
  abort: "abort",
  resolved: "resolved",
} as const;

/** "reason (by who)" from an approval or abort event's payload, whatever the caller sent. */
export function describeEvent(payload: unknown): string {
  if (typeof payload === "object" && payload !== null) {
    const p = payload as { by?: unknown; reason?: unknown };
    return `${typeof p.reason === "string" ? p.reason : "no reason given"} (by ${typeof p.by === "string" ? p.by : "unknown"})`;
  }
  return "no reason given";
}

export const scopeSchema = z.strictObject({ region: z.string().min(1), zone: zoneSchema.optional() });
export type Scope = z.infer<typeof scopeSchema>;

export const triggerSchema = z.strictObject({
  kind: z.enum(["alert", "probe", "drill", "manual"]),
  /** Alert id, drill id, or breaker reference. */
  reference: z.string().min(1),
  /** When the signal says the failure began or was detected (ISO 8601). */
  detectedAt: z.iso.datetime(),
  /** When Cutover received it (ISO 8601). */
  receivedAt: z.iso.datetime(),
});
export type Trigger = z.infer<typeof triggerSchema>;

export const failoverOptionsSchema = z.strictObject({
  pollSeconds: z.number().int().min(1).max(300).default(15),
  confirmWithMetrics: z.boolean().default(false),
  scaleTimeoutSeconds: z.number().int().min(60).default(900),
  warmTimeoutSeconds: z.number().int().min(60).default(1200),
  verifyTimeoutSeconds: z.number().int().min(60).default(600),
  propagationTimeoutSeconds: z.number().int().min(60).default(1800),
});
export type FailoverOptions = z.infer<typeof failoverOptionsSchema>;

export const failoverInputSchema = z.strictObject({
  workload: z.string().min(1),
  scope: scopeSchema,
  mode: z.enum(["live", "dry-run"]),
  trigger: triggerSchema,
  /** The topology as it was when the failover started; the runbook never reads config. */
  topology: topologySchema,
  options: failoverOptionsSchema.prefault({}),
});
export type FailoverInput = z.infer<typeof failoverInputSchema>;
export type FailoverInputInit = z.input<typeof failoverInputSchema>;

export const OUTCOMES = ["succeeded", "failed", "aborted", "refused", "not-confirmed", "dry-run"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const stepReportSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(["pending", "running", "done", "failed", "skipped"]),
  start: z.string().optional(),
  end: z.string().optional(),
  detail: z.string().optional(),
});
export type StepReport = z.infer<typeof stepReportSchema>;

/** Custom status, shown while the failover runs (kept small: the backend caps custom status size). */
export interface FailoverStatus {
  readonly phase:
    "confirm" | "snapshot" | "plan" | "approval" | "execute" | "verify" | "trailing" | "compensate" | "done";
  readonly workload: string;
  readonly scope: Scope;
  readonly mode: "live" | "dry-run";
  readonly current: ReadonlyArray<string>;
  readonly elapsedSeconds: number;
  readonly predictedRtoSeconds?: number;
  readonly predictedRemainingSeconds?: number;
  readonly rtoSeconds?: number;
  readonly steps: ReadonlyArray<StepReport>;
  readonly outcome?: Outcome;
}

export interface CompensationRecord {
  readonly action: string;
  readonly outcome: string;
}

/** The orchestration output and the stored report. */
export interface FailoverReport {
  readonly workload: string;
  readonly scope: Scope;
  readonly mode: "live" | "dry-run";
  readonly trigger: Trigger;
  readonly outcome: Outcome;
  readonly reasons: ReadonlyArray<string>;
  readonly plan?: unknown;
  readonly readiness?: ReadonlyArray<{ readonly check: string; readonly ok: boolean; readonly detail: string }>;
  readonly steps: ReadonlyArray<StepReport>;
  readonly timeline: ReadonlyArray<{ readonly at: string; readonly event: string }>;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly verifiedAt?: string;
  /** Seconds from the trigger's `detectedAt` to verified cutover. */
  readonly rtoSeconds?: number;
  readonly predictedRtoSeconds?: number;
  readonly compensation: ReadonlyArray<CompensationRecord>;
  /** Training workloads: the resume runbook's result (checkpoint step, epoch, work lost). */
  readonly training?: unknown;
  readonly scaleAttempts: ReadonlyArray<{
    readonly step: string;
    readonly region: string;
    readonly pool: string;
    readonly zone: string;
    readonly vmSize: string;
    readonly outcome: string;
  }>;
}

/** Activity result wire shape for execution steps (mirrors ExecResult in the domain). */
export const execResultSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("done"), detail: z.string().optional() }),
  z.object({
    kind: z.literal("pending"),
    detail: z.string().optional(),
    operation: z.string().optional(),
    retryAfterSeconds: z.number().optional(),
  }),
  z.object({ kind: z.literal("failed"), code: z.string(), detail: z.string() }),
  z.object({ kind: z.literal("transient"), detail: z.string(), retryAfterSeconds: z.number().optional() }),
]);

/** Deterministic instance id for a workload + scope + generation (see the alert handler's claim). */
export function failoverInstanceId(workload: string, scope: Scope, generation: number): string {
  return `failover-${workload}-${scope.region}-${scope.zone ?? "all"}-${generation}`;
}
