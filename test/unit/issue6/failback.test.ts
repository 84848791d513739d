import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  breakerStep,
  createBreaker,
  DEFAULT_BREAKER_CONFIG,
  type BreakerState,
} from "../../../src/domain/circuit-breaker";
import {
  evaluateFailbackGate,
  planFailback,
  relapseSafeState,
  shareOf,
  type FailbackInput,
  type FailbackPlan,
  type FailbackSnapshot,
  type OriginSetting,
} from "../../../src/domain/failback";
import { alertEvidence, type Evidence, type ProbeOutcome } from "../../../src/domain/probe-evidence";
import { findWorkload } from "../../../src/domain/topology";
import { exampleTopology } from "../support/topology-fixtures";
import { probe } from "../breaker/helpers";

const MIN = 60_000;
const T0 = Date.parse("2030-01-01T12:00:00Z");
const topology = exampleTopology();
const chat = findWorkload(topology, "chat")!;

const origin = (
  region: string,
  name: string,
  weight: number,
  priority = 1,
  enabledState: "Enabled" | "Disabled" = "Enabled",
): OriginSetting => ({ region, origin: name, enabledState, weight, priority });

/** Before the eastus2 outage: 50/50, eastus2 pools 4+4, westus3 2+2. */
const BEFORE: FailbackSnapshot = {
  origins: [origin("eastus2", "chat-eastus2", 50), origin("westus3", "chat-westus3", 50)],
  pools: [
    { region: "eastus2", pool: "a100z1", count: 4 },
    { region: "eastus2", pool: "a100z2", count: 4 },
    { region: "eastus2", pool: "a100x4z3", count: 0 },
    { region: "westus3", pool: "a100z1", count: 2 },
    { region: "westus3", pool: "a100z2", count: 2 },
    { region: "westus3", pool: "h100z3", count: 0 },
  ],
  gates: [
    { region: "eastus2", state: "open" },
    { region: "westus3", state: "open" },
  ],
};

/** After the failover: eastus2 disabled and drained, its nodes lost; westus3 surged to 6+6. */
const AFTER: FailbackSnapshot = {
  origins: [origin("eastus2", "chat-eastus2", 50, 1, "Disabled"), origin("westus3", "chat-westus3", 50)],
  pools: [
    { region: "eastus2", pool: "a100z1", count: 0 },
    { region: "eastus2", pool: "a100z2", count: 1 },
    { region: "eastus2", pool: "a100x4z3", count: 0 },
    { region: "westus3", pool: "a100z1", count: 6 },
    { region: "westus3", pool: "a100z2", count: 6 },
    { region: "westus3", pool: "h100z3", count: 0 },
  ],
  gates: [
    { region: "eastus2", state: "drained" },
    { region: "westus3", state: "open" },
  ],
};

/** A breaker that has been closed since `since`. */
const closedSince = (since: number): BreakerState => createBreaker(since);

function openBreaker(): BreakerState {
  let s = createBreaker(T0 - 10 * MIN);
  for (const at of [1, 2, 3]) s = breakerStep(s, probe(T0 - at * 1000, "a", "failure"), DEFAULT_BREAKER_CONFIG).state;
  expect(s.state).toBe("open");
  return s;
}

function plan(overrides: Partial<FailbackInput> = {}): FailbackPlan {
  const result = planFailback({
    workload: chat,
    scope: { region: "eastus2" },
    current: AFTER,
    before: BEFORE,
    breaker: closedSince(T0 - 60 * MIN),
    now: T0,
    ...overrides,
  });
  if (result.status !== "ok") throw new Error(result.reasons.join("; "));
  return result;
}

