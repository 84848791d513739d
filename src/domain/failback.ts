/**
 * Failback: returning a workload's traffic to a scope that failed, once it has proven healthy, in steps.
 *
 * Why gradual, gated and reversible: a region that just recovered is the likeliest region to fail again (a half-fixed
 * network, a cold cache, a model store that is still replicating). Moving all of its traffic back at once turns a relapse
 * into a second outage. So traffic returns in weight steps (default 10% → 25% → 50% → the original split), each held
 * until the returning scope's health has held for a while, and any relapse drains it again at once.
 *
 * What the plan holds:
 * - `prepare`: the returning scope's pools set back to their pre-failover counts (set-to, never add-to) and the model
 *   warmed there, while its health gate stays drained (no traffic yet).
 * - `steps`: per step the full Front Door origin settings (and the patch from the previous step), the health-gate
 *   states, whether approval is needed before it, and the health check that must pass before the next step. Step 1
 *   enables the returning origin at a small weight while its gate is still drained, then opens the gate: the gate moves
 *   traffic within one Front Door probe window, the configuration change takes 3–20 min (azure-facts §1.3). While
 *   shares are stepped the returning origin sits at the serving origins' priority so that weights apply; the last step
 *   restores every origin's pre-failover enabled state, weight and priority.
 * - `scaleDown`: surge pools outside the returning scope set back to their pre-failover counts, after the last check.
 * - `safe`: where a relapse returns to (the failover's end state: returning gate drained, origins as they were when
 *   failback began, surge capacity kept or restored).
 *
 * Invariants:
 * - Refused (never planned) while the returning scope's breaker is not closed, has been closed for less than the soak
 *   time, or has an alert firing: never fail back into a region that is still impaired.
 * - Shares only increase step to step, and every Front Door weight is an integer in 1–1000.
 * - Capacity is never scaled below its pre-failover count, and surge capacity is only released after the last check.
 * - Pure: `now` is a parameter (epoch ms); inputs are plain data (the failover runbook's snapshot shape fits).
 */
import { z } from "zod";
import type { BreakerState } from "./circuit-breaker";
import { CutoverError } from "./errors";
import type { PoolChange } from "./plan";
import type { Evidence } from "./probe-evidence";
import { formatPath, zoneSchema, type Workload, type Zone } from "./topology";

// ------------------------------------------------------------------------------------------------------------------
// Inputs.

/** One Front Door origin's settings (the failover snapshot's `origins` entries fit). */
export interface OriginSetting {
  readonly region: string;
  readonly origin: string;
  readonly enabledState: "Enabled" | "Disabled";
  readonly weight: number;
  readonly priority: number;
}

export type GateState = "open" | "drained";

/** What the failover runbook's snapshot holds, as far as failback needs it. */
export interface FailbackSnapshot {
  readonly origins: ReadonlyArray<OriginSetting>;
  readonly pools: ReadonlyArray<{ readonly region: string; readonly pool: string; readonly count: number }>;
  readonly gates?: ReadonlyArray<{ readonly region: string; readonly state: GateState }>;
  /** What could not be read when the state was taken (a live snapshot's `errors`). */
  readonly errors?: ReadonlyArray<string>;
}

export const failbackScopeSchema = z.strictObject({ region: z.string().min(1), zone: zoneSchema.optional() });
export type FailbackScope = z.infer<typeof failbackScopeSchema>;

