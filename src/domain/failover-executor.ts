/**
 * The failover step-graph executor: a pure state machine that the `failoverWorkload` runbook drives.
 *
 * The planner's step graph says what runs after what. The executor turns it into rounds: `dueActions(state, now)`
 * lists the activity calls to make now (steps whose dependencies are finished and whose next poll is due), the runbook
 * runs them in parallel, and `applyResult` folds each result back in. Long waits (GPU nodes, model copy, warm-up,
 * Front Door propagation, probe windows) are polls separated by durable timers: `nextWakeAt(state)` says when.
 *
 * Pure: no I/O, no clock (callers pass `now` from `context.df.currentUtcDateTime`), so it replays deterministically
 * and is unit-tested on its own.
 */
import type { PoolCandidate, PoolChange, StepKind, WorkloadPlan } from "./plan";
import type { Zone } from "./topology";

export type StepStatus = "pending" | "running" | "done" | "failed" | "skipped";

export interface PoolTarget {
  readonly region: string;
  readonly pool: string;
  readonly zone: Zone;
  readonly vmSize: string;
  readonly cluster: { readonly resourceGroup: string; readonly name: string };
  /** Nodes before the failover: a hedge that loses the race is scaled back to this count. */
  readonly from: number;
  readonly to: number;
  /**
   * Nodes that must be Ready for the attempt to count as done when fewer than `to` (the plan asked for spare nodes):
   * the rest may still be provisioning. Absent: all of `to`.
   */
  readonly need?: number;
  /** Candidates only: may run in parallel with the attempt before it (see `PoolCandidate.hedgeable`). */
  readonly hedgeable?: boolean;
}

/**
 * A second allocation attempt running beside a scale step's current one (hedged allocation, when the workload's
 * `capacity.hedge` asks for it): the first fallback candidate, asked for while the current attempt is still
 * provisioning, so an allocation failure that AKS reports only after minutes does not cost those minutes.
 */
export interface HedgeAttempt {
  target: PoolTarget;
  phase: "begin" | "poll";
  operation?: string;
  nextAt: number;
  errors: number;
  startedAt: number;
}

export interface ScaleAttempt {
  readonly region: string;
  readonly pool: string;
  readonly zone: Zone;
  readonly vmSize: string;
  readonly outcome: string;
}

export interface ExecStep {
  readonly id: string;
  readonly kind: StepKind;
  readonly after: ReadonlyArray<string>;
  readonly countsForRto: boolean;
  readonly region?: string;
  status: StepStatus;
  startedAt?: number;
  endedAt?: number;
  detail?: string;
  /** Earliest time of the next poll/call for a running step (epoch ms). */
  nextAt?: number;
  /** Consecutive transient errors, for backoff and give-up. */
  errors: number;
  /** Kind-specific progress. */
  phase?: string;
  target?: PoolTarget;
  candidates?: PoolTarget[];
  tried?: ScaleAttempt[];
  operation?: string;
  /** scale: when the current attempt began (hedging counts from it). */
  attemptAt?: number;
  /** scale: the attempt whose hedge was already decided (started or found impossible), by its `attemptAt`. */
  hedgeDecidedFor?: number;
  /** scale: the hedge in flight. */
  hedge?: HedgeAttempt;
  deadline?: number;
  /** probe-window: when the window ends by time alone (epoch ms). */
  until?: number;
  /** verify: since when every check has passed without interruption (epoch ms). */
  stableSince?: number;
}

export interface ExecutorOptions {
  /** Seconds between polls of long-running work. */
  readonly pollSeconds: number;
  /** Seconds the Front Door probe window lasts after a drain (interval × failures to unhealthy, worst case). */
  readonly probeWindowSeconds: number;
  /** Give up a scale attempt on one pool after this long (AKS max-node-provision-time is 15 min). */
  readonly scaleTimeoutSeconds: number;
  /** Give up warming a region after this long. */
  readonly warmTimeoutSeconds: number;
  /** Give up verification after this long. */
  readonly verifyTimeoutSeconds: number;
  /** Give up waiting for Front Door propagation after this long (documented 3–20 min). */
  readonly propagationTimeoutSeconds: number;
  /** Transient errors on one step before it fails. */
  readonly maxStepErrors: number;
  /**
   * Seconds the targets must stay verified before the cutover counts as done: Front Door marks a newly healthy origin
   * healthy only after `successfulSamplesRequired` probes, one interval apart. 0 when every target was already
   * healthy (Front Door already routes to it).
   */
  readonly verifyStableSeconds?: number;
  /**
   * The hold of `verifyStableSeconds` ends early once the plan's Front Door change has propagated (its `propagate`
   * step is done) when that change leaves the verified targets as the only enabled origins of one origin group:
   * Front Door then routes every request to them whatever its probes think (when every origin of a group is
   * unhealthy it routes across all enabled ones), so nothing is left to wait for.
   */
  readonly verifyHoldEndsWhenPropagated?: boolean;
  /**
   * Hedged allocation: once a scale attempt has been provisioning this long without finishing, ask the first
   * same-region fallback candidate in parallel (only a candidate whose count fits the quota beside the attempt). The
   * first to finish wins; the other is scaled back to its count before the failover by a `release` step. Undefined: no
   * hedging (fallbacks are tried one after the other, after a failure).
   */
  readonly hedgeAfterSeconds?: number;
}