describe("planFailback", () => {
  it("steps eastus2 back 10% → 25% → original, patching only the returning origin until the last step", () => {
    const p = plan();
    expect(p.steps.map((s) => [s.target, s.share])).toEqual([
      [0.1, 0.1071],
      [0.25, 0.2537],
      ["original", 0.5],
    ]);
    expect(p.steps.map((s) => s.patch)).toEqual([
      { "chat-eastus2": { enabledState: "Enabled", weight: 6 } },
      { "chat-eastus2": { weight: 17 } },
      { "chat-eastus2": { weight: 50 } },
    ]);
    expect(p.steps.map((s) => s.gates)).toEqual([
      { eastus2: "open", westus3: "open" },
      { eastus2: "open", westus3: "open" },
      { eastus2: "open", westus3: "open" },
    ]);
    expect(p.steps.map((s) => s.requiresApproval)).toEqual([true, false, false]);
    expect(p.steps[0]!.check).toEqual({
      region: "eastus2",
      holdMs: 300_000,
      minProbes: 5,
      maxFailureRatio: 0.2,
      maxSlowRatio: 0.2,
      modelVersion: "2026.10.2",
      latencySloMs: 1200,
    });
    expect(p.steps[2]!.origins).toEqual({
      "chat-eastus2": origin("eastus2", "chat-eastus2", 50),
      "chat-westus3": origin("westus3", "chat-westus3", 50),
    });
  });

  it("restores the returning pools first and releases surge capacity elsewhere at the end, set-to", () => {
    const p = plan();
    const cluster = (region: string) => ({ resourceGroup: `rg-chat-${region}`, name: `aks-chat-${region}` });
    expect(p.prepare.pools).toEqual([
      {
        region: "eastus2",
        pool: "a100z1",
        zone: "1",
        vmSize: "Standard_NC24ads_A100_v4",
        cluster: cluster("eastus2"),
        from: 0,
        to: 4,
      },
      {
        region: "eastus2",
        pool: "a100z2",
        zone: "2",
        vmSize: "Standard_NC24ads_A100_v4",
        cluster: cluster("eastus2"),
        from: 1,
        to: 4,
      },
    ]);
    expect(p.scaleDown.map((c) => [c.region, c.pool, c.from, c.to])).toEqual([
      ["westus3", "a100z1", 6, 2],
      ["westus3", "a100z2", 6, 2],
    ]);
  });

  it("keeps the failover's end state as the safe state", () => {
    expect(plan().safe).toEqual({
      gates: { eastus2: "drained", westus3: "open" },
      origins: {
        "chat-eastus2": origin("eastus2", "chat-eastus2", 50, 1, "Disabled"),
        "chat-westus3": origin("westus3", "chat-westus3", 50),
      },
      pools: [],
    });
  });

  it("follows the approval option", () => {
    expect(plan({ options: { approval: "every-step" } }).steps.map((s) => s.requiresApproval)).toEqual([
      true,
      true,
      true,
    ]);
    expect(plan({ options: { approval: "none" } }).steps.map((s) => s.requiresApproval)).toEqual([false, false, false]);
  });

  it("returns an active/passive primary at the serving priority, then restores its priority", () => {
    const before = {
      ...BEFORE,
      origins: [origin("eastus2", "chat-eastus2", 50, 1), origin("westus3", "chat-westus3", 50, 2)],
    };
    const current = {
      ...AFTER,
      origins: [origin("eastus2", "chat-eastus2", 50, 1, "Disabled"), origin("westus3", "chat-westus3", 50, 2)],
    };
    const p = plan({ before, current });
    expect(p.steps.map((s) => [s.target, s.share])).toEqual([
      [0.1, 0.1071],
      [0.25, 0.2537],
      [0.5, 0.5],
      ["original", 1],
    ]);
    expect(p.steps[0]!.patch).toEqual({ "chat-eastus2": { enabledState: "Enabled", weight: 6, priority: 2 } });
    expect(p.steps[3]!.patch).toEqual({ "chat-eastus2": { priority: 1 } });
  });

  it("scales the serving weights when the returning weight alone cannot reach the share", () => {
    const current = {
      ...AFTER,
      origins: [origin("eastus2", "chat-eastus2", 1, 1, "Disabled"), origin("westus3", "chat-westus3", 1)],
    };
    const before = { ...BEFORE, origins: [origin("eastus2", "chat-eastus2", 1), origin("westus3", "chat-westus3", 1)] };
    const p = plan({ before, current });
    expect(p.steps[0]!.patch).toEqual({
      "chat-eastus2": { enabledState: "Enabled" },
      "chat-westus3": { weight: 8 },
    });
    // The smallest scaling within the 2-point tolerance: 1/(1+8), then 5/(5+16).
    expect(p.steps.map((s) => s.share)).toEqual([0.1111, 0.2381, 0.5]);
    expect(p.steps[1]!.patch).toEqual({ "chat-eastus2": { weight: 5 }, "chat-westus3": { weight: 16 } });
    expect(p.steps.at(-1)!.patch).toEqual({ "chat-eastus2": { weight: 1 }, "chat-westus3": { weight: 1 } });
  });

  it("plans only capacity for a zone recovered in-region, where traffic never moved", () => {
    const current: FailbackSnapshot = {
      origins: BEFORE.origins,
      gates: BEFORE.gates!,
      pools: BEFORE.pools.map((p) =>
        p.region === "eastus2" && p.pool === "a100z1"
          ? { ...p, count: 0 }
          : p.region === "eastus2" && p.pool === "a100z2"
            ? { ...p, count: 8 }
            : p,
      ),
    };
    const p = plan({ scope: { region: "eastus2", zone: "1" }, current });
    expect(p.steps).toEqual([]);
    expect(p.prepare.pools.map((c) => [c.pool, c.from, c.to])).toEqual([["a100z1", 0, 4]]);
    expect(p.scaleDown.map((c) => [c.pool, c.from, c.to])).toEqual([["a100z2", 8, 4]]);
    expect(p.notes).toContain("traffic to eastus2 is already at its pre-failover settings: only capacity changes");
  });

  it("refuses while the breaker is open, with the reason", () => {
    const r = planFailback({
      workload: chat,
      scope: { region: "eastus2" },
      current: AFTER,
      before: BEFORE,
      breaker: openBreaker(),
      now: T0,
    });
    expect(r).toMatchObject({ status: "refused" });
    expect(r.status === "refused" ? r.reasons : []).toEqual([
      `chat: not failing back to eastus2: its breaker is open (since ${new Date(T0 - 1000).toISOString()})`,
    ]);
  });

  it("refuses before the soak time is over, saying when it will be", () => {
    const r = planFailback({
      workload: chat,
      scope: { region: "eastus2" },
      current: AFTER,
      before: BEFORE,
      breaker: closedSince(T0 - 10 * MIN),
      now: T0,
    });
    expect(r).toMatchObject({ status: "refused", earliestAt: T0 + 20 * MIN });
    expect(r.status === "refused" ? r.reasons[0] : "").toContain("closed for 600 s of the 1800 s soak time");
    // Exactly at the soak time it plans.
    expect(
      planFailback({
        workload: chat,
        scope: { region: "eastus2" },
        current: AFTER,
        before: BEFORE,
        breaker: closedSince(T0 - 30 * MIN),
        now: T0,
      }).status,
    ).toBe("ok");
  });

  it("refuses while an alert is firing, and for training workloads, giving every reason at once", () => {
    const firing = breakerStep(
      closedSince(T0 - 60 * MIN),
      alertEvidence({ at: T0 - MIN, alertId: "a9", condition: "Fired" }),
      DEFAULT_BREAKER_CONFIG,
    ).state;
    const r = planFailback({
      workload: chat,
      scope: { region: "eastus2" },
      current: AFTER,
      before: BEFORE,
      breaker: firing,
      now: T0,
    });
    expect(r.status === "refused" ? r.reasons : []).toEqual([
      "chat: not failing back to eastus2: alert(s) still firing for it: a9",
    ]);
    const train = findWorkload(topology, "pretrain")!;
    const t = planFailback({
      workload: train,
      scope: { region: "eastus2" },
      current: AFTER,
      before: BEFORE,
      breaker: firing,
      now: T0,
    });
    expect(t.status === "refused" ? t.reasons.length : 0).toBe(2);
    // An alert can resolve (a later attempt may plan); a training workload never fails back by traffic steps.
    expect(r).toMatchObject({ status: "refused", retryable: true });
    expect(t).toMatchObject({ status: "refused", retryable: false });
  });

  it("refuses as retryable when the returning origin could not be read, naming the read's error; structural gaps are not", () => {
    const unread: FailbackSnapshot = {
      ...AFTER,
      origins: [],
      errors: ["front door: 500 InternalServerError"],
    };
    const base = { workload: chat, scope: { region: "eastus2" }, before: BEFORE, now: T0 };
    const r = planFailback({ ...base, current: unread, breaker: closedSince(T0 - 60 * MIN) });
    expect(r).toEqual({
      status: "refused",
      workload: "chat",
      scope: { region: "eastus2" },
      reasons: [
        "chat: not failing back to eastus2: origin chat-eastus2 is missing from the current state (the state read reported: front door: 500 InternalServerError)",
      ],
      retryable: true,
    });
    // A returning pool that could not be read would not be set back before traffic returns: refused, retryable.
    const poolUnread = planFailback({
      ...base,
      current: {
        ...AFTER,
        pools: AFTER.pools.filter((p) => !(p.region === "eastus2" && p.pool === "a100z2")),
        errors: ["pool eastus2/a100z2: 503 ServiceUnavailable"],
      },
      breaker: closedSince(T0 - 60 * MIN),
    });
    expect(poolUnread).toMatchObject({
      status: "refused",
      retryable: true,
      reasons: [
        "chat: not failing back to eastus2: pool eastus2/a100z2 is missing from the current state (the state read reported: pool eastus2/a100z2: 503 ServiceUnavailable)",
      ],
    });
    // A surge pool elsewhere that could not be read is only left as it is (a note), as before.
    const surgeUnread = planFailback({
      ...base,
      current: { ...AFTER, pools: AFTER.pools.filter((p) => !(p.region === "westus3" && p.pool === "a100z1")) },
      breaker: closedSince(T0 - 60 * MIN),
    });
    expect(surgeUnread.status).toBe("ok");
    // Missing from the pre-failover snapshot (the topology's own origins): no later attempt can fix that.
    const noBefore = planFailback({
      ...base,
      current: AFTER,
      before: { ...BEFORE, origins: BEFORE.origins.filter((o) => o.origin !== "chat-eastus2") },
      breaker: closedSince(T0 - 60 * MIN),
    });
    expect(noBefore).toMatchObject({ status: "refused", retryable: false });
    // Nothing else serving: there is no traffic to return gradually.
    const alone = planFailback({
      ...base,
      current: {
        ...AFTER,
        origins: [
          origin("eastus2", "chat-eastus2", 50, 1, "Disabled"),
          origin("westus3", "chat-westus3", 50, 1, "Disabled"),
        ],
      },
      breaker: closedSince(T0 - 60 * MIN),
    });
    expect(alone).toMatchObject({ status: "refused", retryable: false });
    expect(alone.status === "refused" ? alone.reasons[0] : "").toMatch(/no other origin of chat is serving/);
  });

  it("rejects bad options and a scope outside the workload", () => {
    expect(() => plan({ options: { shares: [0.5, 0.25], soakMs: -1 } })).toThrow(
      /failback options: soakMs: .*; shares: must strictly increase/,
    );
    expect(() => plan({ scope: { region: "swedencentral" } })).toThrow("chat has no region swedencentral");
  });
});

