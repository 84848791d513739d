/**
 * Every shipped scenario end to end: the fault hits the simulated world, Azure Monitor alerts reach the app's
 * /api/alerts, the app (its own registered functions, in the local host) fails over through the real SDK clients
 * against the Azure simulator and real Azurite — and the assertions read the WORLD's ground truth (who serves the
 * traffic, with how many GPUs, inside the SLO), not only the app's own report.
 */
import { describe, expect, it } from "vitest";
import type { FailoverReport } from "../../src/runbooks/contracts";
import { runAndInspect, shipped } from "./support";

const MIN = 60;

function scaleAttempts(report: FailoverReport): string[] {
  return report.scaleAttempts.map((a) => `${a.region}/${a.pool}: ${a.outcome.split(":")[0]}`);
}

describe("shipped scenarios, end to end", () => {
  it("zone-outage: the surviving zone already holds the region's share, so Cutover verifies without scaling", async () => {
    await runAndInspect(shipped("zone-outage"), (report, s) => {
      expect(report.outcome).toBe("succeeded");
      expect(report.scope).toEqual({ region: "eastus2", zone: "1" });
      expect(report.failovers).toBe(1);
      expect(report.armWrites).toBe(0);
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      // Zone 2 alone carries eastus2's share (4 GPUs); zone 1 may be back by the end of the run.
      expect(truth.regions["eastus2"]?.readyGpus).toBeGreaterThanOrEqual(4);
      expect(report.worstServed).toBe(1);
      expect(report.rtoSeconds).toBeLessThanOrEqual(6 * MIN);
    });
  }, 300_000);

  it("region-outage-warm-standby: eastus2 drained at the gate and in Front Door; westus3 serves everything", async () => {
    await runAndInspect(shipped("region-outage-warm-standby"), (report, s) => {
      expect(report.outcome).toBe("succeeded");
      expect(report.failovers).toBe(1);
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.regions["westus3"]?.trafficShare).toBe(1);
      expect(truth.regions["eastus2"]?.trafficShare).toBe(0);
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      expect(s.sim.world.gateState("chat", "eastus2")).toBe("drained");
      // One ARM write: the Front Door origin (no scaling on a warm standby).
      expect(s.sim.requestLog.find({ service: "arm", method: "PATCH" }).map((e) => e.path)).toEqual([
        expect.stringMatching(/\/originGroups\/og-chat\/origins\/chat-eastus2$/),
      ]);
      expect(report.rtoSeconds).not.toBeNull();
      expect(report.worldRecoverySeconds).not.toBeNull();
    });
  }, 300_000);

  it("region-outage-cold-target: westus3 is scaled from zero, the model is loaded, then Front Door routes to it", async () => {
    await runAndInspect(shipped("region-outage-cold-target"), (report, s) => {
      expect(report.outcome).toBe("succeeded");
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.regions["westus3"]).toMatchObject({ trafficShare: 1, endpoint: "ok" });
      expect(truth.regions["westus3"]?.readyGpus).toBeGreaterThanOrEqual(8);
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      const loads = s.sim.world.sampledWaits().modelLoads.filter((l) => l.region === "westus3");
      expect(loads).toHaveLength(1);
      // The app's verified cutover is never earlier than the world's own recovery minus one sample.
      expect(report.rtoSeconds!).toBeGreaterThanOrEqual(report.worldRecoverySeconds! - 5);
      expect(report.phases.capacity).toBeGreaterThan(0);
      expect(report.phases.warmup).toBeGreaterThan(0);
      expect(report.rtoOverLowerBound).not.toBeNull();
      // Spare nodes (the example's capacity.spareNodes: 1): each scale step is done once its needed nodes are Ready in
      // the cluster's Kubernetes API, before AKS has finished the pool's operation (the world says when it did).
      const scales = report.steps.filter((x) => x.kind === "scale");
      expect(scales.map((x) => x.id).sort()).toEqual([
        "scale:westus3/a100z1",
        "scale:westus3/a100z2",
        "scale:westus3/h100z3",
      ]);
      for (const step of scales) {
        const pool = step.id.split("/")[1]!;
        expect(step.detail).toMatch(/ nodes Ready \(\d+ needed; 1 spare still provisioning\)$/);
        const opEnd = report.timeline.find(
          (e) =>
            e.source === "world" &&
            e.event.startsWith("pool-operation-succeeded") &&
            e.event.includes(`/aks-chat-westus3/${pool}"`),
        );
        expect(step.end!).toBeLessThan(opEnd?.t ?? Number.POSITIVE_INFINITY);
      }
      expect(s.sim.requestLog.all().some((r) => r.service === "kubernetes")).toBe(true);
      // Three pool PUTs and one Front Door origin update; the kubeconfig POST (listClusterUserCredential) is a read.
      expect(s.sim.requestLog.find({ service: "arm", path: "/listClusterUserCredential" }).length).toBeGreaterThan(0);
      expect(report.armWrites).toBe(4);
    });
  }, 300_000);

  it("region-outage-cold-target, a run where the drain propagates before westus3 is warm: verified once warm, no hold for Front Door's probes", async () => {
    // Seed 3: Front Door's change (eastus2 disabled) has propagated everywhere by 655 s, the model is warm at 770 s.
    // westus3 is then the group's only enabled origin, so every POP sends it every request whether or not its probes
    // have marked it healthy yet: holding verification for their 3 × 30 s success samples would only add 90 s.
    // Also a run where Monitor's lagging gpu_ready_nodes still counted westus3 zone 3's new H100 nodes as missing after
    // AKS had finished: that must not read as a zone failure (it had started a second failover, for westus3 zone 3).
    await runAndInspect(
      shipped("region-outage-cold-target"),
      (report) => {
        expect(report.outcome).toBe("succeeded");
        expect(report.failovers).toBe(1);
        const step = (id: string) => report.steps.find((x) => x.id === id);
        const propagated = step("propagate:afd-chat")?.end;
        const warm = step("warm:westus3")?.end;
        expect(propagated).not.toBeNull();
        expect(warm).not.toBeNull();
        expect(propagated!).toBeLessThan(warm!);
        expect(step("verify")?.detail).toMatch(/has propagated and leaves only the targets enabled/);
        expect(step("verify")!.end! - warm!).toBeLessThan(30);
        expect(report.rtoSeconds).toBe(step("verify")?.end);
        // The world agrees (runAndInspect also checks it was whole at the first sample after the verified time).
        expect(report.worldRecoverySeconds).not.toBeNull();
        expect(report.rtoSeconds!).toBeGreaterThanOrEqual(report.worldRecoverySeconds! - 5);
      },
      { seed: 3 },
    );
  }, 300_000);

  it("stale-model: westus3 serves a stale version; traffic moves to eastus2", async () => {
    await runAndInspect(shipped("stale-model"), (report, s) => {
      expect(report.outcome).toBe("succeeded");
      expect(report.scope).toEqual({ region: "westus3" });
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.regions["westus3"]).toMatchObject({ trafficShare: 0, endpoint: "stale" });
      expect(truth.regions["eastus2"]?.trafficShare).toBe(1);
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
    });
  }, 300_000);

  it("capacity-crunch: the first pool cannot allocate; Cutover falls back along the matrix at run time", async () => {
    await runAndInspect(shipped("capacity-crunch"), (report, s) => {
      expect(report.outcome).toBe("succeeded");
      const failover = report.reports[0]!;
      expect(scaleAttempts(failover)).toEqual(["eastus2/a100x4z3: ZonalAllocationFailed"]);
      const pools = s.sim.world.snapshot().pools;
      // eastus2 needs 4 GPUs and zone 2 held 2: the fallback adds the 2 missing, not the failed 4-GPU node's 4.
      expect(pools.find((p) => p.key === "rg-chat-eastus2/aks-chat-eastus2/a100z2")).toMatchObject({ servingNodes: 4 });
      expect(pools.find((p) => p.key === "rg-chat-eastus2/aks-chat-eastus2/a100x4z3")).toMatchObject({
        servingNodes: 0,
      });
      expect(s.sim.world.sampledWaits().allocationFailures.map((f) => f.code)).toEqual(["ZonalAllocationFailed"]);
      // Hedged allocation (examples/topology.yaml: chat `capacity.hedge.afterSeconds: 0`): the fallback a100z2 was
      // asked for as soon as AKS accepted a100x4z3, not after its allocation failure came back.
      const at = (event: string, pool: string): number | undefined =>
        report.timeline.find((e) => e.event.startsWith(event) && e.event.includes(`/${pool}"`))?.t;
      const primaryStarted = at("pool-operation-started", "a100x4z3");
      const primaryFailed = at("pool-operation-failed", "a100x4z3");
      expect(primaryStarted).toBeDefined();
      expect(at("pool-operation-started", "a100z2")).toBe(primaryStarted);
      expect(primaryFailed).toBeGreaterThan(primaryStarted!);
      // So the cutover does not pay for the failed attempt: it is done sooner than the failure plus a100z2's own
      // provisioning time (which is what trying a100z2 only after the failure costs).
      const provisioning = at("pool-operation-succeeded", "a100z2")! - primaryStarted!;
      expect(report.rtoSeconds).toBeLessThan(primaryFailed! + provisioning);
      const truth = s.sim.world.groundTruth("chat");
      expect(truth.regions["eastus2"]?.readyGpus).toBe(4);
      expect(truth.servedWithinSlo).toBeGreaterThanOrEqual(0.99);
    });
  }, 300_000);

  it("training-hub-outage: approved by the operator, resumed in westus3 from the newest intact checkpoint", async () => {
    await runAndInspect(shipped("training-hub-outage"), (report, s) => {
      // The hub region's outage also fails chat over; the training workload has its own failover.
      const training = report.reports.find((r) => r.workload === "pretrain")!;
      expect(training.outcome).toBe("succeeded");
      expect(report.checkpointStep).toBe(1100);
      expect(report.workLostSeconds).toBe(1800);
      const steps = training.steps.map((x) => ({
        id: x.id,
        detail: x.detail,
        start: Date.parse(x.start ?? ""),
        end: Date.parse(x.end ?? ""),
      }));
      const approve = steps.find((x) => x.id === "approve")!;
      expect(approve.detail).toBe("manual");
      // The simulated operator answers 60 s after it first sees the failover waiting (checked every 15 s).
      expect(approve.end - approve.start).toBeGreaterThanOrEqual(60_000);
      expect(approve.end - approve.start).toBeLessThanOrEqual(75_000);
      const jobs = s.sim.requestLog.find({
        method: "PUT",
        path: "/Microsoft.MachineLearningServices/workspaces/mlw-train-westus3/jobs/",
      });
      expect(jobs).toHaveLength(1);
      expect(training.training).toMatchObject({ status: "resumed", epoch: 2, jobState: "Running" });
    });
  }, 300_000);
});