export const DEFAULT_EXECUTOR_OPTIONS: ExecutorOptions = {
  pollSeconds: 15,
  probeWindowSeconds: 120,
  scaleTimeoutSeconds: 15 * 60,
  warmTimeoutSeconds: 20 * 60,
  verifyTimeoutSeconds: 10 * 60,
  propagationTimeoutSeconds: 30 * 60,
  maxStepErrors: 6,
};

export interface ExecutorState {
  readonly steps: ExecStep[];
  readonly options: ExecutorOptions;
}

/** Activity calls the runbook makes on the executor's behalf. Inputs are plain JSON. */
export type ExecAction =
  | {
      readonly stepId: string;
      readonly call: "beginScalePool";
      readonly input: PoolTarget;
      /** For the step's hedge, not its current attempt. */
      readonly hedge?: true;
    }
  | {
      readonly stepId: string;
      readonly call: "getScaleStatus";
      readonly input: PoolTarget & { readonly operation?: string };
      readonly hedge?: true;
    }
  | { readonly stepId: string; readonly call: "abortScalePool"; readonly input: PoolTarget }
  | { readonly stepId: string; readonly call: "ensureModel"; readonly input: { readonly region: string } }
  | { readonly stepId: string; readonly call: "warmEndpoint"; readonly input: { readonly region: string } }
  | {
      readonly stepId: string;
      readonly call: "setHealthGate";
      readonly input: { readonly region: string; readonly state: "open" | "drained" };
    }
  | {
      readonly stepId: string;
      readonly call: "updateFrontDoor";
      readonly input: { readonly drain: ReadonlyArray<string> };
    }
  | {
      readonly stepId: string;
      readonly call: "getFrontDoorStatus";
      readonly input: { readonly drain: ReadonlyArray<string> };
    }
  | { readonly stepId: string; readonly call: "verifyCutover"; readonly input: Record<string, never> }
  | { readonly stepId: string; readonly call: "checkOriginExcluded"; readonly input: { readonly region: string } }
  | { readonly stepId: string; readonly call: "resumeTraining"; readonly input: Record<string, never> };

export type ExecCall = ExecAction["call"];

/** What an activity reports back. `transient` errors are retried with backoff; `failed` ends the attempt. */
export type ExecResult =
  | { readonly kind: "done"; readonly detail?: string }
  | {
      readonly kind: "pending";
      readonly detail?: string;
      readonly operation?: string;
      readonly retryAfterSeconds?: number;
    }
  | { readonly kind: "failed"; readonly code: string; readonly detail: string }
  | { readonly kind: "transient"; readonly detail: string; readonly retryAfterSeconds?: number };

function toTarget(p: PoolChange | PoolCandidate): PoolTarget {
  const base = { region: p.region, pool: p.pool, zone: p.zone, vmSize: p.vmSize, cluster: p.cluster };
  if ("hedgeable" in p) return { ...base, from: p.from, to: p.to, hedgeable: p.hedgeable };
  const spare = p.spare ?? 0;
  return spare > 0 ? { ...base, from: p.from, to: p.to, need: p.to - spare } : { ...base, from: p.from, to: p.to };
}

/**
 * Builds the executor state from a plan. `detect`, `decide` and `approve` are finished by the runbook itself before
 * execution starts; `startedAt` marks when execution begins.
 */
