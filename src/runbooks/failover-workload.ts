/**
 * `failoverWorkload`: fail one workload over from a failed scope (a region, or a zone of a region).
 *
 * Inputs: {@link FailoverInput} (workload, scope, mode live | dry-run, trigger, the topology snapshot, options).
 * Activities: confirmSignal (optional) → snapshotWorkload → planFailover → [approval] → step execution driven by the
 * pure executor (beginScalePool / getScaleStatus with capability-matrix fallback, ensureModel, warmEndpoint,
 * setHealthGate, updateFrontDoor, getFrontDoorStatus, verifyCutover) → restoreTraffic (compensation on failure or
 * abort) → saveReport.
 * Timers: the approval timeout, and one timer per polling round (`options.pollSeconds`, or earlier when a step's
 * next poll or deadline is due). Events: `approval` ({ approved, by }), `abort` ({ by, reason }), `resolved` (the
 * alert cleared; cancels a failover still waiting for approval).
 *
 * Deterministic: no I/O, clock, env or randomness; time comes from `context.df.currentUtcDateTime`.
 */
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import {
  applyResult,
  allFinished,
  createExecutor,
  cutoverVerified,
  dueActions,
  nextWakeAt,
  predictedRemainingSeconds,
  recordStep,
  rtoPathFailed,
  DEFAULT_EXECUTOR_OPTIONS,
  type ExecAction,
  type ExecResult,
  type ExecutorState,
} from "../domain/failover-executor";
import { failuresToUnhealthy } from "../domain/latency-model";
import { poolKey, type PlanResult, type WorkloadPlan } from "../domain/plan";
import type { Topology, Workload } from "../domain/topology";
import {
  ACTIVITIES,
  EVENTS,
  describeEvent,
  execResultSchema,
  failoverInputSchema,
  type CompensationRecord,
  type FailoverInput,
  type FailoverReport,
  type FailoverStatus,
  type Outcome,
  type StepReport,
} from "./contracts";
import { ONE_SHOT_RETRY, takeSnapshot } from "./shared-steps";
import { confirmOutputSchema, impairedRegions, restoreOutputSchema, type Snapshot } from "./activity-contracts";
import {
  buildResumeTrainingInput,
  jobStatusOutputSchema,
  TRAINING_ACTIVITIES,
  TRAINING_ORCHESTRATIONS,
  type JobStatusOutput,
  type ResumeTrainingResult,
} from "./training-contracts";

/** A resumed job's state as the training workload's verification. */
export function trainingJobVerdict(status: JobStatusOutput): ExecResult {
  const detail = `job ${status.jobId}: ${status.state} (${status.providerState})${status.message === undefined ? "" : `: ${status.message}`}`;
  if (status.state === "Running" || status.state === "Completed") return { kind: "done", detail };
  if (status.state === "Failed" || status.state === "Canceled")
    return { kind: "failed", code: "PRECONDITION_FAILED", detail };
  return { kind: "pending", detail };
}

