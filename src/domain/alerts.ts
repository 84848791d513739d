/**
 * Azure Monitor's Common Alert Schema (as action groups post it to a webhook) and the mapping from an alert to the
 * workloads and failed scopes it is about.
 *
 * Mapping order: `customProperties` (`workload`, `region`, `zone`) when present — the wiring Cutover's Bicep sets up
 * so alerts map without guessing; otherwise dimensions named like those in the alert context; otherwise the ARM ids in
 * `alertTargetIDs` / `configurationItems` matched against the topology's resources (AKS clusters and agent pools,
 * Front Door profiles and origins), using metric dimensions (`Origin`, `Backend`, `agentpool`, `zone`) to narrow a
 * profile- or cluster-level alert; and for Service Health, the impacted regions.
 *
 * Schema: https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-common-schema (azure-facts §3.3).
 */
import { z } from "zod";
import { formatPath } from "./topology";
import type { Topology, Zone } from "./topology";
import type { FailedScope } from "./plan";

/** The webhook payload limit Azure Monitor documents; larger bodies are refused with 413. */
export const MAX_ALERT_BYTES = 256 * 1024;

const dimensionSchema = z.object({ name: z.string(), value: z.string() });

export const commonAlertSchema = z.object({
  schemaId: z.literal("azureMonitorCommonAlertSchema"),
  data: z.object({
    essentials: z.object({
      alertId: z.string().min(1),
      alertRule: z.string().min(1),
      severity: z.enum(["Sev0", "Sev1", "Sev2", "Sev3", "Sev4"]),
      signalType: z.string().min(1),
      monitorCondition: z.enum(["Fired", "Resolved"]),
      monitoringService: z.string().min(1),
      alertTargetIDs: z.array(z.string()).default([]),
      configurationItems: z.array(z.string()).nullish(),
      originAlertId: z.string().nullish(),
      firedDateTime: z.string().min(1),
      resolvedDateTime: z.string().nullish(),
      description: z.string().nullish(),
      essentialsVersion: z.string().nullish(),
      alertContextVersion: z.string().nullish(),
    }),
    alertContext: z.unknown().nullish(),
    customProperties: z.record(z.string(), z.string().nullable()).nullish(),
  }),
});
export type CommonAlert = z.infer<typeof commonAlertSchema>;

export type AlertParseResult =
  | { readonly ok: true; readonly alert: CommonAlert }
  | { readonly ok: false; readonly status: 400 | 413; readonly reason: string };

/**
 * Whether `text` takes more than `max` bytes in UTF-8, encoding it only when its length cannot tell: every UTF-16 code
 * unit takes 1 to 3 bytes (a surrogate pair, two units, takes 4).
 */
function utf8LongerThan(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).length > max;
}

/** Parses a webhook body. Never throws: malformed input is a 400 (or 413) with a reason naming the field. */
export function parseAlertBody(body: string): AlertParseResult {
  if (utf8LongerThan(body, MAX_ALERT_BYTES)) {
    return { ok: false, status: 413, reason: `body exceeds ${MAX_ALERT_BYTES} bytes (Azure Monitor's payload limit)` };
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, status: 400, reason: `malformed JSON: ${(error as Error).message}` };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, status: 400, reason: "expected a JSON object (Common Alert Schema)" };
  }
  const schemaId = (json as Record<string, unknown>)["schemaId"];
  if (schemaId !== "azureMonitorCommonAlertSchema") {
    return {
      ok: false,
      status: 400,
      reason: `schemaId: expected "azureMonitorCommonAlertSchema", got ${schemaId === undefined ? "nothing" : JSON.stringify(schemaId)} (enable the common alert schema on the action group)`,
    };
  }
  const parsed = commonAlertSchema.safeParse(json);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    return { ok: false, status: 400, reason: reasons.join("; ") };
  }
  return { ok: true, alert: parsed.data };
}

export interface AlertTarget {
  readonly workload: string;
  readonly scope: FailedScope;
  /** How the target was found, for the alert record. */
  readonly via: string;
}

export type AlertMapping =
  | { readonly mapped: true; readonly targets: ReadonlyArray<AlertTarget> }
  | { readonly mapped: false; readonly reason: string };

const ZONES: ReadonlySet<string> = new Set(["1", "2", "3"]);