export function createExecutor(plan: WorkloadPlan, options: ExecutorOptions, startedAt: number): ExecutorState {
  const pools = new Map(plan.pools.map((p) => [`scale:${p.region}/${p.pool}`, p]));
  const steps: ExecStep[] = plan.steps.map((s) => {
    const step: ExecStep = {
      id: s.id,
      kind: s.kind,
      after: [...s.after],
      countsForRto: s.countsForRto,
      status: "pending",
      errors: 0,
    };
    if (s.region !== undefined) (step as { region?: string }).region = s.region;
    if (s.kind === "scale") {
      const change = pools.get(s.id);
      if (change === undefined) throw new Error(`[INVALID_INPUT] plan step ${s.id} has no matching pool change`);
      step.target = toTarget(change);
      step.candidates = change.fallbacks.map(toTarget);
      step.tried = [];
    }
    if (s.kind === "detect" || s.kind === "decide" || s.kind === "approve") {
      step.status = "done";
      step.startedAt = startedAt;
      step.endedAt = startedAt;
    }
    return step;
  });
  return { steps, options };
}

/** Marks a step done with explicit times (the runbook uses it for detect/decide/approve). */
export function recordStep(
  state: ExecutorState,
  id: string,
  startedAt: number,
  endedAt: number,
  detail?: string,
): void {
  const step = state.steps.find((s) => s.id === id);
  if (step === undefined) return;
  step.status = "done";
  step.startedAt = startedAt;
  step.endedAt = endedAt;
  if (detail !== undefined) step.detail = detail;
}

function finished(step: ExecStep): boolean {
  return step.status === "done" || step.status === "failed" || step.status === "skipped";
}

/**
 * Whether a step may start. A `warm` step waits for its region's scale steps to finish either way (a failed scale
 * still leaves the existing nodes to warm); every other dependency must be done.
 */
function ready(state: ExecutorState, step: ExecStep): boolean {
  return step.after.every((id) => {
    const dep = state.steps.find((s) => s.id === id);
    if (dep === undefined) return true;
    if (step.kind === "warm" && dep.kind === "scale") return finished(dep);
    return dep.status === "done" || dep.status === "skipped";
  });
}

/** A dependency failed: this step can never start. */
function blocked(state: ExecutorState, step: ExecStep): string | undefined {
  for (const id of step.after) {
    const dep = state.steps.find((s) => s.id === id);
    if (dep?.status === "failed" && !(step.kind === "warm" && dep.kind === "scale")) return id;
  }
  return undefined;
}

function actionFor(state: ExecutorState, step: ExecStep, drain: ReadonlyArray<string>): ExecAction | undefined {
  switch (step.kind) {
    case "scale": {
      const target = step.target;
      if (target === undefined) return undefined;
      return step.phase === "poll"
        ? {
            stepId: step.id,
            call: "getScaleStatus",
            input: step.operation === undefined ? target : { ...target, operation: step.operation },
          }
        : { stepId: step.id, call: "beginScalePool", input: target };
    }
    case "warm":
      return step.phase === "warming"
        ? { stepId: step.id, call: "warmEndpoint", input: { region: step.region ?? "" } }
        : { stepId: step.id, call: "ensureModel", input: { region: step.region ?? "" } };
    case "drain-gate":
      return { stepId: step.id, call: "setHealthGate", input: { region: step.region ?? "", state: "drained" } };
    case "frontdoor":
      return { stepId: step.id, call: "updateFrontDoor", input: { drain } };
    case "propagate":
      return { stepId: step.id, call: "getFrontDoorStatus", input: { drain } };
    case "verify":
      return { stepId: step.id, call: "verifyCutover", input: {} };
    case "resume-training":
      return { stepId: step.id, call: "resumeTraining", input: {} };
    case "probe-window":
      return { stepId: step.id, call: "checkOriginExcluded", input: { region: step.region ?? "" } };
    case "release": {
      // abort: stop the losing attempt's provisioning; wait: its operation must end (Canceled, or done/failed if it
      // ended first) before the pool takes another (AKS refuses a second operation on a busy pool); then back down.
      const t = step.target;
      if (t === undefined) return undefined;
      const op = step.operation === undefined ? {} : { operation: step.operation };
      if (step.phase === "abort") return { stepId: step.id, call: "abortScalePool", input: t };
      if (step.phase === "wait")
        return { stepId: step.id, call: "getScaleStatus", input: { ...withoutNeed(t), ...op } };
      const down = { ...withoutNeed(t), to: t.from };
      if (step.phase === "poll") return { stepId: step.id, call: "getScaleStatus", input: { ...down, ...op } };
      return { stepId: step.id, call: "beginScalePool", input: down };
    }
    case "detect":
    case "decide":
    case "approve":
      return undefined;
  }
}