/** Folds the training sub-orchestration's result into a step result. */
export function trainingStepResult(result: ResumeTrainingResult): ExecResult {
  switch (result.status) {
    case "resumed":
      return {
        kind: "done",
        detail: `resumed ${result.runId} in ${result.region} from step ${result.checkpoint.step} (epoch ${result.epoch}, job ${result.jobId} ${result.jobState}); work lost ${result.workLost.seconds}s`,
      };
    case "dry-run":
      return {
        kind: "done",
        detail: `would resume from step ${result.checkpoint.step} (epoch ${result.nextEpoch}); work lost ${result.workLost.seconds}s`,
      };
    case "no-valid-checkpoint":
      return {
        kind: "failed",
        code: "PRECONDITION_FAILED",
        detail: `no valid checkpoint of ${result.runId} in ${result.region}`,
      };
    case "superseded":
      return {
        kind: "failed",
        code: "CONFLICT",
        detail: `run ${result.runId} is held by ${result.holder} (epoch ${result.epoch})`,
      };
    case "job-rejected":
      return { kind: "failed", code: "INVALID_INPUT", detail: `job rejected (${result.reason}): ${result.message}` };
    case "job-failed":
    case "job-start-timeout":
      return {
        kind: "failed",
        code: "TRANSIENT",
        detail: `${result.status}: job ${result.jobId} is ${result.jobState}`,
      };
  }
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs the tasks in parallel and reports each one's outcome. When one faults, `Task.all` stops waiting: tasks that had
 * not finished yet are reported as `interrupted` and the executor simply issues them again in the next round (every
 * step activity is idempotent). Tasks are never yielded twice: a re-yielded task would need a second sequence number.
 */
function* settleAll(context: OrchestrationContext, tasks: Task[]): Generator<Task, Settled[], unknown> {
  try {
    yield context.df.Task.all(tasks);
  } catch {
    // At least one task faulted; the others are reported below as they stand.
  }
  return tasks.map((t): Settled => {
    if (t.isFaulted) return { ok: false, error: t.result };
    if (t.isCompleted) return { ok: true, value: t.result };
    return { ok: false, error: INTERRUPTED };
  });
}

const INTERRUPTED = "interrupted: a parallel step failed first; retried in the next round";

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** GPUs each target region must hold: its weight share of the lowest-priority band that takes traffic. */
export function targetShares(workload: Workload, plan: WorkloadPlan): Map<string, number> {
  const shares = new Map<string, number>();
  const take = plan.traffic?.take;
  if (take !== undefined && take.length > 0) {
    const band = Math.min(...take.map((t) => t.priority));
    const inBand = take.filter((t) => t.priority === band);
    const total = inBand.reduce((a, t) => a + t.weight, 0);
    for (const t of inBand) shares.set(t.region, (workload.capacity.gpus * t.weight) / total);
    return shares;
  }
  const regions = plan.targets.map((t) => t.region);
  const entries = regions.map((r) => ({ r, e: workload.regions[r] })).filter((x) => x.e !== undefined);
  const band = Math.min(...entries.map((x) => x.e?.priority ?? 1));
  const inBand = entries.filter((x) => (x.e?.priority ?? 1) === band);
  const total = inBand.reduce((a, x) => a + (x.e?.weight ?? 50), 0);
  for (const x of inBand) shares.set(x.r, (workload.capacity.gpus * (x.e?.weight ?? 50)) / total);
  return shares;
}

interface RunContext {
  /** Training workloads: the resumed job, once the resume step has it. */
  readonly training: { jobId?: string };
  readonly input: FailoverInput;
  readonly topology: Topology;
  readonly workload: Workload;
  readonly plan: WorkloadPlan;
  readonly snapshot: Snapshot;
  readonly instanceId: string;
}

function originPatches(
  ctx: RunContext,
): Record<string, { enabledState?: "Enabled" | "Disabled"; weight?: number; priority?: number }> {
  const patches: Record<string, { enabledState?: "Enabled" | "Disabled"; weight?: number; priority?: number }> = {};
  const traffic = ctx.plan.traffic;
  if (traffic === undefined) return patches;
  for (const d of traffic.drain) patches[d.origin] = { enabledState: "Disabled" };
  for (const t of traffic.take) patches[t.origin] = { enabledState: "Enabled", weight: t.weight, priority: t.priority };
  return patches;
}

/**
 * Whether the plan's Front Door change leaves exactly one enabled origin in the group and that origin is a target:
 * then, once the change has propagated, Front Door routes every request to it whether or not its probes have marked
 * it healthy yet (a group whose origins are all unhealthy is served across all enabled ones). False when the
 * snapshot could not list the group (an origin it did not see could still be enabled).
 */
export function onlyTargetEnabledAfter(plan: WorkloadPlan, snapshot: Snapshot): boolean {
  const traffic = plan.traffic;
  if (traffic === undefined || snapshot.otherOrigins === undefined) return false;
  const state = new Map<string, "Enabled" | "Disabled">();
  for (const o of snapshot.origins) state.set(o.origin, o.enabledState);
  for (const o of snapshot.otherOrigins) state.set(o.origin, o.enabledState);
  for (const d of traffic.drain) state.set(d.origin, "Disabled");
  for (const t of traffic.take) state.set(t.origin, "Enabled");
  const enabled = [...state].filter(([, s]) => s === "Enabled").map(([o]) => o);
  const targets = new Set(
    traffic.take.filter((t) => plan.targets.some((x) => x.region === t.region)).map((t) => t.origin),
  );
  return enabled.length === 1 && targets.has(enabled[0] ?? "");
}

/** The activity call for one executor action. */
function taskFor(context: OrchestrationContext, ctx: RunContext, action: ExecAction): Task {
  const { workload, topology } = ctx;
  const sub = topology.subscriptionId;
  switch (action.call) {
    case "beginScalePool":
    case "getScaleStatus":
    case "abortScalePool":
      return context.df.callActivity(action.call, { subscriptionId: sub, ...action.input });
    case "ensureModel": {
      const region = action.input.region;
      const target = workload.regions[region]?.modelStore;
      const sources = Object.entries(workload.regions)
        .filter(([r, e]) => r !== region && r !== ctx.input.scope.region && e.modelStore !== undefined)
        .map(([r, e]) => ({ region: r, store: e.modelStore }));
      return context.df.callActivity(ACTIVITIES.ensureModel, {
        region,
        model: { name: workload.model.name, version: workload.model.version },
        target,
        sources,
      });
    }
    case "warmEndpoint": {
      const region = action.input.region;
      return context.df.callActivity(ACTIVITIES.warmEndpoint, {
        region,
        endpoint: workload.regions[region]?.endpoint,
        model: { name: workload.model.name, version: workload.model.version },
        latencyMs: workload.slo.latencyMs,
      });
    }
    case "setHealthGate":
      return context.df.callActivity(ACTIVITIES.setHealthGate, {
        workload: workload.name,
        region: action.input.region,
        state: action.input.state,
        reason: `failover ${ctx.instanceId}: ${ctx.input.trigger.kind} ${ctx.input.trigger.reference}`,
        by: ctx.instanceId,
      });
    case "updateFrontDoor":
    case "getFrontDoorStatus":
      return context.df.callActivity(action.call, {
        subscriptionId: sub,
        frontDoor: workload.frontDoor === undefined ? undefined : topology.frontDoors[workload.frontDoor],
        origins: originPatches(ctx),
        workloadOrigins: Object.values(workload.regions)
          .map((e) => e.origin)
          .filter((o): o is string => o !== undefined),
      });
    case "verifyCutover": {
      if (workload.kind === "training") {
        // The resumed job is the training workload's serving path: verified when Azure ML reports it running.
        return context.df.callActivity(TRAINING_ACTIVITIES.getTrainingJobStatus, { jobId: ctx.training.jobId ?? "" });
      }
      const shares = targetShares(workload, ctx.plan);
      const failedZone = ctx.input.scope.zone;
      const targets = ctx.plan.targets.map((t) => {
        const entry = workload.regions[t.region];
        const pools = (entry?.gpuPools ?? [])
          .filter((p) => !(t.region === ctx.input.scope.region && failedZone !== undefined && p.zone === failedZone))
          .filter(() => entry?.cluster !== undefined)
          .map((p) => ({
            cluster: entry?.cluster ?? { resourceGroup: "", name: "" },
            pool: p.name,
            gpusPerNode: topology.capabilityMatrix.skus[p.vmSize]?.gpus ?? 1,
          }));
        // Fallback pools the executor moved capacity to also count.
        for (const pc of ctx.plan.pools)
          for (const f of pc.fallbacks)
            if (f.region === t.region && !pools.some((p) => p.pool === f.pool))
              pools.push({
                cluster: f.cluster,
                pool: f.pool,
                gpusPerNode: topology.capabilityMatrix.skus[f.vmSize]?.gpus ?? 1,
              });
        const load = ctx.plan.loads?.find((l) => l.region === t.region)?.loadGpus;
        return { region: t.region, endpoint: entry?.endpoint, needGpus: load ?? shares.get(t.region) ?? 0, pools };
      });
      return context.df.callActivity(ACTIVITIES.verifyCutover, {
        subscriptionId: sub,
        model: { name: workload.model.name, version: workload.model.version },
        latencyMs: workload.slo.latencyMs,
        targets,
      });
    }
    case "checkOriginExcluded": {
      const origin = workload.regions[action.input.region]?.origin;
      const frontDoor = workload.frontDoor === undefined ? undefined : topology.frontDoors[workload.frontDoor];
      return context.df.callActivity(ACTIVITIES.checkOriginExcluded, {
        subscriptionId: sub,
        frontDoor,
        origin,
        region: action.input.region,
        thresholdPercent: 1,
        minutes: 2,
      });
    }
    case "resumeTraining":
      return context.df.callSubOrchestrator(
        TRAINING_ORCHESTRATIONS.resumeTraining,
        buildResumeTrainingInput(topology, workload.name, {
          mode: ctx.input.mode,
          failedAt: ctx.input.trigger.detectedAt,
          options: { pollIntervalSeconds: ctx.input.options.pollSeconds },
        }),
        `${ctx.instanceId}:training`,
      );
  }
}

function stepReports(exec: ExecutorState | undefined): StepReport[] {
  if (exec === undefined) return [];
  return exec.steps.map((s) => ({
    id: s.id,
    kind: s.kind,
    status: s.status,
    ...(s.startedAt === undefined ? {} : { start: iso(s.startedAt) }),
    ...(s.endedAt === undefined ? {} : { end: iso(s.endedAt) }),
    ...(s.detail === undefined ? {} : { detail: s.detail }),
  }));
}

export const failoverWorkloadOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = failoverInputSchema.parse(context.df.getInput());
  const instanceId = context.df.instanceId;
  const now = (): number => context.df.currentUtcDateTime.getTime();
  const startedAt = now();
  const detectedAt = Date.parse(input.trigger.detectedAt);
  const timeline: Array<{ at: string; event: string }> = [];
  const note = (event: string): void => void timeline.push({ at: iso(now()), event });
  const topology = input.topology;
  const workload = topology.workloads.find((w) => w.name === input.workload);
  const compensation: CompensationRecord[] = [];
  const scopeText = `${input.scope.region}${input.scope.zone === undefined ? "" : ` zone ${input.scope.zone}`}`;
  let exec: ExecutorState | undefined = undefined;
  let plan: WorkloadPlan | undefined = undefined;
  let verifiedAt: number | undefined;
  let trainingResult: ResumeTrainingResult | undefined;
  let phase: FailoverStatus["phase"] = "snapshot";

  const publish = (outcome?: Outcome): void => {
    const status: FailoverStatus = {
      phase,
      workload: input.workload,
      scope: input.scope,
      mode: input.mode,
      current: exec === undefined ? [] : exec.steps.filter((s) => s.status === "running").map((s) => s.id),
      elapsedSeconds: Math.round((now() - startedAt) / 1000),
      ...(plan === undefined ? {} : { predictedRtoSeconds: plan.predictedRtoSeconds }),
      ...(exec === undefined || plan === undefined || verifiedAt !== undefined
        ? {}
        : { predictedRemainingSeconds: predictedRemainingSeconds(exec, plan, now()) }),
      ...(verifiedAt === undefined ? {} : { rtoSeconds: Math.round((verifiedAt - detectedAt) / 1000) }),
      steps: stepReports(exec),
      ...(outcome === undefined ? {} : { outcome }),
    };
    context.df.setCustomStatus(status);
  };

  function* finish(
    outcome: Outcome,
    reasons: string[],
    extra: Partial<FailoverReport> = {},
  ): Generator<Task, FailoverReport, unknown> {
    phase = "done";
    note(`finished: ${outcome}${reasons.length > 0 ? ` (${reasons.join("; ")})` : ""}`);
    const report: FailoverReport = {
      workload: input.workload,
      scope: input.scope,
      mode: input.mode,
      trigger: input.trigger,
      outcome,
      reasons,
      ...(plan === undefined ? {} : { plan, predictedRtoSeconds: plan.predictedRtoSeconds }),
      steps: stepReports(exec),
      timeline,
      startedAt: iso(startedAt),
      endedAt: iso(now()),
      ...(verifiedAt === undefined
        ? {}
        : { verifiedAt: iso(verifiedAt), rtoSeconds: Math.round((verifiedAt - detectedAt) / 1000) }),
      compensation,
      scaleAttempts: (exec?.steps ?? []).flatMap((s) => (s.tried ?? []).map((t) => ({ step: s.id, ...t }))),
      ...(trainingResult === undefined ? {} : { training: trainingResult }),
      ...extra,
    };
    publish(outcome);
    try {
      yield context.df.callActivityWithRetry(ACTIVITIES.saveReport, ONE_SHOT_RETRY, { instanceId, report });
    } catch (error) {
      note(`report not saved: ${message(error)}`);
    }
    return report;
  }

  note(
    `started by ${input.trigger.kind} ${input.trigger.reference} for ${input.workload} ${scopeText} (${input.mode})`,
  );
  if (workload === undefined) return yield* finish("refused", [`workload ${input.workload} is not in the topology`]);
  const frontDoor = workload.frontDoor === undefined ? undefined : topology.frontDoors[workload.frontDoor];
  const failedOrigin = workload.regions[input.scope.region]?.origin;

  // Optional confirmation of an alert against Azure Monitor metrics before acting.
  if (
    input.options.confirmWithMetrics &&
    input.trigger.kind === "alert" &&
    frontDoor !== undefined &&
    failedOrigin !== undefined
  ) {
    phase = "confirm";
    publish();
    const raw: unknown = yield context.df.callActivityWithRetry(ACTIVITIES.confirmSignal, ONE_SHOT_RETRY, {
      subscriptionId: topology.subscriptionId,
      frontDoor,
      origin: failedOrigin,
      region: input.scope.region,
      thresholdPercent: 50,
      minutes: 5,
    });
    const confirm = confirmOutputSchema.parse(raw);
    note(`confirmation: ${confirm.detail}`);
    if (!confirm.confirmed) return yield* finish("not-confirmed", [confirm.detail]);
  }

  // Snapshot: current state, for the plan, the audit trail and compensation.
  phase = "snapshot";
  publish();
  const snapshot = yield* takeSnapshot(context, topology, workload, frontDoor);
  note(
    `snapshot taken (${snapshot.pools.length} pools, ${snapshot.origins.length} origins${snapshot.errors.length > 0 ? `, ${snapshot.errors.length} errors` : ""})`,
  );

  // Plan from live state: live node counts, and other regions that are already unhealthy or drained.
  phase = "plan";
  publish();
  const capacity: Record<string, number> = {};
  for (const p of snapshot.pools) capacity[poolKey(workload.name, p.region, p.pool)] = p.count;
  const planResult = (yield context.df.callActivityWithRetry(ACTIVITIES.planFailover, ONE_SHOT_RETRY, {
    topology,
    workload: workload.name,
    scope: input.scope,
    capacity: { pools: capacity },
    health: { impairedRegions: impairedRegions(snapshot, input.scope.region), impairedZones: [] },
    detection: input.trigger.kind === "probe" ? "probe" : input.trigger.kind === "alert" ? "alert" : "none",
    modelStores: {
      missing: snapshot.models
        .filter((m) => m.status === "absent" || m.status === "failed")
        .map((m) => ({ workload: workload.name, region: m.region })),
    },
  })) as PlanResult;
  const planned = planResult.workloads.find((w) => w.workload === workload.name);
  const decidedAt = now();
  if (planned === undefined)
    return yield* finish("refused", [`${scopeText} does not affect ${workload.name}: nothing to fail over`]);
  if (planned.status === "refused") return yield* finish("refused", [...planned.reasons]);
  plan = planned;
  note(`plan: targets ${plan.targets.map((t) => t.region).join(", ")}, predicted RTO ${plan.predictedRtoSeconds}s`);

  if (input.mode === "dry-run") {
    if (plan.training !== undefined) {
      try {
        trainingResult = (yield context.df.callSubOrchestrator(
          TRAINING_ORCHESTRATIONS.resumeTraining,
          buildResumeTrainingInput(topology, workload.name, { mode: "dry-run", failedAt: input.trigger.detectedAt }),
          `${instanceId}:training`,
        )) as ResumeTrainingResult;
      } catch (error) {
        note(`training dry run failed: ${message(error)}`);
      }
    }
    const readiness = dryRunReadiness(workload, plan, snapshot);
    if (trainingResult !== undefined) {
      const verdict = trainingStepResult(trainingResult);
      readiness.push({
        check: "training checkpoint",
        ok: verdict.kind === "done",
        detail: "detail" in verdict ? (verdict.detail ?? "") : "",
      });
    }
    const ready = readiness.every((r) => r.ok);
    return yield* finish("dry-run", ready ? [] : readiness.filter((r) => !r.ok).map((r) => `${r.check}: ${r.detail}`), {
      readiness,
    });
  }

  // Approval gate.
  const abortTask = context.df.waitForExternalEvent(EVENTS.abort);
  const approval = workload.approval;
  let approvedAt = decidedAt;
  if (approval.mode !== "auto") {
    phase = "approval";
    publish();
    note(`waiting for approval (${approval.mode}, ${approval.timeoutSeconds}s)`);
    const approvalTask = context.df.waitForExternalEvent(EVENTS.approval);
    const resolvedTask = context.df.waitForExternalEvent(EVENTS.resolved);
    const timeout = context.df.createTimer(new Date(now() + approval.timeoutSeconds * 1000));
    const winner: unknown = yield context.df.Task.any([approvalTask, abortTask, resolvedTask, timeout]);
    if (!timeout.isCompleted) timeout.cancel();
    if (winner === abortTask)
      return yield* finish("aborted", [`aborted before execution: ${describeEvent(abortTask.result)}`]);
    if (winner === resolvedTask) return yield* finish("aborted", ["the alert resolved before approval"]);
    if (winner === approvalTask) {
      const payload = approvalTask.result as { approved?: unknown; by?: unknown } | undefined;
      const by = typeof payload?.by === "string" ? payload.by : "unknown";
      if (payload?.approved === false) return yield* finish("aborted", [`approval denied by ${by}`]);
      note(`approved by ${by}`);
    } else if (approval.mode === "manual") {
      return yield* finish("aborted", [`approval timed out after ${approval.timeoutSeconds}s`]);
    } else {
      note(`approved automatically after ${approval.timeoutSeconds}s without an answer`);
    }
    approvedAt = now();
  }

  // Execute the step graph.
  phase = "execute";
  const probe = frontDoor?.probe;
  exec = createExecutor(
    plan,
    {
      ...DEFAULT_EXECUTOR_OPTIONS,
      pollSeconds: input.options.pollSeconds,
      // From the drain: the origin's cached gate read expires, then its next failed probes at every POP.
      probeWindowSeconds:
        probe === undefined || frontDoor === undefined
          ? 0
          : frontDoor.gateCacheSeconds + probe.intervalSeconds * failuresToUnhealthy(probe),
      scaleTimeoutSeconds: input.options.scaleTimeoutSeconds,
      warmTimeoutSeconds: input.options.warmTimeoutSeconds,
      verifyTimeoutSeconds: input.options.verifyTimeoutSeconds,
      propagationTimeoutSeconds: input.options.propagationTimeoutSeconds,
      ...(workload.capacity.hedge === undefined ? {} : { hedgeAfterSeconds: workload.capacity.hedge.afterSeconds }),
      // A target Front Door saw unhealthy (cold, empty) needs successfulSamplesRequired good probes before it routes.
      verifyStableSeconds:
        probe !== undefined &&
        plan.targets.some((t) => snapshot.endpoints.find((e) => e.region === t.region)?.status !== 200)
          ? probe.intervalSeconds * probe.successfulSamplesRequired
          : 0,
      verifyHoldEndsWhenPropagated: onlyTargetEnabledAfter(plan, snapshot),
    },
    approvedAt,
  );
  recordStep(
    exec,
    "detect",
    Math.min(detectedAt, startedAt),
    startedAt,
    `${input.trigger.kind} ${input.trigger.reference}`,
  );
  recordStep(exec, "decide", startedAt, decidedAt, "snapshot and plan");
  recordStep(exec, "approve", decidedAt, approvedAt, approval.mode);
  const ctx: RunContext = { training: {}, input, topology, workload, plan, snapshot, instanceId };
  const undo = { gates: new Set<string>(), frontDoor: false };

  const compensate = function* (why: string): Generator<Task, void, unknown> {
    phase = "compensate";
    publish();
    const origins: Record<string, { enabledState?: "Enabled" | "Disabled"; weight?: number; priority?: number }> = {};
    if (undo.frontDoor)
      for (const o of snapshot.origins)
        origins[o.origin] = { enabledState: o.enabledState, weight: o.weight, priority: o.priority };
    if (undo.gates.size === 0 && Object.keys(origins).length === 0) {
      compensation.push({ action: "nothing to undo (no traffic change was made)", outcome: "done" });
      return;
    }
    try {
      const records = restoreOutputSchema.parse(
        yield context.df.callActivityWithRetry(ACTIVITIES.restoreTraffic, ONE_SHOT_RETRY, {
          subscriptionId: topology.subscriptionId,
          workload: workload.name,
          reason: `compensation for ${instanceId}: ${why}`,
          by: instanceId,
          gates: [...undo.gates].sort(),
          ...(frontDoor === undefined ? {} : { frontDoor }),
          origins,
        }),
      );
      compensation.push(...records);
    } catch (error) {
      compensation.push({ action: "restore traffic", outcome: `failed: ${message(error)}` });
    }
    compensation.push({
      action: "GPU capacity added during the failover is left in place (scale down with failback or by hand)",
      outcome: "kept",
    });
  };

  for (;;) {
    const actions = dueActions(exec, now());
    if (actions.length > 0) {
      const settled = yield* settleAll(
        context,
        actions.map((a) => taskFor(context, ctx, a)),
      );
      const at = now();
      actions.forEach((action, i) => {
        const s = settled[i] as Settled;
        let result: ExecResult;
        if (s.ok && action.call === "resumeTraining") {
          trainingResult = s.value as ResumeTrainingResult;
          if ("jobId" in trainingResult) ctx.training.jobId = trainingResult.jobId;
          result = trainingStepResult(trainingResult);
        } else if (s.ok && action.call === "verifyCutover" && workload.kind === "training") {
          result = trainingJobVerdict(jobStatusOutputSchema.parse(s.value));
        } else if (s.ok) {
          const parsed = execResultSchema.safeParse(s.value);
          result = parsed.success
            ? (parsed.data as ExecResult)
            : { kind: "failed", code: "INTERNAL", detail: `malformed result from ${action.call}` };
        } else if (s.error === INTERRUPTED) result = { kind: "transient", detail: INTERRUPTED };
        else result = { kind: "failed", code: "INTERNAL", detail: message(s.error) };
        if (result.kind === "done" && action.call === "setHealthGate") undo.gates.add(action.input.region);
        if (result.kind === "done" && action.call === "updateFrontDoor") undo.frontDoor = true;
        applyResult(exec, action, result, at);
      });
    }
    if (verifiedAt === undefined && cutoverVerified(exec)) {
      verifiedAt = now();
      phase = "trailing";
      note(`cutover verified ${Math.round((verifiedAt - detectedAt) / 1000)}s after the signal fired`);
    }
    const failedStep = rtoPathFailed(exec);
    if (failedStep !== undefined) {
      const why = `${failedStep.id} failed: ${failedStep.detail ?? "no detail"}`;
      note(why);
      yield* compensate(why);
      return yield* finish("failed", [why]);
    }
    if (allFinished(exec)) break;
    if (actions.length > 0) {
      publish();
      continue;
    }
    const wake = nextWakeAt(exec);
    if (wake === undefined) {
      // Nothing running and nothing due: a step is waiting on something that can never finish.
      const stuck = exec.steps.filter((s) => s.status === "pending").map((s) => s.id);
      yield* compensate(`steps cannot start: ${stuck.join(", ")}`);
      return yield* finish("failed", [`steps cannot start: ${stuck.join(", ")}`]);
    }
    publish();
    const timer = context.df.createTimer(new Date(Math.max(wake, now() + 1000)));
    const winner: unknown = yield context.df.Task.any([timer, abortTask]);
    if (winner === abortTask) {
      if (!timer.isCompleted) timer.cancel();
      const why = `aborted: ${describeEvent(abortTask.result)}`;
      note(why);
      yield* compensate(why);
      return yield* finish("aborted", [why]);
    }
  }

  const warnings = exec.steps
    .filter((s) => s.status === "failed" && !s.countsForRto)
    .map((s) => `${s.id}: ${s.detail ?? "failed"}`);
  return yield* finish("succeeded", warnings);
};

