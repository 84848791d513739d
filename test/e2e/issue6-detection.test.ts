/**
 * Issue #6 end to end: Cutover's own probes and breakers in the running app (local host + Azure simulator + Azurite),
 * asserted on the WORLD's ground truth — who Front Door routes to, what is served inside the SLO, what the health
 * gates and origins did — and through the app's API, not only on the app's own report.
 */
import { describe, expect, it } from "vitest";
import type { Simulation } from "../../local/simulate/environment";
import { runAndInspect, shipped } from "./support";

/** Virtual epoch ms of the scenario's first fault. */
function faultAt(s: Simulation): number {
  return s.startedAt + Math.min(...s.loaded.scenario.faults.map((f) => f.at)) * 1000;
}

/** Ground-truth samples of one workload after the fault, as [seconds from the fault, served fraction]. */
function served(s: Simulation, workload: string): Array<[number, number]> {
  const from = faultAt(s);
  return s.samples
    .filter((x) => x.at >= from)
    .map((x): [number, number] => [Math.round((x.at - from) / 1000), x.served[workload] ?? 0]);
}

interface BreakerView {
  readonly state: string;
  readonly openings: number;
  readonly transitions: Array<{
    at: number;
    from: string;
    to: string;
    reason: string;
    evidence: { vantages: Array<{ vantage: string; rule?: string }> };
  }>;
  readonly handled: Array<{ id: string; outcome: string; instanceId?: string }>;
}

