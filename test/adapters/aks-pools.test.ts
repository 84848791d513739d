/**
 * Cutover's AKS adapter (production code) with the real @azure/arm-containerservice client against the simulator:
 * set-to scaling with If-Match, the serialized LRO state polled later with restorePoller, allocation and quota
 * failures mapped to their Azure codes, conflicts and throttling mapped to retryable CutoverErrors.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AksPoolsAdapter } from "../../src/adapters/aks-pools";
import { CutoverError } from "../../src/domain/errors";
import type { Simulator } from "../../local/sim/simulator";
import { CHAT_EUS2, CHAT_WUS3, startInline } from "../sim/helpers";
import { clientsFor } from "./sim-clients";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

function ref(s: Simulator, c: { rg: string; cluster: string }, pool: string) {
  return { subscriptionId: s.subscriptionId, resourceGroup: c.rg, cluster: c.cluster, pool };
}

describe("AksPoolsAdapter against the simulator", () => {
  it("scales set-to and follows the operation to Succeeded on the virtual clock", async () => {
    sim = await startInline({});
    const pools = new AksPoolsAdapter(clientsFor(sim), 1);
    const r = ref(sim, CHAT_WUS3, "a100z1");
    expect(await pools.get(r)).toMatchObject({
      count: 2,
      provisioningState: "Succeeded",
      vmSize: "Standard_NC24ads_A100_v4",
      zones: ["1"],
    });

    const begin = await pools.beginScale(r, 5);
    expect(begin.kind).toBe("accepted");
    const operation = begin.kind === "accepted" ? begin.operation : "";
    const put = sim.requestLog.find({ method: "PUT", path: "/agentPools/a100z1" });
    expect(put).toHaveLength(1);
    expect((put[0]?.body as { properties?: { count?: number } }).properties?.count).toBe(5);

    expect(await pools.operationStatus(r, operation)).toEqual({ status: "InProgress" });
    expect((await pools.get(r)).provisioningState).toBe("Scaling");
    await sim.advance(20 * 60_000, { stepMs: 10_000 });
    expect(await pools.operationStatus(r, operation)).toEqual({ status: "Succeeded" });
    expect(await pools.get(r)).toMatchObject({ count: 5, provisioningState: "Succeeded" });

    // Set-to is idempotent: asking again for 5 writes nothing.
    expect(await pools.beginScale(r, 5)).toEqual({ kind: "unchanged", count: 5 });
    expect(sim.requestLog.find({ method: "PUT", path: "/agentPools/a100z1" })).toHaveLength(1);
  });

  it("refuses to start a second operation while one runs (CONFLICT, retryable)", async () => {
    sim = await startInline({});
    const pools = new AksPoolsAdapter(clientsFor(sim), 1);
    const r = ref(sim, CHAT_WUS3, "a100z2");
    expect((await pools.beginScale(r, 4)).kind).toBe("accepted");
    const error = await pools.beginScale(r, 6).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CutoverError);
    expect(error).toMatchObject({ code: "CONFLICT", retryable: true });
  });

  it("reports a zonal allocation failure of the operation with Azure's code", async () => {
    sim = await startInline({});
    sim.faults.inject({ kind: "allocation-failure", region: "eastus2", zone: "2", code: "ZonalAllocationFailed" });
    const pools = new AksPoolsAdapter(clientsFor(sim), 1);
    const r = ref(sim, CHAT_EUS2, "a100z2");
    const begin = await pools.beginScale(r, 6);
    expect(begin.kind).toBe("accepted");
    await sim.advance(20 * 60_000, { stepMs: 10_000 });
    const status = await pools.operationStatus(r, begin.kind === "accepted" ? begin.operation : "");
    expect(status.status).toBe("Failed");
    expect(status.error?.code).toBe("ZonalAllocationFailed");
    expect(status.error?.message).toContain(
      "We do not have sufficient capacity for the requested VM size in this zone",
    );
    const pool = await pools.get(r);
    expect(pool.provisioningState).toBe("Failed");
  });

  it("returns quota rejections (HTTP 400) as expected outcomes, not errors", async () => {
    sim = await startInline({});
    sim.faults.inject({ kind: "quota-exceeded", region: "eastus2", code: "QuotaExceeded", remainingVcpus: 24 });
    const pools = new AksPoolsAdapter(clientsFor(sim), 1);
    const begin = await pools.beginScale(ref(sim, CHAT_EUS2, "a100x4z3"), 1);
    expect(begin).toMatchObject({ kind: "rejected", code: "QuotaExceeded" });
    expect(begin.kind === "rejected" && begin.message).toMatch(/exceeding quota limits of Core/);
  });

  it("maps 429 to THROTTLED with the server's Retry-After when the SDK does not retry", async () => {
    sim = await startInline({});
    sim.faults.inject({
      kind: "http-error",
      target: "arm",
      status: 429,
      retryAfterSeconds: 37,
      count: 1,
      match: { method: "GET", pathContains: "/agentPools/a100z1" },
    });
    const pools = new AksPoolsAdapter(clientsFor(sim, 0), 1);
    const error = await pools.get(ref(sim, CHAT_WUS3, "a100z1")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "THROTTLED", retryable: true, retryAfterSeconds: 37 });
    expect(String((error as Error).message)).toMatch(/^\[THROTTLED\] get agent pool aks-chat-westus3\/a100z1: 429/);
  });

  it("aborts a running scale-up: provisioning stops, Ready nodes stay, the operation ends Canceled", async () => {
    sim = await startInline({});
    const pools = new AksPoolsAdapter(clientsFor(sim), 1);
    const r = ref(sim, CHAT_WUS3, "a100z2");
    const begin = await pools.beginScale(r, 6);
    const operation = begin.kind === "accepted" ? begin.operation : "";
    await sim.advance(60_000, { stepMs: 10_000 }); // nodes take 5–11 min: none of the 4 new ones is Ready yet
    expect(await pools.abortOperation(r)).toBe("aborting");
    expect(sim.requestLog.find({ method: "POST", path: "/agentPools/a100z2/abort" })).toHaveLength(1);
    await sim.advance(60_000, { stepMs: 10_000 });
    expect(await pools.operationStatus(r, operation)).toMatchObject({
      status: "Canceled",
      error: { code: "OperationCanceled" },
    });
    expect(await pools.get(r)).toMatchObject({ count: 2, provisioningState: "Canceled" });
    // Nothing left to abort: said so, not an error.
    expect(await pools.abortOperation(r)).toBe("nothing-running");
    // The pool takes a new operation again (the release's scale back to its count).
    expect(await pools.beginScale(r, 2)).toMatchObject({ kind: "accepted" });
  });

  it("writes under the etag it read: a pool changed in between is a retryable CONFLICT, and the retry re-reads", async () => {
    sim = await startInline({});
    const clients = clientsFor(sim);
    const pools = new AksPoolsAdapter(clients, 1);
    const r = ref(sim, CHAT_WUS3, "a100z1");
    // Someone else scales the pool between the adapter's read and its write.
    const agentPools = clients.aks(sim.subscriptionId).agentPools;
    const realGet = agentPools.get.bind(agentPools);
    let interfered: boolean | undefined;
    agentPools.get = async (...args: Parameters<typeof realGet>) => {
      const read = await realGet(...args);
      interfered ??= sim!.world.putAgentPool(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1", { count: 3 }).ok;
      return read;
    };
    const error = await pools.beginScale(r, 5).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(interfered).toBe(true);
    expect(error).toMatchObject({ code: "CONFLICT", retryable: true });
    expect(String((error as Error).message)).toContain("PreconditionFailed");
    expect(sim.requestLog.find({ method: "PUT", path: "/agentPools/a100z1" }).map((e) => e.status)).toEqual([412]);
    // The other writer's operation ends; the retry reads the new etag and goes through.
    await sim.advance(20 * 60_000, { stepMs: 10_000 });
    expect(await pools.beginScale(r, 5)).toMatchObject({ kind: "accepted" });
    expect(sim.requestLog.find({ method: "PUT", path: "/agentPools/a100z1" }).map((e) => e.status)).toEqual([412, 200]);
  });

  it("maps a missing pool to NOT_FOUND", async () => {
    sim = await startInline({});
    const pools = new AksPoolsAdapter(clientsFor(sim), 1);
    await expect(pools.get(ref(sim, CHAT_EUS2, "nope"))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
