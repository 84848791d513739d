import { describe, expect, it } from "vitest";
import {
  allFinished,
  applyResult,
  createExecutor,
  cutoverVerified,
  dueActions,
  nextWakeAt,
  predictedRemainingSeconds,
  rtoPathFailed,
  stepById,
  DEFAULT_EXECUTOR_OPTIONS,
  type ExecAction,
  type ExecResult,
  type ExecutorState,
} from "../../src/domain/failover-executor";
import type { PlanStep, PoolChange, WorkloadPlan } from "../../src/domain/plan";

const T0 = Date.UTC(2030, 0, 1);
const cluster = { resourceGroup: "rg", name: "aks-w3" };

function step(
  id: string,
  kind: PlanStep["kind"],
  after: string[],
  expectedSeconds: number,
  extra: Partial<PlanStep> = {},
): PlanStep {
  return { id, kind, after, expectedSeconds, countsForRto: kind !== "frontdoor" && kind !== "propagate", ...extra };
}

function regionPlan(fallbacks: PoolChange["fallbacks"] = []): WorkloadPlan {
  const pool: PoolChange = {
    region: "westus3",
    pool: "a100z1",
    zone: "1",
    vmSize: "Standard_NC24ads_A100_v4",
    cluster,
    from: 2,
    to: 6,
    fallbacks,
  };
  const steps = [
    step("detect", "detect", [], 150),
    step("decide", "decide", ["detect"], 5),
    step("approve", "approve", ["decide"], 0),
    step("scale:westus3/a100z1", "scale", ["approve"], 420, { region: "westus3", pool: "a100z1", zone: "1" }),
    step("warm:westus3", "warm", ["scale:westus3/a100z1"], 130, { region: "westus3" }),
    step("drain-gate:eastus2", "drain-gate", ["approve"], 1, { region: "eastus2" }),
    step("probe-window:eastus2", "probe-window", ["drain-gate:eastus2"], 75, { region: "eastus2" }),
    step("frontdoor:afd-chat", "frontdoor", ["drain-gate:eastus2"], 30),
    step("propagate:afd-chat", "propagate", ["frontdoor:afd-chat"], 420),
    step("verify", "verify", ["warm:westus3", "probe-window:eastus2"], 30),
  ];
  return {
    status: "ok",
    workload: "chat",
    kind: "inference",
    target: { region: "westus3", zones: ["1", "2"] },
    targets: [{ region: "westus3", zones: ["1", "2"] }],
    pools: [pool],
    traffic: {
      frontDoor: "afd-chat",
      kind: "standard",
      drain: [{ region: "eastus2", origin: "chat-eastus2" }],
      take: [],
    },
    warmups: [{ region: "westus3", model: "m", version: "v" }],
    training: undefined,
    steps,
    criticalPath: ["detect", "decide", "approve", "scale:westus3/a100z1", "warm:westus3", "verify"],
    predictedRtoSeconds: 735,
    notes: [],
  };
}

const options = { ...DEFAULT_EXECUTOR_OPTIONS, pollSeconds: 10, probeWindowSeconds: 90 };

function calls(actions: ExecAction[]): string[] {
  return actions.map((a) => `${a.call}:${a.stepId}`).sort();
}

function answer(state: ExecutorState, actions: ExecAction[], now: number, pick: (a: ExecAction) => ExecResult): void {
  for (const a of actions) applyResult(state, a, pick(a), now);
}