describe("issue #6: probes and breakers, end to end", () => {
  it("probe-detects-first: a stale model behind a status-only health check is found by 2 of 3 vantages, not by Front Door", async () => {
    await runAndInspect(shipped("probe-detects-first"), async (report, s) => {
      // One failover, started by the westus3 breaker (trigger kind probe), and it succeeded.
      expect(report.failovers).toBe(1);
      const failover = report.reports[0]!;
      expect(failover).toMatchObject({
        outcome: "succeeded",
        scope: { region: "westus3" },
        trigger: { kind: "probe" },
      });
      expect(report.detection.source).toBe("probe");
      expect(report.detection.probeSeconds!).toBeLessThanOrEqual(30);
      // The origin-health alert cannot see a stale model; if it fires at all it is after Cutover drained the origin.
      expect(report.detection.alertSeconds ?? Infinity).toBeGreaterThan(report.detection.probeSeconds!);

      // World: before Cutover acted, Front Door kept westus3 healthy at every POP and half the traffic got the wrong
      // model; Front Door only marked westus3 unhealthy after Cutover drained its gate.
      const drained = s.sim.timeline.where("gate-changed", { workload: "chat", region: "westus3", state: "drained" });
      expect(drained).toHaveLength(1);
      const unhealthy = s.sim.timeline.ofKind("origin-unhealthy").filter((e) => e.detail["origin"] === "chat-westus3");
      expect(unhealthy.length).toBeGreaterThan(0);
      expect(Math.min(...unhealthy.map((e) => e.at))).toBeGreaterThanOrEqual(drained[0]!.at);
      const samples = served(s, "chat");
      const before = samples.filter(([t]) => t > 0 && t < report.detection.probeSeconds!);
      expect(before.length).toBeGreaterThan(0);
      expect(Math.max(...before.map(([, v]) => v))).toBeLessThanOrEqual(0.55);
      // …and after the cutover every request is served by eastus2 inside the SLO. Cutover never calls the cutover
      // verified early: Front Door has excluded westus3 everywhere by then (the probe window counts the origins' gate
      // cache too), so every sample from the verified time on is whole.
      const fromVerified = samples.filter(([t]) => t >= report.rtoSeconds!);
      expect(fromVerified.length).toBeGreaterThan(0);
      expect(Math.min(...fromVerified.map(([, v]) => v))).toBeGreaterThanOrEqual(0.99);
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      expect(truth.regions["westus3"]?.trafficShare).toBe(0);
      expect(truth.regions["eastus2"]?.trafficShare).toBe(1);

      // The breaker, through the API: opened on the stale-model rule with at least two vantages voting (quorum 2),
      // and its opening started exactly the failover that ran.
      const api = await s.call("GET", "/api/breakers/chat/westus3");
      expect(api.status).toBe(200);
      const body = api.json as { quorum: number; vantages: string[]; breaker: BreakerView };
      expect(body.quorum).toBe(2);
      expect(body.vantages).toEqual(["us-east", "us-west", "eu-west"]);
      const opening = body.breaker.transitions.find((t) => t.from === "closed" && t.to === "open")!;
      expect(opening.reason).toBe("stale-model");
      expect(opening.evidence.vantages.filter((v) => v.rule === "stale-model").length).toBeGreaterThanOrEqual(2);
      expect(body.breaker.openings).toBe(1);
      expect(body.breaker.handled).toEqual([
        expect.objectContaining({ outcome: "started", instanceId: report.failoverList[0]!.instanceId }),
      ]);
      // The probe round that fed the opening evidence also started the failover: no probe interval in between.
      expect(Date.parse(failover.startedAt)).toBe(opening.at);
      // The failover's shift ended once it finished (the probe timer's minute sweep), with the run's outcome.
      const shifts = (await s.call("GET", "/api/shifts/chat")).json as {
        active: unknown;
        history: Array<{ end: string; detail?: string; shift: { id: string; kind: string } }>;
      };
      expect(shifts.active).toBeNull();
      expect(shifts.history).toEqual([
        expect.objectContaining({
          end: "ended",
          detail: "run Completed",
          shift: expect.objectContaining({ id: report.failoverList[0]!.instanceId, kind: "automatic" }) as unknown,
        }),
      ]);
      // The timeline shows the breaker's transitions.
      expect(report.timeline.some((e) => /breaker chat:westus3: closed → open \(stale-model\)/.test(e.event))).toBe(
        true,
      );
    });
  }, 300_000);

  it("flapping-origin: a region failing and recovering six times gets one failover, no oscillation, one failback afterwards", async () => {
    await runAndInspect(shipped("flapping-origin"), (report, s) => {
      const flappingEnds = 5 * 120 + 45; // the sixth burst ends this many seconds after the first began
      // One opening of the westus3 breaker, however many bursts: failed half-open trials back the break off.
      const westus3 = report.breakerTransitions.filter((t) => t.breaker === "chat:westus3");
      expect(westus3.filter((t) => t.from === "closed" && t.to === "open")).toHaveLength(1);
      expect(westus3.some((t) => t.reason === "trial-failed")).toBe(true);
      const closedAt = westus3.find((t) => t.to === "closed")?.t;
      expect(closedAt).toBeGreaterThan(flappingEnds);
      // Exactly one failover started (alerts that fired during the flapping joined it).
      expect(report.failovers).toBe(1);
      expect(report.reports[0]).toMatchObject({ outcome: "succeeded", trigger: { kind: "probe" } });

      // World: the westus3 gate was drained once and reopened only by the failback, after the flapping; Front Door's
      // configuration changed once during the flapping (the failover) and only again for the failback's steps.
      const gates = s.sim.timeline.where("gate-changed", { workload: "chat", region: "westus3" });
      expect(gates.map((g) => g.detail["state"])).toEqual(["drained", "open"]);
      const fault = faultAt(s);
      expect((gates[1]!.at - fault) / 1000).toBeGreaterThan(flappingEnds);
      const changes = s.sim.timeline
        .ofKind("frontdoor-change-accepted")
        .filter((e) => e.detail["frontDoor"] === "afd-chat");
      expect(changes.filter((e) => (e.at - fault) / 1000 <= flappingEnds)).toHaveLength(1);
      // Users were served inside the SLO from the verified cutover until the end, flapping or not.
      const verified = report.rtoSeconds!;
      const after = served(s, "chat").filter(([t]) => t >= verified + 5);
      expect(after.length).toBeGreaterThan(100);
      expect(Math.min(...after.map(([, v]) => v))).toBeGreaterThanOrEqual(0.99);

      // The failback started only after the flapping and the soak, and returned the traffic in steps.
      expect(report.failbacks).toHaveLength(1);
      const failback = report.failbacks[0]!;
      expect(failback.outcome).toBe("succeeded");
      expect(failback.startedAt).toBeGreaterThanOrEqual(closedAt! + 300);
      expect(failback.steps.map((x) => x.share)).toEqual([...failback.steps.map((x) => x.share)].sort((a, b) => a - b));
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.regions["westus3"]?.trafficShare).toBeCloseTo(0.5, 2);
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
    });
  }, 600_000);
});
