/**
 * Cutover's endpoint adapter (health + warm-up over HTTP) and Monitor adapter (metrics:getBatch through
 * @azure/monitor-query-metrics) against the simulator's inference endpoints and metrics.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AksPoolsAdapter } from "../../src/adapters/aks-pools";
import { EndpointAdapter } from "../../src/adapters/endpoints";
import { MonitorAdapter } from "../../src/adapters/monitor";
import type { Simulator } from "../../local/sim/simulator";
import { CHAT_WUS3, startInline } from "../sim/helpers";
import { clientsFor } from "./sim-clients";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

function endpoint(s: Simulator, workload: string, region: string): { healthUrl: string; warmupUrl: string } {
  const e = s.effectiveTopology().workloads.find((w) => w.name === workload)?.regions[region]?.endpoint;
  if (e === undefined) throw new Error(`${workload}/${region}`);
  return e;
}

describe("EndpointAdapter", () => {
  it("reads health with model version and latency, and sees a region go down", async () => {
    sim = await startInline({});
    const adapter = new EndpointAdapter({ timeoutMs: 2000 });
    const e = endpoint(sim, "chat", "westus3");
    const ok = await adapter.health(e.healthUrl);
    expect(ok).toMatchObject({ status: 200, modelVersion: "2026.10.2" });
    expect(typeof ok.latencyMs).toBe("number");
    sim.faults.inject({ kind: "region-down", region: "westus3" });
    const down = await adapter.health(e.healthUrl);
    expect(down.status).toBe(503);
    expect(down.detail).toBeUndefined();
  });

  it("reports an unreachable endpoint as status 0 with the error", async () => {
    const adapter = new EndpointAdapter({ timeoutMs: 500 });
    const r = await adapter.health("http://127.0.0.1:9/healthz");
    expect(r.status).toBe(0);
    expect(r.detail).toMatch(/fetch failed|ECONNREFUSED|TypeError/);
  });

  it("warms a cold endpoint: 503 without capacity, 202 while the model loads, then ready with the version", async () => {
    sim = await startInline({
      overrides: {
        pools: [
          { workload: "chat", region: "westus3", pool: "a100z1", current: 0 },
          { workload: "chat", region: "westus3", pool: "a100z2", current: 0 },
        ],
      },
    });
    const adapter = new EndpointAdapter({ timeoutMs: 2000 });
    const e = endpoint(sim, "chat", "westus3");
    const model = { name: "llama-70b-chat", version: "2026.10.2" };
    expect(await adapter.warmup(e.warmupUrl, model)).toMatchObject({ kind: "error", status: 503 });
    const pools = new AksPoolsAdapter(clientsFor(sim), 1);
    await pools.beginScale(
      { subscriptionId: sim.subscriptionId, resourceGroup: CHAT_WUS3.rg, cluster: CHAT_WUS3.cluster, pool: "a100z1" },
      1,
    );
    await sim.advance(15 * 60_000, { stepMs: 10_000 });
    expect(await adapter.warmup(e.warmupUrl, model)).toMatchObject({ kind: "loading" });
    expect((await adapter.health(e.healthUrl)).status).toBe(503);
    await sim.advance(10 * 60_000, { stepMs: 10_000 });
    expect(await adapter.warmup(e.warmupUrl, model)).toMatchObject({ kind: "ready", modelVersion: "2026.10.2" });
    expect(await adapter.health(e.healthUrl)).toMatchObject({ status: 200, modelVersion: "2026.10.2" });
  });
});

describe("MonitorAdapter", () => {
  it("averages Front Door origin health for one origin from metrics:getBatch", async () => {
    sim = await startInline({});
    const monitor = new MonitorAdapter(clientsFor(sim), () => sim!.clock.now());
    const fd = sim.effectiveTopology().frontDoors["afd-chat"]!;
    await sim.advance(5 * 60_000, { stepMs: 10_000 });
    const healthy = await monitor.originHealthPercent(sim.subscriptionId, fd, "chat-eastus2", 5, "eastus2");
    expect(healthy).toBe(100);
    sim.faults.inject({ kind: "region-down", region: "eastus2" });
    await sim.advance(6 * 60_000, { stepMs: 10_000 });
    const down = await monitor.originHealthPercent(sim.subscriptionId, fd, "chat-eastus2", 5, "eastus2");
    expect(down).toBeLessThan(50);
    const other = await monitor.originHealthPercent(sim.subscriptionId, fd, "chat-westus3", 5, "westus3");
    expect(other).toBe(100);
    const [req] = sim.requestLog.find({ service: "metrics" });
    expect(req?.query["metricnames"]).toBe("OriginHealthPercentage");
    expect(req?.query["filter"]).toBe("Origin eq 'chat-eastus2'");
  });
});
