/**
 * `failbackWorkload`: return a workload's traffic to a scope that failed, once its breaker has stayed closed for the
 * soak time — gradually, each step gated on the returning scope's health, with approval by default — then release
 * the surge capacity. A relapse (or an abort) at any point returns to the safe state: the returning gate drained
 * first, the Front Door origins back to the failover's end state, surge capacity restored if it had been released.
 *
 * Inputs: {@link FailbackInput} (workload, scope, the failover it undoes, pre-failover pool counts, the topology,
 * options). Plan: `planFailback` (src/domain/failback.ts) over a fresh snapshot, the pre-failover settings (the
 * topology's origin weights and priorities, the failover plan's pool counts) and the scope's breaker state.
 * Activities: snapshotWorkload → [beginScalePool / getScaleStatus, warmEndpoint] → per step: [approval] →
 * updateFrontDoor → getFrontDoorStatus (until propagated) → setHealthGate → hold (the breaker entity's
 * `evaluateFailbackGate`, polled) → beginScalePool / getScaleStatus for the scale-down → saveReport. On relapse or
 * abort: setHealthGate (drain) → updateFrontDoor (safe patch) → beginScalePool (surge back) when needed.
 * Timers: one per polling round (`options.pollSeconds`), the approval timeout. Events: `approval` ({ approved, by }),
 * `abort` ({ by, reason }).
 *
 * Deterministic: no I/O, clock, env or randomness; time comes from `context.df.currentUtcDateTime`.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import {
  planFailback,
  relapseSafeState,
  type FailbackPlan,
  type FailbackSnapshot,
  type OriginPatch,
  type PoolSetTo,
} from "../domain/failback";
import type { Workload } from "../domain/topology";
import type { GateAnswer } from "./breaker-entity";
import { ACTIVITIES, EVENTS, describeEvent, execResultSchema } from "./contracts";
import { ONE_SHOT_RETRY, takeSnapshot } from "./shared-steps";
import {
  BREAKER_OPERATIONS,
  breakerEntityStateSchema,
  breakerKey,
  ENTITIES,
  failbackInputSchema,
  type FailbackOutcome,
  type FailbackReport,
  type FailbackStatus,
  type FailbackStepRecord,
} from "./health-contracts";

type Polled = { kind: "done" | "failed" | "timeout" | "aborted"; detail: string };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The settings the workload had before the failover: the topology's origins and gates, the plan's pool counts. */
export function beforeSnapshot(
  workload: Workload,
  poolsBefore: ReadonlyArray<{ region: string; pool: string; count: number }>,
): FailbackSnapshot {
  const origins = Object.entries(workload.regions)
    .filter(([, e]) => e.origin !== undefined)
    .map(([region, e]) => ({
      region,
      origin: e.origin as string,
      enabledState: "Enabled" as const,
      weight: e.weight,
      priority: e.priority,
    }));
  const pools = Object.entries(workload.regions).flatMap(([region, e]) =>
    e.gpuPools.map((p) => ({
      region,
      pool: p.name,
      count: poolsBefore.find((b) => b.region === region && b.pool === p.name)?.count ?? p.current,
    })),
  );
  const gates = Object.keys(workload.regions).map((region) => ({ region, state: "open" as const }));
  return { origins, pools, gates };
}