/** What a dry run checks against live state, with no writes. */
export function dryRunReadiness(
  workload: Workload,
  plan: WorkloadPlan,
  snapshot: Snapshot,
): Array<{ check: string; ok: boolean; detail: string }> {
  const checks: Array<{ check: string; ok: boolean; detail: string }> = [];
  checks.push({
    check: "read access",
    ok: snapshot.errors.length === 0,
    detail:
      snapshot.errors.length === 0
        ? "every pool, origin, gate, endpoint and store was readable"
        : snapshot.errors.join("; "),
  });
  for (const t of plan.targets) {
    const model = snapshot.models.find((m) => m.region === t.region);
    checks.push({
      check: `model in ${t.region}`,
      ok: model?.status === "present",
      detail:
        model === undefined
          ? "no model store configured"
          : model.status === "present"
            ? `${workload.model.name}@${workload.model.version} present`
            : `${workload.model.name}@${workload.model.version} ${model.status}: a live failover would copy it first`,
    });
    const endpoint = snapshot.endpoints.find((e) => e.region === t.region);
    checks.push({
      check: `endpoint in ${t.region}`,
      ok: endpoint?.status === 200,
      detail:
        endpoint === undefined
          ? "no endpoint"
          : `health ${endpoint.status}${endpoint.detail === undefined ? "" : `: ${endpoint.detail}`}`,
    });
  }
  for (const p of plan.pools) {
    const live = snapshot.pools.find((x) => x.region === p.region && x.pool === p.pool);
    checks.push({
      check: `capacity ${p.region}/${p.pool}`,
      ok: live !== undefined && live.provisioningState !== "Failed",
      detail:
        live === undefined
          ? "pool not found"
          : `${live.count} → ${p.to} nodes of ${p.vmSize} in zone ${p.zone} (${live.provisioningState}${live.error === undefined ? "" : `, last error ${live.error}`}); ${p.fallbacks.length} fallback(s)`,
    });
  }
  return checks;
}
