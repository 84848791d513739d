/* eslint-disable @typescript-eslint/no-explicit-any -- scenarios edit untyped YAML data of the example. */
import { describe, expect, it } from "vitest";
import { CutoverError } from "../../../src/domain/errors";
import { DEFAULT_LATENCY_MODEL, latencyModelFor, mean, type LatencyModel } from "../../../src/domain/latency-model";
import type { PlanInput, PlanResult, WorkloadPlan, WorkloadRefusal } from "../../../src/domain/plan";
import { checkPlanInput, planFailover } from "../../../src/domain/planner";
import { parseTopology } from "../../../src/config/topology-loader";
import {
  A100,
  A100X2,
  A100X4,
  H100,
  buildTopology,
  exampleTopology,
  mutatedExample,
  type TopologySpec,
} from "../support/topology-fixtures";
import { planViolations } from "./invariants";

/** Plans and checks every invariant on the way, so each scenario also exercises the invariant checker. */
function plan(input: PlanInput): PlanResult {
  const result = planFailover(input);
  expect(planViolations(input, result)).toEqual([]);
  return result;
}

function ok(result: PlanResult, workload: string): WorkloadPlan {
  const entry = result.workloads.find((w) => w.workload === workload);
  if (entry?.status !== "ok") throw new Error(`expected a plan for ${workload}, got ${JSON.stringify(entry)}`);
  return entry;
}

function refused(result: PlanResult, workload: string): WorkloadRefusal {
  const entry = result.workloads.find((w) => w.workload === workload);
  if (entry?.status !== "refused") throw new Error(`expected a refusal for ${workload}, got ${JSON.stringify(entry)}`);
  return entry;
}

/** `region/pool from->to`, or `from->need+spare` when the plan asks for spare nodes (set-to need + spare). */
function poolsOf(p: WorkloadPlan): string[] {
  return p.pools.map((c) =>
    c.spare === undefined
      ? `${c.region}/${c.pool} ${c.from}->${c.to}`
      : `${c.region}/${c.pool} ${c.from}->${c.to - c.spare}+${c.spare}`,
  );
}

function exampleFrom(mutate: (raw: Record<string, any>) => void) {
  const result = parseTopology(mutatedExample(mutate));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.topology;
}

const round = (x: number): number => Math.round(x);
const L = DEFAULT_LATENCY_MODEL;
const ALERT = round(mean(L.alertDetection) + mean(L.alertDispatch));

const twoRegions = (east: TopologySpec["workloads"][number]["regions"][string], westMax = 8): TopologySpec => ({
  regions: { eastus2: {}, westus3: {} },
  workloads: [
    {
      name: "w",
      gpus: 8,
      regions: {
        eastus2: east,
        westus3: { pools: [{ name: "w1", zone: "1", max: westMax, current: 4 }] },
      },
    },
  ],
});