function withoutNeed(t: PoolTarget): PoolTarget {
  const { need: _need, ...rest } = t;
  return rest;
}

function drainedRegions(state: ExecutorState): string[] {
  return state.steps.filter((s) => s.kind === "drain-gate" && s.region !== undefined).map((s) => s.region as string);
}

function deadlineFor(state: ExecutorState, step: ExecStep, now: number): number | undefined {
  const o = state.options;
  switch (step.kind) {
    case "scale":
      return now + o.scaleTimeoutSeconds * 1000;
    case "release":
      return now + (o.scaleTimeoutSeconds + 10 * 60) * 1000;
    case "warm":
      return now + o.warmTimeoutSeconds * 1000;
    case "verify":
      return now + o.verifyTimeoutSeconds * 1000;
    case "propagate":
      return now + o.propagationTimeoutSeconds * 1000;
    default:
      return undefined;
  }
}

/**
 * Starts steps that became ready, expires probe windows and deadlines, and returns the calls due at `now`.
 * Mutates `state` (the runbook owns it; it is rebuilt identically on every replay).
 */
export function dueActions(state: ExecutorState, now: number): ExecAction[] {
  const actions: ExecAction[] = [];
  const drain = drainedRegions(state);
  let changed = true;
  // Loop because finishing a probe window (or skipping a blocked step) can make further steps ready at once.
  while (changed) {
    changed = false;
    for (const step of state.steps) {
      if (step.status === "pending") {
        const why = blocked(state, step);
        if (why !== undefined) {
          step.status = "skipped";
          step.detail = `not run: ${why} failed`;
          step.startedAt = now;
          step.endedAt = now;
          changed = true;
          continue;
        }
        if (!ready(state, step)) continue;
        step.status = "running";
        step.startedAt = now;
        step.nextAt = now;
        const deadline = deadlineFor(state, step, now);
        if (deadline !== undefined) step.deadline = deadline;
        if (step.kind === "scale") step.attemptAt = now;
        if (step.kind === "probe-window") {
          step.until = now + state.options.probeWindowSeconds * 1000;
          step.detail = `waiting up to ${state.options.probeWindowSeconds}s for Front Door probes to mark the origin unhealthy`;
        }
        changed = true;
      }
      if (step.status !== "running") continue;
      if (step.kind === "probe-window" && step.until !== undefined && step.until <= now) {
        finish(step, "done", now, "probe window elapsed: Front Door has excluded the drained origin");
        changed = true;
        continue;
      }
      if (step.deadline !== undefined && now >= step.deadline) {
        onDeadline(state, step, now);
        changed = true;
        continue;
      }
      if (step.kind === "scale") maybeStartHedge(state, step, now);
    }
  }
  for (const step of state.steps) {
    if (step.status !== "running") continue;
    if ((step.nextAt ?? now) <= now) {
      const action = actionFor(state, step, drain);
      if (action !== undefined) actions.push(action);
    }
    const h = step.hedge;
    if (h !== undefined && h.nextAt <= now) {
      const input = h.operation === undefined ? h.target : { ...h.target, operation: h.operation };
      actions.push(
        h.phase === "poll"
          ? { stepId: step.id, call: "getScaleStatus", input, hedge: true }
          : { stepId: step.id, call: "beginScalePool", input: h.target, hedge: true },
      );
    }
  }
  return actions;
}

/** When a scale step's hedge is due to be decided (epoch ms), or undefined when there is nothing to decide. */
function hedgeDueAt(state: ExecutorState, step: ExecStep): number | undefined {
  const after = state.options.hedgeAfterSeconds;
  if (after === undefined || step.kind !== "scale" || step.status !== "running" || step.hedge !== undefined)
    return undefined;
  // Only an attempt AKS accepted and is provisioning is worth hedging (not one that is done at once or refused).
  if (step.phase !== "poll" || step.attemptAt === undefined || step.hedgeDecidedFor === step.attemptAt)
    return undefined;
  return step.attemptAt + after * 1000;
}

/** Pools some other live step of this plan is setting (a scale attempt, a hedge or a release): not a fallback. */
function ownedPools(state: ExecutorState, except: ExecStep): Set<string> {
  const owned = new Set<string>();
  for (const s of state.steps) {
    if (s === except) continue;
    if (s.kind === "scale" && s.status !== "failed" && s.target !== undefined)
      owned.add(`${s.target.region}/${s.target.pool}`);
    if (s.hedge !== undefined) owned.add(`${s.hedge.target.region}/${s.hedge.target.pool}`);
    if (s.kind === "release" && s.status === "running" && s.target !== undefined)
      owned.add(`${s.target.region}/${s.target.pool}`);
  }
  return owned;
}