describe("failover executor", () => {
  it("starts independent branches in parallel and honours dependencies", () => {
    const state = createExecutor(regionPlan(), options, T0);
    const first = dueActions(state, T0);
    expect(calls(first)).toEqual(["beginScalePool:scale:westus3/a100z1", "setHealthGate:drain-gate:eastus2"]);
    answer(state, first, T0, (a) =>
      a.call === "beginScalePool" ? { kind: "pending", operation: "op-1" } : { kind: "done" },
    );
    // The gate is drained: Front Door record and the probe window start; the scale is polled later.
    const second = dueActions(state, T0);
    expect(calls(second)).toEqual(["checkOriginExcluded:probe-window:eastus2", "updateFrontDoor:frontdoor:afd-chat"]);
    expect(stepById(state, "probe-window:eastus2")?.status).toBe("running");
    answer(state, second, T0, (a) =>
      a.call === "checkOriginExcluded" ? { kind: "pending", detail: "health 50%" } : { kind: "done" },
    );
    // Next: the scale poll (10 s) comes before the end of the 90 s probe window.
    expect(nextWakeAt(state)).toBe(T0 + 10_000);
  });

  it("polls a scale with its serialized operation, then warms, then verifies after the probe window", () => {
    const state = createExecutor(regionPlan(), options, T0);
    let now = T0;
    answer(state, dueActions(state, now), now, (a) =>
      a.call === "beginScalePool" ? { kind: "pending", operation: "op-1" } : { kind: "done" },
    );
    answer(state, dueActions(state, now), now, (a) =>
      a.call === "checkOriginExcluded" ? { kind: "pending" } : { kind: "done" },
    ); // front door accepted
    now += 10_000;
    const poll = dueActions(state, now);
    const scalePoll = poll.find((a) => a.call === "getScaleStatus");
    expect(scalePoll?.input).toMatchObject({ pool: "a100z1", to: 6, operation: "op-1" });
    answer(state, poll, now, (a) => (a.call === "getScaleStatus" ? { kind: "done" } : { kind: "pending" }));
    expect(stepById(state, "probe-window:eastus2")?.status).toBe("running");
    const warm = dueActions(state, now);
    expect(calls(warm)).toContain("ensureModel:warm:westus3");
    answer(state, warm, now, (a) => (a.call === "ensureModel" ? { kind: "done" } : { kind: "pending" }));
    const warmup = dueActions(state, now);
    expect(calls(warmup)).toContain("warmEndpoint:warm:westus3");
    answer(state, warmup, now, (a) => (a.call === "warmEndpoint" ? { kind: "done" } : { kind: "pending" }));
    // Warm, but the probe window (90 s from T0) has not elapsed: verify must not start.
    expect(dueActions(state, now).some((a) => a.call === "verifyCutover")).toBe(false);
    now = T0 + 90_000;
    const verify = dueActions(state, now);
    expect(stepById(state, "probe-window:eastus2")).toMatchObject({ status: "done", endedAt: T0 + 90_000 });
    expect(calls(verify)).toContain("verifyCutover:verify");
    answer(state, verify, now, (a) => (a.call === "verifyCutover" ? { kind: "done" } : { kind: "pending" }));
    expect(cutoverVerified(state)).toBe(true);
    expect(allFinished(state)).toBe(false); // propagation still tracked
    expect(rtoPathFailed(state)).toBeUndefined();
  });

  it("ends the probe window early when metrics show Front Door already excludes the origin", () => {
    const state = createExecutor(regionPlan(), options, T0);
    answer(state, dueActions(state, T0), T0, (a) =>
      a.call === "beginScalePool" ? { kind: "pending" } : { kind: "done" },
    );
    const look = dueActions(state, T0).find((a) => a.call === "checkOriginExcluded");
    expect(look?.input).toEqual({ region: "eastus2" });
    applyResult(state, look!, { kind: "transient", detail: "metrics 503" }, T0);
    expect(stepById(state, "probe-window:eastus2")).toMatchObject({ status: "running", nextAt: T0 + 10_000 });
    const again = dueActions(state, T0 + 10_000).find((a) => a.call === "checkOriginExcluded");
    applyResult(state, again!, { kind: "done", detail: "health 0%" }, T0 + 10_000);
    expect(stepById(state, "probe-window:eastus2")).toMatchObject({
      status: "done",
      endedAt: T0 + 10_000,
      detail: "health 0%",
    });
  });

  it("falls back along the capability matrix after an allocation failure and records why", () => {
    const fallback = {
      region: "westus3",
      pool: "a100x2z1",
      zone: "1" as const,
      vmSize: "Standard_NC48ads_A100_v4",
      cluster,
      to: 2,
      from: 0,
      hedgeable: false,
      why: "same zone, fallback SKU",
    };
    const other = {
      region: "westus3",
      pool: "a100z2",
      zone: "2" as const,
      vmSize: "Standard_NC24ads_A100_v4",
      cluster,
      to: 6,
      from: 0,
      hedgeable: false,
      why: "other zone",
    };
    const state = createExecutor(regionPlan([fallback, other]), options, T0);
    const first = dueActions(state, T0);
    answer(state, first, T0, (a) =>
      a.call === "beginScalePool"
        ? { kind: "failed", code: "ZonalAllocationFailed", detail: "Allocation failed." }
        : { kind: "done" },
    );
    const s = stepById(state, "scale:westus3/a100z1");
    expect(s?.status).toBe("running");
    expect(s?.target).toMatchObject({ pool: "a100x2z1", to: 2 });
    expect(s?.tried).toEqual([
      {
        region: "westus3",
        pool: "a100z1",
        zone: "1",
        vmSize: "Standard_NC24ads_A100_v4",
        outcome: "ZonalAllocationFailed: Allocation failed.",
      },
    ]);
    const retry = dueActions(state, T0).find((a) => a.call === "beginScalePool");
    expect(retry?.input).toMatchObject({ pool: "a100x2z1", to: 2 });
    // The second candidate fails at run time (the LRO ends Failed), the third one is tried next.
    applyResult(state, retry!, { kind: "pending", operation: "op-2" }, T0);
    applyResult(
      state,
      { stepId: s!.id, call: "getScaleStatus", input: { ...s!.target!, operation: "op-2" } },
      { kind: "failed", code: "QuotaExceeded", detail: "quota" },
      T0 + 10_000,
    );
    expect(stepById(state, s!.id)?.target).toMatchObject({ pool: "a100z2" });
    applyResult(
      state,
      dueActions(state, T0 + 10_000).find((a) => a.call === "beginScalePool")!,
      { kind: "failed", code: "SkuNotAvailable", detail: "no" },
      T0 + 10_000,
    );
    expect(stepById(state, s!.id)).toMatchObject({ status: "failed" });
    expect(stepById(state, s!.id)?.detail).toMatch(
      /^no capacity: westus3\/a100z1 .*ZonalAllocationFailed.*a100x2z1.*QuotaExceeded.*a100z2.*SkuNotAvailable/,
    );
    // Warm-up still proceeds on the nodes that exist (a failed scale is a soft dependency of warm).
    expect(dueActions(state, T0 + 10_000).some((a) => a.call === "ensureModel")).toBe(true);
  });

  it("skips a cross-region fallback candidate whose region this plan does not warm", () => {
    const far = {
      region: "eastus2",
      pool: "a100z2",
      zone: "2" as const,
      vmSize: "Standard_NC24ads_A100_v4",
      cluster,
      to: 6,
      from: 0,
      hedgeable: false,
      why: "other region",
    };
    const state = createExecutor(regionPlan([far]), options, T0);
    answer(state, dueActions(state, T0), T0, (a) =>
      a.call === "beginScalePool" ? { kind: "failed", code: "AllocationFailed", detail: "x" } : { kind: "done" },
    );
    const s = stepById(state, "scale:westus3/a100z1");
    expect(s?.status).toBe("failed");
    expect(s?.tried?.[1]).toMatchObject({ region: "eastus2", outcome: "skipped: region not in this plan" });
  });

  it("backs off transient errors and honours Retry-After", () => {
    const state = createExecutor(regionPlan(), options, T0);
    answer(state, dueActions(state, T0), T0, (a) =>
      a.call === "beginScalePool"
        ? { kind: "transient", detail: "429 TooManyRequests", retryAfterSeconds: 45 }
        : { kind: "done" },
    );
    expect(stepById(state, "scale:westus3/a100z1")?.nextAt).toBe(T0 + 45_000);
    expect(dueActions(state, T0 + 44_000).some((a) => a.call === "beginScalePool")).toBe(false);
    expect(dueActions(state, T0 + 45_000).some((a) => a.call === "beginScalePool")).toBe(true);
  });

  it("gives up a step after too many transient errors", () => {
    const state = createExecutor(regionPlan(), { ...options, maxStepErrors: 2 }, T0);
    let now = T0;
    answer(state, dueActions(state, now), now, () => ({ kind: "done" })); // scale done at once, gate drained
    for (let i = 0; i < 2; i++) {
      const a = dueActions(state, now).find((x) => x.call === "updateFrontDoor");
      if (a !== undefined) applyResult(state, a, { kind: "transient", detail: "503" }, now);
      now += 120_000;
    }
    expect(stepById(state, "frontdoor:afd-chat")).toMatchObject({ status: "failed" });
    dueActions(state, now);
    expect(stepById(state, "propagate:afd-chat")).toMatchObject({
      status: "skipped",
      detail: "not run: frontdoor:afd-chat failed",
    });
    // Front Door is off the RTO path: its failure does not fail the cutover.
    expect(rtoPathFailed(state)).toBeUndefined();
  });

  it("fails warm-up at its deadline and reports the failure on the RTO path", () => {
    const state = createExecutor(regionPlan(), { ...options, warmTimeoutSeconds: 60 }, T0);
    answer(state, dueActions(state, T0), T0, () => ({ kind: "done" }));
    answer(state, dueActions(state, T0), T0, (a) => (a.call === "ensureModel" ? { kind: "done" } : { kind: "done" }));
    answer(state, dueActions(state, T0), T0, (a) =>
      a.call === "warmEndpoint" ? { kind: "pending", detail: "loading" } : { kind: "pending" },
    );
    dueActions(state, T0 + 61_000);
    expect(stepById(state, "warm:westus3")).toMatchObject({ status: "failed" });
    expect(stepById(state, "warm:westus3")?.detail).toMatch(
      /timed out after 60s \(last: westus3?.*loading|timed out after 60s/,
    );
    expect(rtoPathFailed(state)?.id).toBe("warm:westus3");
  });

  it("predicts the remaining time from the plan's expectations", () => {
    const state = createExecutor(regionPlan(), options, T0);
    const before = predictedRemainingSeconds(state, regionPlan(), T0);
    expect(before).toBe(420 + 130 + 30);
    answer(state, dueActions(state, T0), T0, (a) =>
      a.call === "beginScalePool" ? { kind: "pending" } : { kind: "done" },
    );
    expect(predictedRemainingSeconds(state, regionPlan(), T0 + 100_000)).toBe(420 - 100 + 130 + 30);
  });
});

describe("failover executor: verification of a cold target", () => {
  it("holds verification until the targets stayed healthy for Front Door's success samples", () => {
    const state = createExecutor(regionPlan(), { ...options, verifyStableSeconds: 60 }, T0);
    for (const s of state.steps)
      if (s.id !== "verify") Object.assign(s, { status: "done", startedAt: T0, endedAt: T0 });
    const now = T0 + 100_000;
    const v1 = dueActions(state, now).find((a) => a.call === "verifyCutover")!;
    applyResult(state, v1, { kind: "done", detail: "ok" }, now);
    expect(stepById(state, "verify")).toMatchObject({ status: "running", stableSince: now, nextAt: now + 10_000 });
    // A relapse resets the clock.
    const v2 = dueActions(state, now + 10_000).find((a) => a.call === "verifyCutover")!;
    applyResult(state, v2, { kind: "pending", detail: "westus3: health 503" }, now + 10_000);
    expect(stepById(state, "verify")?.stableSince).toBeUndefined();
    let t = now + 20_000;
    for (;;) {
      const v = dueActions(state, t).find((a) => a.call === "verifyCutover");
      if (v !== undefined) applyResult(state, v, { kind: "done", detail: "ok" }, t);
      if (stepById(state, "verify")?.status === "done") break;
      t += 10_000;
    }
    expect(stepById(state, "verify")?.endedAt).toBe(now + 20_000 + 60_000);
  });

  it("ends the hold once the Front Door change has propagated when the targets are left the only enabled origins", () => {
    const run = (alone: boolean, propagated: boolean) => {
      const state = createExecutor(
        regionPlan(),
        { ...options, verifyStableSeconds: 60, verifyHoldEndsWhenPropagated: alone },
        T0,
      );
      for (const s of state.steps)
        if (s.id !== "verify") Object.assign(s, { status: "done", startedAt: T0, endedAt: T0 });
      const propagate = state.steps.find((s) => s.kind === "propagate");
      expect(propagate).toBeDefined();
      if (!propagated) Object.assign(propagate!, { status: "running", endedAt: undefined });
      const now = T0 + 100_000;
      const v = dueActions(state, now).find((a) => a.call === "verifyCutover")!;
      applyResult(state, v, { kind: "done", detail: "westus3: 8 GPUs" }, now);
      return stepById(state, "verify");
    };
    expect(run(true, true)).toMatchObject({ status: "done", endedAt: T0 + 100_000 });
    expect(run(true, true)?.detail).toMatch(/has propagated and leaves only the targets enabled/);
    // Still propagating, or other origins stay enabled: Front Door's probes decide, so the hold stays.
    expect(run(true, false)).toMatchObject({ status: "running" });
    expect(run(false, true)).toMatchObject({ status: "running" });
  });
});

describe("failover executor: hedged allocation", () => {
  const hedgeable = {
    region: "westus3",
    pool: "a100z2",
    zone: "2" as const,
    vmSize: "Standard_NC24ads_A100_v4",
    cluster,
    from: 1,
    to: 5,
    hedgeable: true,
    why: "other zone",
  };
  const hedged = { ...options, hedgeAfterSeconds: 0 };
  const scaleId = "scale:westus3/a100z1";
  const poolOf = (a: ExecAction): string | undefined => (a.input as { pool?: string }).pool;
  type ScaleCall = Extract<ExecAction, { call: "beginScalePool" | "getScaleStatus" }>;
  const scaleCalls = (actions: ExecAction[]): ScaleCall[] =>
    actions.filter((a): a is ScaleCall => a.call === "beginScalePool" || a.call === "getScaleStatus");

  /** Starts the plan: the primary scale is accepted (op-1) and the gate drains; returns the hedge's begin action. */
  function startHedged(state: ExecutorState): ExecAction[] {
    answer(state, dueActions(state, T0), T0, (a) =>
      a.call === "beginScalePool" ? { kind: "pending", operation: "op-1" } : { kind: "done" },
    );
    const due = dueActions(state, T0);
    // The traffic branch keeps polling; only the scale calls matter here.
    answer(
      state,
      due.filter((a) => !scaleCalls([a]).length),
      T0,
      () => ({ kind: "pending" }),
    );
    return scaleCalls(due);
  }

  it("asks the next candidate in parallel once the attempt is provisioning, and wins with it on a late allocation failure", () => {
    const state = createExecutor(regionPlan([hedgeable]), hedged, T0);
    const hedge = startHedged(state);
    expect(hedge).toEqual([
      {
        stepId: scaleId,
        call: "beginScalePool",
        input: expect.objectContaining({ pool: "a100z2", to: 5 }),
        hedge: true,
      },
    ]);
    applyResult(state, hedge[0]!, { kind: "pending", operation: "op-2" }, T0);
    // 80 s later AKS reports the primary's allocation failure: the hedge, already provisioning, becomes the attempt.
    const polls = scaleCalls(dueActions(state, T0 + 80_000));
    expect(polls.map((a) => [a.input.pool, (a as { hedge?: true }).hedge ?? false])).toEqual([
      ["a100z1", false],
      ["a100z2", true],
    ]);
    answer(state, polls, T0 + 80_000, (a) =>
      poolOf(a) === "a100z1"
        ? { kind: "failed", code: "ZonalAllocationFailed", detail: "Allocation failed." }
        : { kind: "pending" },
    );
    const s = stepById(state, scaleId)!;
    expect(s.status).toBe("running");
    expect(s.target).toMatchObject({ pool: "a100z2", to: 5 });
    expect(s.operation).toBe("op-2");
    expect(s.hedge).toBeUndefined();
    expect(s.tried).toEqual([
      expect.objectContaining({ pool: "a100z1", outcome: "ZonalAllocationFailed: Allocation failed." }),
    ]);
    // No second begin on the promoted hedge: it is polled with its own operation.
    const next = scaleCalls(dueActions(state, T0 + 90_000));
    expect(next).toEqual([
      expect.objectContaining({
        call: "getScaleStatus",
        input: expect.objectContaining({ pool: "a100z2", operation: "op-2" }),
      }),
    ]);
    answer(state, next, T0 + 300_000, () => ({ kind: "done" }));
    expect(stepById(state, scaleId)).toMatchObject({ status: "done", endedAt: T0 + 300_000 });
    expect(state.steps.some((x) => x.kind === "release")).toBe(false);
  });

  it("scales the losing hedge back to its count once its own operation has ended", () => {
    const state = createExecutor(regionPlan([hedgeable]), hedged, T0);
    applyResult(state, startHedged(state)[0]!, { kind: "pending", operation: "op-2" }, T0);
    const polls = scaleCalls(dueActions(state, T0 + 10_000));
    answer(state, polls, T0 + 10_000, (a) => (poolOf(a) === "a100z1" ? { kind: "done" } : { kind: "pending" }));
    expect(stepById(state, scaleId)).toMatchObject({
      status: "done",
      target: expect.objectContaining({ pool: "a100z1" }),
    });
    expect(stepById(state, scaleId)?.detail).toMatch(/hedge on westus3\/a100z2 released \(release:westus3\/a100z2\)/);
    const release = stepById(state, "release:westus3/a100z2")!;
    expect(release).toMatchObject({ status: "running", countsForRto: false, phase: "abort" });
    // First its provisioning is aborted (saves the GPU-minutes of nodes not yet Ready)…
    const abort = dueActions(state, T0 + 10_000).filter((a) => a.stepId === release.id);
    expect(abort).toEqual([
      { stepId: release.id, call: "abortScalePool", input: expect.objectContaining({ pool: "a100z2", from: 1 }) },
    ]);
    applyResult(state, abort[0]!, { kind: "done", detail: "abort accepted" }, T0 + 10_000);
    // …then its operation must end (Canceled): AKS refuses a second operation on a busy pool.
    const wait = dueActions(state, T0 + 10_000).filter((a) => a.stepId === release.id);
    expect(wait).toEqual([
      {
        stepId: release.id,
        call: "getScaleStatus",
        input: expect.objectContaining({ pool: "a100z2", to: 5, operation: "op-2" }),
      },
    ]);
    applyResult(state, wait[0]!, { kind: "pending" }, T0 + 10_000);
    applyResult(
      state,
      dueActions(state, T0 + 20_000).find((a) => a.stepId === release.id)!,
      { kind: "done" },
      T0 + 20_000,
    );
    const back = dueActions(state, T0 + 20_000).filter((a) => a.stepId === release.id);
    expect(back).toEqual([
      { stepId: release.id, call: "beginScalePool", input: expect.objectContaining({ pool: "a100z2", to: 1 }) },
    ]);
    applyResult(state, back[0]!, { kind: "pending", operation: "op-3" }, T0 + 20_000);
    const done = dueActions(state, T0 + 30_000).filter((a) => a.stepId === release.id);
    expect(done[0]?.input).toMatchObject({ to: 1, operation: "op-3" });
    applyResult(state, done[0]!, { kind: "done" }, T0 + 30_000);
    expect(stepById(state, release.id)).toMatchObject({ status: "done", detail: "westus3/a100z2 back to 1 nodes" });
    expect(rtoPathFailed(state)).toBeUndefined();
  });

  it("keeps the hedge when it finishes first and releases the attempt it beat", () => {
    const state = createExecutor(regionPlan([hedgeable]), hedged, T0);
    applyResult(state, startHedged(state)[0]!, { kind: "pending", operation: "op-2" }, T0);
    answer(state, scaleCalls(dueActions(state, T0 + 10_000)), T0 + 10_000, (a) =>
      poolOf(a) === "a100z2" ? { kind: "done" } : { kind: "pending" },
    );
    expect(stepById(state, scaleId)).toMatchObject({
      status: "done",
      target: expect.objectContaining({ pool: "a100z2" }),
      detail: expect.stringMatching(/a100z2 at 5 nodes \(hedge\); westus3\/a100z1 released/),
    });
    const release = stepById(state, "release:westus3/a100z1")!;
    expect(release).toMatchObject({ phase: "abort", operation: "op-1", target: expect.objectContaining({ from: 2 }) });
    // A refused abort (e.g. the operation just ended) still waits for the operation, then scales back.
    const abort = dueActions(state, T0 + 10_000).find((a) => a.stepId === release.id)!;
    applyResult(state, abort, { kind: "failed", code: "OperationNotAllowed", detail: "ended" }, T0 + 10_000);
    expect(release).toMatchObject({ status: "running", phase: "wait" });
    expect(dueActions(state, T0 + 10_000).find((a) => a.stepId === release.id)).toMatchObject({
      call: "getScaleStatus",
      input: { pool: "a100z1", operation: "op-1" },
    });
  });

  it("passes a change's need (its set-to count less its spare nodes) to the attempt, never to a fallback or a release", () => {
    const base = regionPlan([hedgeable]);
    const plan: WorkloadPlan = { ...base, pools: [{ ...base.pools[0]!, to: 6, spare: 2 }] };
    const state = createExecutor(plan, hedged, T0);
    const begin = scaleCalls(dueActions(state, T0));
    expect(begin.map((a) => a.input)).toEqual([expect.objectContaining({ pool: "a100z1", to: 6, need: 4 })]);
    applyResult(state, startHedged(state)[0]!, { kind: "pending", operation: "op-2" }, T0);
    const polls = scaleCalls(dueActions(state, T0 + 10_000));
    expect(polls.find((a) => poolOf(a) === "a100z1")?.input).toMatchObject({ to: 6, need: 4, operation: "op-1" });
    // The hedge is a fallback candidate: all of its nodes are needed.
    expect(polls.find((a) => poolOf(a) === "a100z2")?.input).not.toHaveProperty("need");
    // The hedge wins; the attempt it beat is released: waiting for its operation to end and going back down must
    // not stop at "enough nodes Ready".
    answer(state, polls, T0 + 10_000, (a) => (poolOf(a) === "a100z2" ? { kind: "done" } : { kind: "pending" }));
    const release = stepById(state, "release:westus3/a100z1")!;
    applyResult(
      state,
      dueActions(state, T0 + 10_000).find((a) => a.stepId === release.id)!,
      { kind: "done" },
      T0,
    );
    const wait = dueActions(state, T0 + 10_000).find((a) => a.stepId === release.id)!;
    expect(wait).toMatchObject({ call: "getScaleStatus", input: { pool: "a100z1", operation: "op-1" } });
    expect(wait.input).not.toHaveProperty("need");
    applyResult(state, wait, { kind: "done" }, T0 + 20_000);
    const back = dueActions(state, T0 + 20_000).find((a) => a.stepId === release.id)!;
    expect(back).toMatchObject({ call: "beginScalePool", input: { pool: "a100z1", to: 2 } });
    expect(back.input).not.toHaveProperty("need");
  });

  it("does not hedge without the option, with a candidate that needs the attempt's quota, or in another region", () => {
    for (const [opts, candidate] of [
      [options, hedgeable],
      [hedged, { ...hedgeable, hedgeable: false }],
      [hedged, { ...hedgeable, region: "eastus2" }],
    ] as const) {
      const state = createExecutor(regionPlan([candidate]), opts, T0);
      expect(startHedged(state)).toEqual([]);
      expect(stepById(state, scaleId)?.hedge).toBeUndefined();
      // Decided once per attempt: nothing keeps the runbook awake for it.
      expect(nextWakeAt(state)).toBe(T0 + 10_000);
    }
  });

  it("waits hedgeAfterSeconds of provisioning before hedging, and drops a hedge that fails without touching the attempt", () => {
    const state = createExecutor(regionPlan([hedgeable]), { ...options, hedgeAfterSeconds: 60 }, T0);
    expect(startHedged(state)).toEqual([]);
    expect(nextWakeAt(state)).toBe(T0 + 10_000);
    // Everything polled at 55 s comes back at 65 s; the hedge is due at 60 s.
    answer(state, dueActions(state, T0 + 55_000), T0 + 55_000, () => ({ kind: "pending" }));
    expect(nextWakeAt(state)).toBe(T0 + 60_000);
    const hedge = scaleCalls(dueActions(state, T0 + 60_000)).filter((a) => "hedge" in a);
    expect(hedge).toHaveLength(1);
    applyResult(state, hedge[0]!, { kind: "failed", code: "QuotaExceeded", detail: "no quota" }, T0 + 60_000);
    const s = stepById(state, scaleId)!;
    expect(s).toMatchObject({
      status: "running",
      target: expect.objectContaining({ pool: "a100z1" }),
      operation: "op-1",
    });
    expect(s.hedge).toBeUndefined();
    expect(s.tried).toEqual([expect.objectContaining({ pool: "a100z2", outcome: "hedge: QuotaExceeded: no quota" })]);
  });
});