describe("region failure", () => {
  it("drains the failed origin and scales the other region to carry all the traffic (example: eastus2)", () => {
    const topology = exampleTopology();
    const result = plan({ topology, scope: { region: "eastus2" } });
    expect(result.status).toBe("ok");
    const chat = ok(result, "chat");
    expect(chat.target).toEqual({ region: "westus3", zones: ["1", "2", "3"] });
    // 8 GPUs: westus3 holds 4; four more, spread over zones (the empty zone 3 first), then topology order.
    expect(poolsOf(chat)).toEqual(["westus3/a100z1 2->3+1", "westus3/a100z2 2->3+1", "westus3/h100z3 0->2+1"]);
    expect(chat.traffic).toEqual({
      frontDoor: "afd-chat",
      kind: "standard",
      drain: [{ region: "eastus2", origin: "chat-eastus2" }],
      take: [{ region: "westus3", origin: "chat-westus3", weight: 50, priority: 1 }],
    });
    expect(chat.loads?.find((l) => l.region === "westus3")).toEqual({
      region: "westus3",
      beforeGpus: 4,
      loadGpus: 8,
      // 8 needed and 3 spare nodes (one per scaled pool, the example's capacity.spareNodes: 1).
      gpus: 11,
    });
    expect(chat.steps.map((s) => s.id)).toEqual([
      "detect",
      "decide",
      "approve",
      "scale:westus3/a100z1",
      "scale:westus3/a100z2",
      "scale:westus3/h100z3",
      "warm:westus3",
      "drain-gate:eastus2",
      "probe-window:eastus2",
      "frontdoor:afd-chat",
      "propagate:afd-chat",
      "verify",
    ]);
    expect(chat.steps.find((s) => s.id === "warm:westus3")?.after).toEqual([
      "scale:westus3/a100z1",
      "scale:westus3/a100z2",
      "scale:westus3/h100z3",
    ]);
    expect(chat.steps.find((s) => s.id === "verify")?.after).toEqual(["warm:westus3", "probe-window:eastus2"]);
    // The H100 node is the slowest to provision, so it is on the critical path.
    expect(chat.criticalPath).toEqual([
      "detect",
      "decide",
      "approve",
      "scale:westus3/h100z3",
      "warm:westus3",
      "verify",
    ]);
    const h100 = round(mean(L.armAccept) + mean(L.nodeProvisioning["Standard_NC40ads_H100"]!));
    const warm = round(140 * mean(L.modelLoadSecondsPerGb) + mean(L.engineStartup));
    expect(chat.predictedRtoSeconds).toBe(ALERT + round(mean(L.decide)) + 0 + h100 + warm + round(mean(L.verify)));
    expect(result.predictedRtoSeconds).toBe(
      Math.max(chat.predictedRtoSeconds, ok(result, "pretrain").predictedRtoSeconds),
    );
  });

  it("keeps Front Door's configuration change off the RTO path when only a drain is needed", () => {
    const topology = exampleTopology();
    const slowPropagation: LatencyModel = { ...L, frontDoorPropagation: { min: 5000, mode: 5000, max: 5000 } };
    const base = ok(plan({ topology, scope: { region: "eastus2" }, workload: "chat" }), "chat");
    const slow = ok(
      plan({ topology, scope: { region: "eastus2" }, workload: "chat", latency: slowPropagation }),
      "chat",
    );
    expect(slow.steps.find((s) => s.id === "propagate:afd-chat")).toMatchObject({
      expectedSeconds: 5000,
      countsForRto: false,
      after: ["frontdoor:afd-chat"],
    });
    expect(slow.steps.find((s) => s.id === "frontdoor:afd-chat")?.after).toEqual(["approve", "drain-gate:eastus2"]);
    expect(slow.predictedRtoSeconds).toBe(base.predictedRtoSeconds);
  });

  it("needs no scaling when the remaining region already holds everything (example: westus3)", () => {
    const result = plan({ topology: exampleTopology(), scope: { region: "westus3" } });
    const chat = ok(result, "chat");
    expect(chat.pools).toEqual([]);
    expect(chat.warmups).toEqual([]);
    expect(chat.traffic?.drain).toEqual([{ region: "westus3", origin: "chat-westus3" }]);
    expect(chat.criticalPath).toEqual([
      "detect",
      "decide",
      "approve",
      "drain-gate:westus3",
      "probe-window:westus3",
      "verify",
    ]);
    // The training secondary failed: nothing to do for pretrain, and the plan says why.
    expect(result.workloads.map((w) => w.workload)).toEqual(["chat"]);
    expect(result.notes).toContain(
      "pretrain: no action: the secondary westus3 failed; the job keeps running in eastus2, but its checkpoints are not replicated until westus3 recovers",
    );
  });

  it("drains a failed origin that carried no traffic without moving load (example: francecentral, priority 2)", () => {
    const lite = ok(plan({ topology: exampleTopology(), scope: { region: "francecentral" } }), "chat-lite");
    expect(lite.pools).toEqual([]);
    expect(lite.traffic?.drain).toEqual([
      { region: "francecentral", origin: "chat-lite-francecentral.contoso.example" },
    ]);
    expect(lite.loads?.map((l) => [l.region, l.beforeGpus, l.loadGpus])).toEqual([
      ["centralus", 3, 3],
      ["swedencentral", 3, 3],
      ["francecentral", 0, 0],
    ]);
  });

  it("pulls in the next priority band when the band cannot hold the load, and puts the change on the RTO path", () => {
    const topology = buildTopology({
      regions: { eastus2: {}, westus3: {}, centralus: {} },
      workloads: [
        {
          name: "w",
          gpus: 8,
          regions: {
            eastus2: { pools: [{ name: "e1", zone: "1", max: 8, current: 4 }] },
            westus3: { pools: [{ name: "w1", zone: "1", max: 4, current: 4 }] },
            centralus: { priority: 2, pools: [{ name: "c1", zone: "1", max: 8, current: 0 }] },
          },
        },
      ],
    });
    const w = ok(plan({ topology, scope: { region: "eastus2" } }), "w");
    expect(w.traffic?.take).toEqual([
      { region: "westus3", origin: "w-westus3", weight: 500, priority: 1 },
      { region: "centralus", origin: "w-centralus", weight: 500, priority: 1 },
    ]);
    expect(poolsOf(w)).toEqual(["centralus/c1 0->4"]);
    expect(w.target.region).toBe("centralus");
    expect(w.steps.find((s) => s.id === "propagate:afd")?.countsForRto).toBe(true);
    expect(w.steps.find((s) => s.id === "verify")?.after).toContain("propagate:afd");
    expect(w.notes.some((n) => n.includes("propagation is on the RTO path"))).toBe(true);
  });

  it("weights come out exact when the targets' capacity equals the demand", () => {
    const topology = buildTopology({
      regions: { eastus2: {}, westus3: {}, centralus: {}, northcentralus: {} },
      workloads: [
        {
          name: "w",
          gpus: 3,
          regions: {
            eastus2: { pools: [{ name: "e1", zone: "1", max: 3, current: 3 }] },
            westus3: { weight: 100, pools: [{ name: "p", zone: "1", max: 1, current: 1 }] },
            centralus: { pools: [{ name: "p", zone: "1", max: 1, current: 1 }] },
            northcentralus: { pools: [{ name: "p", zone: "1", max: 1, current: 1 }] },
          },
        },
      ],
    });
    const w = ok(plan({ topology, scope: { region: "eastus2" } }), "w");
    expect(w.traffic?.take.map((t) => t.weight)).toEqual([333, 333, 333]);
    expect(w.loads?.filter((l) => l.loadGpus > 0).map((l) => l.loadGpus)).toEqual([1, 1, 1]);
  });

  it("drains an eligible origin in the serving band that can hold no GPUs", () => {
    const topology = buildTopology({
      regions: { eastus2: {}, westus3: {}, centralus: {} },
      workloads: [
        {
          name: "w",
          gpus: 4,
          regions: {
            eastus2: { pools: [{ name: "e1", zone: "1", max: 4, current: 2 }] },
            westus3: { pools: [{ name: "w1", zone: "1", max: 8, current: 2 }] },
            centralus: { pools: [] },
          },
        },
      ],
    });
    const w = ok(plan({ topology, scope: { region: "eastus2" } }), "w");
    expect(w.traffic?.drain.map((d) => d.region)).toEqual(["eastus2", "centralus"]);
    expect(w.traffic?.take.map((t) => t.region)).toEqual(["westus3"]);
    expect(poolsOf(w)).toEqual(["westus3/w1 2->4"]);
    expect(w.notes).toContain(
      "centralus can hold no GPUs after the failure; its origin is drained so Front Door stops sending it traffic",
    );
  });
});

