/** Same scenario + seed + request sequence ⇒ same world timeline; streams per concern are independent. */
import { CdnManagementClient } from "@azure/arm-cdn";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { describe, expect, it } from "vitest";
import { StreamFactory } from "../../local/sim/prng";
import { CHAT_EUS2, startInline } from "./helpers";

async function run(seed: number, extraReads = 0): Promise<{ timeline: unknown; waits: unknown; truth: unknown }> {
  const sim = await startInline({
    seed,
    faults: [{ id: "z1", kind: "zone-down", region: "eastus2", zone: "1", at: 120 }],
    alerts: [
      {
        name: "zone-nodes",
        target: { cluster: { workload: "chat", region: "eastus2" } },
        metric: { name: "gpu_ready_nodes", aggregation: "Minimum", dimensions: [{ name: "zone", values: ["1", "2"] }] },
        operator: "LessThan",
        threshold: 1,
        windowSize: "PT1M",
      },
    ],
  });
  try {
    const aks = new ContainerServiceClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    const cdn = new CdnManagementClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    await sim.advance(180_000, { stepMs: 10_000 });
    for (let i = 0; i < extraReads; i++) await aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z2");
    const poller = aks.agentPools.createOrUpdate(
      CHAT_EUS2.rg,
      CHAT_EUS2.cluster,
      "a100z2",
      { count: 8 },
      sim.pollOptions,
    );
    await poller.submitted();
    await sim.advance(60_000, { stepMs: 10_000 });
    // Writes must reach the simulator at fixed virtual times: wait for the initial request before moving time.
    const origin = await cdn.afdOrigins.beginUpdate(
      "rg-cutover-edge",
      "afd-chat",
      "og-chat",
      "chat-westus3",
      { weight: 70 },
      sim.pollOptions,
    );
    await sim.drive(origin.pollUntilDone(), { stepMs: 5_000 });
    await sim.drive(poller, { stepMs: 5_000 });
    await sim.advance(2400_000 - (sim.clock.now() - sim.world.startedAt), { stepMs: 10_000 });
    return { timeline: sim.timeline.all(), waits: sim.world.sampledWaits(), truth: sim.world.groundTruth("chat") };
  } finally {
    await sim.stop();
  }
}

describe("determinism", () => {
  it("gives the same timeline for the same seed and request sequence, and a different one for another seed", async () => {
    const a = await run(7);
    const b = await run(7);
    expect(b.timeline).toEqual(a.timeline);
    expect(b.waits).toEqual(a.waits);
    expect(b.truth).toEqual(a.truth);
    const c = await run(8);
    expect(c.timeline).not.toEqual(a.timeline);
  });

  it("extra ARM reads do not move any world event (independent streams)", async () => {
    const quiet = await run(11);
    const chatty = await run(11, 25);
    expect(chatty.waits).toEqual(quiet.waits);
    expect(chatty.timeline).toEqual(quiet.timeline);
  });

  it("streams of one factory are independent of the order in which they are used", () => {
    const f1 = new StreamFactory(42);
    const f2 = new StreamFactory(42);
    const a1 = [f1.stream("a").next(), f1.stream("a").next()];
    f2.stream("b").next();
    f2.stream("b").next();
    const a2 = [f2.stream("a").next(), f2.stream("a").next()];
    expect(a2).toEqual(a1);
    expect(new StreamFactory(43).stream("a").next()).not.toBe(a1[0]);
  });
});