describe("evaluateFailbackGate", () => {
  const check = plan().steps[0]!.check;
  const healthy = closedSince(T0 - 60 * MIN);
  const probes = (outcomes: ProbeOutcome[], from = T0): Evidence[] =>
    outcomes.map((o, i) => probe(from + (i + 1) * 30_000, "a", o));

  it("waits out the hold, then passes with enough healthy probes", () => {
    const evidence = probes(["success", "success", "success", "success", "success", "success"]);
    expect(evaluateFailbackGate(check, healthy, evidence, T0, T0 + 4 * MIN)).toMatchObject({
      verdict: "wait",
      until: T0 + 5 * MIN,
    });
    expect(evaluateFailbackGate(check, healthy, evidence, T0, T0 + 5 * MIN)).toEqual({
      verdict: "pass",
      detail: "6 probe(s): 0 failed, 0 slow, none stale",
    });
    expect(evaluateFailbackGate(check, healthy, evidence.slice(0, 3), T0, T0 + 5 * MIN)).toMatchObject({
      verdict: "wait",
      detail: "3 of 5 probe(s) so far",
    });
  });

  it("tolerates one failure in five, not two", () => {
    expect(
      evaluateFailbackGate(
        check,
        healthy,
        probes(["success", "failure", "success", "success", "success"]),
        T0,
        T0 + 5 * MIN,
      ).verdict,
    ).toBe("pass");
    expect(
      evaluateFailbackGate(
        check,
        healthy,
        probes(["success", "failure", "success", "failure", "success"]),
        T0,
        T0 + 3 * MIN,
      ),
    ).toEqual({
      verdict: "relapse",
      reasons: ["2 of 5 probe(s) failed (more than 20%)"],
    });
  });

  it("relapses at once on a stale model, a breaker that left closed, or an alert", () => {
    expect(evaluateFailbackGate(check, healthy, probes(["stale"]), T0, T0 + MIN)).toMatchObject({ verdict: "relapse" });
    expect(evaluateFailbackGate(check, openBreaker(), [], T0, T0 + MIN)).toEqual({
      verdict: "relapse",
      reasons: ["the eastus2 breaker is open"],
    });
    const alert = alertEvidence({ at: T0 + MIN, alertId: "x", condition: "Fired" });
    expect(evaluateFailbackGate(check, healthy, [alert], T0, T0 + 2 * MIN)).toEqual({
      verdict: "relapse",
      reasons: ["an alert fired during the hold"],
    });
  });

  it("relapses when too many probes are slow, and ignores evidence from before the step", () => {
    expect(
      evaluateFailbackGate(check, healthy, probes(["slow", "slow", "success", "success", "success"]), T0, T0 + 5 * MIN)
        .verdict,
    ).toBe("relapse");
    const old = probes(["failure", "failure", "failure"], T0 - 10 * MIN);
    expect(
      evaluateFailbackGate(
        check,
        healthy,
        [...old, ...probes(Array<ProbeOutcome>(5).fill("success"))],
        T0,
        T0 + 5 * MIN,
      ).verdict,
    ).toBe("pass");
  });
});