describe("zone failure", () => {
  it("recovers inside the region by scaling a pool in a healthy zone, with no traffic change", () => {
    const topology = buildTopology(
      twoRegions({
        pools: [
          { name: "e1", zone: "1", max: 8, current: 4 },
          { name: "e2", zone: "2", max: 8, current: 0 },
        ],
      }),
    );
    const w = ok(plan({ topology, scope: { region: "eastus2", zone: "1" } }), "w");
    expect(w.target).toEqual({ region: "eastus2", zones: ["2"] });
    expect(poolsOf(w)).toEqual(["eastus2/e2 0->4"]);
    expect(w.traffic).toBeUndefined();
    expect(w.steps.map((s) => s.id)).toEqual([
      "detect",
      "decide",
      "approve",
      "scale:eastus2/e2",
      "warm:eastus2",
      "verify",
    ]);
  });

  it("spills to another region by shifting weights (not draining) when the region cannot hold its share", () => {
    const topology = buildTopology(
      twoRegions({
        pools: [
          { name: "e1", zone: "1", max: 8, current: 4 },
          { name: "e2", zone: "2", max: 2, current: 0 },
        ],
      }),
    );
    const w = ok(plan({ topology, scope: { region: "eastus2", zone: "1" } }), "w");
    expect(w.traffic?.drain).toEqual([]);
    expect(w.traffic?.take).toEqual([
      { region: "eastus2", origin: "w-eastus2", weight: 250, priority: 1 },
      { region: "westus3", origin: "w-westus3", weight: 750, priority: 1 },
    ]);
    expect(poolsOf(w)).toEqual(["eastus2/e2 0->2", "westus3/w1 4->6"]);
    expect(w.target.region).toBe("eastus2");
    expect(w.criticalPath).toContain("propagate:afd");
  });

  it("drains the region's origin when nothing is left outside the failed zone", () => {
    const topology = buildTopology(twoRegions({ pools: [{ name: "e1", zone: "1", max: 8, current: 4 }] }));
    const w = ok(plan({ topology, scope: { region: "eastus2", zone: "1" } }), "w");
    expect(w.traffic?.drain).toEqual([{ region: "eastus2", origin: "w-eastus2" }]);
    expect(poolsOf(w)).toEqual(["westus3/w1 4->8"]);
    expect(w.target.region).toBe("westus3");
  });

  it("needs nothing when the region still holds its share without the zone (example: eastus2/1)", () => {
    const result = plan({ topology: exampleTopology(), scope: { region: "eastus2", zone: "1" } });
    const chat = ok(result, "chat");
    expect(chat.pools).toEqual([]);
    expect(chat.traffic).toBeUndefined();
    expect(chat.target).toEqual({ region: "eastus2", zones: ["2"] });
    expect(chat.notes).toContain(
      "eastus2 still holds its 4-GPU share without zone 1 (4 GPUs in its healthy zones): no scaling needed",
    );
    expect(result.notes).toContain(
      "pretrain: no action: a failure of eastus2 zone 1 does not stop the training job (its Azure ML compute in eastus2 is regional)",
    );
  });

  it("says nothing is affected when the zone's pools have no nodes (example: eastus2/3)", () => {
    const result = plan({ topology: exampleTopology(), scope: { region: "eastus2", zone: "3" } });
    expect(result.status).toBe("ok");
    expect(result.workloads).toEqual([]);
    expect(result.predictedRtoSeconds).toBe(0);
    expect(result.notes?.[0]).toBe("nothing to do: no workload is affected by a failure of eastus2 zone 3");
    expect(result.notes).toContain("chat: not affected: its pools in eastus2 zone 3 (a100x4z3) have no nodes");
  });

  it("says a workload without pools in the zone is not affected", () => {
    const topology = buildTopology(twoRegions({ pools: [{ name: "e1", zone: "1", max: 8, current: 4 }] }));
    const result = plan({ topology, scope: { region: "eastus2", zone: "2" } });
    expect(result.workloads).toEqual([]);
    expect(result.notes).toContain("w: not affected: it has no GPU pool in eastus2 zone 2");
  });
});

