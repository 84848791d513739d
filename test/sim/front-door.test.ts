/**
 * Front Door in the simulator: the real @azure/arm-cdn (Standard/Premium) and @azure/arm-frontdoor (classic)
 * clients against its ARM surface, and its data plane — per-POP probing, detection time, routing, fail-open,
 * propagation of configuration changes.
 */
import { CdnManagementClient } from "@azure/arm-cdn";
import { FrontDoorManagementClient } from "@azure/arm-frontdoor";
import { afterEach, describe, expect, it } from "vitest";
import { failuresToUnhealthy } from "../../src/domain/latency-model";
import type { Simulator } from "../../local/sim/simulator";
import { elapsed, startInline } from "./helpers";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const RG = "rg-cutover-edge";

describe("Front Door Standard/Premium through CdnManagementClient", () => {
  it("reads the origin group and origins, and a PATCH completes on ARM before it propagates to every POP", async () => {
    sim = await startInline({});
    const cdn = new CdnManagementClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    const group = await cdn.afdOriginGroups.get(RG, "afd-chat", "og-chat");
    expect(group.healthProbeSettings).toMatchObject({
      probeIntervalInSeconds: 30,
      probePath: "/healthz",
      probeRequestType: "HEAD",
    });
    expect(group.loadBalancingSettings).toMatchObject({
      sampleSize: 4,
      successfulSamplesRequired: 3,
      additionalLatencyInMilliseconds: 1000,
    });
    const origins = [];
    for await (const o of cdn.afdOrigins.listByOriginGroup(RG, "afd-chat", "og-chat")) origins.push(o.name);
    expect(origins).toEqual(["chat-eastus2", "chat-westus3"]);

    const updated = await sim.drive(
      cdn.afdOrigins.beginUpdateAndWait(
        RG,
        "afd-chat",
        "og-chat",
        "chat-eastus2",
        { enabledState: "Disabled", weight: 10 },
        sim.pollOptions,
      ),
    );
    expect(updated).toMatchObject({
      enabledState: "Disabled",
      weight: 10,
      provisioningState: "Succeeded",
      deploymentStatus: "InProgress",
    });
    const patch = sim.requestLog.find({ method: "PATCH" })[0];
    expect(patch?.body).toEqual({ properties: { weight: 10, enabledState: "Disabled" } });
    expect(patch?.apiVersion).toBe("2024-02-01");
    // Still routed to eastus2 by POPs that have not applied the change.
    expect(sim.world.groundTruth("chat").regions["eastus2"]?.trafficShare).toBeGreaterThan(0);

    await sim.advance(1300_000, { stepMs: 10_000 });
    const [done] = sim.timeline.where("propagation-finished", { frontDoor: "afd-chat", version: 1 });
    expect(done).toBeDefined();
    const prop = sim.world.sampledWaits().propagations[0]!;
    expect(prop.seconds).toBeGreaterThanOrEqual(180);
    expect(prop.seconds).toBeLessThanOrEqual(1200);
    expect((await cdn.afdOrigins.get(RG, "afd-chat", "og-chat", "chat-eastus2")).deploymentStatus).toBe("Succeeded");
    expect(sim.timeline.where("frontdoor-config-applied", { frontDoor: "afd-chat", version: 1 })).toHaveLength(
      sim.world.pops.length,
    );
    expect(sim.world.groundTruth("chat").regions["eastus2"]?.trafficShare).toBe(0);
  });

  it("slow-propagation faults stretch propagation; bad values are refused with 400", async () => {
    sim = await startInline({ faults: [{ kind: "slow-propagation", factor: 4 }] });
    const cdn = new CdnManagementClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    await sim.advance(1000);
    await sim.drive(
      cdn.afdOrigins.beginUpdateAndWait(RG, "afd-chat", "og-chat", "chat-westus3", { weight: 80 }, sim.pollOptions),
    );
    await sim.advance(4900_000, { stepMs: 30_000 });
    expect(sim.world.sampledWaits().propagations[0]!.seconds).toBeGreaterThanOrEqual(180 * 4);
    await expect(
      cdn.afdOrigins.beginUpdateAndWait(RG, "afd-chat", "og-chat", "chat-westus3", { weight: 5000 }, sim.pollOptions),
    ).rejects.toMatchObject({ statusCode: 400 });
  });

  it("changing the probe interval through the origin group changes detection time after propagation", async () => {
    sim = await startInline({});
    const cdn = new CdnManagementClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    await sim.drive(
      cdn.afdOriginGroups.beginUpdateAndWait(
        RG,
        "afd-chat",
        "og-chat",
        {
          healthProbeSettings: { probeIntervalInSeconds: 10 },
          loadBalancingSettings: { sampleSize: 2, successfulSamplesRequired: 2 },
        },
        sim.pollOptions,
      ),
    );
    await sim.advance(1300_000, { stepMs: 10_000 });
    expect((await cdn.afdOriginGroups.get(RG, "afd-chat", "og-chat")).deploymentStatus).toBe("Succeeded");
    const faultAt = sim.clock.now();
    sim.faults.inject({ kind: "region-down", region: "eastus2" });
    await sim.advance(120_000);
    const marks = sim.timeline.where("origin-unhealthy", { origin: "chat-eastus2" });
    expect(marks).toHaveLength(sim.world.pops.length);
    for (const m of marks) expect((m.at - faultAt) / 1000).toBeLessThanOrEqual(10);
  });
});

