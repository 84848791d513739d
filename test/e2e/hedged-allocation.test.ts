/**
 * Hedged GPU allocation end to end (examples/topology.yaml: chat `capacity.hedge.afterSeconds: 0`), in the local host
 * against the simulator and Azurite: eastus2 zone 1 fails while zone 2 holds only half of eastus2's share, and — unlike
 * `capacity-crunch` — nothing refuses the allocation. The planner's pool (a100x4z3) and its first fallback (a100z2) are
 * both asked for; the first to finish serves, the other is aborted through AKS and set back to its count before the
 * failover. Assertions read the world: which pools hold nodes at the end, which operations were canceled.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { adHocScenario, runAndInspect, shipped } from "./support";

describe("hedged allocation, end to end", () => {
  it("keeps the pool that finished first and aborts and scales back the other", async () => {
    const base = parse(readFileSync(shipped("capacity-crunch"), "utf8")) as Record<string, unknown>;
    const { version: _v, name: _n, topology: _t, faults, ...rest } = base;
    const scenario = adHocScenario({
      ...rest,
      faults: (faults as Array<{ id: string }>).filter((f) => f.id === "eus2-z1"),
    });
    const before = { a100x4z3: 0, a100z2: 2 } as const;
    await runAndInspect(scenario, (report, s) => {
      expect(report.outcome).toBe("succeeded");
      expect(report.failovers).toBe(1);
      const failover = report.reports[0]!;
      const scale = failover.steps.find((x) => x.kind === "scale")!;
      const release = failover.steps.find((x) => x.kind === "release")!;
      expect(scale.status).toBe("done");
      expect(release).toMatchObject({ status: "done" });
      const loser = release.id.replace("release:eastus2/", "") as keyof typeof before;
      const winner = loser === "a100z2" ? "a100x4z3" : "a100z2";
      expect(Object.keys(before)).toContain(loser);

      // The world: the winner's nodes serve; the loser is back at its count, its scale-up canceled by the abort.
      const pools = s.sim.world.snapshot().pools;
      const poolOf = (name: string) => pools.find((p) => p.key === `rg-chat-eastus2/aks-chat-eastus2/${name}`)!;
      expect(poolOf(loser)).toMatchObject({ count: before[loser], provisioningState: "Succeeded" });
      // The hedge adds the 2 GPUs eastus2 lacks (2 → 4 one-GPU nodes), not the primary's 4.
      expect(poolOf(winner).count).toBe(winner === "a100z2" ? 4 : 1);
      const started = (pool: string) =>
        report.timeline.find((e) => e.event.startsWith("pool-operation-started") && e.event.includes(`/${pool}"`))?.t;
      expect(started(winner)).toBe(started(loser)); // asked for together
      expect(
        report.timeline.some((e) => e.event.startsWith("pool-operation-canceled") && e.event.includes(`/${loser}"`)),
      ).toBe(true);
      expect(s.sim.requestLog.find({ method: "POST", path: `/agentPools/${loser}/abort` })).toHaveLength(1);
      // The loser cost no RTO: the cutover was verified when the winner's operation ended (plus one poll at most).
      const succeeded = report.timeline.find(
        (e) => e.event.startsWith("pool-operation-succeeded") && e.event.includes(`/${winner}"`),
      )?.t;
      expect(report.rtoSeconds).toBeGreaterThanOrEqual(succeeded!);
      expect(report.rtoSeconds).toBeLessThanOrEqual(succeeded! + 15);
      expect(failover.scaleAttempts.map((a) => `${a.pool}: ${a.outcome.split(",")[0]}`)).toEqual([
        loser === "a100z2" ? "a100z2: hedge: lost the race" : "a100x4z3: superseded: the hedge finished first",
      ]);
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      expect(truth.regions["eastus2"]?.readyGpus).toBeGreaterThanOrEqual(4);
    });
  }, 300_000);
});