export const failbackOptionsSchema = z
  .strictObject({
    /**
     * The returning scope's breaker must have been closed this long. 30 min: longer than a stateful metric alert takes
     * to resolve (3 evaluations at up to PT5M) and than a Front Door propagation (up to 20 min, azure-facts §1.3), so
     * that a failback never starts on a recovery that the platform has not yet seen settle.
     */
    soakMs: z.number().int().min(0).default(1_800_000),
    /** Traffic shares (fractions of the workload's traffic) the returning region steps through before its original. */
    shares: z
      .array(z.number().gt(0).lt(1))
      .default([0.1, 0.25, 0.5])
      .refine((s) => s.every((x, i) => i === 0 || x > (s[i - 1] as number)), { message: "must strictly increase" }),
    /** Health must hold this long at each step before the next. 5 min: several probe rounds at 30 s. */
    holdMs: z.number().int().min(0).default(300_000),
    /** Probes needed during a hold before it can pass. */
    minProbes: z.number().int().min(1).default(5),
    /**
     * A hold fails (relapse) when failed probes exceed this fraction, judged once `minProbes` have arrived (one in five
     * is tolerated). A hard failure is caught sooner by the breaker itself, which opens after 3 failures in a row.
     */
    maxFailureRatio: z.number().min(0).max(1).default(0.2),
    /** …or when slow probes exceed this fraction. */
    maxSlowRatio: z.number().min(0).max(1).default(0.2),
    /** `before-start` (default): one approval before traffic moves; `every-step`; `none`. */
    approval: z.enum(["before-start", "every-step", "none"]).default("before-start"),
    /** Achieved share may differ from the target by this much (integer weights cannot hit every fraction). */
    shareTolerance: z.number().min(0).max(0.5).default(0.02),
  })
  .prefault({});
export type FailbackOptions = z.infer<typeof failbackOptionsSchema>;
export type FailbackOptionsInput = z.input<typeof failbackOptionsSchema>;

export interface FailbackInput {
  readonly workload: Workload;
  readonly scope: FailbackScope;
  /** State now, after the failover. */
  readonly current: FailbackSnapshot;
  /** The snapshot taken before the failover. */
  readonly before: FailbackSnapshot;
  /** The returning scope's breaker. */
  readonly breaker: BreakerState;
  readonly now: number;
  readonly options?: FailbackOptionsInput;
}

// ------------------------------------------------------------------------------------------------------------------
// Outputs.

export interface OriginPatch {
  readonly enabledState?: "Enabled" | "Disabled";
  readonly weight?: number;
  readonly priority?: number;
}

/** A set-to change of one pool (absolute, so a retry is harmless). */
export type PoolSetTo = Omit<PoolChange, "fallbacks">;

/** What must hold at a step before the next one (or the scale-down) may start. */
export interface FailbackCheck {
  readonly region: string;
  readonly zone?: Zone;
  readonly holdMs: number;
  readonly minProbes: number;
  readonly maxFailureRatio: number;
  readonly maxSlowRatio: number;
  readonly modelVersion: string;
  readonly latencySloMs: number;
}

export interface FailbackStep {
  /** 1-based. */
  readonly index: number;
  /** The returning region's intended share of the workload's traffic; `original` for the last step. */
  readonly target: number | "original";
  /** The share the integer weights give (from Front Door's weighted round robin over the serving priority). */
  readonly share: number;
  /** Every origin's settings at this step, by origin name. */
  readonly origins: Readonly<Record<string, OriginSetting>>;
  /** Only what changes from the previous step (what `updateFrontDoor` is given). */
  readonly patch: Readonly<Record<string, OriginPatch>>;
  /** Health-gate state per region at this step (set after the Front Door change has propagated). */
  readonly gates: Readonly<Record<string, GateState>>;
  readonly requiresApproval: boolean;
  readonly check: FailbackCheck;
}

export interface SafeState {
  /** Gates to set first (the fast lever). */
  readonly gates: Readonly<Record<string, GateState>>;
  /** Origin settings to restore (the failover's end state). */
  readonly origins: Readonly<Record<string, OriginSetting>>;
  /** Pools to set back to their surge counts (filled by {@link relapseSafeState} once the scale-down has begun). */
  readonly pools: ReadonlyArray<PoolSetTo>;
}

