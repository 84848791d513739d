/**
 * The real @azure/arm-containerservice client (modular SDK, core-lro v3) against the simulator: URL building,
 * long-running operations on the virtual clock, 409 conflicts, abort, allocation and quota errors, retries.
 */
import { request } from "node:https";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { afterEach, describe, expect, it } from "vitest";
import type { Simulator } from "../../local/sim/simulator";
import { CHAT_EUS2, CHAT_WUS3, elapsed, startInline } from "./helpers";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

function client(
  s: Simulator,
  retry?: { maxRetries: number; retryDelayInMs: number; maxRetryDelayInMs: number },
): ContainerServiceClient {
  return new ContainerServiceClient(s.credential, s.subscriptionId, {
    ...s.clientOptions,
    ...(retry === undefined ? {} : { retryOptions: retry }),
  });
}

async function rejection(p: Promise<unknown>): Promise<{ message: string; code?: string; statusCode?: number }> {
  try {
    await p;
  } catch (e) {
    return e as { message: string; code?: string; statusCode?: number };
  }
  throw new Error("expected a rejection");
}

describe("AKS agent pools through ContainerServiceClient", () => {
  it("gets and lists the pools seeded from the topology, with the exact URL and api-version", async () => {
    sim = await startInline({});
    const aks = client(sim);
    const pool = await aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z1");
    expect(pool).toMatchObject({
      count: 4,
      vmSize: "Standard_NC24ads_A100_v4",
      availabilityZones: ["1"],
      provisioningState: "Succeeded",
    });
    const names: string[] = [];
    for await (const p of aks.agentPools.list(CHAT_EUS2.rg, CHAT_EUS2.cluster)) names.push(p.name ?? "");
    expect(names).toEqual(["a100z1", "a100z2", "a100x4z3"]);
    const [get] = sim.requestLog.find({ method: "GET", path: "/agentPools/a100z1" });
    expect(get?.path).toBe(
      `/subscriptions/${sim.subscriptionId}/resourceGroups/${CHAT_EUS2.rg}/providers/Microsoft.ContainerService/managedClusters/${CHAT_EUS2.cluster}/agentPools/a100z1`,
    );
    expect(get?.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const missing = await rejection(aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "nope"));
    expect(missing).toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
  });

  it("scales with a long-running PUT whose provisioningState moves on the virtual clock", async () => {
    sim = await startInline({});
    const aks = client(sim);
    const poller = aks.agentPools.createOrUpdate(
      CHAT_EUS2.rg,
      CHAT_EUS2.cluster,
      "a100z2",
      { count: 7, vmSize: "Standard_NC24ads_A100_v4" },
      sim.pollOptions,
    );
    await poller.submitted();
    const during = await aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z2");
    expect(during).toMatchObject({ count: 7, provisioningState: "Scaling" });
    const done = await sim.drive(poller);
    expect(done).toMatchObject({ count: 7, provisioningState: "Succeeded" });
    // Three nodes, each with a provisioning time drawn from the A100 distribution (5–11 min, azure-facts §2.1).
    const waits = sim.world.sampledWaits().nodeProvisioning;
    expect(waits).toHaveLength(3);
    for (const w of waits) expect(w.seconds).toBeGreaterThanOrEqual(300 + 2);
    for (const w of waits) expect(w.seconds).toBeLessThanOrEqual(660 + 15);
    const last = Math.max(...waits.map((w) => w.readyAt));
    expect(
      sim.timeline.where("pool-operation-succeeded", { pool: "rg-chat-eastus2/aks-chat-eastus2/a100z2" })[0]?.at,
    ).toBe(last);
    expect(sim.timeline.ofKind("node-ready")).toHaveLength(3);
    // The status resource was polled; the final GET read the pool.
    expect(sim.requestLog.find({ method: "GET", path: "/operations/" }).length).toBeGreaterThan(0);
  });

  it("answers 409 OperationNotAllowed while another operation runs, and aborts it", async () => {
    sim = await startInline({});
    const aks = client(sim);
    const first = aks.agentPools.createOrUpdate(
      CHAT_EUS2.rg,
      CHAT_EUS2.cluster,
      "a100z1",
      { count: 6 },
      sim.pollOptions,
    );
    await first.submitted();
    const conflict = await rejection(
      aks.agentPools
        .createOrUpdate(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z1", { count: 8 }, sim.pollOptions)
        .submitted(),
    );
    expect(conflict.statusCode).toBe(409);
    expect(conflict.code).toBe("OperationNotAllowed");
    expect(conflict.message).toContain("Another agentpool operation (a100z1 - Scaling) is in progress");

    await sim.drive(aks.agentPools.abortLatestOperation(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z1", sim.pollOptions));
    const pool = await aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z1");
    expect(pool.provisioningState).toBe("Canceled");
    expect(pool.count).toBe(4);
    await expect(sim.drive(first)).rejects.toThrow();
    expect(sim.timeline.ofKind("pool-operation-canceled")).toHaveLength(1);
    // Nothing left to abort: 409.
    const again = await rejection(
      aks.agentPools.abortLatestOperation(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z1", sim.pollOptions).submitted(),
    );
    expect(again.statusCode).toBe(409);
  });

  it("implements etag preconditions: a write under a stale If-Match is refused with 412, the current one goes through", async () => {
    sim = await startInline({});
    const aks = client(sim);
    const read = await aks.agentPools.get(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1");
    expect(read.eTag).toMatch(/^[0-9a-f]{8}-/);
    // Someone else writes first: the pool's etag moves on.
    await aks.agentPools
      .createOrUpdate(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1", { ...read, count: 3 }, { ifMatch: read.eTag! })
      .submitted();
    await sim.advance(20 * 60_000, { stepMs: 10_000 });
    const now = await aks.agentPools.get(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1");
    expect(now.eTag).not.toBe(read.eTag);
    const stale = await rejection(
      aks.agentPools
        .createOrUpdate(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1", { ...read, count: 5 }, { ifMatch: read.eTag! })
        .submitted(),
    );
    expect(stale).toMatchObject({ statusCode: 412, code: "PreconditionFailed" });
    expect(stale.message).toContain(`eTag ${read.eTag} does not match`);
    expect((await aks.agentPools.get(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1")).count).toBe(3);
    // If-Match: * needs the pool to exist; If-None-Match: * needs it not to.
    const missing = await rejection(
      aks.agentPools
        .createOrUpdate(
          CHAT_WUS3.rg,
          CHAT_WUS3.cluster,
          "nopool",
          { count: 1, vmSize: "Standard_NC24ads_A100_v4" },
          { ifMatch: "*" },
        )
        .submitted(),
    );
    expect(missing).toMatchObject({ statusCode: 412 });
    const exists = await rejection(
      aks.agentPools
        .createOrUpdate(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1", { ...now, count: 4 }, { ifNoneMatch: "*" })
        .submitted(),
    );
    expect(exists).toMatchObject({ statusCode: 412 });
    await aks.agentPools
      .createOrUpdate(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1", { ...now, count: 4 }, { ifMatch: now.eTag! })
      .submitted();
    expect((await aks.agentPools.get(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1")).count).toBe(4);
  });

  it("maps every allocation error with Azure's code and message", async () => {
    // A100 NC24 missing from eastus2 zone 2 (a matrix gap) and no H100 quota left in westus3.
    sim = await startInline({
      overrides: { availability: { eastus2: { "2": ["Standard_NC40ads_H100_v5", "Standard_NV36ads_A10_v5"] } } },
      faults: [
        {
          id: "wus3-h100-quota",
          kind: "quota-exceeded",
          region: "westus3",
          family: "standardNCadsH100v5Family",
          code: "ErrCode_InsufficientVCPUQuota",
          remainingVcpus: 0,
          at: 0,
        },
      ],
    });
    const aks = client(sim);
    // Matrix gap: the SKU is not offered in eastus2 zone 2 in this scenario.
    const zonal = await rejection(
      sim.drive(
        aks.agentPools.createOrUpdate(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z2", { count: 6 }, sim.pollOptions),
      ),
    );
    expect(zonal.message).toContain("ZonalAllocationFailed");
    expect(zonal.message).toContain("We do not have sufficient capacity for the requested VM size in this zone");
    expect((await aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z2")).provisioningState).toBe("Failed");

    sim.faults.inject({
      kind: "allocation-failure",
      region: "westus3",
      zone: "1",
      code: "OverconstrainedAllocationRequest",
    });
    const over = await rejection(
      sim.drive(
        aks.agentPools.createOrUpdate(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1", { count: 3 }, sim.pollOptions),
      ),
    );
    expect(over.message).toContain("OverconstrainedAllocationRequest");
    expect(over.message).toContain("the condition is too restrictive");

    sim.faults.inject({ kind: "region-down", region: "westus3" });
    const region = await rejection(
      sim.drive(
        aks.agentPools.createOrUpdate(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z2", { count: 3 }, sim.pollOptions),
      ),
    );
    expect(region.message).toContain("AllocationFailed");
    expect(region.message).toContain("in this region");

    // Quota: the H100 family has no vCPUs left in westus3 (scenario fault) -> synchronous 400.
    const quota = await rejection(
      aks.agentPools
        .createOrUpdate(CHAT_WUS3.rg, CHAT_WUS3.cluster, "h100z3", { count: 1 }, sim.pollOptions)
        .submitted(),
    );
    expect(quota).toMatchObject({ statusCode: 400, code: "ErrCode_InsufficientVCPUQuota" });
    expect(quota.message).toContain(
      "Insufficient regional vcpu quota left for location westus3. left regional vcpu quota 0, requested quota 40",
    );

    sim.faults.inject({ kind: "quota-exceeded", region: "eastus2", code: "QuotaExceeded", remainingVcpus: 24 });
    const core = await rejection(
      aks.agentPools
        .createOrUpdate(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100x4z3", { count: 1 }, sim.pollOptions)
        .submitted(),
    );
    expect(core).toMatchObject({ statusCode: 400, code: "QuotaExceeded" });
    expect(core.message).toMatch(
      /^Operation results in exceeding quota limits of Core\. Maximum allowed: \d+, Current in use: \d+, Additional requested: 96\.$/,
    );
    expect(sim.world.sampledWaits().allocationFailures.map((f) => f.code)).toEqual([
      "ZonalAllocationFailed",
      "OverconstrainedAllocationRequest",
      "AllocationFailed",
    ]);
  });

  it("consumes quota from the matrix: a scale-up beyond the vCPUs left is refused", async () => {
    sim = await startInline({ overrides: { quotas: { eastus2: { standardNCADSA100v4Family: 48 } } } });
    const aks = client(sim);
    await sim.drive(
      aks.agentPools.createOrUpdate(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z2", { count: 6 }, sim.pollOptions),
    );
    const refused = await rejection(
      aks.agentPools
        .createOrUpdate(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z1", { count: 5 }, sim.pollOptions)
        .submitted(),
    );
    expect(refused.message).toContain("left regional vcpu quota 0, requested quota 24");
  });

  it("creates a new zone-pinned pool in another zone (fallback) and rejects changing an immutable property", async () => {
    sim = await startInline({});
    const aks = client(sim);
    const created = await sim.drive(
      aks.agentPools.createOrUpdate(
        CHAT_EUS2.rg,
        CHAT_EUS2.cluster,
        "h100z2",
        { count: 1, vmSize: "Standard_NC40ads_H100_v5", availabilityZones: ["2"], mode: "User" },
        sim.pollOptions,
      ),
    );
    expect(created).toMatchObject({ count: 1, availabilityZones: ["2"], provisioningState: "Succeeded" });
    expect(sim.requestLog.find({ method: "PUT", path: "/agentPools/h100z2" })[0]?.status).toBe(201);
    const changed = await rejection(
      aks.agentPools
        .createOrUpdate(
          CHAT_EUS2.rg,
          CHAT_EUS2.cluster,
          "a100z1",
          { count: 4, vmSize: "Standard_NC96ads_A100_v4" },
          sim.pollOptions,
        )
        .submitted(),
    );
    expect(changed).toMatchObject({ statusCode: 400, code: "PropertyChangeNotAllowed" });
  });

  it("honours Retry-After on 429: retried with the header, not retried without it", async () => {
    sim = await startInline({});
    const aks = client(sim, { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 });
    sim.faults.inject({
      id: "no-header",
      kind: "http-error",
      target: "arm",
      status: 429,
      count: 1,
      match: { method: "GET", pathContains: "/agentPools/a100z1" },
    });
    const bare = await rejection(aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z1"));
    expect(bare.statusCode).toBe(429);
    expect(sim.requestLog.find({ path: "/agentPools/a100z1" })).toHaveLength(1);

    sim.faults.inject({
      id: "with-header",
      kind: "http-error",
      target: "arm",
      status: 429,
      retryAfterSeconds: 1,
      count: 1,
      match: { method: "GET", pathContains: "/agentPools/a100z2" },
    });
    const pool = await aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z2");
    expect(pool.count).toBe(4);
    const tries = sim.requestLog.find({ path: "/agentPools/a100z2" });
    expect(tries.map((t) => [t.status, t.fault ?? null])).toEqual([
      [429, "with-header"],
      [200, null],
    ]);
  });

  it("retries 5xx and dropped connections, and gives up after maxRetries", async () => {
    sim = await startInline({});
    const aks = client(sim, { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 });
    sim.faults.inject({
      kind: "http-error",
      target: "arm",
      status: 503,
      count: 2,
      match: { pathContains: "/agentPools/a100z1" },
    });
    expect((await aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z1")).count).toBe(4);
    sim.faults.inject({ kind: "timeout", target: "arm", count: 1, match: { pathContains: "/agentPools/a100z2" } });
    expect((await aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100z2")).count).toBe(4);
    expect(sim.requestLog.find({ path: "/agentPools/a100z2" }).map((e) => e.status)).toEqual([0, 200]);
    sim.faults.inject({
      kind: "http-error",
      target: "arm",
      status: 500,
      match: { pathContains: "/agentPools/a100x4z3" },
    });
    const failed = await rejection(aks.agentPools.get(CHAT_EUS2.rg, CHAT_EUS2.cluster, "a100x4z3"));
    expect(failed.statusCode).toBe(500);
    expect(sim.requestLog.find({ path: "/agentPools/a100x4z3" })).toHaveLength(3);
    expect(elapsed(sim)).toBe(0);
  });

  it("refuses requests without a bearer token or api-version, over TLS signed by the run-time CA", async () => {
    sim = await startInline({});
    const s = sim;
    const call = (path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request(`${s.armEndpoint}${path}`, { ca: s.caPem, headers }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      });
    const path = `/subscriptions/${s.subscriptionId}/resourceGroups/${CHAT_EUS2.rg}/providers/Microsoft.ContainerService/managedClusters/${CHAT_EUS2.cluster}`;
    const anonymous = await call(`${path}?api-version=2026-04-01`, {});
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body).error.code).toBe("AuthenticationFailed");
    const noVersion = await call(path, { authorization: "Bearer x" });
    expect(noVersion.status).toBe(400);
    expect(JSON.parse(noVersion.body).error.code).toBe("MissingApiVersionParameter");
    const ok = await call(`${path}?api-version=2026-04-01`, { authorization: "Bearer x" });
    expect(JSON.parse(ok.body).properties.agentPoolProfiles).toHaveLength(3);
    await expect(fetch(`${s.armEndpoint}${path}`)).rejects.toThrow();
  });
});