/** "East US 2" → "eastus2"; "eastus2" stays. */
export function normalizeRegion(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Every `{name, value}` dimension found in the alert context (metric and log search V2 shapes). */
export function alertDimensions(alert: CommonAlert): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  const context = alert.data.alertContext;
  if (typeof context !== "object" || context === null) return out;
  const condition = (context as Record<string, unknown>)["condition"];
  const allOf =
    typeof condition === "object" && condition !== null ? (condition as Record<string, unknown>)["allOf"] : undefined;
  if (!Array.isArray(allOf)) return out;
  for (const criterion of allOf) {
    const dims =
      typeof criterion === "object" && criterion !== null
        ? (criterion as Record<string, unknown>)["dimensions"]
        : undefined;
    if (!Array.isArray(dims)) continue;
    for (const d of dims) {
      const parsed = dimensionSchema.safeParse(d);
      if (parsed.success) out.push(parsed.data);
    }
  }
  return out;
}

function dimension(dims: ReadonlyArray<{ name: string; value: string }>, ...names: string[]): string | undefined {
  const wanted = names.map((n) => n.toLowerCase());
  return dims.find((d) => wanted.includes(d.name.toLowerCase()))?.value;
}

function scopeFrom(
  topology: Topology,
  workload: string,
  region: string,
  zone: string | undefined,
  via: string,
): AlertTarget | string {
  const w = topology.workloads.find((x) => x.name === workload);
  if (w === undefined) return `workload "${workload}" is not in the topology`;
  const regionKey = normalizeRegion(region);
  if (w.regions[regionKey] === undefined) return `workload "${workload}" has no region "${region}"`;
  if (zone !== undefined && zone !== "") {
    if (!ZONES.has(zone)) return `zone "${zone}" is not one of 1, 2, 3`;
    if (!(topology.regions[regionKey]?.zones ?? []).includes(zone as Zone)) return `${regionKey} has no zone ${zone}`;
    return { workload, scope: { region: regionKey, zone: zone as Zone }, via };
  }
  return { workload, scope: { region: regionKey }, via };
}

interface ResourceIndexEntry {
  readonly workload: string;
  readonly region: string;
  readonly zone?: Zone;
  /** Dimension that narrows a profile-level alert to this entry, e.g. Origin=chat-eastus2. */
  readonly narrowBy?: { readonly names: ReadonlyArray<string>; readonly value: string };
}

const indexes = new WeakMap<Topology, ReadonlyMap<string, ReadonlyArray<ResourceIndexEntry>>>();

/**
 * {@link resourceIndex} of a topology, built once per topology object (a loaded topology is never mutated; a new
 * version is a new object) instead of once per alert.
 */
export function cachedResourceIndex(topology: Topology): ReadonlyMap<string, ReadonlyArray<ResourceIndexEntry>> {
  let index = indexes.get(topology);
  if (index === undefined) {
    index = resourceIndex(topology);
    indexes.set(topology, index);
  }
  return index;
}

/** ARM ids (lower-cased) of the topology's resources, each with the workload/region/zone it stands for. */
export function resourceIndex(topology: Topology): Map<string, ResourceIndexEntry[]> {
  const index = new Map<string, ResourceIndexEntry[]>();
  const add = (id: string, entry: ResourceIndexEntry): void => {
    const key = id.toLowerCase();
    const list = index.get(key) ?? [];
    list.push(entry);
    index.set(key, list);
  };
  const sub = `/subscriptions/${topology.subscriptionId}`;
  for (const w of topology.workloads) {
    const fd = w.frontDoor === undefined ? undefined : topology.frontDoors[w.frontDoor];
    for (const [region, entry] of Object.entries(w.regions)) {
      if (entry.cluster !== undefined) {
        const clusterId = `${sub}/resourceGroups/${entry.cluster.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${entry.cluster.name}`;
        add(clusterId, { workload: w.name, region });
        for (const pool of entry.gpuPools) {
          add(`${clusterId}/agentPools/${pool.name}`, { workload: w.name, region, zone: pool.zone });
          add(clusterId, {
            workload: w.name,
            region,
            zone: pool.zone,
            narrowBy: { names: ["agentpool", "nodepool"], value: pool.name },
          });
        }
      }
      if (fd !== undefined && entry.origin !== undefined) {
        if (fd.kind === "standard") {
          const profileId = `${sub}/resourceGroups/${fd.resourceGroup}/providers/Microsoft.Cdn/profiles/${fd.profile}`;
          add(`${profileId}/originGroups/${fd.originGroup}/origins/${entry.origin}`, { workload: w.name, region });
          add(profileId, {
            workload: w.name,
            region,
            narrowBy: { names: ["Origin", "OriginName"], value: entry.origin },
          });
        } else {
          const fdId = `${sub}/resourceGroups/${fd.resourceGroup}/providers/Microsoft.Network/frontDoors/${fd.frontDoorName}`;
          add(fdId, { workload: w.name, region, narrowBy: { names: ["Backend", "BackendName"], value: entry.origin } });
        }
      }
    }
  }
  return index;
}

