/**
 * Azure Monitor in the simulator through the real @azure/monitor-query-metrics (metrics:getBatch) and
 * @azure/monitor-query-logs clients: metrics derived from the world state, and Log Analytics rows after ingestion.
 */
import { LogsQueryClient, LogsQueryResultStatus } from "@azure/monitor-query-logs";
import { MetricsClient } from "@azure/monitor-query-metrics";
import { afterEach, describe, expect, it } from "vitest";
import type { Simulator } from "../../local/sim/simulator";
import { CHAT_EUS2, startExample, startInline } from "./helpers";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const WORKSPACE = "1b2c3d4e-0000-4000-8000-000000000001";

describe("metrics:getBatch through MetricsClient", () => {
  it("reports ready GPU nodes per zone and origin health, derived from the world", async () => {
    sim = await startExample("zone-outage");
    await sim.advance(600_000, { stepMs: 10_000 });
    const metrics = new MetricsClient(sim.metricsEndpoint, sim.credential, sim.clientOptions);
    const cluster = `/subscriptions/${sim.subscriptionId}/resourceGroups/${CHAT_EUS2.rg}/providers/Microsoft.ContainerService/managedClusters/${CHAT_EUS2.cluster}`;
    const [result] = await metrics.queryResources(
      [cluster],
      ["gpu_ready_nodes"],
      "Microsoft.ContainerService/managedClusters",
      {
        startTime: new Date(sim.world.startedAt),
        endTime: new Date(sim.clock.now()),
        interval: "PT1M",
        aggregation: "Minimum,Maximum",
        filter: "zone eq '*'",
      },
    );
    const series = result!.metrics[0]!.timeseries;
    const zone = (z: string): Array<number | undefined> =>
      series.find((s) => s.metadatavalues?.some((m) => m.value === z))!.data!.map((d) => d.minimum);
    // zone 1 (4 nodes) is lost at t=120 s; the grain that starts at 120 s and every later one report 0.
    expect(zone("1").slice(0, 2)).toEqual([4, 4]);
    expect(zone("1").slice(2, 9)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(zone("2").slice(0, 9)).toEqual([4, 4, 4, 4, 4, 4, 4, 4, 4]);
    const req = sim.requestLog.find({ service: "metrics" })[0]!;
    expect(req.path).toBe(`/subscriptions/${sim.subscriptionId}/metrics:getBatch`);
    expect(req.apiVersion).toBe("2024-02-01");
    expect(req.query["metricnamespace"]).toBe("Microsoft.ContainerService/managedClusters");
  });

  it("serves a grain's point only once Azure Monitor has it (20–60 s after the grain ends), never at once", async () => {
    sim = await startExample("zone-outage");
    const metrics = new MetricsClient(sim.metricsEndpoint, sim.credential, sim.clientOptions);
    const cluster = `/subscriptions/${sim.subscriptionId}/resourceGroups/${CHAT_EUS2.rg}/providers/Microsoft.ContainerService/managedClusters/${CHAT_EUS2.cluster}`;
    const firstGrain = async (): Promise<number | undefined> => {
      const [result] = await metrics.queryResources(
        [cluster],
        ["gpu_ready_nodes"],
        "Microsoft.ContainerService/managedClusters",
        {
          startTime: new Date(sim!.world.startedAt),
          endTime: new Date(sim!.world.startedAt + 60_000),
          interval: "PT1M",
          aggregation: "Minimum",
          filter: "zone eq '1'",
        },
      );
      return result!.metrics[0]!.timeseries[0]?.data?.[0]?.minimum;
    };
    // The first grain ends at 60 s: 10 s later it is not available yet; 60 s after its end it is.
    await sim.advance(70_000, { stepMs: 10_000 });
    expect(await firstGrain()).toBeUndefined();
    await sim.advance(50_000, { stepMs: 10_000 });
    expect(await firstGrain()).toBe(4);
  });

  it("origin health drops for the failed region only; an unknown metric is a 400 naming the valid ones", async () => {
    // eastus2 down at 120 s while westus3 holds only half the GPUs: some requests fail (5xx) until it scales.
    sim = await startInline({ faults: [{ id: "eus2-down", kind: "region-down", region: "eastus2", at: 120 }] });
    await sim.advance(600_000, { stepMs: 10_000 });
    const metrics = new MetricsClient(sim.metricsEndpoint, sim.credential, sim.clientOptions);
    const afd = sim.world.frontDoor("afd-chat")!.resourceId;
    const [r] = await metrics.queryResources(
      [afd],
      ["OriginHealthPercentage", "Percentage5XX"],
      "Microsoft.Cdn/profiles",
      {
        startTime: new Date(sim.world.startedAt),
        endTime: new Date(sim.clock.now()),
        interval: "PT5M",
        aggregation: "Average",
        filter: "Origin eq '*'",
      },
    );
    const health = r!.metrics.find((m) => m.name === "OriginHealthPercentage")!;
    const byOrigin = Object.fromEntries(
      health.timeseries.map((s) => [s.metadatavalues![0]!.value, s.data!.map((d) => d.average)]),
    );
    expect(byOrigin["chat-westus3"]).toEqual([100, 100]);
    // Two healthy minutes, then three failing ones in the first five-minute bucket.
    expect(byOrigin["chat-eastus2"]![0]).toBeCloseTo(40, 5);
    expect(byOrigin["chat-eastus2"]![1]).toBe(0);
    const fivexx = r!.metrics.find((m) => m.name === "Percentage5XX")!.timeseries[0]!.data!.map((d) => d.average!);
    expect(fivexx[0]).toBeGreaterThan(0);
    await expect(metrics.queryResources([afd], ["NoSuchMetric"], "Microsoft.Cdn/profiles")).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("Valid metrics: OriginHealthPercentage"),
    });
  });
});

describe("Log Analytics through LogsQueryClient", () => {
  it("answers KQL over probe logs once ingested, and rejects what it cannot run", async () => {
    sim = await startExample("region-outage-warm-standby");
    const logs = new LogsQueryClient(sim.credential, sim.logsClientOptions);
    const kql =
      "AzureDiagnostics | where Category == 'FrontDoorHealthProbeLog' and result_s == 'OriginUnhealthy' | summarize failures = count() by origin_s";
    await sim.advance(200_000, { stepMs: 10_000 });
    const early = await logs.queryWorkspace(WORKSPACE, kql, { duration: "PT1H" });
    // Ingestion takes minutes: failures from t=120 s are not visible yet at t=200 s.
    if (early.status !== LogsQueryResultStatus.Success) throw new Error("query failed");
    expect(early.tables[0]!.rows).toEqual([]);
    expect(early.tables[0]!.columnDescriptors.map((c) => c.name)).toEqual(["origin_s", "failures"]);

    await sim.advance(900_000, { stepMs: 10_000 });
    const later = await logs.queryWorkspace(WORKSPACE, kql, { duration: "PT1H" });
    if (later.status !== LogsQueryResultStatus.Success) throw new Error("query failed");
    expect(later.tables[0]!.rows.map((r) => r[0])).toEqual(["chat-eastus2"]);
    expect(Number(later.tables[0]!.rows[0]![1])).toBeGreaterThan(10);
    const req = sim.requestLog.find({ service: "logs" })[0]!;
    expect(req.path).toBe(`/v1/workspaces/${WORKSPACE}/query`);

    await expect(
      logs.queryWorkspace(WORKSPACE, "AzureDiagnostics | join kind=inner (Foo) on x", { duration: "PT1H" }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
  });
});
