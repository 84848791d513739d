/**
 * Cutover's Front Door adapter (production code) against the simulator: Standard/Premium through @azure/arm-cdn
 * (PATCH per origin, deploymentStatus until every POP applied it) and classic through @azure/arm-frontdoor (whole
 * profile read-modify-write); unchanged patches write nothing; bad values come back as rejections.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FrontDoorAdapter } from "../../src/adapters/front-door";
import type { FrontDoor } from "../../src/domain/topology";
import type { Simulator } from "../../local/sim/simulator";
import { startInline } from "../sim/helpers";
import { clientsFor } from "./sim-clients";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

function frontDoor(s: Simulator, name: string): FrontDoor {
  const fd = s.effectiveTopology().frontDoors[name];
  if (fd === undefined) throw new Error(name);
  return fd;
}

describe("FrontDoorAdapter (Standard/Premium)", () => {
  it("disables an origin and reports propagation through deploymentStatus", async () => {
    sim = await startInline({});
    const adapter = new FrontDoorAdapter(clientsFor(sim), 1);
    const fd = frontDoor(sim, "afd-chat");
    const before = await adapter.listOrigins(sim.subscriptionId, fd);
    expect(before.map((o) => [o.name, o.enabledState, o.weight, o.priority])).toEqual([
      ["chat-eastus2", "Enabled", 50, 1],
      ["chat-westus3", "Enabled", 50, 1],
    ]);
    expect(
      await adapter.updateOrigins(sim.subscriptionId, fd, new Map([["chat-eastus2", { enabledState: "Disabled" }]])),
    ).toEqual({
      kind: "accepted",
    });
    expect(sim.requestLog.find({ method: "PATCH" })[0]?.body).toEqual({ properties: { enabledState: "Disabled" } });
    await sim.advance(60_000, { stepMs: 5_000 });
    const during = (await adapter.listOrigins(sim.subscriptionId, fd)).find((o) => o.name === "chat-eastus2");
    expect(during).toMatchObject({ enabledState: "Disabled", deploymentStatus: "InProgress" });
    await sim.advance(25 * 60_000, { stepMs: 20_000 });
    const after = (await adapter.listOrigins(sim.subscriptionId, fd)).find((o) => o.name === "chat-eastus2");
    expect(after).toMatchObject({ enabledState: "Disabled", deploymentStatus: "Succeeded" });
    expect(sim.timeline.ofKind("propagation-finished").length).toBeGreaterThan(0);
  });

  it("writes nothing for an empty patch set and rejects invalid values", async () => {
    sim = await startInline({});
    const adapter = new FrontDoorAdapter(clientsFor(sim), 1);
    const fd = frontDoor(sim, "afd-chat");
    expect(await adapter.updateOrigins(sim.subscriptionId, fd, new Map())).toEqual({ kind: "unchanged" });
    expect(sim.requestLog.find({ method: "PATCH" })).toHaveLength(0);
    const bad = await adapter.updateOrigins(sim.subscriptionId, fd, new Map([["chat-eastus2", { weight: 5000 }]]));
    expect(bad).toMatchObject({ kind: "rejected" });
  });
});

describe("FrontDoorAdapter (classic)", () => {
  it("disables a backend by address with one PUT of the profile and tracks the profile's state", async () => {
    sim = await startInline({});
    const adapter = new FrontDoorAdapter(clientsFor(sim), 1);
    const fd = frontDoor(sim, "fd-chat-lite");
    const before = await adapter.listOrigins(sim.subscriptionId, fd);
    expect(before.map((o) => o.name)).toEqual([
      "chat-lite-centralus.contoso.example",
      "chat-lite-swedencentral.contoso.example",
      "chat-lite-francecentral.contoso.example",
    ]);
    expect(before.every((o) => o.deploymentStatus === "Succeeded")).toBe(true);
    const result = await adapter.updateOrigins(
      sim.subscriptionId,
      fd,
      new Map([["chat-lite-centralus.contoso.example", { enabledState: "Disabled" }]]),
    );
    expect(result).toEqual({ kind: "accepted" });
    expect(sim.requestLog.find({ method: "PUT", path: "/frontDoors/fd-chat-lite" })).toHaveLength(1);
    // The same patch again changes nothing and writes nothing.
    await sim.advance(30 * 60_000, { stepMs: 20_000 });
    expect(
      await adapter.updateOrigins(
        sim.subscriptionId,
        fd,
        new Map([["chat-lite-centralus.contoso.example", { enabledState: "Disabled" }]]),
      ),
    ).toEqual({ kind: "unchanged" });
    expect(sim.requestLog.find({ method: "PUT", path: "/frontDoors/fd-chat-lite" })).toHaveLength(1);
    const after = await adapter.listOrigins(sim.subscriptionId, fd);
    expect(after.find((o) => o.name === "chat-lite-centralus.contoso.example")).toMatchObject({
      enabledState: "Disabled",
      deploymentStatus: "Succeeded",
    });
    expect(sim.world.groundTruth("chat-lite").regions["centralus"]?.trafficShare).toBe(0);
  });

  it("rejects an unknown backend without writing", async () => {
    sim = await startInline({});
    const adapter = new FrontDoorAdapter(clientsFor(sim), 1);
    const r = await adapter.updateOrigins(
      sim.subscriptionId,
      frontDoor(sim, "fd-chat-lite"),
      new Map([["nope.example", { enabledState: "Disabled" }]]),
    );
    expect(r).toEqual({ kind: "rejected", code: "NOT_FOUND", message: "backend nope.example not found" });
    expect(sim.requestLog.find({ method: "PUT" })).toHaveLength(0);
  });
});