export interface FailbackPlan {
  readonly status: "ok";
  readonly workload: string;
  readonly scope: FailbackScope;
  readonly prepare: { readonly pools: ReadonlyArray<PoolSetTo>; readonly warm: boolean };
  readonly steps: ReadonlyArray<FailbackStep>;
  readonly scaleDown: ReadonlyArray<PoolSetTo>;
  readonly safe: SafeState;
  readonly notes: ReadonlyArray<string>;
}

export interface FailbackRefusal {
  readonly status: "refused";
  readonly workload: string;
  readonly scope: FailbackScope;
  readonly reasons: ReadonlyArray<string>;
  /** When the soak time would be over, if that is what stands in the way. */
  readonly earliestAt?: number;
  /**
   * Whether asking again later can succeed: true when every reason is one time can cure (the breaker, the soak, an
   * alert, a current state that could not be read), false when one is structural (a training workload, an origin the
   * topology lacks, no other origin serving).
   */
  readonly retryable: boolean;
}

// ------------------------------------------------------------------------------------------------------------------
// Planning.

const MAX_WEIGHT = 1000;

function scopeText(scope: FailbackScope): string {
  return scope.zone === undefined ? scope.region : `${scope.region} zone ${scope.zone}`;
}

function parseOptions(input: FailbackOptionsInput | undefined): FailbackOptions {
  const parsed = failbackOptionsSchema.safeParse(input ?? {});
  if (!parsed.success)
    throw new CutoverError(
      "INVALID_INPUT",
      `failback options: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

/** Why the scope's breaker does not allow a failback now (empty when it does). */
export function failbackBlockers(
  breaker: BreakerState,
  now: number,
  soakMs: number,
): { reasons: string[]; earliestAt?: number } {
  if (breaker.state !== "closed")
    return { reasons: [`its breaker is ${breaker.state} (since ${new Date(breaker.since).toISOString()})`] };
  const reasons: string[] = [];
  let earliestAt: number | undefined;
  const closedFor = Math.max(0, now - breaker.since);
  if (closedFor < soakMs) {
    earliestAt = breaker.since + soakMs;
    reasons.push(
      `its breaker has been closed for ${Math.round(closedFor / 1000)} s of the ${Math.round(soakMs / 1000)} s soak time (earliest ${new Date(earliestAt).toISOString()})`,
    );
  }
  if (breaker.alerts.length > 0)
    reasons.push(`alert(s) still firing for it: ${breaker.alerts.map((a) => a.alertId).join(", ")}`);
  return earliestAt === undefined ? { reasons } : { reasons, earliestAt };
}

/**
 * Plans the failback of `scope` for one workload, or refuses with every reason. Throws `CutoverError("INVALID_INPUT")`
 * only for malformed options or a scope outside the workload.
 */
export function planFailback(input: FailbackInput): FailbackPlan | FailbackRefusal {
  const options = parseOptions(input.options);
  const scopeParsed = failbackScopeSchema.safeParse(input.scope);
  if (!scopeParsed.success) throw new CutoverError("INVALID_INPUT", `failback scope: ${scopeParsed.error.message}`);
  const { workload, scope, current, before } = input;
  const entry = workload.regions[scope.region];
  if (entry === undefined)
    throw new CutoverError("INVALID_INPUT", `failback scope: ${workload.name} has no region ${scope.region}`);
  let structural = false;
  const refuse = (reasons: string[], earliestAt?: number): FailbackRefusal => ({
    status: "refused",
    workload: workload.name,
    scope,
    reasons: reasons.map((r) => `${workload.name}: not failing back to ${scopeText(scope)}: ${r}`),
    ...(earliestAt === undefined ? {} : { earliestAt }),
    retryable: !structural,
  });
  const permanent = (reason: string): void => {
    structural = true;
    blockers.reasons.push(reason);
  };

  const blockers = failbackBlockers(input.breaker, input.now, options.soakMs);
  if (workload.kind === "training")
    permanent("training workloads fail back by resuming in the hub (resumeTraining), not by traffic steps");
  const currentOrigins = new Map(current.origins.map((o) => [o.origin, o]));
  const beforeOrigins = new Map(before.origins.map((o) => [o.origin, o]));
  const returning = entry.origin;
  if (workload.kind === "inference") {
    if (returning === undefined) permanent(`${scope.region} has no Front Door origin in the topology`);
    else {
      if (!currentOrigins.has(returning))
        blockers.reasons.push(`origin ${returning} is missing from the current state${readErrors(current)}`);
      if (!beforeOrigins.has(returning)) permanent(`origin ${returning} is missing from the pre-failover snapshot`);
    }
  }
  // The returning scope's pools are set back before traffic returns: one that could not be read would be skipped, and
  // traffic would return to whatever capacity it has now.
  for (const pool of entry.gpuPools) {
    if (scope.zone !== undefined && pool.zone !== scope.zone) continue;
    const known = (s: FailbackSnapshot): boolean =>
      s.pools.some((p) => p.region === scope.region && p.pool === pool.name);
    if (known(before) && !known(current))
      blockers.reasons.push(
        `pool ${scope.region}/${pool.name} is missing from the current state${readErrors(current)}`,
      );
  }
  if (blockers.reasons.length > 0) return refuse(blockers.reasons, blockers.earliestAt);
  const origin = returning as string;

  const notes: string[] = [];
  const check: FailbackCheck = {
    region: scope.region,
    ...(scope.zone === undefined ? {} : { zone: scope.zone }),
    holdMs: options.holdMs,
    minProbes: options.minProbes,
    maxFailureRatio: options.maxFailureRatio,
    maxSlowRatio: options.maxSlowRatio,
    modelVersion: workload.model.version,
    latencySloMs: workload.slo.latencyMs,
  };

  // Capacity: the returning scope back to its pre-failover counts first; surge elsewhere released at the end.
  const poolChanges = capacityChanges(workload, scope, current, before, notes);

  // Traffic.
  const currentGates = gateMap(current, workload);
  const startOrigins = Object.fromEntries([...currentOrigins].filter(([name]) => isWorkloadOrigin(workload, name)));
  const finalOrigins = Object.fromEntries([...beforeOrigins].filter(([name]) => isWorkloadOrigin(workload, name)));
  const startShare = shareOf(origin, startOrigins, currentGates);
  const originalShare = shareOf(origin, finalOrigins, { ...currentGates, [scope.region]: "open" });

  const others = Object.values(startOrigins).filter((o) => o.origin !== origin && o.enabledState === "Enabled");
  const servingPriority = others.length === 0 ? undefined : Math.min(...others.map((o) => o.priority));
  if (servingPriority === undefined && startShare === 0) {
    structural = true;
    return refuse([`no other origin of ${workload.name} is serving: there is no traffic to return gradually`]);
  }

  const steps: FailbackStep[] = [];
  let previous: Record<string, OriginSetting> = { ...startOrigins };
  let gates: Record<string, GateState> = { ...currentGates };
  const approvalFor = (index: number): boolean =>
    options.approval === "every-step" || (options.approval === "before-start" && index === 1);

  const intermediate =
    servingPriority === undefined
      ? []
      : options.shares.filter(
          (s) => s > startShare + options.shareTolerance && s < originalShare - options.shareTolerance,
        );
  let lastShare = startShare;
  for (const target of intermediate) {
    const weights = weightsFor(target, bandOf(previous, origin, servingPriority as number), options.shareTolerance);
    const next: Record<string, OriginSetting> = { ...previous };
    for (const [name, weight] of Object.entries(weights.others))
      next[name] = { ...(previous[name] as OriginSetting), weight };
    next[origin] = {
      ...(previous[origin] as OriginSetting),
      enabledState: "Enabled",
      weight: weights.returning,
      priority: servingPriority as number,
    };
    const nextGates: Record<string, GateState> = { ...gates, [scope.region]: "open" };
    const share = shareOf(origin, next, nextGates);
    if (share <= lastShare || share >= originalShare) {
      notes.push(`the ${pct(target)} step is skipped: integer weights cannot put it between its neighbours`);
      continue;
    }
    if (Math.abs(share - target) > options.shareTolerance)
      notes.push(`step ${steps.length + 1}: integer weights give ${pct(share)} of traffic for a ${pct(target)} target`);
    steps.push({
      index: steps.length + 1,
      target,
      share: round4(share),
      origins: next,
      patch: patchBetween(previous, next),
      gates: nextGates,
      requiresApproval: approvalFor(steps.length + 1),
      check,
    });
    previous = next;
    gates = nextGates;
    lastShare = share;
  }

  const finalGates: Record<string, GateState> = { ...gates, [scope.region]: "open" };
  const finalPatch = patchBetween(previous, finalOrigins);
  if (Object.keys(finalPatch).length > 0 || gates[scope.region] !== "open" || steps.length > 0) {
    steps.push({
      index: steps.length + 1,
      target: "original",
      share: round4(shareOf(origin, finalOrigins, finalGates)),
      origins: finalOrigins,
      patch: finalPatch,
      gates: finalGates,
      requiresApproval: approvalFor(steps.length + 1),
      check,
    });
  } else {
    notes.push(`traffic to ${scope.region} is already at its pre-failover settings: only capacity changes`);
  }
  if (originalShare === 0)
    notes.push(`${origin} carried no traffic before the failover (a standby): its settings are restored in one step`);
  const beforeGate = (before.gates ?? []).find((g) => g.region === scope.region);
  if (beforeGate?.state === "drained")
    notes.push(`the ${scope.region} gate was already drained before the failover; failback opens it`);

  return {
    status: "ok",
    workload: workload.name,
    scope,
    prepare: { pools: poolChanges.prepare, warm: true },
    steps,
    scaleDown: poolChanges.scaleDown,
    safe: { gates: { ...currentGates, [scope.region]: "drained" }, origins: startOrigins, pools: [] },
    notes,
  };
}

function isWorkloadOrigin(workload: Workload, origin: string): boolean {
  return Object.values(workload.regions).some((r) => r.origin === origin);
}

function gateMap(snapshot: FailbackSnapshot, workload: Workload): Record<string, GateState> {
  const gates: Record<string, GateState> = {};
  for (const region of Object.keys(workload.regions)) gates[region] = "open";
  for (const g of snapshot.gates ?? []) if (g.region in gates) gates[g.region] = g.state;
  return gates;
}

/**
 * The share of traffic Front Door gives `origin`: 0 unless it is enabled, its gate open and its priority the lowest
 * among the enabled, gate-open origins; then its weight over the weights of that priority band.
 */
export function shareOf(
  origin: string,
  origins: Readonly<Record<string, OriginSetting>>,
  gates: Readonly<Record<string, GateState>>,
): number {
  const live = Object.values(origins).filter((o) => o.enabledState === "Enabled" && gates[o.region] !== "drained");
  const self = live.find((o) => o.origin === origin);
  if (self === undefined) return 0;
  const top = Math.min(...live.map((o) => o.priority));
  if (self.priority !== top) return 0;
  const total = live.filter((o) => o.priority === top).reduce((sum, o) => sum + o.weight, 0);
  return total === 0 ? 0 : self.weight / total;
}

function bandOf(
  origins: Readonly<Record<string, OriginSetting>>,
  returning: string,
  priority: number,
): OriginSetting[] {
  return Object.values(origins).filter(
    (o) => o.origin !== returning && o.enabledState === "Enabled" && o.priority === priority,
  );
}

/**
 * Integer weights giving the returning origin `target` of the band's traffic. Prefers leaving the serving origins'
 * weights alone (one origin patched per step); scales them by the smallest factor that reaches the tolerance otherwise.
 */
function weightsFor(
  target: number,
  band: ReadonlyArray<OriginSetting>,
  tolerance: number,
): { returning: number; others: Record<string, number>; share: number } {
  const total = band.reduce((sum, o) => sum + o.weight, 0);
  const maxOther = Math.max(1, ...band.map((o) => o.weight));
  let best: { returning: number; others: Record<string, number>; share: number } | undefined;
  for (let factor = 1; factor * maxOther <= MAX_WEIGHT; factor++) {
    const othersTotal = total * factor;
    const returning = Math.min(MAX_WEIGHT, Math.max(1, Math.round((target * othersTotal) / (1 - target))));
    const share = returning / (returning + othersTotal);
    const candidate = {
      returning,
      others: factor === 1 ? {} : Object.fromEntries(band.map((o) => [o.origin, o.weight * factor])),
      share,
    };
    if (best === undefined || Math.abs(share - target) < Math.abs(best.share - target)) best = candidate;
    if (Math.abs(share - target) <= tolerance) return candidate;
  }
  return best ?? { returning: 1, others: {}, share: 1 };
}

function patchBetween(
  from: Readonly<Record<string, OriginSetting>>,
  to: Readonly<Record<string, OriginSetting>>,
): Record<string, OriginPatch> {
  const patch: Record<string, OriginPatch> = {};
  for (const [name, next] of Object.entries(to)) {
    const prev = from[name];
    const p: { enabledState?: "Enabled" | "Disabled"; weight?: number; priority?: number } = {};
    if (prev?.enabledState !== next.enabledState) p.enabledState = next.enabledState;
    if (prev?.weight !== next.weight) p.weight = next.weight;
    if (prev?.priority !== next.priority) p.priority = next.priority;
    if (Object.keys(p).length > 0) patch[name] = p;
  }
  return patch;
}

/** The errors a live state read reported, as a parenthesis for a reason ("" when it reported none). */
function readErrors(snapshot: FailbackSnapshot): string {
  const errors = snapshot.errors ?? [];
  return errors.length === 0 ? "" : ` (the state read reported: ${errors.join("; ")})`;
}

function capacityChanges(
  workload: Workload,
  scope: FailbackScope,
  current: FailbackSnapshot,
  before: FailbackSnapshot,
  notes: string[],
): { prepare: PoolSetTo[]; scaleDown: PoolSetTo[] } {
  const prepare: PoolSetTo[] = [];
  const scaleDown: PoolSetTo[] = [];
  const count = (snapshot: FailbackSnapshot, region: string, pool: string): number | undefined =>
    snapshot.pools.find((p) => p.region === region && p.pool === pool)?.count;
  for (const [region, entry] of Object.entries(workload.regions)) {
    for (const pool of entry.gpuPools) {
      const now = count(current, region, pool.name);
      const then = count(before, region, pool.name);
      if (now === undefined || then === undefined) {
        if (now !== then) notes.push(`${region}/${pool.name} is missing from one snapshot: left as it is`);
        continue;
      }
      if (entry.cluster === undefined) continue;
      const change: PoolSetTo = {
        region,
        pool: pool.name,
        zone: pool.zone,
        vmSize: pool.vmSize,
        cluster: entry.cluster,
        from: now,
        to: then,
      };
      const inScope = region === scope.region && (scope.zone === undefined || pool.zone === scope.zone);
      if (inScope && now < then) prepare.push(change);
      else if (!inScope && now > then) scaleDown.push(change);
      else if (inScope && now > then)
        notes.push(
          `${region}/${pool.name} holds ${now} nodes, more than the ${then} before the failover: left as it is`,
        );
    }
  }
  return { prepare, scaleDown };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

// ------------------------------------------------------------------------------------------------------------------
// Running: gates and relapse.

export type GateVerdict =
  | { readonly verdict: "pass"; readonly detail: string }
  | { readonly verdict: "wait"; readonly until?: number; readonly detail: string }
  | { readonly verdict: "relapse"; readonly reasons: ReadonlyArray<string> };

/**
 * Judges a step's hold: `evidence` is what the returning scope's probes (and GPU readiness) said since the step's
 * traffic change took effect at `stepStartedAt`. A relapse is any sign that the scope is impaired again: its breaker
 * left closed, an alert fires for it, it serves a stale model, or too many probes failed or were slow.
 */
export function evaluateFailbackGate(
  check: FailbackCheck,
  breaker: BreakerState,
  evidence: ReadonlyArray<Evidence>,
  stepStartedAt: number,
  now: number,
): GateVerdict {
  const reasons: string[] = [];
  if (breaker.state !== "closed") reasons.push(`the ${check.region} breaker is ${breaker.state}`);
  if (breaker.alerts.length > 0) reasons.push(`alert(s) firing: ${breaker.alerts.map((a) => a.alertId).join(", ")}`);
  const probes = evidence.filter(
    (e): e is Exclude<Evidence, { source: "alert" }> => e.source !== "alert" && e.at >= stepStartedAt && e.at <= now,
  );
  const fired = evidence.filter((e) => e.source === "alert" && e.condition === "Fired" && e.at >= stepStartedAt);
  if (fired.length > 0 && breaker.alerts.length === 0) reasons.push(`an alert fired during the hold`);
  const stale = probes.filter((e) => e.outcome === "stale");
  if (stale.length > 0)
    reasons.push(`${stale.length} probe(s) saw a model version other than ${check.modelVersion}: ${stale[0]?.reason}`);
  const failures = probes.filter((e) => e.outcome === "failure").length;
  const slow = probes.filter((e) => e.outcome === "slow").length;
  const n = probes.length;
  if (n >= check.minProbes && failures / n > check.maxFailureRatio)
    reasons.push(`${failures} of ${n} probe(s) failed (more than ${pct(check.maxFailureRatio)})`);
  if (n >= check.minProbes && slow / n > check.maxSlowRatio)
    reasons.push(
      `${slow} of ${n} probe(s) slower than ${check.latencySloMs} ms (more than ${pct(check.maxSlowRatio)})`,
    );
  if (reasons.length > 0) return { verdict: "relapse", reasons };
  const holdEnds = stepStartedAt + check.holdMs;
  if (now < holdEnds)
    return { verdict: "wait", until: holdEnds, detail: `holding until ${new Date(holdEnds).toISOString()}` };
  if (n < check.minProbes) return { verdict: "wait", detail: `${n} of ${check.minProbes} probe(s) so far` };
  return { verdict: "pass", detail: `${n} probe(s): ${failures} failed, ${slow} slow, none stale` };
}

/** Where the failback stands when a relapse is detected. */
export interface FailbackProgress {
  /** 0 while preparing; otherwise the index of the last step whose Front Door change was applied. */
  readonly step: number;
  /** True once any scale-down has been issued. */
  readonly scaleDownStarted: boolean;
}

/**
 * The safe state to return to on a relapse: drain the returning gate first (traffic leaves within one probe window),
 * restore the origins to the failover's end state (only the patch from the step in effect), and, if capacity had
 * already been released, set the surge pools back to their failover counts.
 */
export function relapseSafeState(
  plan: FailbackPlan,
  progress: FailbackProgress,
): SafeState & { readonly patch: Readonly<Record<string, OriginPatch>> } {
  const inEffect =
    progress.step <= 0 ? plan.safe.origins : (plan.steps[progress.step - 1]?.origins ?? plan.safe.origins);
  const pools = progress.scaleDownStarted ? plan.scaleDown.map((p) => ({ ...p, from: p.to, to: p.from })) : [];
  return { ...plan.safe, pools, patch: patchBetween(inEffect, plan.safe.origins) };
}