/**
 * Starts the hedge of a scale step once its attempt has provisioned for `hedgeAfterSeconds`: the next candidate, when
 * it is in the same region, not owned by another step and fits the quota beside the attempt. Decided once per attempt.
 */
function maybeStartHedge(state: ExecutorState, step: ExecStep, now: number): void {
  const due = hedgeDueAt(state, step);
  if (due === undefined || due > now) return;
  step.hedgeDecidedFor = step.attemptAt as number;
  const next = (step.candidates ?? [])[0];
  if (
    next === undefined ||
    next.hedgeable !== true ||
    next.region !== step.target?.region ||
    ownedPools(state, step).has(`${next.region}/${next.pool}`)
  )
    return;
  (step.candidates as PoolTarget[]).shift();
  step.hedge = { target: next, phase: "begin", nextAt: now, errors: 0, startedAt: now };
  step.detail = `${step.detail ?? "scaling"}; hedging with ${next.region}/${next.pool} (zone ${next.zone}, ${next.vmSize}) to ${next.to}`;
}

/** Scales `loser` back to its count before the failover, once its own operation has ended. Not on the RTO path. */
function addRelease(state: ExecutorState, loser: PoolTarget, operation: string | undefined, now: number): string {
  let id = `release:${loser.region}/${loser.pool}`;
  for (let n = 2; state.steps.some((s) => s.id === id); n++) id = `release:${loser.region}/${loser.pool}#${n}`;
  const step: ExecStep = {
    id,
    kind: "release",
    after: [],
    countsForRto: false,
    region: loser.region,
    status: "running",
    startedAt: now,
    nextAt: now,
    errors: 0,
    phase: "abort",
    target: loser,
    deadline: now + (state.options.scaleTimeoutSeconds + 10 * 60) * 1000,
    detail: `aborting the operation on ${loser.region}/${loser.pool}, then back to ${loser.from} nodes`,
  };
  if (operation !== undefined) step.operation = operation;
  state.steps.push(step);
  return id;
}

function onDeadline(state: ExecutorState, step: ExecStep, now: number): void {
  if (step.kind === "scale") {
    nextCandidate(state, step, now, `timed out after ${state.options.scaleTimeoutSeconds}s`);
    return;
  }
  finish(
    step,
    "failed",
    now,
    `timed out after ${Math.round(((step.deadline ?? now) - (step.startedAt ?? now)) / 1000)}s${step.detail === undefined ? "" : ` (last: ${step.detail})`}`,
  );
}

function finish(step: ExecStep, status: "done" | "failed", now: number, detail?: string): void {
  step.status = status;
  step.endedAt = now;
  delete step.nextAt;
  if (detail !== undefined) step.detail = detail;
}

/** Moves a scale step to its next fallback candidate, or fails it when none is left. */
function nextCandidate(state: ExecutorState, step: ExecStep, now: number, outcome: string): void {
  const target = step.target;
  if (target !== undefined)
    (step.tried ??= []).push({
      region: target.region,
      pool: target.pool,
      zone: target.zone,
      vmSize: target.vmSize,
      outcome,
    });
  const hedge = step.hedge;
  if (hedge !== undefined) {
    // The hedge is the next candidate already provisioning: it becomes the attempt.
    delete step.hedge;
    step.target = hedge.target;
    step.phase = hedge.phase;
    if (hedge.operation === undefined) delete step.operation;
    else step.operation = hedge.operation;
    step.errors = hedge.errors;
    step.nextAt = Math.max(now, hedge.nextAt);
    step.attemptAt = hedge.startedAt;
    step.deadline = hedge.startedAt + state.options.scaleTimeoutSeconds * 1000;
    step.detail = `continuing with the hedge on ${hedge.target.region}/${hedge.target.pool} (zone ${hedge.target.zone}, ${hedge.target.vmSize}) after: ${outcome}`;
    return;
  }
  const candidates = step.candidates ?? [];
  // Cross-region candidates are usable only when that region is already warmed by this plan.
  const warmRegions = new Set(state.steps.filter((s) => s.kind === "warm").map((s) => s.region));
  // A pool another (live) step of this plan sets is not a fallback: two set-to counts on one pool conflict.
  const owned = ownedPools(state, step);
  let next: PoolTarget | undefined;
  while (candidates.length > 0) {
    const c = candidates.shift() as PoolTarget;
    const skip = !(c.region === target?.region || warmRegions.has(c.region))
      ? "skipped: region not in this plan"
      : owned.has(`${c.region}/${c.pool}`)
        ? "skipped: another step of this plan scales that pool"
        : undefined;
    if (skip === undefined) {
      next = c;
      break;
    }
    (step.tried ??= []).push({ region: c.region, pool: c.pool, zone: c.zone, vmSize: c.vmSize, outcome: skip });
  }
  if (next === undefined) {
    finish(step, "failed", now, `no capacity: ${describeTried(step.tried ?? [])}`);
    return;
  }
  step.target = next;
  step.phase = "begin";
  delete step.operation;
  step.errors = 0;
  step.nextAt = now;
  step.attemptAt = now;
  step.deadline = now + state.options.scaleTimeoutSeconds * 1000;
  step.detail = `falling back to ${next.region}/${next.pool} (zone ${next.zone}, ${next.vmSize}) after: ${outcome}`;
  if (next.region !== target?.region) {
    // The new region's warm step must wait for this capacity too.
    for (const s of state.steps)
      if (s.kind === "warm" && s.region === next.region && !s.after.includes(step.id))
        (s.after as string[]).push(step.id);
  }
}

