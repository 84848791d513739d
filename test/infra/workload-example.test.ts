/**
 * The example workload (infra/examples/workload): regions and zones come from parameters, each GPU pool is pinned to
 * one zone, the Front Door probe interval is explicit, and every region-zone has a zone-down drill.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyInfra, removeCopy, snapshotOrThrow, type PredictedResource, type Snapshot } from "./support/bicep";
import { ofType } from "./support/template-checks";

const PARAMS = "examples/workload/main.bicepparam";
const copies: string[] = [];
let base: Snapshot;
let moved: Snapshot;

function poolZones(s: Snapshot): Map<string, string[][]> {
  const byCluster = new Map<string, string[][]>();
  for (const pool of ofType(s, "Microsoft.ContainerService/managedClusters/agentPools")) {
    const cluster = pool.name.split("/")[0]!;
    const zones = (pool.properties?.availabilityZones ?? []) as string[];
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), zones]);
  }
  return byCluster;
}

function drillSpecs(
  s: Snapshot,
): Array<{ cluster: string; spec: { selector: { nodeSelectors: Record<string, string> } } }> {
  return ofType(s, "Microsoft.Chaos/experiments").map((e: PredictedResource) => {
    const steps = e.properties?.steps as Array<{
      branches: Array<{ actions: Array<{ parameters: Array<{ value: string }> }> }>;
    }>;
    const selectors = e.properties?.selectors as Array<{ targets: Array<{ id: string }> }>;
    const target = selectors[0]!.targets[0]!.id;
    return {
      cluster: /managedClusters\/([^/]+)\//.exec(target)![1]!,
      spec: JSON.parse(steps[0]!.branches[0]!.actions[0]!.parameters[0]!.value),
    };
  });
}

beforeAll(async () => {
  const relocated = copyInfra([
    {
      file: PARAMS,
      from: "name: 'eastus2'\n    zones: ['1', '2']",
      to: "name: 'swedencentral'\n    zones: ['1', '2', '3']",
    },
    { file: PARAMS, from: "name: 'westus3'", to: "name: 'francecentral'" },
    { file: PARAMS, from: "param probeIntervalInSeconds = 30", to: "param probeIntervalInSeconds = 15" },
  ]);
  const original = copyInfra();
  copies.push(relocated, original);
  [base, moved] = await Promise.all([
    snapshotOrThrow(original, PARAMS, { resourceGroup: "rg-chat", location: "eastus2" }),
    snapshotOrThrow(relocated, PARAMS, { resourceGroup: "rg-chat", location: "eastus2" }),
  ]);
}, 240_000);

afterAll(() => {
  for (const dir of copies) removeCopy(dir);
});

describe("example workload", () => {
  it("pins exactly one GPU pool to each zone of each region", () => {
    expect(Object.fromEntries(poolZones(base))).toEqual({
      "aks-chat-eastus2": [["1"], ["2"]],
      "aks-chat-westus3": [["1"], ["2"]],
    });
  });

  it("takes regions and zones from parameters, not from the template", () => {
    const clusters = ofType(moved, "Microsoft.ContainerService/managedClusters");
    expect(clusters.map((c) => [c.name, c.location])).toEqual([
      ["aks-chat-swedencentral", "swedencentral"],
      ["aks-chat-francecentral", "francecentral"],
    ]);
    expect(poolZones(moved).get("aks-chat-swedencentral")).toEqual([["1"], ["2"], ["3"]]);
    const zoneLabels = drillSpecs(moved).map((d) => [
      d.cluster,
      d.spec.selector.nodeSelectors["topology.kubernetes.io/zone"],
    ]);
    expect(zoneLabels).toEqual([
      ["aks-chat-swedencentral", "swedencentral-1"],
      ["aks-chat-swedencentral", "swedencentral-2"],
      ["aks-chat-swedencentral", "swedencentral-3"],
      ["aks-chat-francecentral", "francecentral-1"],
      ["aks-chat-francecentral", "francecentral-2"],
    ]);
  });

  it("sets the Front Door probe interval explicitly from its parameter", () => {
    const interval = (s: Snapshot): unknown =>
      (ofType(s, "Microsoft.Cdn/profiles/originGroups")[0]!.properties?.healthProbeSettings as Record<string, unknown>)
        .probeIntervalInSeconds;
    expect(interval(base)).toBe(30);
    expect(interval(moved)).toBe(15);
    expect(ofType(base, "Microsoft.Cdn/profiles")[0]!.sku).toEqual({ name: "Standard_AzureFrontDoor" });
    expect(ofType(base, "Microsoft.Cdn/profiles/originGroups/origins").map((o) => o.properties?.hostName)).toEqual([
      "chat-eastus2.inference.contoso.example",
      "chat-westus3.inference.contoso.example",
    ]);
  });

  it("has a zone-down drill per region and zone that fails every pod of that zone for its duration", () => {
    const drills = drillSpecs(base);
    expect(drills).toHaveLength(4);
    expect(drills[0]!.spec).toEqual({
      action: "pod-failure",
      mode: "all",
      duration: "600s",
      selector: { namespaces: ["inference"], nodeSelectors: { "topology.kubernetes.io/zone": "eastus2-1" } },
    });
    // One Chaos Studio target per cluster, shared by its drills; the experiment identity may act on that cluster.
    expect(ofType(base, "Microsoft.Chaos/targets")).toHaveLength(2);
    expect(ofType(base, "Microsoft.Authorization/roleAssignments")).toHaveLength(8);
  });
});