describe("guards and refusals", () => {
  it("refuses to drain the last healthy origin", () => {
    const input: PlanInput = {
      topology: exampleTopology(),
      scope: { region: "eastus2" },
      health: { impairedRegions: ["westus3"], impairedZones: [] },
    };
    const result = plan(input);
    expect(result.status).toBe("refused");
    expect(refused(result, "chat").reasons).toEqual([
      "refusing to drain chat-eastus2: it is the last healthy origin of chat (Front Door fails open when every origin is unhealthy)",
      "westus3 is impaired",
    ]);
    expect(refused(result, "pretrain").reasons).toEqual(["no eligible target: the secondary westus3 is impaired"]);
    expect(result.reasons).toContain(
      "chat: refusing to drain chat-eastus2: it is the last healthy origin of chat (Front Door fails open when every origin is unhealthy)",
    );
  });

  it("refuses when no target can hold the load even after fallback, naming every limit", () => {
    const input: PlanInput = {
      topology: exampleTopology(),
      scope: { region: "eastus2" },
      workload: "chat",
      health: {
        impairedRegions: [],
        impairedZones: [
          { region: "westus3", zone: "1" },
          { region: "westus3", zone: "2" },
        ],
      },
    };
    expect(refused(plan(input), "chat").reasons).toEqual([
      "not enough capacity: targets can hold 4 of 8 GPUs after fallback (westus3/a100z1: zone 1 of westus3 is impaired; westus3/a100z2: zone 2 of westus3 is impaired; westus3/h100z3: at its max 4)",
    ]);
  });

  it("names a matrix gap as the limit", () => {
    // westus3 zone 3 can no longer provision H100, and zone 1 is impaired.
    const gap = (r: Record<string, any>): void => {
      r.capabilityMatrix.availability.westus3["3"] = [A100];
    };
    const input = (topology: PlanInput["topology"]): PlanInput => ({
      topology,
      scope: { region: "eastus2" },
      workload: "chat",
      health: { impairedRegions: [], impairedZones: [{ region: "westus3", zone: "1" }] },
    });
    // Zone 2 alone can still reach 8 GPUs: a plan.
    expect(poolsOf(ok(plan(input(exampleFrom(gap))), "chat"))).toEqual(["westus3/a100z2 2->8"]);
    // With zone 2 capped at 6 it cannot: a refusal that names each limit.
    const capped = exampleFrom((r) => {
      gap(r);
      r.workloads[0].regions.westus3.gpuPools[1].max = 6;
    });
    expect(refused(plan(input(capped)), "chat").reasons).toEqual([
      `not enough capacity: targets can hold 6 of 8 GPUs after fallback (westus3/a100z1: zone 1 of westus3 is impaired; westus3/a100z2: at its max 6; westus3/h100z3: ${H100} not available in zone 3)`,
    ]);
  });

  it("never routes a failed region's traffic into a region outside residency", () => {
    const spec = (westMax: number): TopologySpec => ({
      regions: { eastus2: {}, westus3: {}, swedencentral: { geography: "eu" } },
      workloads: [
        {
          name: "w",
          gpus: 9,
          residency: ["us"],
          regions: {
            eastus2: { pools: [{ name: "e1", zone: "1", max: 3, current: 3 }] },
            westus3: { pools: [{ name: "w1", zone: "1", max: westMax, current: 3 }] },
            swedencentral: { pools: [{ name: "s1", zone: "1", max: 9, current: 3 }] },
          },
        },
      ],
    });
    const w = ok(plan({ topology: buildTopology(spec(9)), scope: { region: "eastus2" } }), "w");
    // swedencentral keeps exactly its previous third; westus3 takes the rest and is the only region scaled.
    expect(w.traffic?.take).toEqual([
      { region: "westus3", origin: "w-westus3", weight: 666, priority: 1 },
      { region: "swedencentral", origin: "w-swedencentral", weight: 333, priority: 1 },
    ]);
    expect(poolsOf(w)).toEqual(["westus3/w1 3->6"]);
    expect(w.targets.map((t) => t.region)).toEqual(["westus3"]);
    expect(w.loads?.find((l) => l.region === "swedencentral")).toMatchObject({ beforeGpus: 3, loadGpus: 3 });
    // Without room in westus3 it refuses rather than use swedencentral's spare GPUs.
    const r = refused(plan({ topology: buildTopology(spec(5)), scope: { region: "eastus2" } }), "w");
    expect(r.reasons).toEqual([
      "not enough capacity: targets can hold 5 of 6 GPUs after fallback (westus3/w1: at its max 5)",
    ]);
  });

  it("refuses with the reason each other region is not a target", () => {
    const topology = buildTopology({
      regions: { eastus2: {}, westus3: {}, swedencentral: { geography: "eu" } },
      workloads: [
        {
          name: "w",
          gpus: 9,
          residency: ["us"],
          regions: {
            eastus2: { pools: [{ name: "e1", zone: "1", max: 9, current: 3 }] },
            westus3: { pools: [{ name: "w1", zone: "1", max: 9, current: 3 }] },
            swedencentral: { pools: [{ name: "s1", zone: "1", max: 9, current: 3 }] },
          },
        },
      ],
    });
    const input: PlanInput = {
      topology,
      scope: { region: "eastus2" },
      health: { impairedRegions: ["westus3"], impairedZones: [] },
    };
    expect(refused(plan(input), "w").reasons).toEqual([
      "no eligible target: westus3 is impaired; swedencentral is outside residency [us]",
    ]);
  });

  it("guards the training secondary's residency and tier even when validation was bypassed", () => {
    const topology = buildTopology(
      {
        regions: { eastus2: {}, centralus: { class: "edge" } },
        workloads: [
          {
            name: "t",
            kind: "training",
            tier: "heavy",
            gpus: 8,
            regions: { eastus2: {}, centralus: {} },
            training: { hub: "eastus2", secondary: "centralus" },
          },
        ],
      },
      { crossCheck: false },
    );
    expect(refused(plan({ topology, scope: { region: "eastus2" } }), "t").reasons).toEqual([
      "no eligible target: the secondary centralus is an edge region and the model is heavy",
    ]);
  });

  it("refuses when the target's model store lacks the version and no healthy store has it", () => {
    const input: PlanInput = {
      topology: exampleTopology(),
      scope: { region: "eastus2" },
      workload: "chat",
      modelStores: { missing: [{ workload: "chat", region: "westus3" }] },
    };
    expect(refused(plan(input), "chat").reasons).toEqual([
      "model llama-70b-chat 2026.10.2 is missing in westus3 and no healthy region's store holds it",
    ]);
  });
});