function serviceHealthRegions(alert: CommonAlert): string[] {
  const context = alert.data.alertContext;
  if (typeof context !== "object" || context === null) return [];
  const properties = (context as Record<string, unknown>)["properties"];
  if (typeof properties !== "object" || properties === null) return [];
  const impacted = (properties as Record<string, unknown>)["impactedServices"];
  let services: unknown = impacted;
  if (typeof impacted === "string") {
    try {
      services = JSON.parse(impacted);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(services)) return [];
  const regions: string[] = [];
  for (const s of services) {
    const list = typeof s === "object" && s !== null ? (s as Record<string, unknown>)["ImpactedRegions"] : undefined;
    if (!Array.isArray(list)) continue;
    for (const r of list) {
      const name = typeof r === "object" && r !== null ? (r as Record<string, unknown>)["RegionName"] : undefined;
      if (typeof name === "string") regions.push(normalizeRegion(name));
    }
  }
  return [...new Set(regions)];
}

/** Maps an alert to the (workload, scope) pairs it concerns. Unmapped alerts say why. */
export function mapAlert(alert: CommonAlert, topology: Topology): AlertMapping {
  const custom = alert.data.customProperties ?? {};
  const dims = alertDimensions(alert);
  const workload = custom["workload"] ?? dimension(dims, "workload") ?? undefined;
  const region = custom["region"] ?? dimension(dims, "region") ?? undefined;
  const zone = custom["zone"] ?? dimension(dims, "zone", "topology.kubernetes.io/zone") ?? undefined;

  if (workload !== undefined && workload !== null && region !== undefined && region !== null) {
    const target = scopeFrom(topology, workload, region, zone ?? undefined, "customProperties");
    return typeof target === "string"
      ? { mapped: false, reason: `customProperties: ${target}` }
      : { mapped: true, targets: [target] };
  }

  const index = cachedResourceIndex(topology);
  const ids = [...alert.data.essentials.alertTargetIDs, ...(alert.data.essentials.configurationItems ?? [])];
  const targets = new Map<string, AlertTarget>();
  const addTarget = (t: AlertTarget): void => {
    targets.set(`${t.workload}|${t.scope.region}|${t.scope.zone ?? ""}`, t);
  };
  for (const id of ids) {
    const entries = index.get(id.toLowerCase());
    if (entries === undefined) continue;
    const narrowed = entries.filter(
      (e) => e.narrowBy !== undefined && dimension(dims, ...e.narrowBy.names) === e.narrowBy.value,
    );
    const chosen = narrowed.length > 0 ? narrowed : entries.filter((e) => e.narrowBy === undefined);
    const zoneDim = dimension(dims, "zone", "topology.kubernetes.io/zone");
    for (const e of chosen) {
      const z = e.zone ?? (zoneDim !== undefined && ZONES.has(zoneDim) ? (zoneDim as Zone) : undefined);
      addTarget({
        workload: e.workload,
        scope: z === undefined ? { region: e.region } : { region: e.region, zone: z },
        via: `target ${id}`,
      });
    }
  }
  // A zone-level and a region-level target for the same workload and region: the region wins (it covers the zone).
  for (const t of [...targets.values()]) {
    if (t.scope.zone !== undefined && targets.has(`${t.workload}|${t.scope.region}|`))
      targets.delete(`${t.workload}|${t.scope.region}|${t.scope.zone}`);
  }
  if (targets.size > 0) return { mapped: true, targets: [...targets.values()] };

  if (alert.data.essentials.monitoringService === "ServiceHealth") {
    const regions = serviceHealthRegions(alert);
    for (const w of topology.workloads)
      for (const r of regions)
        if (w.regions[r] !== undefined)
          addTarget({ workload: w.name, scope: { region: r }, via: "service health impacted region" });
    if (targets.size > 0) return { mapped: true, targets: [...targets.values()] };
    return {
      mapped: false,
      reason: `service health event for ${regions.join(", ") || "no region"} touches no workload region`,
    };
  }
  return {
    mapped: false,
    reason:
      ids.length === 0
        ? "no customProperties (workload, region) and no alertTargetIDs"
        : `no topology resource matches ${ids.join(", ")} (add customProperties workload/region/zone to the alert rule)`,
  };
}
