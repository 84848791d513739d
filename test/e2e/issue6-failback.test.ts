/**
 * Issue #6 end to end: failback. After a regional failover, the failed region's breaker closes, soaks, and the
 * failback returns the traffic in approved, health-gated steps and releases the surge capacity; a relapse during a
 * step stops it and returns the world to the failover's safe state. Asserted on the world (routing, served fraction,
 * gates, Front Door origins, GPU pools) and through the app's API.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { Simulation } from "../../local/simulate/environment";
import { adHocScenario, runAndInspect, shipped } from "./support";

function faultAt(s: Simulation): number {
  return s.startedAt + Math.min(...s.loaded.scenario.faults.map((f) => f.at)) * 1000;
}

/** Served fraction of chat between two times (seconds from the fault). */
function servedBetween(s: Simulation, from: number, to: number): number[] {
  const f = faultAt(s);
  return s.samples.filter((x) => x.at >= f + from * 1000 && x.at <= f + to * 1000).map((x) => x.served["chat"] ?? 0);
}

function pool(s: Simulation, region: string, name: string): { count: number; servingNodes: number } {
  const key = `rg-chat-${region}/aks-chat-${region}/${name}`;
  const p = s.sim.world.snapshot().pools.find((x) => x["key"] === key);
  if (p === undefined) throw new Error(`no pool ${key}`);
  return { count: Number(p["count"]), servingNodes: Number(p["servingNodes"]) };
}

function chatOrigin(s: Simulation, origin: string): { enabledState: string; weight: number; priority: number } {
  const fd = s.sim.world.snapshot().frontDoors.find((f) => f.name === "afd-chat");
  const origins = (fd?.origins ?? []) as Array<{
    name: string;
    enabledState: string;
    weight: number;
    priority: number;
  }>;
  const o = origins.find((x) => x.name === origin);
  if (o === undefined) throw new Error(`no origin ${origin}`);
  return o;
}

/** The shipped failback-after-recovery scenario with one more fault (`at` in seconds from the scenario's start). */
function failbackWith(fault: Record<string, unknown>): string {
  const base = parse(readFileSync(shipped("failback-after-recovery"), "utf8")) as Record<string, unknown>;
  const { version: _v, name: _n, topology: _t, ...rest } = base;
  return adHocScenario({ ...rest, faults: [...(base["faults"] as unknown[]), fault] });
}

/** eastus2 degrading (4× latency) 30 s into the shipped failback's second step (at 25% of traffic), for good. */
const RELAPSE = {
  id: "eus2-relapse",
  kind: "degraded-latency",
  region: "eastus2",
  workload: "chat",
  factor: 4,
  at: 2190,
};

