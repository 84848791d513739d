/**
 * Example scenarios end to end at the world level: a scripted "perfect controller" recovers the cold-target
 * region outage, and the sampled waits give the lower bound its RTO is measured against.
 */
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { afterEach, describe, expect, it } from "vitest";
import type { Simulator } from "../../local/sim/simulator";
import { CHAT_WUS3, elapsed, startExample } from "./helpers";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe("region-outage-cold-target", () => {
  it("recovers only after nodes, model load and probes; RTO is bounded below by the sampled waits", async () => {
    sim = await startExample("region-outage-cold-target");
    const s = sim;
    // Before the fault: westus3 is cold (unhealthy at every POP), eastus2 carries everything.
    expect(s.world.groundTruth("chat").regions["eastus2"]!.trafficShare).toBe(1);
    await s.advance(120_000);
    const fault = s.world.sampledWaits().faults[0]!;
    expect(fault.detectableAt).toBe(fault.at);
    expect(s.world.groundTruth("chat").servedWithinSlo).toBe(0);

    const aks = new ContainerServiceClient(s.credential, s.subscriptionId, s.clientOptions);
    const pollers = [];
    for (const pool of ["a100z1", "a100z2"]) {
      const p = aks.agentPools.createOrUpdate(CHAT_WUS3.rg, CHAT_WUS3.cluster, pool, { count: 4 }, s.pollOptions);
      await p.submitted();
      pollers.push(p);
    }
    await s.drive(Promise.all(pollers), { stepMs: 5_000 });
    const warm = await fetch(`${s.endpointsOrigin}/chat/westus3/warmup`, { method: "POST" });
    expect(warm.status).toBe(202);
    let verifiedAt: number | undefined;
    while (verifiedAt === undefined && elapsed(s) < 3600) {
      await s.advance(5_000);
      if (s.world.groundTruth("chat").servedWithinSlo >= 0.99) verifiedAt = s.clock.now();
    }
    expect(verifiedAt).toBeDefined();
    const truth = s.world.groundTruth("chat");
    expect(truth.regions["westus3"]).toMatchObject({ trafficShare: 1, goodFraction: 1, readyGpus: 8, endpoint: "ok" });

    const waits = s.world.sampledWaits();
    const nodesReady = Math.max(...waits.nodeProvisioning.map((n) => n.readyAt));
    const load = waits.modelLoads[0]!;
    const probes = waits.probeWindows;
    expect(load.startedAt).toBeGreaterThanOrEqual(nodesReady);
    const rto = (verifiedAt! - fault.at) / 1000;
    const lowerBound = (nodesReady - fault.at) / 1000 + load.seconds;
    expect(rto).toBeGreaterThanOrEqual(lowerBound);
    // Recovery also waited for Front Door to see westus3 healthy again: at most one probe interval × samples later.
    expect(rto - lowerBound).toBeLessThanOrEqual(30 * 4 + 5);
    expect(probes.filter((p) => p.origin === "chat-eastus2")).toHaveLength(s.world.pops.length);
  });
});

describe("training-hub-outage", () => {
  it("takes the hub region down and carries checkpoint seed data for Azurite", async () => {
    sim = await startExample("training-hub-outage");
    await sim.advance(301_000);
    expect(sim.world.regionDown("eastus2")).toBe(true);
    const seed = sim.world.scenario.checkpoints["pretrain"]!;
    expect(seed["westus3"]!.filter((c) => c.complete).map((c) => c.step)).toEqual([1000, 1100]);
  });
});