describe("pools, fallbacks and quotas", () => {
  const fallbackSpec: TopologySpec = {
    regions: { eastus2: {}, westus3: {}, centralus: {} },
    fallbacks: { [A100]: [A100X4, A100X2, H100] },
    workloads: [
      {
        name: "w",
        gpus: 4,
        regions: {
          eastus2: {
            pools: [
              { name: "p1", zone: "1", vmSize: A100, max: 4 },
              { name: "p2", zone: "1", vmSize: A100X2, max: 4 },
              { name: "p3", zone: "1", vmSize: A100X4, max: 2 },
              { name: "p4", zone: "2", vmSize: A100, max: 4 },
              { name: "p5", zone: "2", vmSize: H100, max: 4 },
              { name: "p6", zone: "2", vmSize: A100X2, max: 1, current: 1 },
            ],
          },
          westus3: { pools: [{ name: "w1", zone: "1", max: 8, current: 4 }] },
          centralus: { priority: 2, pools: [{ name: "c1", zone: "1", max: 8, current: 2 }] },
        },
      },
    ],
  };

  it("orders each pool's fallback chain: same-zone fallback SKUs, then other zones, then other regions", () => {
    const topology = buildTopology(fallbackSpec);
    const w = ok(plan({ topology, scope: { region: "westus3" } }), "w");
    // eastus2 has 2 GPUs (p6) and needs 4: zone 1 is emptier, so p1 first, then zone 2 and zone 1 tie → p1 again.
    expect(poolsOf(w)).toEqual(["eastus2/p1 0->2"]);
    const p1 = w.pools[0]!;
    expect(p1.fallbacks.map((f) => [`${f.region}/${f.pool}`, f.to, f.why])).toEqual([
      ["eastus2/p3", 1, `same zone 1, fallback SKU ${A100X4}`],
      ["eastus2/p2", 1, `same zone 1, fallback SKU ${A100X2}`],
      ["eastus2/p4", 2, "other zone 2 of eastus2"],
      ["eastus2/p5", 2, `other zone 2 of eastus2, SKU ${H100}`],
      ["centralus/c1", 4, "other region centralus (needs a traffic shift)"],
    ]);
    // p6 is at its max and cannot be a fallback; the failed region's pools never are.
  });

  it("skips a SKU reported unavailable in a zone, for scaling and for fallbacks", () => {
    const input: PlanInput = {
      topology: exampleTopology(),
      scope: { region: "eastus2" },
      workload: "chat",
      capacity: {
        pools: {},
        unavailable: [{ region: "westus3", zone: "3", vmSize: H100, reason: "ZonalAllocationFailed" }],
      },
    };
    const chat = ok(plan(input), "chat");
    expect(poolsOf(chat)).toEqual(["westus3/a100z1 2->4+1", "westus3/a100z2 2->4+1"]);
    expect(chat.pools.flatMap((p) => p.fallbacks.map((f) => f.pool))).not.toContain("h100z3");
  });

  it("sizes each fallback to what the region would lack if the change failed, not to the change's own GPUs", () => {
    // capacity-crunch: eastus2 zone 1 is down and zone 2 runs 2 of the 4 GPUs eastus2 needs. The planner's choice is
    // one 4-GPU node in zone 3 (2 GPUs more than needed); should it fail, 2 GPUs are missing, so each fallback adds 2
    // GPUs (two 1-GPU nodes), not 4.
    const input: PlanInput = {
      topology: exampleTopology(),
      scope: { region: "eastus2", zone: "1" },
      workload: "chat",
      capacity: { pools: { "chat/eastus2/a100z2": 2 } },
    };
    const chat = ok(plan(input), "chat");
    expect(poolsOf(chat)).toEqual(["eastus2/a100x4z3 0->1+1"]);
    expect(chat.pools[0]?.fallbacks.map((f) => [`${f.region}/${f.pool}`, f.from, f.to])).toEqual([
      ["eastus2/a100z2", 2, 4],
      ["westus3/a100z1", 2, 4],
      ["westus3/a100z2", 2, 4],
      ["westus3/h100z3", 0, 2],
    ]);
    expect(planViolations(input, plan(input))).toEqual([]);
  });

  it("asks for capacity.spareNodes more nodes on each pool it scales up, within the pool's max and the quota", () => {
    const input = (mutate: (raw: Record<string, any>) => void): PlanInput => ({
      topology: exampleFrom(mutate),
      scope: { region: "eastus2" },
      workload: "chat",
    });
    const none = ok(plan(input((r) => delete r.workloads[0].capacity.spareNodes)), "chat");
    expect(poolsOf(none)).toEqual(["westus3/a100z1 2->3", "westus3/a100z2 2->3", "westus3/h100z3 0->2"]);
    expect(none.pools.every((p) => p.spare === undefined)).toBe(true);
    // Two spares each, but h100z3 stops at its max of 3, and the A100 quota (72 vCPUs: 3 nodes) leaves room for one
    // A100 spare after the two needed A100 nodes.
    const capped = ok(
      plan(
        input((r) => {
          r.workloads[0].capacity.spareNodes = 2;
          r.workloads[0].regions.westus3.gpuPools[2].max = 3;
          r.capabilityMatrix.quotas.westus3.standardNCADSA100v4Family = 72;
        }),
      ),
      "chat",
    );
    expect(poolsOf(capped)).toEqual(["westus3/a100z1 2->3+1", "westus3/a100z2 2->3", "westus3/h100z3 0->2+1"]);
    expect(capped.notes).toContain(
      "fewer spare nodes than capacity.spareNodes (2) on westus3/a100z1, westus3/a100z2, westus3/h100z3: pool max or vCPU quota",
    );
    expect(capped.steps.find((s) => s.id === "scale:westus3/h100z3")?.detail).toBe(
      "set h100z3 (Standard_NC40ads_H100_v5, zone 3) to 3 nodes (from 0; done when 2 are Ready)",
    );
  });

  it("keeps within the free vCPU quota of each family", () => {
    const topology = exampleFrom((r) => (r.capabilityMatrix.quotas.westus3.standardNCADSA100v4Family = 24));
    const chat = ok(plan({ topology, scope: { region: "eastus2" }, workload: "chat" }), "chat");
    // One A100 node fits the A100 quota; the H100 pool takes the rest. No quota is left for an A100 spare node.
    expect(poolsOf(chat)).toEqual(["westus3/a100z1 2->3", "westus3/h100z3 0->3+1"]);
    // The fallback for the H100 change may use only the A100 quota left (0): no A100 pool qualifies.
    expect(chat.pools[1]?.fallbacks).toEqual([]);
  });

  it("marks a fallback hedgeable only when it fits the quota while the failed change still holds its own", () => {
    const withQuota = (vcpus: number): WorkloadPlan => {
      const topology = buildTopology({ ...fallbackSpec, quotas: { eastus2: { standardNCADSA100v4Family: vcpus } } });
      return ok(plan({ topology, scope: { region: "westus3" } }), "w");
    };
    const fallbacks = (w: WorkloadPlan): Array<[string, number, number, boolean]> =>
      (w.pools[0]?.fallbacks ?? [])
        .filter((f) => f.region === "eastus2")
        .map((f) => [f.pool, f.from, f.to, f.hedgeable]);
    // p1 0->2 takes 2 × 24 vCPUs. With 48 free in all, a fallback can use only what p1 would free if it failed:
    // p3 (96 vCPUs a node) does not fit at all, p2 and p4 fit only instead of p1, never beside it. p5 is an H100
    // (another family, no quota limit given): it may always run beside p1.
    expect(fallbacks(withQuota(48))).toEqual([
      ["p2", 0, 1, false],
      ["p4", 0, 2, false],
      ["p5", 0, 2, true],
    ]);
    // With room for both, the same candidates (and p3) may be asked for in parallel.
    expect(fallbacks(withQuota(1000))).toEqual([
      ["p3", 0, 1, true],
      ["p2", 0, 1, true],
      ["p4", 0, 2, true],
      ["p5", 0, 2, true],
    ]);
  });

  it("shares one quota ledger between the workloads of a plan", () => {
    const topology = buildTopology({
      regions: { eastus2: {}, westus3: {} },
      quotas: { westus3: { standardNCADSA100v4Family: 96 } },
      workloads: ["a", "b"].map((name) => ({
        name,
        gpus: 8,
        regions: {
          eastus2: { pools: [{ name: "e1", zone: "1" as const, max: 8, current: 4 }] },
          westus3: { pools: [{ name: "w1", zone: "1" as const, max: 8, current: 4 }] },
        },
      })),
    });
    const both = plan({ topology, scope: { region: "eastus2" } });
    expect(poolsOf(ok(both, "a"))).toEqual(["westus3/w1 4->8"]);
    expect(refused(both, "b").reasons).toEqual([
      "not enough capacity: targets can hold 4 of 8 GPUs after fallback (westus3/w1: quota standardNCADSA100v4Family in westus3 has 0 vCPUs left, a node needs 24)",
    ]);
    // Planned alone, b has the whole quota.
    expect(poolsOf(ok(plan({ topology, scope: { region: "eastus2" }, workload: "b" }), "b"))).toEqual([
      "westus3/w1 4->8",
    ]);
  });

  it("starts from live node counts and never scales a pool in", () => {
    const input: PlanInput = {
      topology: exampleTopology(),
      scope: { region: "eastus2" },
      workload: "chat",
      capacity: { pools: { "chat/westus3/a100z1": 5 } },
    };
    const chat = ok(plan(input), "chat");
    expect(poolsOf(chat)).toEqual(["westus3/h100z3 0->1+1"]);
  });

  it("never sets a pool above its max, even when the live count already is", () => {
    const topology = exampleFrom((r) => (r.workloads[0].capacity.gpus = 16));
    const input: PlanInput = {
      topology,
      scope: { region: "eastus2" },
      workload: "chat",
      capacity: { pools: { "chat/westus3/a100z1": 9 } },
    };
    const chat = ok(plan(input), "chat");
    expect(chat.pools.map((p) => p.pool)).not.toContain("a100z1");
    expect(chat.pools.flatMap((p) => p.fallbacks.map((f) => f.pool))).not.toContain("a100z1");
    expect(poolsOf(chat)).toEqual(["westus3/a100z2 2->4+1", "westus3/h100z3 0->3+1"]);
  });
});

