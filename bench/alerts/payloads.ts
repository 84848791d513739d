/**
 * Common Alert Schema payloads for `bench/alerts` (the shape Azure Monitor action groups post; azure-facts §3.3):
 * Fired and Resolved alerts mapped to a workload scope through `customProperties` (the wiring Cutover's Bicep sets
 * up), and alerts about resources the topology does not know (answered 202 and recorded as ignored).
 */
import { randomUUID } from "node:crypto";

export const SUBSCRIPTION = "6f1c2b7e-9a55-4c1e-8d2a-3e0f4b5a6c7d";

export interface AlertScope {
  readonly workload: string;
  readonly region: string;
  readonly zone?: string;
}

export interface AlertOptions {
  readonly rule: string;
  readonly condition: "Fired" | "Resolved";
  /** Azure Monitor's id of this alert instance (a new GUID per alert unless given). */
  readonly alertId?: string;
  /** Virtual or real ISO time the alert fired. */
  readonly firedAt: string;
  readonly severity?: "Sev0" | "Sev1" | "Sev2" | "Sev3" | "Sev4";
}

function essentials(options: AlertOptions, targetId: string): Record<string, unknown> {
  const id = options.alertId ?? randomUUID();
  return {
    alertId: `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.AlertsManagement/alerts/${id}`,
    alertRule: options.rule,
    severity: options.severity ?? "Sev1",
    signalType: "Metric",
    monitorCondition: options.condition,
    monitoringService: "Platform",
    alertTargetIDs: [targetId.toLowerCase()],
    configurationItems: [targetId.split("/").pop() ?? ""],
    originAlertId: `${SUBSCRIPTION}_${options.rule}_${id}`,
    firedDateTime: options.firedAt,
    ...(options.condition === "Resolved" ? { resolvedDateTime: options.firedAt } : {}),
    description: `bench/alerts ${options.rule}`,
    essentialsVersion: "1.0",
    alertContextVersion: "1.0",
  };
}

function metricContext(metric: string, value: number): Record<string, unknown> {
  return {
    properties: null,
    conditionType: "SingleResourceMultipleMetricCriteria",
    condition: {
      windowSize: "PT1M",
      allOf: [
        {
          metricName: metric,
          metricNamespace: "Microsoft.ContainerService/managedClusters",
          operator: "LessThan",
          threshold: "1",
          timeAggregation: "Minimum",
          dimensions: [],
          metricValue: value,
          webTestName: null,
        },
      ],
    },
  };
}

/** An alert about a scope of the topology, mapped through `customProperties`. */
export function scopedAlert(scope: AlertScope, options: AlertOptions): string {
  const cluster = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-${scope.workload}-${scope.region}/providers/Microsoft.ContainerService/managedClusters/aks-${scope.workload}-${scope.region}`;
  return JSON.stringify({
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: essentials(options, cluster),
      alertContext: metricContext("gpu_ready_nodes", 0),
      customProperties: {
        workload: scope.workload,
        region: scope.region,
        ...(scope.zone === undefined ? { scope: "region" } : { zone: scope.zone, scope: "zone" }),
      },
    },
  });
}

/** An alert about a resource no workload of the topology owns (no custom properties, unknown ARM id). */
export function unmappedAlert(options: AlertOptions, n: number): string {
  const target = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-unrelated-${n % 17}/providers/Microsoft.Storage/storageAccounts/stunrelated${n % 17}`;
  return JSON.stringify({
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: essentials(options, target),
      alertContext: metricContext("Availability", 42),
      customProperties: null,
    },
  });
}