function describeTried(tried: ReadonlyArray<ScaleAttempt>): string {
  return tried.map((t) => `${t.region}/${t.pool} zone ${t.zone} ${t.vmSize}: ${t.outcome}`).join("; ");
}

/** Folds one activity result into the state. */
export function applyResult(state: ExecutorState, action: ExecAction, result: ExecResult, now: number): void {
  const step = state.steps.find((s) => s.id === action.stepId);
  if (step === undefined || step.status !== "running") return;
  const poll = state.options.pollSeconds * 1000;
  if (action.call === "checkOriginExcluded") {
    // Metrics can end the probe window early; any other answer (errors included) just waits for the window.
    if (result.kind === "done") finish(step, "done", now, result.detail ?? "Front Door excludes the origin");
    else {
      if (result.detail !== undefined) step.detail = result.detail;
      step.nextAt = Math.min(step.until ?? now + poll, now + poll);
    }
    return;
  }
  if (action.call === "beginScalePool" || action.call === "getScaleStatus") {
    if (action.hedge === true && step.hedge !== undefined) {
      applyHedgeResult(state, step, action.input, result, now);
      return;
    }
    // A hedge promoted earlier in this round is now the attempt, and its result is the attempt's. A result for an
    // attempt the step has since left behind (it fell back) is ignored.
    if (
      step.target !== undefined &&
      (step.target.region !== action.input.region || step.target.pool !== action.input.pool)
    )
      return;
  }
  if (result.kind === "transient") {
    step.errors++;
    step.detail = `retrying after transient error: ${result.detail}`;
    // Steps with a deadline (scale, warm-up, verify, propagation) keep retrying until it: throttling and conflicts
    // pass. Steps without one give up after maxStepErrors in a row.
    if (step.deadline === undefined && step.errors >= state.options.maxStepErrors) {
      if (step.kind === "scale")
        nextCandidate(state, step, now, `gave up after ${step.errors} transient errors: ${result.detail}`);
      else finish(step, "failed", now, `gave up after ${step.errors} transient errors: ${result.detail}`);
      return;
    }
    const backoff = Math.min(poll * 2 ** (step.errors - 1), 5 * 60_000);
    step.nextAt = now + Math.max(backoff, (result.retryAfterSeconds ?? 0) * 1000);
    return;
  }
  step.errors = 0;
  if (step.kind === "release") {
    applyReleaseResult(step, result, now, poll);
    return;
  }
  switch (action.call) {
    case "beginScalePool":
    case "getScaleStatus":
      if (result.kind === "failed") {
        nextCandidate(state, step, now, `${result.code}: ${result.detail}`);
      } else if (result.kind === "pending") {
        step.phase = "poll";
        if (result.operation !== undefined) step.operation = result.operation;
        step.detail = result.detail ?? "scaling";
        step.nextAt = now + Math.max(poll, (result.retryAfterSeconds ?? 0) * 1000);
      } else {
        const t = step.target;
        const fellBack = (step.tried ?? []).length > 0;
        let released = "";
        const h = step.hedge;
        if (h !== undefined) {
          delete step.hedge;
          (step.tried ??= []).push({ ...attemptOf(h.target), outcome: "hedge: lost the race, released" });
          released = `; hedge on ${h.target.region}/${h.target.pool} released (${addRelease(state, h.target, h.operation, now)})`;
        }
        finish(
          step,
          "done",
          now,
          (result.detail ??
            (t === undefined ? "scaled" : `${t.region}/${t.pool} at ${t.to} nodes${fellBack ? " (fallback)" : ""}`)) +
            released,
        );
      }
      return;
    case "ensureModel":
      if (result.kind === "failed") finish(step, "failed", now, `${result.code}: ${result.detail}`);
      else if (result.kind === "pending") {
        step.detail = result.detail ?? "copying model";
        step.nextAt = now + poll;
      } else {
        step.phase = "warming";
        step.detail = result.detail ?? "model present";
        step.nextAt = now;
      }
      return;
    case "verifyCutover": {
      const stableMs = (state.options.verifyStableSeconds ?? 0) * 1000;
      if (result.kind === "done" && stableMs > 0) {
        step.stableSince ??= now;
        const propagated =
          state.options.verifyHoldEndsWhenPropagated === true &&
          state.steps.some((x) => x.kind === "propagate" && x.status === "done");
        if (now - step.stableSince < stableMs) {
          if (!propagated) {
            step.detail = `${result.detail ?? "verified"}; holding ${Math.round((stableMs - (now - step.stableSince)) / 1000)}s more until Front Door's probes mark the targets healthy`;
            step.nextAt = Math.min(step.stableSince + stableMs, now + poll);
            return;
          }
          result = {
            kind: "done",
            detail: `${result.detail ?? "verified"}; Front Door's change has propagated and leaves only the targets enabled: every request goes to them`,
          };
        }
      }
      if (result.kind !== "done") delete step.stableSince;
      settle(step, result, now, poll);
      return;
    }
    case "warmEndpoint":
    case "getFrontDoorStatus":
    case "setHealthGate":
    case "updateFrontDoor":
    case "resumeTraining":
    case "abortScalePool": // only release steps abort, handled above
      settle(step, result, now, poll);
      return;
  }
}

