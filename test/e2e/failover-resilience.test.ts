/**
 * Failovers under adverse conditions, end to end: refusals (never drain the last healthy origin, residency, not
 * enough capacity), a host crash in the middle of a failover, and an ARM 429 storm.
 */
import { describe, expect, it } from "vitest";
import { startSimulation } from "../../local/simulate/environment";
import { drive } from "../../local/simulate/run-scenario";
import { entry, quietScenario, runAndInspect, shipped, untilFinished } from "./support";

/**
 * A live drill in a world where another region is already down. Cutover's probes would fail over that region on their
 * own (and move traffic onto the drill's region): `observe` keeps the breakers running without acting, so that only
 * the drill can write.
 */
async function liveDrill(scenario: string, region: string, workload = "chat") {
  const s = await startSimulation({ scenario, entry, env: { CUTOVER_PROBE_MODE: "observe" } });
  try {
    await s.runUntil(() => false, { maxVirtualMs: 30_000 }); // let the faults at t=0 be seen by the endpoints
    const r = await s.call("POST", "/api/drills", { workload, scope: { region }, mode: "live" });
    expect(r.status).toBe(202);
    const view = await untilFinished(s, (r.json as { instanceId: string }).instanceId);
    return {
      view,
      writes: s.sim.requestLog.find({ service: "arm" }).filter((e) => e.method !== "GET").length,
      gate: s.sim.world.gateState(workload, region),
    };
  } finally {
    await s.stop();
  }
}

describe("refusals, end to end", () => {
  it("refuses to drain the last healthy origin (Front Door fails open when all are unhealthy)", async () => {
    const { view, writes, gate } = await liveDrill(
      quietScenario({ faults: [{ id: "w3", kind: "region-down", region: "westus3", at: 0 }] }),
      "eastus2",
    );
    expect(view.report?.outcome).toBe("refused");
    expect(view.report?.reasons.join(" ")).toContain(
      "refusing to drain chat-eastus2: it is the last healthy origin of chat",
    );
    expect(writes).toBe(0);
    expect(gate).toBe("open");
  }, 300_000);

  it("refuses a target outside the workload's residency", async () => {
    // chat also runs in swedencentral (EU), but its residency is [us]: with westus3 down, no target remains.
    const scenario = quietScenario({ faults: [{ id: "w3", kind: "region-down", region: "westus3", at: 0 }] }, (t) => {
      const chat = (t["workloads"] as Array<Record<string, unknown>>).find((w) => w["name"] === "chat")!;
      const regions = chat["regions"] as Record<string, Record<string, unknown>>;
      regions["swedencentral"] = {
        origin: "chat-swedencentral",
        cluster: { resourceGroup: "rg-chat-sweden", name: "aks-chat-sweden" },
        gpuPools: [{ name: "a100z1", zone: "1", vmSize: "Standard_NC24ads_A100_v4", min: 0, max: 8, current: 4 }],
        modelStore: { accountUrl: "https://stmodelschatse.blob.core.windows.net", container: "models" },
        endpoint: {
          healthUrl: "https://chat-se.inference.contoso.example/healthz",
          warmupUrl: "https://chat-se.inference.contoso.example/warmup",
        },
      };
    });
    const { view, writes } = await liveDrill(scenario, "eastus2");
    expect(view.report?.outcome).toBe("refused");
    expect(view.report?.reasons.join(" ")).toMatch(/swedencentral.*residency/);
    expect(writes).toBe(0);
  }, 300_000);

  it("refuses when no target can hold the load even after fallback (quota exhausted)", async () => {
    const scenario = quietScenario({}, (t) => {
      const matrix = t["capabilityMatrix"] as Record<string, Record<string, unknown>>;
      matrix["quotas"] = { westus3: { standardNCADSA100v4Family: 0, standardNCadsH100v5Family: 0 } };
    });
    const { view, writes, gate } = await liveDrill(scenario, "eastus2");
    expect(view.report?.outcome).toBe("refused");
    expect(view.report?.reasons.join(" ")).toMatch(/not enough capacity/);
    expect(writes).toBe(0);
    expect(gate).toBe("open");
  }, 300_000);
});

