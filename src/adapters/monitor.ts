/**
 * Azure Monitor metrics through `@azure/monitor-query-metrics` (metrics:getBatch, the successor of the deprecated
 * `@azure/monitor-query`): the Front Door origin health % Cutover uses to confirm an alert before acting.
 */
import type { MetricsPort } from "../activities/ports";
import type { FrontDoor } from "../domain/topology";
import type { AzureClients } from "./azure-clients";
import { toCutoverError } from "./rest-errors";

export class MonitorAdapter implements MetricsPort {
  constructor(
    private readonly clients: AzureClients,
    private readonly now: () => number,
  ) {}

  async originHealthPercent(
    subscriptionId: string,
    fd: FrontDoor,
    origin: string,
    minutes: number,
    region: string,
  ): Promise<number | undefined> {
    const [resourceId, namespace, metric, dimension] =
      fd.kind === "standard"
        ? [
            `/subscriptions/${subscriptionId}/resourceGroups/${fd.resourceGroup}/providers/Microsoft.Cdn/profiles/${fd.profile}`,
            "Microsoft.Cdn/profiles",
            "OriginHealthPercentage",
            "Origin",
          ]
        : [
            `/subscriptions/${subscriptionId}/resourceGroups/${fd.resourceGroup}/providers/Microsoft.Network/frontDoors/${fd.frontDoorName}`,
            "Microsoft.Network/frontDoors",
            "BackendHealthPercentage",
            "Backend",
          ];
    const end = new Date(this.now());
    const start = new Date(end.getTime() - minutes * 60_000);
    try {
      const [result] = await this.clients.metricsClient(region).queryResources([resourceId], [metric], namespace, {
        startTime: start,
        endTime: end,
        interval: "PT1M",
        aggregation: "Average",
        filter: `${dimension} eq '${origin.replace(/'/g, "''")}'`,
      });
      const points: number[] = [];
      for (const m of result?.metrics ?? [])
        for (const series of m.timeseries ?? [])
          for (const p of series.data ?? []) if (typeof p.average === "number") points.push(p.average);
      if (points.length === 0) return undefined;
      return points.reduce((a, b) => a + b, 0) / points.length;
    } catch (error) {
      throw toCutoverError(error, `query ${metric} for ${origin}`);
    }
  }
}

/** Ready GPU nodes per agent pool in one cluster, from the latest complete metric point. */
export interface GpuReadiness {
  /** Start of the metric point read (epoch ms). */
  readonly at: number;
  /** Pool name → ready nodes at that point. */
  readonly pools: Readonly<Record<string, number>>;
}

/**
 * GPU readiness per agent pool of an AKS cluster (`gpu_ready_nodes`, split by `agentpool` and `zone`; in a real
 * cluster the metric comes from DCGM / kube-state-metrics through managed Prometheus). Reads the last `minutes` at a
 * one-minute grain and keeps the latest point that every pool reported (the newest minute may still be filling), taking
 * the minimum within that minute. Undefined when the cluster reported nothing in the window.
 */
export async function readGpuReadiness(
  clients: AzureClients,
  now: () => number,
  subscriptionId: string,
  cluster: { readonly resourceGroup: string; readonly name: string },
  region: string,
  minutes = 5,
): Promise<GpuReadiness | undefined> {
  const resourceId = `/subscriptions/${subscriptionId}/resourceGroups/${cluster.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`;
  const end = new Date(now());
  const start = new Date(end.getTime() - minutes * 60_000);
  try {
    const [result] = await clients
      .metricsClient(region)
      .queryResources([resourceId], ["gpu_ready_nodes"], "Microsoft.ContainerService/managedClusters", {
        startTime: start,
        endTime: end,
        interval: "PT1M",
        aggregation: "Minimum",
        filter: "agentpool eq '*' and zone eq '*'",
      });
    const series = new Map<string, Map<number, number>>();
    for (const m of result?.metrics ?? [])
      for (const s of m.timeseries ?? []) {
        const pool = s.metadatavalues?.find((d) => d.name?.toLowerCase() === "agentpool")?.value;
        if (pool === undefined) continue;
        const points = series.get(pool) ?? new Map<number, number>();
        for (const p of s.data ?? [])
          if (typeof p.minimum === "number") points.set(new Date(p.timeStamp).getTime(), p.minimum);
        series.set(pool, points);
      }
    if (series.size === 0) return undefined;
    const common = [...(series.values().next().value ?? new Map<number, number>()).keys()]
      .filter((t) => [...series.values()].every((p) => p.has(t)))
      .sort((a, b) => b - a);
    const at = common[0];
    if (at === undefined) return undefined;
    const pools: Record<string, number> = {};
    for (const [pool, points] of series) pools[pool] = points.get(at) ?? 0;
    return { at, pools };
  } catch (error) {
    throw toCutoverError(error, `query gpu_ready_nodes of ${cluster.name}`);
  }
}