describe("steps and durations", () => {
  it("times detection by alert, probe or not at all", () => {
    const topology = exampleTopology();
    const detect = (detection: PlanInput["detection"]) =>
      ok(plan({ topology, scope: { region: "centralus" }, detection }), "chat-lite").steps.find(
        (s) => s.id === "detect",
      )?.expectedSeconds;
    expect(detect("alert")).toBe(ALERT);
    expect(detect(undefined)).toBe(ALERT);
    // Classic Front Door probe: 30 s, 4 samples, 2 required → 3 failures → 60–90 s, mean 75.
    expect(detect("probe")).toBe(75);
    expect(detect("none")).toBe(0);
  });

  it("times approval by mode, and says human time is not in a manual prediction", () => {
    const result = plan({ topology: exampleTopology(), scope: { region: "eastus2" } });
    expect(ok(result, "chat").steps.find((s) => s.id === "approve")?.expectedSeconds).toBe(0);
    const lite = ok(plan({ topology: exampleTopology(), scope: { region: "centralus" } }), "chat-lite");
    expect(lite.steps.find((s) => s.id === "approve")?.expectedSeconds).toBe(120);
    const pretrain = ok(result, "pretrain");
    expect(pretrain.steps.find((s) => s.id === "approve")?.expectedSeconds).toBe(0);
    expect(pretrain.notes).toContain(
      "manual approval: the predicted RTO does not include the time a human takes to approve",
    );
  });

  it("uses an overriding latency model", () => {
    const topology = exampleTopology();
    const typical = ok(plan({ topology, scope: { region: "eastus2" }, workload: "chat" }), "chat");
    const fast = ok(
      plan({ topology, scope: { region: "eastus2" }, workload: "chat", latency: latencyModelFor("fast") }),
      "chat",
    );
    const scale = (p: WorkloadPlan) => p.steps.find((s) => s.id === "scale:westus3/a100z1")?.expectedSeconds;
    expect(scale(typical)).toBe(round(mean(L.armAccept) + mean(L.nodeProvisioning["Standard_NC"]!)));
    expect(scale(fast)).toBe(round((mean(L.armAccept) + mean(L.nodeProvisioning["Standard_NC"]!)) / 2));
    const custom: LatencyModel = { ...L, nodeProvisioning: { default: { min: 100, mode: 100, max: 100 } } };
    const c = ok(plan({ topology, scope: { region: "eastus2" }, workload: "chat", latency: custom }), "chat");
    expect(scale(c)).toBe(round(mean(L.armAccept) + 100));
  });

  it("adds a model copy to the warm-up when the hint says the target's store lacks the version", () => {
    const topology = buildTopology({
      regions: { eastus2: {}, westus3: {}, centralus: {} },
      workloads: [
        {
          name: "w",
          gpus: 8,
          sizeGb: 100,
          regions: {
            eastus2: { pools: [{ name: "e1", zone: "1", max: 8, current: 4 }] },
            westus3: { pools: [{ name: "w1", zone: "1", max: 8, current: 4 }] },
            centralus: { priority: 2, pools: [{ name: "c1", zone: "1", max: 8, current: 0 }] },
          },
        },
      ],
    });
    const load = 100 * mean(L.modelLoadSecondsPerGb) + mean(L.engineStartup);
    const withHint = ok(
      plan({
        topology,
        scope: { region: "eastus2" },
        modelStores: { missing: [{ workload: "w", region: "westus3" }] },
      }),
      "w",
    );
    expect(withHint.warmups).toEqual([{ region: "westus3", model: "model", version: "1", copyFrom: "centralus" }]);
    expect(withHint.steps.find((s) => s.id === "warm:westus3")?.expectedSeconds).toBe(
      round(100 * mean(L.modelCopySecondsPerGb) + load),
    );
    const noHint = ok(plan({ topology, scope: { region: "eastus2" } }), "w");
    expect(noHint.warmups).toEqual([{ region: "westus3", model: "model", version: "1" }]);
    expect(noHint.steps.find((s) => s.id === "warm:westus3")?.expectedSeconds).toBe(round(load));
    expect(noHint.notes.some((n) => n.startsWith("assumed: model 1 is already in the model store of westus3"))).toBe(
      true,
    );
  });

  it("resumes training in the secondary when the hub fails", () => {
    const pretrain = ok(plan({ topology: exampleTopology(), scope: { region: "eastus2" } }), "pretrain");
    expect(pretrain.target).toEqual({ region: "westus3", zones: [] });
    expect(pretrain.training).toEqual({ hub: "eastus2", secondary: "westus3", runId: "foundation-13b-run-42" });
    expect(pretrain.steps.map((s) => s.id)).toEqual(["detect", "decide", "approve", "resume-training", "verify"]);
    expect(pretrain.steps.find((s) => s.id === "resume-training")?.expectedSeconds).toBe(
      round(52 * mean(L.checkpointHashSecondsPerGb) + mean(L.trainingJobStart)),
    );
    const sized = exampleFrom((r) => (r.workloads[2].training.checkpointSizeGb = 400));
    const big = ok(plan({ topology: sized, scope: { region: "eastus2" }, workload: "pretrain" }), "pretrain");
    expect(big.steps.find((s) => s.id === "resume-training")?.expectedSeconds).toBe(
      round(400 * mean(L.checkpointHashSecondsPerGb) + mean(L.trainingJobStart)),
    );
  });

  it("notes a predicted RTO above the SLO", () => {
    const topology = exampleFrom((r) => (r.workloads[0].slo.rtoSeconds = 600));
    const chat = ok(plan({ topology, scope: { region: "eastus2" }, workload: "chat" }), "chat");
    expect(chat.notes).toContain(`predicted RTO ${chat.predictedRtoSeconds} s exceeds the SLO of 600 s`);
  });
});