describe("a host crash in the middle of a failover", () => {
  it("finishes the failover after a restart over the same store, without repeating completed ARM writes", async () => {
    const s = await startSimulation({ scenario: shipped("region-outage-cold-target"), entry });
    try {
      // Run until the westus3 pools are scaling, then kill the host and start a new one over the same history store.
      await s.runUntil(() => s.sim.timeline.ofKind("pool-operation-started").length >= 3, {
        maxVirtualMs: 20 * 60_000,
        chunkMs: 5_000,
      });
      expect(s.sim.timeline.ofKind("pool-operation-succeeded")).toHaveLength(0);
      const putsBefore = s.sim.requestLog.find({ service: "arm", method: "PUT" }).length;
      expect(putsBefore).toBe(3);
      await s.restartHost();
      const report = await drive(s, {});
      expect(report.outcome).toBe("succeeded");
      expect(report.failovers).toBe(1);
      // The scale-ups were accepted before the crash and are not sent again.
      expect(s.sim.requestLog.find({ service: "arm", method: "PUT" })).toHaveLength(3);
      expect(s.sim.world.groundTruth("chat")).toMatchObject({
        regions: { westus3: { trafficShare: 1, endpoint: "ok" } },
      });
      expect(s.sim.world.groundTruth("chat").servedWithinSlo).toBeGreaterThanOrEqual(0.99);
    } finally {
      await s.stop();
    }
  }, 300_000);
});

describe("an ARM throttling storm", () => {
  it("keeps going through 429s, waiting at least Retry-After (virtual) before each retry", async () => {
    await runAndInspect(
      quietScenario({
        overrides: {
          pools: [
            { workload: "chat", region: "westus3", pool: "a100z1", current: 0 },
            { workload: "chat", region: "westus3", pool: "a100z2", current: 0 },
          ],
        },
        faults: [
          { id: "eus2-down", kind: "region-down", region: "eastus2", at: 60 },
          {
            id: "throttle",
            kind: "http-error",
            target: "arm",
            status: 429,
            rate: 0.3,
            retryAfterSeconds: 30,
            at: 60,
            match: { pathContains: "/agentPools/" },
          },
        ],
        alerts: [
          {
            name: "chat-5xx",
            severity: 0,
            target: { frontDoor: "afd-chat" },
            metric: { name: "Percentage5XX", aggregation: "Average" },
            operator: "GreaterThan",
            threshold: 20,
            evaluationFrequency: "PT1M",
            windowSize: "PT1M",
            customProperties: { workload: "chat", region: "eastus2" },
          },
        ],
      }),
      (report, s) => {
        expect({ outcome: report.outcome, reasons: report.failoverList[0]?.reasons }).toEqual({
          outcome: "succeeded",
          reasons: [],
        });
        const pools = s.sim.requestLog.find({ service: "arm", path: "/agentPools/" });
        const throttled = pools.filter((e) => e.status === 429);
        expect(throttled.length).toBeGreaterThanOrEqual(3);
        // After a 429 with Retry-After: 30, no request to ARM is sent until 30 virtual seconds later (requests already
        // in flight at the same virtual instant aside): the throttle gate holds every step, not just the throttled one.
        const arm = s.sim.requestLog.find({ service: "arm" });
        for (const t of throttled) {
          const early = arm.filter((e) => e.at > t.at && e.at < t.at + 30_000);
          expect(early.map((e) => `${e.method} ${e.path}`)).toEqual([]);
        }
        expect(s.sim.world.groundTruth("chat").servedWithinSlo).toBeGreaterThanOrEqual(0.99);
      },
    );
  }, 300_000);
});