function attemptOf(t: PoolTarget): Omit<ScaleAttempt, "outcome"> {
  return { region: t.region, pool: t.pool, zone: t.zone, vmSize: t.vmSize };
}

/** Folds a result of the step's hedge in: it may fail (dropped, recorded), keep provisioning, or win the race. */
function applyHedgeResult(
  state: ExecutorState,
  step: ExecStep,
  input: PoolTarget,
  result: ExecResult,
  now: number,
): void {
  const h = step.hedge;
  if (h === undefined || h.target.region !== input.region || h.target.pool !== input.pool) return;
  const poll = state.options.pollSeconds * 1000;
  const drop = (outcome: string): void => {
    (step.tried ??= []).push({ ...attemptOf(h.target), outcome: `hedge: ${outcome}` });
    delete step.hedge;
  };
  switch (result.kind) {
    case "transient":
      h.errors++;
      if (h.errors >= state.options.maxStepErrors) drop(`gave up after ${h.errors} transient errors: ${result.detail}`);
      else
        h.nextAt =
          now + Math.max(Math.min(poll * 2 ** (h.errors - 1), 5 * 60_000), (result.retryAfterSeconds ?? 0) * 1000);
      return;
    case "failed":
      drop(`${result.code}: ${result.detail}`);
      return;
    case "pending":
      h.errors = 0;
      h.phase = "poll";
      if (result.operation !== undefined) h.operation = result.operation;
      h.nextAt = now + Math.max(poll, (result.retryAfterSeconds ?? 0) * 1000);
      return;
    case "done": {
      // The hedge finished first: it is the step's capacity; the attempt it ran beside is scaled back.
      const loser = step.target;
      delete step.hedge;
      let released = "";
      if (loser !== undefined) {
        (step.tried ??= []).push({ ...attemptOf(loser), outcome: "superseded: the hedge finished first, released" });
        released = `; ${loser.region}/${loser.pool} released (${addRelease(state, loser, step.operation, now)})`;
      }
      step.target = h.target;
      if (h.operation === undefined) delete step.operation;
      else step.operation = h.operation;
      finish(step, "done", now, `${h.target.region}/${h.target.pool} at ${h.target.to} nodes (hedge)${released}`);
      return;
    }
  }
}