describe("relapseSafeState", () => {
  it("drains the returning gate and undoes only the step in effect; restores surge once released", () => {
    const p = plan();
    const atStep2 = relapseSafeState(p, { step: 2, scaleDownStarted: false });
    expect(atStep2.gates).toEqual({ eastus2: "drained", westus3: "open" });
    expect(atStep2.patch).toEqual({ "chat-eastus2": { enabledState: "Disabled", weight: 50 } });
    expect(atStep2.pools).toEqual([]);
    const preparing = relapseSafeState(p, { step: 0, scaleDownStarted: false });
    expect(preparing.patch).toEqual({});
    const releasing = relapseSafeState(p, { step: 3, scaleDownStarted: true });
    expect(releasing.patch).toEqual({ "chat-eastus2": { enabledState: "Disabled" } });
    expect(releasing.pools.map((c) => [c.region, c.pool, c.from, c.to])).toEqual([
      ["westus3", "a100z1", 2, 6],
      ["westus3", "a100z2", 2, 6],
    ]);
  });
});

describe("failback properties", () => {
  const settingArb = fc.record({ weight: fc.integer({ min: 1, max: 1000 }), priority: fc.integer({ min: 1, max: 5 }) });

  it("shares strictly increase, weights stay integers in 1–1000, the last step is the original and capacity never drops below it", () => {
    fc.assert(
      fc.property(
        settingArb,
        settingArb,
        fc.integer({ min: 1, max: 1000 }),
        fc
          .uniqueArray(fc.double({ min: 0.01, max: 0.99, noNaN: true }), { minLength: 1, maxLength: 6 })
          .map((a) => [...a].sort((x, y) => x - y)),
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 12, maxLength: 12 }),
        (east, west, failoverWestWeight, shares, counts) => {
          const before: FailbackSnapshot = {
            origins: [
              origin("eastus2", "chat-eastus2", east.weight, east.priority),
              origin("westus3", "chat-westus3", west.weight, west.priority),
            ],
            pools: BEFORE.pools.map((p, i) => ({ ...p, count: counts[i]! })),
          };
          const current: FailbackSnapshot = {
            origins: [
              origin("eastus2", "chat-eastus2", east.weight, east.priority, "Disabled"),
              origin("westus3", "chat-westus3", failoverWestWeight, west.priority),
            ],
            pools: BEFORE.pools.map((p, i) => ({ ...p, count: counts[i + 6]! })),
            gates: [{ region: "eastus2", state: "drained" }],
          };
          const p = plan({ before, current, options: { shares } });
          const stepShares = p.steps.map((s) => s.share);
          for (let i = 1; i < stepShares.length; i++) expect(stepShares[i]!).toBeGreaterThan(stepShares[i - 1]!);
          for (const s of p.steps)
            for (const o of Object.values(s.origins)) {
              expect(Number.isInteger(o.weight) && o.weight >= 1 && o.weight <= 1000).toBe(true);
              expect(Number.isInteger(o.priority) && o.priority >= 1 && o.priority <= 5).toBe(true);
            }
          const last = p.steps.at(-1)!;
          expect(last.target).toBe("original");
          expect(Object.values(last.origins)).toEqual(before.origins);
          // The plan rounds shares to 4 decimals (0.03125 → 0.0313): at most half a unit of the 4th decimal off.
          expect(
            Math.abs(last.share - shareOf("chat-eastus2", last.origins, { eastus2: "open", westus3: "open" })),
          ).toBeLessThanOrEqual(0.00005 + 1e-12);
          for (const c of [...p.prepare.pools, ...p.scaleDown]) {
            const then = before.pools.find((x) => x.region === c.region && x.pool === c.pool)!.count;
            expect(c.to).toBe(then);
          }
          for (const c of p.prepare.pools) expect(c.to).toBeGreaterThan(c.from);
          for (const c of p.scaleDown) expect(c.to).toBeLessThan(c.from);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("never plans while the breaker is not closed or not soaked", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 29 * MIN }), (closedFor) => {
        const r = planFailback({
          workload: chat,
          scope: { region: "eastus2" },
          current: AFTER,
          before: BEFORE,
          breaker: closedSince(T0 - closedFor),
          now: T0,
        });
        expect(r.status).toBe("refused");
      }),
    );
  });
});
