/**
 * The simulated inference endpoints over HTTP: health states, the warm-up contract, the health gate (function and
 * URL sources), stale models, vantage-point partitions and endpoint faults.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Simulator } from "../../local/sim/simulator";
import { startExample, startInline } from "./helpers";

let sim: Simulator | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
  for (const c of cleanups.splice(0)) await c();
});

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe("inference endpoints", () => {
  it("uses the effective topology's URLs: 200 with the model version, HEAD for probes", async () => {
    sim = await startInline({});
    const ep = sim.effectiveTopology().workloads.find((w) => w.name === "chat")!.regions["eastus2"]!.endpoint!;
    expect(ep.healthUrl).toBe(`${sim.endpointsOrigin}/chat/eastus2/health`);
    const h = await get(ep.healthUrl);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: "ok",
      modelVersion: "2026.10.2",
      expectedVersion: "2026.10.2",
      readyGpus: 8,
    });
    expect((await fetch(ep.healthUrl, { method: "HEAD" })).status).toBe(200);
    expect((await get(`${sim.endpointsOrigin}/chat/eastus2/v2/health/ready`)).status).toBe(200);
    expect((await get(`${sim.endpointsOrigin}/chat/nowhere/health`)).status).toBe(404);
  });

  it("a cold target answers no-capacity, then cold; warm-up loads the model (202 until the load time passed, then 200)", async () => {
    sim = await startExample("region-outage-cold-target");
    const base = `${sim.endpointsOrigin}/chat/westus3`;
    expect((await get(`${base}/health`)).body["status"]).toBe("no-capacity");
    expect((await get(`${base}/warmup`, { method: "POST" })).status).toBe(503);
    const put = sim.world.putAgentPool("rg-chat-westus3", "aks-chat-westus3", "a100z1", { count: 2 });
    expect(put.ok).toBe(true);
    await sim.advance(900_000, { stepMs: 10_000 });
    expect((await get(`${base}/health`)).body["status"]).toBe("cold");
    const started = await get(`${base}/warmup`, {
      method: "POST",
      body: JSON.stringify({}),
      headers: { "content-type": "application/json" },
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: "loading", modelVersion: "2026.10.2" });
    const seconds = started.body["readyInSeconds"] as number;
    // 140 GB × 0.3–1.2 s/GB + 20–120 s engine start-up (shared latency model, azure-facts §7.1).
    expect(seconds).toBeGreaterThanOrEqual(140 * 0.3 + 20);
    expect(seconds).toBeLessThanOrEqual(140 * 1.2 + 120);
    await sim.advance(Math.floor(seconds * 1000) - 1000);
    expect((await get(`${base}/warmup`)).status).toBe(202);
    await sim.advance(2000);
    const ready = await get(`${base}/warmup`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", modelVersion: "2026.10.2" });
    expect(typeof ready.body["latencyMs"]).toBe("number");
    expect((await get(`${base}/health`)).status).toBe(200);
    expect(sim.world.sampledWaits().modelLoads[0]!.seconds).toBeCloseTo(seconds, 6);
  });

  it("a stale model fails health until a warm-up loads the expected version", async () => {
    sim = await startExample("stale-model");
    const base = `${sim.endpointsOrigin}/chat/westus3`;
    await sim.advance(61_000);
    const stale = await get(`${base}/health`);
    expect(stale).toMatchObject({ status: 503, body: { status: "stale", modelVersion: "2026.10.1" } });
    const w = await get(`${base}/warmup`, { method: "POST", body: JSON.stringify({ modelVersion: "2026.10.2" }) });
    expect(w.status).toBe(202);
    await sim.advance(Math.ceil((w.body["readyInSeconds"] as number) * 1000) + 1000);
    expect((await get(`${base}/health`)).body).toMatchObject({ status: "ok", modelVersion: "2026.10.2" });
  });

  it("drains through a gate function; Front Door then marks the origin unhealthy within the probe window", async () => {
    sim = await startInline({});
    const drained = new Set<string>();
    sim.setGateSource((workload, region) => (drained.has(`${workload}/${region}`) ? "drained" : "open"));
    await sim.advance(10_000);
    drained.add("chat/westus3");
    const drainAt = sim.clock.now();
    await sim.advance(5_000);
    expect((await get(`${sim.endpointsOrigin}/chat/westus3/health`)).body["status"]).toBe("drained");
    await sim.advance(120_000);
    const marks = sim.timeline.where("origin-unhealthy", { origin: "chat-westus3" });
    expect(marks).toHaveLength(sim.world.pops.length);
    const gate = sim.timeline.where("gate-changed", { workload: "chat", region: "westus3", state: "drained" })[0]!;
    expect(gate.at - drainAt).toBeLessThanOrEqual(5_000);
    // 30 s probes, 4 samples / 3 required: unhealthy after 2 failed probes, i.e. within 60 s of the drain.
    for (const m of marks) expect((m.at - gate.at) / 1000).toBeLessThanOrEqual(60);
    const windows = sim.world.sampledWaits().probeWindows.filter((x) => x.origin === "chat-westus3");
    expect(windows.every((x) => x.failingSince === gate.at)).toBe(true);
    // Drained endpoints still serve the requests they get: served fraction stays whole.
    expect(sim.world.groundTruth("chat").servedWithinSlo).toBe(1);
  });

  it("polls a gate URL template (Cutover's GET /api/gates/{workload}/{region}): 503 drains, 200 opens", async () => {
    const drained = new Set<string>(["chat/eastus2"]);
    const server = createServer((req, res) => {
      const m = /^\/api\/gates\/([^/]+)\/([^/]+)$/.exec(req.url ?? "");
      res.writeHead(m !== null && drained.has(`${m[1]}/${m[2]}`) ? 503 : 200);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    sim = await startInline({});
    sim.setGateSource({
      urlTemplate: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/gates/{workload}/{region}`,
    });
    await sim.advance(6_000);
    expect(sim.world.gateState("chat", "eastus2")).toBe("drained");
    expect(sim.world.gateState("chat", "westus3")).toBe("open");
    drained.clear();
    await sim.advance(6_000);
    expect(sim.world.gateState("chat", "eastus2")).toBe("open");
  });

  it("vantage-point partitions hit only the named vantage points; endpoint 429 faults carry Retry-After", async () => {
    sim = await startInline({
      vantagePoints: ["vp-east", "vp-west"],
      faults: [{ kind: "vantage-partition", region: "eastus2", vantagePoints: ["vp-east"] }],
    });
    await sim.advance(1);
    const url = `${sim.endpointsOrigin}/chat/eastus2/health`;
    await expect(fetch(url, { headers: { "x-cutover-vantage": "vp-east" } })).rejects.toThrow();
    expect((await fetch(url, { headers: { "x-cutover-vantage": "vp-west" } })).status).toBe(200);
    expect(sim.requestLog.find({ service: "endpoint" }).map((e) => [e.vantage, e.status])).toEqual([
      ["vp-east", 0],
      ["vp-west", 200],
    ]);

    sim.faults.inject({
      kind: "http-error",
      target: "endpoint",
      status: 429,
      retryAfterSeconds: 7,
      count: 1,
      match: { workload: "chat", region: "westus3" },
    });
    const limited = await fetch(`${sim.endpointsOrigin}/chat/westus3/health`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect((await fetch(`${sim.endpointsOrigin}/chat/westus3/health`)).status).toBe(200);
  });

  it("degraded latency beyond the SLO fails health and falls out of the served-within-SLO fraction", async () => {
    sim = await startInline({ faults: [{ kind: "degraded-latency", region: "westus3", workload: "chat", factor: 4 }] });
    await sim.advance(1);
    const h = await get(`${sim.endpointsOrigin}/chat/westus3/health`);
    expect(h.body["status"]).toBe("degraded");
    expect(h.body["latencyMs"] as number).toBeGreaterThan(1200);
    expect(sim.world.groundTruth("chat").regions["westus3"]!.goodFraction).toBe(0);
  });
});

describe("control routes", () => {
  it("inject a fault, read the snapshot and the sampled waits over https", async () => {
    sim = await startInline({});
    const s = sim;
    const { request } = await import("node:https");
    const call = (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> =>
      new Promise((resolve, reject) => {
        const req = request(
          `${s.armEndpoint}${path}`,
          { method, ca: s.caPem, headers: { "content-type": "application/json" } },
          (res) => {
            let text = "";
            res.on("data", (c: Buffer) => (text += c.toString()));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, json: text === "" ? undefined : JSON.parse(text) }),
            );
          },
        );
        req.on("error", reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    expect((await call("POST", "/_sim/faults", { kind: "zone-up" })).status).toBe(400);
    const created = await call("POST", "/_sim/faults", { id: "z", kind: "zone-down", region: "westus3", zone: "1" });
    expect(created).toEqual({ status: 201, json: { id: "z" } });
    const snap = (await call("GET", "/_sim/snapshot")).json as {
      faults: Array<{ id: string }>;
      pools: Array<{ key: string; servingNodes: number }>;
    };
    expect(snap.faults.map((f) => f.id)).toEqual(["z"]);
    expect(snap.pools.find((p) => p.key === "rg-chat-westus3/aks-chat-westus3/a100z1")?.servingNodes).toBe(0);
    const waits = (await call("GET", "/_sim/waits")).json as {
      faults: Array<{ id: string; detectableAt: number | null }>;
    };
    expect(waits.faults[0]).toMatchObject({ id: "z", detectableAt: null });
    expect((await call("DELETE", "/_sim/faults/z")).status).toBe(204);
    expect(s.faults.active()).toEqual([]);
  });
});
