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