/** A release step: wait for the losing attempt's operation to end, then set the pool back to its count. */
function applyReleaseResult(
  step: ExecStep,
  result: Exclude<ExecResult, { kind: "transient" }>,
  now: number,
  poll: number,
): void {
  const t = step.target;
  if (step.phase === "abort") {
    // Aborted or not (a failed abort request only costs the loser's remaining provisioning), wait for its end.
    step.phase = "wait";
    step.nextAt = now;
    step.detail =
      result.kind === "failed"
        ? `abort refused (${result.code}): waiting for the operation to end`
        : (result.detail ?? "abort requested");
    return;
  }
  if (step.phase === "wait") {
    if (result.kind === "pending") {
      step.detail = `${result.detail ?? "still provisioning"}; then back to ${t?.from ?? 0} nodes`;
      step.nextAt = now + Math.max(poll, (result.retryAfterSeconds ?? 0) * 1000);
      return;
    }
    // Whether the losing attempt provisioned or failed, its pool goes back to its count before the failover.
    step.phase = "begin";
    delete step.operation;
    step.nextAt = now;
    step.detail = `operation ended (${result.kind === "done" ? "provisioned" : `failed: ${result.code}`}); scaling back to ${t?.from ?? 0} nodes`;
    return;
  }
  if (result.kind === "pending") {
    step.phase = "poll";
    if (result.operation !== undefined) step.operation = result.operation;
    step.detail = result.detail ?? `scaling back to ${t?.from ?? 0} nodes`;
    step.nextAt = now + Math.max(poll, (result.retryAfterSeconds ?? 0) * 1000);
    return;
  }
  if (result.kind === "failed") finish(step, "failed", now, `could not scale back: ${result.code}: ${result.detail}`);
  else finish(step, "done", now, `${t?.region}/${t?.pool} back to ${t?.from ?? 0} nodes`);
}

/** The common outcome of a step call: done finishes it, failed fails it, pending polls again (honouring Retry-After). */
function settle(step: ExecStep, result: Exclude<ExecResult, { kind: "transient" }>, now: number, poll: number): void {
  if (result.kind === "failed") finish(step, "failed", now, `${result.code}: ${result.detail}`);
  else if (result.kind === "pending") {
    step.detail = result.detail ?? "waiting";
    step.nextAt = now + Math.max(poll, (result.retryAfterSeconds ?? 0) * 1000);
  } else finish(step, "done", now, result.detail);
}

/** Earliest time something needs the runbook's attention again, or undefined when nothing is running. */
export function nextWakeAt(state: ExecutorState): number | undefined {
  let next: number | undefined;
  for (const s of state.steps) {
    if (s.status !== "running") continue;
    const candidates = [s.nextAt, s.deadline, s.until, s.hedge?.nextAt, hedgeDueAt(state, s)].filter(
      (x): x is number => x !== undefined,
    );
    for (const c of candidates) if (next === undefined || c < next) next = c;
  }
  return next;
}

export function allFinished(state: ExecutorState): boolean {
  return state.steps.every(finished);
}

export function stepById(state: ExecutorState, id: string): ExecStep | undefined {
  return state.steps.find((s) => s.id === id);
}

/** True once every step that counts for the RTO is done (cutover verified). */
export function cutoverVerified(state: ExecutorState): boolean {
  const verify = state.steps.find((s) => s.kind === "verify");
  return verify?.status === "done";
}

/** A failed step on the path to cutover: the failover cannot succeed any more. */
export function rtoPathFailed(state: ExecutorState): ExecStep | undefined {
  return state.steps.find(
    (s) => s.countsForRto && (s.status === "failed" || (s.kind === "verify" && s.status === "skipped")),
  );
}

/** Predicted seconds left on the critical path, from the plan's expectations and what is already done. */
export function predictedRemainingSeconds(state: ExecutorState, plan: WorkloadPlan, now: number): number {
  const expected = new Map(plan.steps.map((s) => [s.id, s.expectedSeconds]));
  const memo = new Map<string, number>();
  const finishAt = (id: string): number => {
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    const step = state.steps.find((s) => s.id === id);
    let value: number;
    if (step === undefined) value = now;
    else if (finished(step)) value = step.endedAt ?? now;
    else {
      const deps = step.after.map(finishAt);
      const start = step.status === "running" ? (step.startedAt ?? now) : Math.max(now, ...deps);
      value = Math.max(now, start + (expected.get(id) ?? 0) * 1000);
    }
    memo.set(id, value);
    return value;
  };
  const verify = state.steps.find((s) => s.kind === "verify");
  if (verify === undefined) return 0;
  return Math.max(0, Math.round((finishAt(verify.id) - now) / 1000));
}