describe("input", () => {
  it("throws INVALID_INPUT naming everything the topology lacks", () => {
    const input: PlanInput = {
      topology: exampleTopology(),
      scope: { region: "eastus9" },
      workload: "nope",
      health: { impairedRegions: ["mars"], impairedZones: [{ region: "westus3", zone: "3" }] },
      capacity: { pools: { "chat/westus3/zz": 1, "chat/westus3/a100z1": -1 } },
    };
    expect(checkPlanInput(input)).toEqual([
      'scope: unknown region "eastus9" (known: centralus, eastus2, francecentral, swedencentral, westus3)',
      'workload: unknown workload "nope" (known: chat, chat-lite, pretrain)',
      'impaired region: unknown region "mars" (known: centralus, eastus2, francecentral, swedencentral, westus3)',
      'capacity: unknown pool "chat/westus3/zz" (expected workload/region/pool)',
      "capacity: node count of chat/westus3/a100z1 must be a whole number >= 0, got -1",
    ]);
    expect(() => planFailover(input)).toThrow(CutoverError);
    expect(() => planFailover(input)).toThrow(/^\[INVALID_INPUT\] scope: unknown region "eastus9"/);
  });

  it("rejects a zone the region does not have", () => {
    const topology = exampleFrom((r) => {
      r.regions.francecentral.zones = ["1", "2"];
      delete r.capabilityMatrix.availability.francecentral["3"];
    });
    expect(checkPlanInput({ topology, scope: { region: "francecentral", zone: "3" } })).toEqual([
      "scope: zone 3 is not a zone of francecentral (zones: 1, 2)",
    ]);
  });

  it("plans only the named workload", () => {
    const result = plan({ topology: exampleTopology(), scope: { region: "eastus2" }, workload: "chat-lite" });
    expect(result.workloads).toEqual([]);
    expect(result.notes).toEqual([
      "nothing to do: no chat-lite is affected by a failure of eastus2",
      "chat-lite: not affected: it does not run in eastus2",
    ]);
  });

  it("is deterministic and leaves its input untouched", () => {
    const topology = exampleTopology();
    const before = JSON.stringify(topology);
    const input: PlanInput = { topology: deepFreeze(topology), scope: { region: "eastus2" } };
    const a = planFailover(input);
    const b = planFailover(input);
    expect(b).toEqual(a);
    expect(JSON.stringify(topology)).toBe(before);
  });
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