describe("issue #6: failback, end to end", () => {
  it("failback-after-recovery: after the soak, traffic returns in approved, gated steps and the surge is released", async () => {
    await runAndInspect(shipped("failback-after-recovery"), async (report, s) => {
      expect(report.failovers).toBe(1);
      expect(report.reports[0]).toMatchObject({ outcome: "succeeded", trigger: { kind: "probe" } });
      // The failover scaled westus3 up to carry everything (surge capacity to release later).
      const plan = report.reports[0]!.plan as {
        pools: Array<{ region: string; pool: string; from: number; to: number }>;
      };
      const surged = plan.pools.filter((p) => p.region === "westus3" && p.to > p.from);
      expect(surged.length).toBeGreaterThan(0);

      // One failback, started only after the eastus2 breaker closed and soaked (300 s), and it succeeded in steps.
      expect(report.failbacks).toHaveLength(1);
      const fb = report.failbacks[0]!;
      expect({ outcome: fb.outcome, reasons: fb.reasons }).toMatchObject({ outcome: "succeeded" });
      const closed = report.breakerTransitions.find((t) => t.breaker === "chat:eastus2" && t.to === "closed");
      expect(closed).toBeDefined();
      expect(fb.startedAt).toBeGreaterThanOrEqual(closed!.t + 300);
      expect(fb.steps.map((x) => x.target)).toEqual([0.1, 0.25, "original"]);
      const shares = fb.steps.map((x) => x.share);
      expect(shares).toEqual([...shares].sort((a, b) => a - b));
      expect(fb.steps.every((x) => x.passedAt !== undefined && /0 failed/.test(x.verdict ?? ""))).toBe(true);

      // Through the API: the failback waited for the operator's approval before moving traffic.
      const api = await s.call("GET", `/api/failovers/${fb.instanceId}`);
      expect(api.status).toBe(200);
      const timeline = (api.json as { report: { timeline: Array<{ event: string }> } }).report.timeline.map(
        (e) => e.event,
      );
      const approvedAt = timeline.findIndex((e) => /step 1 approved by simulated-operator/.test(e));
      const firstStepAt = timeline.findIndex((e) => /step 1 in effect/.test(e));
      expect(approvedAt).toBeGreaterThanOrEqual(0);
      expect(firstStepAt).toBeGreaterThan(approvedAt);

      // World: users were served inside the SLO throughout the failback, and it ends where the failover began —
      // eastus2's gate open, its origin enabled at its weight, traffic split 50/50, westus3 back to 2 + 2 nodes.
      const during = servedBetween(s, fb.startedAt, fb.endedAt!);
      expect(during.length).toBeGreaterThan(50);
      expect(Math.min(...during)).toBeGreaterThanOrEqual(0.99);
      expect(s.sim.world.gateState("chat", "eastus2")).toBe("open");
      expect(chatOrigin(s, "chat-eastus2")).toMatchObject({ enabledState: "Enabled", weight: 50, priority: 1 });
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.regions["eastus2"]?.trafficShare).toBeCloseTo(0.5, 2);
      expect(truth.regions["westus3"]?.trafficShare).toBeCloseTo(0.5, 2);
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      for (const p of surged) expect(pool(s, "westus3", p.pool)).toMatchObject({ count: p.from, servingNodes: p.from });
    });
  }, 600_000);

  it("a failback refused because Front Door could not be read is tried again a minute later and succeeds, keeping the refusal on record", async () => {
    // The shipped scenario, plus ARM failing every read of Front Door's origins from 5 s before the failback's first
    // attempt (1450 s, as in the shipped run) for 50 s: that attempt's state read cannot see the returning origin.
    const scenario = failbackWith({
      id: "afd-reads-fail",
      kind: "http-error",
      target: "arm",
      status: 500,
      at: 1445 + 60,
      durationSeconds: 50,
      match: { method: "GET", pathContains: "/origins" },
    });
    await runAndInspect(scenario, (report, s) => {
      const failed = s.sim.requestLog.find({ service: "arm", path: "/origins" }).filter((e) => e.status === 500);
      expect(failed.length).toBeGreaterThan(0);
      expect(report.failbacks).toHaveLength(1);
      const fb = report.failbacks[0]!;
      expect(fb.earlierAttempts).toHaveLength(1);
      expect(fb.earlierAttempts[0]!.reasons.join(" ")).toMatch(
        /origin chat-eastus2 is missing from the current state \(the state read reported: front door: /,
      );
      const refusedAt = (Date.parse(fb.earlierAttempts[0]!.endedAt) - faultAt(s)) / 1000;
      expect(fb.startedAt).toBeGreaterThanOrEqual(refusedAt + 60);
      expect({ outcome: fb.outcome, reasons: fb.reasons }).toMatchObject({ outcome: "succeeded" });
      expect(fb.steps.map((x) => x.target)).toEqual([0.1, 0.25, "original"]);
      expect(s.sim.world.gateState("chat", "eastus2")).toBe("open");
      expect(s.sim.world.groundTruth("chat").regions["eastus2"]?.trafficShare).toBeCloseTo(0.5, 2);
    });
  }, 600_000);

  it("a failback that relapsed is tried again once eastus2 has soaked again, and succeeds, keeping the relapse on record", async () => {
    // As the relapse test below, but eastus2's degradation lasts 5 minutes: once it is over and eastus2's breaker has
    // been closed for the soak time again, the check tries the failback a second time.
    const scenario = failbackWith({ ...RELAPSE, durationSeconds: 300 });
    await runAndInspect(
      scenario,
      (report, s) => {
        expect(report.failovers).toBe(1);
        expect(report.failbacks).toHaveLength(1);
        const fb = report.failbacks[0]!;
        expect(fb.earlierAttempts.map((a) => a.outcome)).toEqual(["relapsed"]);
        expect(fb.earlierAttempts[0]!.reasons.join(" ")).toMatch(/relapse at step 2/);
        const cleared = 2190 + 300 - 60;
        const relapseEnded = (Date.parse(fb.earlierAttempts[0]!.endedAt) - faultAt(s)) / 1000;
        expect(fb.startedAt).toBeGreaterThanOrEqual(Math.max(cleared, relapseEnded + 300));
        expect({ outcome: fb.outcome, reasons: fb.reasons }).toMatchObject({ outcome: "succeeded" });
        expect(s.sim.world.gateState("chat", "eastus2")).toBe("open");
        expect(chatOrigin(s, "chat-eastus2")).toMatchObject({ enabledState: "Enabled", weight: 50, priority: 1 });
        const truth = s.sim.world.groundTruth("chat");
        expect(truth.regions["eastus2"]?.trafficShare).toBeCloseTo(0.5, 2);
        expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      },
      { horizonSeconds: 4500 },
    );
  }, 600_000);

  it("an operator fails back by hand (POST /api/failovers/{id}/failback): refused before the soak, started again after it, then done", async () => {
    await runAndInspect(
      shipped("failback-after-recovery"),
      async (report, s) => {
        expect(report.failbacks).toEqual([]);
        const failoverId = report.failoverList[0]!.instanceId;
        const fbId = `failback-${failoverId}`;
        const post = (id: string, body: unknown) => s.call("POST", `/api/failovers/${id}/failback`, body);
        const view = async () =>
          (await s.call("GET", `/api/failovers/${fbId}`)).json as {
            runtimeStatus: string;
            report: { outcome: string; reasons: string[]; earlierAttempts?: Array<{ outcome: string }> } | null;
          };
        const finished = async () => (await view()).runtimeStatus === "Completed";

        // Bad input, an unknown failover, a failback instance named as a failover.
        expect((await post(failoverId, { approval: "sometimes" })).status).toBe(400);
        expect((await post("failover-nope", {})).status).toBe(404);

        // Before eastus2's breaker has closed and soaked: started, then refused with the reason, retryable.
        const first = await post(failoverId, { by: "sre-on-call", approval: "none" });
        expect(first).toMatchObject({ status: 202, json: { instanceId: fbId, outcome: "started", attempt: 1 } });
        expect(await s.runUntil(finished, { maxVirtualMs: 600_000 })).toBe(true);
        const refused = (await view()).report!;
        expect(refused.outcome).toBe("refused");
        expect(refused.reasons.join(" ")).toMatch(/its breaker is (open|half-open)|soak time/);
        expect((await post(fbId, {})).status).toBe(404);

        // After the soak (breaker closed at ~1100 s + 300 s): started again, the refusal kept, and it succeeds.
        const soaked = faultAt(s) + 1_500_000;
        await s.runUntil(() => s.clock.now() >= soaked, { maxVirtualMs: 3_600_000 });
        const second = await post(failoverId, { by: "sre-on-call", approval: "none" });
        expect(second).toMatchObject({ status: 202, json: { instanceId: fbId, outcome: "started", attempt: 2 } });
        expect(await s.runUntil(finished, { maxVirtualMs: 3_600_000 })).toBe(true);
        const done = (await view()).report!;
        expect({ outcome: done.outcome, reasons: done.reasons }).toMatchObject({ outcome: "succeeded" });
        expect(done.earlierAttempts?.map((a) => a.outcome)).toEqual(["refused"]);
        expect(s.sim.world.gateState("chat", "eastus2")).toBe("open");
        expect(s.sim.world.groundTruth("chat").regions["eastus2"]?.trafficShare).toBeCloseTo(0.5, 2);

        // Once it succeeded, asking again is a conflict.
        expect((await post(failoverId, {})).status).toBe(409);
      },
      { env: { CUTOVER_FAILBACK_MODE: "off" } },
    );
  }, 600_000);

  it("a relapse during a failback step stops it and returns to the safe state: eastus2 drained again, surge kept", async () => {
    // The shipped scenario, plus eastus2 degrading for good 30 s into the failback's second step (at 25% of traffic).
    const scenario = failbackWith(RELAPSE);
    await runAndInspect(scenario, (report, s) => {
      expect(report.failovers).toBe(1);
      expect(report.failbacks).toHaveLength(1);
      const fb = report.failbacks[0]!;
      expect(fb.outcome).toBe("relapsed");
      expect(fb.reasons.join(" ")).toMatch(/relapse at step 2/);
      const relapseAt = 2190 - 60;
      expect(fb.endedAt!).toBeGreaterThan(relapseAt);

      // World: eastus2's gate is drained again and its origin back to the failover's end state (disabled); westus3
      // still holds the surge capacity (the scale-down had not begun), so every request is served inside the SLO.
      expect(s.sim.world.gateState("chat", "eastus2")).toBe("drained");
      expect(chatOrigin(s, "chat-eastus2").enabledState).toBe("Disabled");
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.regions["eastus2"]?.trafficShare).toBe(0);
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      const plan = report.reports[0]!.plan as { pools: Array<{ region: string; pool: string; to: number }> };
      for (const p of plan.pools.filter((x) => x.region === "westus3"))
        expect(pool(s, "westus3", p.pool).servingNodes).toBe(p.to);
      // The relapse cost at most a few minutes of partial service (the 25% on eastus2 until the gate drained it).
      const after = servedBetween(s, relapseAt + 300, relapseAt + 900);
      expect(Math.min(...after)).toBeGreaterThanOrEqual(0.99);
    });
  }, 600_000);
});