export const failbackWorkloadOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = failbackInputSchema.parse(context.df.getInput());
  const instanceId = context.df.instanceId;
  const now = (): number => context.df.currentUtcDateTime.getTime();
  const startedAt = now();
  const { topology, scope, options } = input;
  const timeline: Array<{ at: string; event: string }> = [];
  const note = (event: string): void => void timeline.push({ at: iso(now()), event });
  const steps: FailbackStepRecord[] = [];
  const capacity: Array<{ region: string; pool: string; to: number; outcome: string }> = [];
  const safeRecords: Array<{ action: string; outcome: string }> = [];
  const scopeText = `${scope.region}${scope.zone === undefined ? "" : ` zone ${scope.zone}`}`;
  const entityId = new df.EntityId(ENTITIES.breaker, breakerKey(input.workload, scope));
  let phase: FailbackStatus["phase"] = "plan";
  let current: number | undefined;
  let detail: string | undefined;
  let notes: ReadonlyArray<string> = [];

  const publish = (outcome?: FailbackOutcome): void => {
    const status: FailbackStatus = {
      kind: "failback",
      phase,
      workload: input.workload,
      scope,
      ...(current === undefined ? {} : { step: current }),
      steps,
      ...(detail === undefined ? {} : { detail }),
      ...(outcome === undefined ? {} : { outcome }),
    };
    context.df.setCustomStatus(status);
  };

  function* finish(
    outcome: FailbackOutcome,
    reasons: string[],
    retryable?: boolean,
  ): Generator<Task, FailbackReport, unknown> {
    phase = "done";
    note(`finished: ${outcome}${reasons.length > 0 ? ` (${reasons.join("; ")})` : ""}`);
    const report: FailbackReport = {
      kind: "failback",
      workload: input.workload,
      scope,
      failoverInstanceId: input.failoverInstanceId,
      outcome,
      reasons,
      ...(retryable === undefined ? {} : { retryable }),
      ...(input.earlierAttempts.length === 0 ? {} : { earlierAttempts: input.earlierAttempts }),
      steps,
      notes,
      capacity,
      ...(safeRecords.length === 0 ? {} : { safeState: safeRecords }),
      timeline,
      startedAt: iso(startedAt),
      endedAt: iso(now()),
    };
    publish(outcome);
    try {
      yield context.df.callActivityWithRetry(ACTIVITIES.saveReport, ONE_SHOT_RETRY, { instanceId, report });
    } catch (error) {
      note(`report not saved: ${error instanceof Error ? error.message : String(error)}`);
    }
    return report;
  }

  note(
    `failback of ${input.workload} to ${scopeText} started by ${input.startedBy} (undoes ${input.failoverInstanceId})`,
  );
  const last = input.earlierAttempts.at(-1);
  if (last !== undefined)
    note(
      `attempt ${input.earlierAttempts.length + 1}; attempt ${input.earlierAttempts.length} ${last.outcome} at ${last.endedAt}: ${last.reasons.join("; ")}`,
    );
  const found = topology.workloads.find((w) => w.name === input.workload);
  if (found === undefined)
    return yield* finish("refused", [`workload ${input.workload} is not in the topology`], false);
  const workload: Workload = found;
  const frontDoor = workload.frontDoor === undefined ? undefined : topology.frontDoors[workload.frontDoor];
  const workloadOrigins = Object.values(workload.regions)
    .map((e) => e.origin)
    .filter((o): o is string => o !== undefined);
  publish();

  // Plan over live state.
  const snapshot = yield* takeSnapshot(context, topology, workload, frontDoor);
  const stored: unknown = yield context.df.callEntity(entityId, BREAKER_OPERATIONS.get);
  const entity = breakerEntityStateSchema.safeParse(stored);
  if (!entity.success) return yield* finish("refused", [`the ${scopeText} breaker has no state yet`], true);
  const planned = planFailback({
    workload,
    scope,
    current: snapshot,
    before: beforeSnapshot(workload, input.poolsBefore),
    breaker: entity.data.breaker,
    now: now(),
    options: options.failback,
  });
  if (planned.status === "refused") return yield* finish("refused", [...planned.reasons], planned.retryable);
  const plan: FailbackPlan = planned;
  notes = plan.notes;
  for (const s of plan.steps) steps.push({ index: s.index, target: s.target, share: s.share });
  note(
    `plan: ${plan.prepare.pools.length} pool(s) to restore, ${plan.steps.length} step(s) (${plan.steps.map((s) => `${Math.round(s.share * 1000) / 10}%`).join(" → ")}), ${plan.scaleDown.length} surge pool(s) to release`,
  );

  const abortTask = context.df.waitForExternalEvent(EVENTS.abort);
  const progress: { step: number; scaleDownStarted: boolean } = { step: 0, scaleDownStarted: false };
  const gates = new Map(snapshot.gates.map((g) => [g.region, g.state]));

  /** Calls a step activity until it is done, failed, out of time or aborted. */
  function* poll(call: () => Task, timeoutSeconds: number): Generator<Task, Polled, unknown> {
    const deadline = now() + timeoutSeconds * 1000;
    for (;;) {
      const raw: unknown = yield call();
      const parsed = execResultSchema.safeParse(raw);
      if (!parsed.success) return { kind: "failed", detail: "malformed activity result" };
      const r = parsed.data;
      if (r.kind === "done") return { kind: "done", detail: r.detail ?? "done" };
      if (r.kind === "failed") return { kind: "failed", detail: `${r.code}: ${r.detail}` };
      if (now() >= deadline) return { kind: "timeout", detail: r.detail ?? "no progress" };
      const aborted = yield* pause(r.kind === "transient" ? (r.retryAfterSeconds ?? 0) : 0);
      if (aborted !== undefined) return { kind: "aborted", detail: aborted };
    }
  }

  /** Waits one polling round (or `seconds`), or returns the abort that arrived first. */
  function* pause(seconds: number): Generator<Task, string | undefined, unknown> {
    const timer = context.df.createTimer(new Date(now() + Math.max(seconds, options.pollSeconds) * 1000));
    const winner: unknown = yield context.df.Task.any([timer, abortTask]);
    if (winner !== abortTask) return undefined;
    if (!timer.isCompleted) timer.cancel();
    return describeEvent(abortTask.result);
  }

  /** Set-to scale of one pool: begin (retrying transient refusals such as a running operation), then poll. */
  function* scale(pool: PoolSetTo): Generator<Task, Polled, unknown> {
    const target = {
      subscriptionId: topology.subscriptionId,
      region: pool.region,
      pool: pool.pool,
      zone: pool.zone,
      vmSize: pool.vmSize,
      cluster: pool.cluster,
      to: pool.to,
    };
    const deadline = now() + options.scaleTimeoutSeconds * 1000;
    let operation: string | undefined;
    for (;;) {
      const parsed = execResultSchema.safeParse(yield context.df.callActivity(ACTIVITIES.beginScalePool, target));
      if (!parsed.success) return { kind: "failed", detail: "malformed activity result" };
      const r = parsed.data;
      if (r.kind === "done") return { kind: "done", detail: r.detail ?? "done" };
      if (r.kind === "failed") return { kind: "failed", detail: `${r.code}: ${r.detail}` };
      if (r.kind === "pending") {
        operation = r.operation;
        break;
      }
      if (now() >= deadline) return { kind: "timeout", detail: r.detail };
      const aborted = yield* pause(r.retryAfterSeconds ?? 0);
      if (aborted !== undefined) return { kind: "aborted", detail: aborted };
    }
    return yield* poll(
      () =>
        context.df.callActivity(ACTIVITIES.getScaleStatus, {
          ...target,
          ...(operation === undefined ? {} : { operation }),
        }),
      Math.max(60, Math.round((deadline - now()) / 1000)),
    );
  }

  function* frontDoorChange(patch: Readonly<Record<string, OriginPatch>>): Generator<Task, Polled, unknown> {
    if (Object.keys(patch).length === 0) return { kind: "done", detail: "no Front Door change" };
    if (frontDoor === undefined) return { kind: "failed", detail: "the workload has no Front Door" };
    const fdInput = { subscriptionId: topology.subscriptionId, frontDoor, origins: patch, workloadOrigins };
    const applied = yield* poll(
      () => context.df.callActivity(ACTIVITIES.updateFrontDoor, fdInput),
      options.propagationTimeoutSeconds,
    );
    if (applied.kind !== "done") return applied;
    return yield* poll(
      () => context.df.callActivity(ACTIVITIES.getFrontDoorStatus, fdInput),
      options.propagationTimeoutSeconds,
    );
  }

  function* setGate(region: string, state: "open" | "drained", why: string): Generator<Task, Polled, unknown> {
    const r = yield* poll(
      () =>
        context.df.callActivity(ACTIVITIES.setHealthGate, {
          workload: workload.name,
          region,
          state,
          reason: `failback ${instanceId}: ${why}`,
          by: instanceId,
        }),
      300,
    );
    if (r.kind === "done") gates.set(region, state);
    return r;
  }

  /** Back to the failover's end state: drain the returning gate, restore origins, put surge capacity back. */
  function* toSafeState(why: string): Generator<Task, void, unknown> {
    phase = "safe-state";
    detail = why;
    publish();
    const safe = relapseSafeState(plan, progress);
    for (const [region, state] of Object.entries(safe.gates)) {
      if (gates.get(region) === state) continue;
      const r = yield* setGate(region, state, `safe state: ${why}`);
      safeRecords.push({ action: `gate ${workload.name}/${region} ${state}`, outcome: `${r.kind}: ${r.detail}` });
    }
    if (Object.keys(safe.patch).length > 0 && frontDoor !== undefined) {
      const fdInput = { subscriptionId: topology.subscriptionId, frontDoor, origins: safe.patch, workloadOrigins };
      const r = yield* poll(() => context.df.callActivity(ACTIVITIES.updateFrontDoor, fdInput), 600);
      safeRecords.push({
        action: `restore origins ${Object.keys(safe.patch).join(", ")}`,
        outcome: `${r.kind}: ${r.detail}`,
      });
    }
    for (const pool of safe.pools) {
      const r = yield* scale(pool);
      safeRecords.push({
        action: `set ${pool.region}/${pool.pool} back to ${pool.to}`,
        outcome: `${r.kind}: ${r.detail}`,
      });
    }
    note(`returned to the safe state: ${why}`);
  }

  // Prepare: the returning scope's capacity and model, with its gate still drained.
  phase = "prepare";
  publish();
  for (const pool of plan.prepare.pools) {
    const r = yield* scale(pool);
    capacity.push({ region: pool.region, pool: pool.pool, to: pool.to, outcome: `${r.kind}: ${r.detail}` });
    if (r.kind === "aborted") return yield* finish("aborted", [`aborted while preparing: ${r.detail}`]);
    if (r.kind !== "done") return yield* finish("failed", [`${pool.region}/${pool.pool} to ${pool.to}: ${r.detail}`]);
  }
  const endpoint = workload.regions[scope.region]?.endpoint;
  if (plan.prepare.warm && endpoint !== undefined && workload.kind === "inference") {
    const r = yield* poll(
      () =>
        context.df.callActivity(ACTIVITIES.warmEndpoint, {
          region: scope.region,
          endpoint,
          model: { name: workload.model.name, version: workload.model.version },
          latencyMs: workload.slo.latencyMs,
        }),
      options.warmTimeoutSeconds,
    );
    note(`warm-up in ${scope.region}: ${r.kind}: ${r.detail}`);
    if (r.kind === "aborted") return yield* finish("aborted", [`aborted while warming: ${r.detail}`]);
    if (r.kind !== "done") return yield* finish("failed", [`warm-up in ${scope.region}: ${r.detail}`]);
  }

  for (const step of plan.steps) {
    current = step.index;
    const record = steps[step.index - 1] as { -readonly [K in keyof FailbackStepRecord]: FailbackStepRecord[K] };
    if (step.requiresApproval) {
      phase = "approval";
      detail = `waiting for approval of step ${step.index} (${Math.round(step.share * 1000) / 10}% of traffic to ${scope.region})`;
      publish();
      note(detail);
      const approvalTask = context.df.waitForExternalEvent(EVENTS.approval);
      const timeout = context.df.createTimer(new Date(now() + options.approvalTimeoutSeconds * 1000));
      const winner: unknown = yield context.df.Task.any([approvalTask, abortTask, timeout]);
      if (!timeout.isCompleted) timeout.cancel();
      const payload = approvalTask.result as { approved?: unknown; by?: unknown } | undefined;
      const stop =
        winner === abortTask
          ? `aborted before step ${step.index}: ${describeEvent(abortTask.result)}`
          : winner === timeout
            ? `no approval of step ${step.index} within ${options.approvalTimeoutSeconds}s`
            : payload?.approved === false
              ? `step ${step.index} denied by ${typeof payload.by === "string" ? payload.by : "unknown"}`
              : undefined;
      if (stop !== undefined) {
        if (progress.step > 0) yield* toSafeState(stop);
        return yield* finish("aborted", [stop]);
      }
      note(`step ${step.index} approved by ${typeof payload?.by === "string" ? payload.by : "unknown"}`);
    }

    phase = "step";
    detail = `step ${step.index}: ${Math.round(step.share * 1000) / 10}% of traffic to ${scope.region}`;
    publish();
    record.appliedAt = iso(now());
    const changed = yield* frontDoorChange(step.patch);
    if (changed.kind !== "done") {
      const why = `step ${step.index} Front Door change ${changed.kind}: ${changed.detail}`;
      yield* toSafeState(why);
      return yield* finish(changed.kind === "aborted" ? "aborted" : "failed", [why]);
    }
    for (const [region, state] of Object.entries(step.gates)) {
      if (gates.get(region) === state) continue;
      const r = yield* setGate(region, state, `step ${step.index}`);
      if (r.kind !== "done") {
        const why = `step ${step.index} gate ${region} ${state}: ${r.kind}: ${r.detail}`;
        yield* toSafeState(why);
        return yield* finish(r.kind === "aborted" ? "aborted" : "failed", [why]);
      }
    }
    progress.step = step.index;
    record.propagatedAt = iso(now());
    note(`step ${step.index} in effect: ${Math.round(step.share * 1000) / 10}% of traffic to ${scope.region}`);

    // Hold: the returning scope's health must hold before the next step.
    phase = "hold";
    publish();
    const stepStartedAt = now();
    const holdDeadline = stepStartedAt + step.check.holdMs + options.holdTimeoutSeconds * 1000;
    for (;;) {
      const answer = (yield context.df.callEntity(entityId, BREAKER_OPERATIONS.evaluateFailbackGate, {
        check: step.check,
        stepStartedAt,
        now: now(),
      })) as GateAnswer | { error: string };
      if ("error" in answer) {
        const why = `step ${step.index} gate could not be judged: ${answer.error}`;
        yield* toSafeState(why);
        return yield* finish("failed", [why]);
      }
      const v = answer.verdict;
      if (v.verdict === "pass") {
        record.passedAt = iso(now());
        record.verdict = v.detail;
        note(`step ${step.index} held: ${v.detail}`);
        break;
      }
      if (v.verdict === "relapse") {
        record.verdict = `relapse: ${v.reasons.join("; ")}`;
        const why = `relapse at step ${step.index}: ${v.reasons.join("; ")}`;
        note(why);
        yield* toSafeState(why);
        return yield* finish("relapsed", [why]);
      }
      detail = `step ${step.index} holding: ${v.detail}`;
      publish();
      if (now() >= holdDeadline) {
        const why = `step ${step.index} hold did not pass within ${options.holdTimeoutSeconds}s after the hold: ${v.detail}`;
        yield* toSafeState(why);
        return yield* finish("failed", [why]);
      }
      const wakeAt = Math.min(v.until ?? Number.POSITIVE_INFINITY, now() + options.pollSeconds * 1000);
      const timer = context.df.createTimer(new Date(Math.max(wakeAt, now() + 1000)));
      const winner: unknown = yield context.df.Task.any([timer, abortTask]);
      if (winner === abortTask) {
        if (!timer.isCompleted) timer.cancel();
        const why = `aborted during step ${step.index}: ${describeEvent(abortTask.result)}`;
        yield* toSafeState(why);
        return yield* finish("aborted", [why]);
      }
    }
  }

  // Release the surge capacity.
  phase = "scale-down";
  detail = undefined;
  current = undefined;
  publish();
  const warnings: string[] = [];
  for (const pool of plan.scaleDown) {
    progress.scaleDownStarted = true;
    const r = yield* scale(pool);
    capacity.push({ region: pool.region, pool: pool.pool, to: pool.to, outcome: `${r.kind}: ${r.detail}` });
    if (r.kind !== "done")
      warnings.push(`scale-down of ${pool.region}/${pool.pool} to ${pool.to}: ${r.kind}: ${r.detail}`);
  }
  return yield* finish("succeeded", warnings);
};