describe("Front Door data plane", () => {
  for (const probe of [
    { intervalSeconds: 30, sampleSize: 4, successfulSamplesRequired: 3 },
    { intervalSeconds: 10, sampleSize: 5, successfulSamplesRequired: 2 },
  ]) {
    it(`detects a dead origin at each POP within interval × failures (${probe.intervalSeconds}s, ${probe.sampleSize}/${probe.successfulSamplesRequired})`, async () => {
      sim = await startInline({
        overrides: { probes: { "afd-chat": probe } },
        faults: [{ id: "down", kind: "region-down", region: "eastus2", at: 300.5 }],
      });
      await sim.advance(600_000);
      const n = failuresToUnhealthy(probe);
      const marks = sim.timeline.where("origin-unhealthy", { frontDoor: "afd-chat", origin: "chat-eastus2" });
      expect(marks.map((m) => m.detail["pop"]).sort()).toEqual(sim.world.pops.map((p) => p.name).sort());
      for (const m of marks) {
        const detection = m.t - 300.5;
        expect(detection).toBeGreaterThan((n - 1) * probe.intervalSeconds);
        expect(detection).toBeLessThanOrEqual(n * probe.intervalSeconds);
      }
      // POPs probe on their own phases, so they do not all flip at the same instant.
      expect(new Set(marks.map((m) => m.at)).size).toBeGreaterThan(1);
      const windows = sim.world.sampledWaits().probeWindows.filter((w) => w.origin === "chat-eastus2");
      const fromWaits = windows.map((w) => w.seconds).sort((a, b) => a - b);
      const fromTimeline = marks.map((m) => m.t - 300.5).sort((a, b) => a - b);
      expect(fromWaits).toHaveLength(fromTimeline.length);
      fromWaits.forEach((s, i) => expect(s).toBeCloseTo(fromTimeline[i]!, 2));
    });
  }

  it("routes away from a failed region after detection, and fails open when every origin is unhealthy", async () => {
    sim = await startInline({
      faults: [
        { id: "eus2", kind: "region-down", region: "eastus2", at: 120 },
        { id: "wus3", kind: "region-down", region: "westus3", at: 600 },
      ],
    });
    const before = sim.world.groundTruth("chat");
    expect(before.servedWithinSlo).toBe(1);
    expect(before.regions["eastus2"]!.trafficShare).toBeCloseTo(0.5, 5);
    await sim.advance(121_000);
    const failing = sim.world.groundTruth("chat");
    expect(failing.regions["eastus2"]!.goodFraction).toBe(0);
    expect(failing.servedWithinSlo).toBeLessThan(0.6);
    await sim.advance(300_000);
    const moved = sim.world.groundTruth("chat");
    expect(moved.regions["westus3"]!.trafficShare).toBe(1);
    // westus3 has 4 of the 8 GPUs the whole load needs: half is served within SLO.
    expect(moved.servedWithinSlo).toBeCloseTo(0.5, 3);
    expect(moved.failOpenPops).toEqual([]);
    await sim.advance(300_000);
    const open = sim.world.groundTruth("chat");
    expect([...open.failOpenPops].sort()).toEqual(sim.world.pops.map((p) => p.name).sort());
    expect(open.regions["eastus2"]!.trafficShare).toBeCloseTo(0.5, 5);
    expect(open.servedWithinSlo).toBe(0);
    expect(open.percent5xx).toBe(100);
  });

  it("with latency sensitivity 0, each POP sends everything to its fastest origin", async () => {
    sim = await startInline({ overrides: { probes: { "afd-chat": { additionalLatencyMs: 0 } } } });
    const fd = sim.world.frontDoor("afd-chat")!;
    const chosen = sim.world.pops.map((pop) => fd.route(pop).shares);
    for (const shares of chosen) {
      expect(shares).toHaveLength(1);
      expect(shares[0]!.share).toBe(1);
    }
    // With a 1000 ms band (the topology's setting) both origins share by weight again.
    const wide = await startInline({});
    try {
      for (const pop of wide.world.pops) expect(wide.world.frontDoor("afd-chat")!.route(pop).shares).toHaveLength(2);
    } finally {
      await wide.stop();
    }
  });

  it("routes by priority, then weight, among healthy origins", async () => {
    sim = await startInline({});
    const cdn = new CdnManagementClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    await sim.drive(
      cdn.afdOrigins.beginUpdateAndWait(RG, "afd-chat", "og-chat", "chat-westus3", { priority: 2 }, sim.pollOptions),
    );
    await sim.advance(1300_000, { stepMs: 20_000 });
    expect(sim.world.groundTruth("chat").regions["westus3"]!.trafficShare).toBe(0);
    await sim.drive(
      cdn.afdOrigins.beginUpdateAndWait(
        RG,
        "afd-chat",
        "og-chat",
        "chat-westus3",
        { priority: 1, weight: 150 },
        sim.pollOptions,
      ),
    );
    await sim.advance(1300_000, { stepMs: 20_000 });
    expect(sim.world.groundTruth("chat").regions["westus3"]!.trafficShare).toBeCloseTo(0.75, 5);
    expect(elapsed(sim)).toBeGreaterThan(2600);
  });
});

describe("Front Door classic through FrontDoorManagementClient", () => {
  it("GET, edit a backend, PUT as a long-running operation; invalid backends are refused", async () => {
    sim = await startInline({});
    const fdc = new FrontDoorManagementClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    const door = await fdc.frontDoors.get(RG, "fd-chat-lite");
    const backends = door.backendPools?.[0]?.backends ?? [];
    expect(backends.map((b) => b.address)).toEqual([
      "chat-lite-centralus.contoso.example",
      "chat-lite-swedencentral.contoso.example",
      "chat-lite-francecentral.contoso.example",
    ]);
    expect(door.healthProbeSettings?.[0]).toMatchObject({ intervalInSeconds: 30, healthProbeMethod: "HEAD" });
    backends[0]!.enabledState = "Disabled";
    const updated = await sim.drive(
      fdc.frontDoors.beginCreateOrUpdateAndWait(RG, "fd-chat-lite", door, sim.pollOptions),
    );
    expect(updated.backendPools?.[0]?.backends?.[0]?.enabledState).toBe("Disabled");
    expect(sim.requestLog.find({ method: "PUT", path: "/frontDoors/fd-chat-lite" })[0]?.apiVersion).toBe("2021-06-01");
    await sim.advance(1300_000, { stepMs: 20_000 });
    expect(sim.world.groundTruth("chat-lite").regions["centralus"]!.trafficShare).toBe(0);

    backends[1]!.weight = 0;
    await expect(
      fdc.frontDoors.beginCreateOrUpdateAndWait(RG, "fd-chat-lite", door, sim.pollOptions),
    ).rejects.toMatchObject({ statusCode: 400 });
  });
});
