/**
 * Property-based tests of the planner over generated topologies, health, capacity and failed scopes. Every
 * generated topology is built through the real schema and cross-checks (the builder throws on an invalid one).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PlanInput, PlanResult, WorkloadPlan } from "../../../src/domain/plan";
import { planFailover } from "../../../src/domain/planner";
import type { Topology, Zone } from "../../../src/domain/topology";
import {
  buildTopology,
  SKUS,
  type PoolSpec,
  type SkuName,
  type TopologySpec,
  type WorkloadRegionSpec,
  type WorkloadSpec,
} from "../support/topology-fixtures";
import { planViolations } from "./invariants";

const REGIONS = ["eastus2", "westus3", "centralus", "swedencentral", "francecentral"] as const;
const SKU_NAMES = Object.keys(SKUS) as SkuName[];
const ZONES: Zone[] = ["1", "2", "3"];

interface Options {
  /** Every region in one geography and every workload light: every region is an eligible target. */
  readonly allEligible: boolean;
  readonly quotas: boolean;
}

function generate(g: fc.GeneratorValue, options: Options): PlanInput {
  const regionCount = g(fc.integer, { min: 2, max: REGIONS.length });
  const names = REGIONS.slice(0, regionCount);
  const regions: TopologySpec["regions"] = Object.fromEntries(
    names.map((name) => [
      name,
      {
        geography: options.allEligible ? "us" : g(fc.constantFrom, "us", "eu"),
        class: g(fc.constantFrom, "core" as const, "edge" as const),
        zones: g(fc.subarray, ZONES, { minLength: 1 }),
      },
    ]),
  );
  const availability = Object.fromEntries(
    names.map((name) => [
      name,
      Object.fromEntries((regions[name]?.zones ?? []).map((z) => [z, g(fc.subarray, SKU_NAMES)])),
    ]),
  );
  const fallbacks = Object.fromEntries(
    SKU_NAMES.map((sku) => [
      sku,
      g(
        fc.shuffledSubarray,
        SKU_NAMES.filter((s) => s !== sku),
      ),
    ]),
  );
  const quotas: Record<string, Record<string, number>> = {};
  if (options.quotas)
    for (const name of names)
      if (g(fc.boolean))
        quotas[name] = {
          standardNCADSA100v4Family: g(fc.integer, { min: 0, max: 300 }),
          standardNCadsH100v5Family: g(fc.integer, { min: 0, max: 200 }),
        };

  const workloads: WorkloadSpec[] = [];
  const inferenceCount = g(fc.integer, { min: 1, max: 2 });
  for (let w = 0; w < inferenceCount; w++) {
    // Heavy inference may only list core regions, and residency must leave two eligible regions (cross-checks):
    // when a draw breaks either, widen it rather than discard it.
    let tier = options.allEligible ? "light" : g(fc.constantFrom, "light" as const, "heavy" as const);
    let allowed = names.filter((n) => tier === "light" || regions[n]?.class === "core");
    if (allowed.length < 2) {
      tier = "light";
      allowed = [...names];
    }
    const chosen = g(fc.subarray, allowed, { minLength: 2 });
    const geographies = [...new Set(names.map((n) => regions[n]?.geography ?? "us"))];
    let residency = options.allEligible ? ["us"] : g(fc.subarray, geographies, { minLength: 1 });
    if (chosen.filter((n) => residency.includes(regions[n]?.geography ?? "")).length < 2) residency = geographies;
    const wregions: Record<string, WorkloadRegionSpec> = {};
    for (const region of chosen) {
      const zones = regions[region]?.zones ?? [];
      const poolCount = g(fc.constantFrom, 0, 1, 1, 2, 2, 3);
      const pools: PoolSpec[] = [];
      for (let p = 0; p < poolCount; p++) {
        const max = g(fc.integer, { min: 0, max: 8 });
        pools.push({
          name: `p${p}`,
          zone: g(fc.constantFrom, ...zones),
          vmSize: g(fc.constantFrom, ...SKU_NAMES),
          max,
          current: g(fc.integer, { min: 0, max }),
        });
      }
      wregions[region] = {
        priority: g(fc.integer, { min: 1, max: 3 }),
        weight: g(fc.integer, { min: 1, max: 100 }),
        pools,
      };
    }
    workloads.push({
      name: `w${w}`,
      tier,
      residency,
      gpus: g(fc.integer, { min: 1, max: 16 }),
      approval: g(
        fc.constantFrom,
        { mode: "auto" },
        { mode: "manual", timeoutSeconds: 600 },
        { mode: "auto-after-timeout", timeoutSeconds: 90 },
      ),
      regions: wregions,
    });
  }
  if (g(fc.boolean)) {
    const [hub, secondary] = g(fc.shuffledSubarray, [...names], { minLength: 2, maxLength: 2 });
    if (hub !== undefined && secondary !== undefined) {
      const geography = regions[secondary]?.geography ?? "us";
      workloads.push({
        name: "train",
        kind: "training",
        tier: "light",
        residency: [geography],
        gpus: 8,
        regions: { [hub]: {}, [secondary]: {} },
        training: { hub, secondary },
      });
    }
  }
  const topology = buildTopology({ regions, availability, fallbacks, quotas, workloads });

  const region = g(fc.constantFrom, ...names);
  const zone = g(fc.option, fc.constantFrom(...(regions[region]?.zones ?? ZONES)), { nil: undefined, freq: 2 });
  const others = names.filter((n) => n !== region);
  const impairedRegions = g(fc.subarray, others, { maxLength: 1 });
  const zonePairs = names.flatMap((n) => (regions[n]?.zones ?? []).map((z) => ({ region: n, zone: z })));
  const impairedZones = g(fc.subarray, zonePairs, { maxLength: 2 });
  const triples = zonePairs.flatMap((p) =>
    SKU_NAMES.map((vmSize) => ({ ...p, vmSize, reason: "ZonalAllocationFailed" })),
  );
  const unavailable = g(fc.subarray, triples, { maxLength: 2 });
  const pools: Record<string, number> = {};
  for (const w of topology.workloads)
    for (const [r, entry] of Object.entries(w.regions))
      for (const pool of entry.gpuPools)
        if (g(fc.integer, { min: 0, max: 9 }) === 0)
          pools[`${w.name}/${r}/${pool.name}`] = g(fc.integer, { min: 0, max: pool.max + 1 });
  return {
    topology,
    scope: zone === undefined ? { region } : { region, zone },
    health: { impairedRegions, impairedZones },
    capacity: { pools, unavailable },
    detection: g(fc.constantFrom, "alert" as const, "probe" as const, "none" as const),
  };
}

/** Upper bound of what a region's healthy pools can hold, computed without the planner (no quotas in use). */
function maxReach(input: PlanInput, topology: Topology, workload: string, region: string): number {
  const w = topology.workloads.find((x) => x.name === workload);
  const entry = w?.regions[region];
  if (w === undefined || entry === undefined) return 0;
  const { scope } = input;
  const impaired = input.health?.impairedRegions ?? [];
  if (impaired.includes(region) || (scope.zone === undefined && scope.region === region)) return 0;
  let gpus = 0;
  for (const pool of entry.gpuPools) {
    const zoneDown =
      (scope.region === region && scope.zone === pool.zone) ||
      (input.health?.impairedZones ?? []).some((z) => z.region === region && z.zone === pool.zone);
    if (zoneDown) continue;
    const live = input.capacity?.pools[`${workload}/${region}/${pool.name}`] ?? pool.current;
    const scalable =
      (topology.capabilityMatrix.availability[region]?.[pool.zone] ?? []).includes(pool.vmSize) &&
      !(input.capacity?.unavailable ?? []).some(
        (u) => u.region === region && u.zone === pool.zone && u.vmSize === pool.vmSize,
      ) &&
      live <= pool.max;
    gpus += (scalable ? pool.max : live) * (topology.capabilityMatrix.skus[pool.vmSize]?.gpus ?? 0);
  }
  return gpus;
}

/** What kind of case a result is, to show the generator reaches every branch worth testing. */
function classify(input: PlanInput, result: PlanResult): string[] {
  const kinds: string[] = [input.scope.zone === undefined ? "region failure" : "zone failure"];
  for (const w of result.workloads) {
    if (w.status === "refused") {
      const reason = w.reasons[0] ?? "";
      kinds.push(
        reason.startsWith("refusing to drain")
          ? "refused: last healthy origin"
          : reason.startsWith("not enough capacity")
            ? "refused: capacity"
            : reason.startsWith("no eligible target")
              ? "refused: no eligible target"
              : "refused: other",
      );
      continue;
    }
    kinds.push(`plan: ${w.kind}`);
    if (w.pools.length > 0) kinds.push("pool changes");
    if (w.pools.some((p) => p.fallbacks.length > 0)) kinds.push("fallback chains");
    if (w.notes.some((n) => n.includes("propagation is on the RTO path"))) kinds.push("weight shift");
    if (w.traffic?.take.some((t) => w.loads?.find((l) => l.region === t.region)?.beforeGpus === 0 && t.priority === 1))
      kinds.push("band pulled in or new region");
    if (w.notes.some((n) => n.includes("keeps serving at most its previous share"))) kinds.push("bystander");
    if (w.notes.some((n) => n.includes("can hold no GPUs after the failure"))) kinds.push("empty origin drained");
    if (input.scope.zone !== undefined && w.pools.some((p) => p.region === input.scope.region))
      kinds.push("in-region recovery");
    if (
      input.scope.zone !== undefined &&
      (w.traffic?.take.length ?? 0) > 1 &&
      w.notes.some((n) => n.includes("propagation"))
    )
      kinds.push("zone spill");
  }
  return kinds;
}

describe("planner properties", () => {
  it("the generator reaches every branch worth testing (fixed seed)", () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.gen().map((g) => generate(g, { allEligible: false, quotas: true })),
        (input) => {
          for (const kind of classify(input, planFailover(input))) seen.set(kind, (seen.get(kind) ?? 0) + 1);
        },
      ),
      { numRuns: 800, seed: 20261102 },
    );
    for (const kind of [
      "region failure",
      "zone failure",
      "refused: last healthy origin",
      "refused: capacity",
      "refused: no eligible target",
      "plan: inference",
      "plan: training",
      "pool changes",
      "fallback chains",
      "weight shift",
      "bystander",
      "empty origin drained",
      "in-region recovery",
      "zone spill",
    ])
      expect({ kind, seen: (seen.get(kind) ?? 0) > 0 }).toEqual({ kind, seen: true });
  });

  it("every result keeps every invariant, and planning is deterministic", () => {
    fc.assert(
      fc.property(
        fc.gen().map((g) => generate(g, { allEligible: false, quotas: true })),
        (input) => {
          const result = planFailover(input);
          expect(planViolations(input, result)).toEqual([]);
          expect(planFailover(input)).toEqual(result);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("refuses for capacity exactly when the eligible regions cannot hold the workload even at their max", () => {
    let refusals = 0;
    let plans = 0;
    fc.assert(
      fc.property(
        fc.gen().map((g) => generate(g, { allEligible: true, quotas: false })),
        (input) => {
          const result = planFailover(input);
          for (const entry of result.workloads) {
            const workload = input.topology.workloads.find((w) => w.name === entry.workload);
            if (workload === undefined || workload.kind !== "inference") continue;
            const total = Object.keys(workload.regions).reduce(
              (sum, region) => sum + maxReach(input, input.topology, workload.name, region),
              0,
            );
            if (entry.status === "refused") refusals++;
            else plans++;
            expect({ workload: entry.workload, refused: entry.status === "refused" }).toEqual({
              workload: entry.workload,
              refused: total < workload.capacity.gpus,
            });
          }
        },
      ),
      { numRuns: 400 },
    );
    // The generator must produce both outcomes, or this property proves nothing.
    expect(refusals).toBeGreaterThan(10);
    expect(plans).toBeGreaterThan(10);
  });

  it("the invariant checker catches tampered plans (negative control)", () => {
    let tampered = 0;
    fc.assert(
      fc.property(
        fc.gen().map((g) => generate(g, { allEligible: false, quotas: false })),
        (input) => {
          const result = planFailover(input);
          const index = result.workloads.findIndex((w) => w.status === "ok" && w.kind === "inference");
          const plan = result.workloads[index] as WorkloadPlan | undefined;
          if (plan === undefined) return;
          const swap = (changed: WorkloadPlan) => ({
            ...result,
            workloads: result.workloads.map((w, i) => (i === index ? changed : w)),
            predictedRtoSeconds: Math.max(
              ...result.workloads.map((w, i) =>
                i === index ? changed.predictedRtoSeconds : w.status === "ok" ? w.predictedRtoSeconds : 0,
              ),
            ),
          });
          // A wrong RTO.
          const rto = plan.predictedRtoSeconds + 1;
          expect(planViolations(input, swap({ ...plan, predictedRtoSeconds: rto }))).not.toEqual([]);
          // Every origin drained.
          const origins = Object.entries(input.topology.workloads.find((w) => w.name === plan.workload)?.regions ?? {});
          const drainAll = {
            ...plan,
            traffic: {
              frontDoor: "afd",
              kind: "standard" as const,
              drain: origins.map(([region, e]) => ({ region, origin: e.origin ?? "" })),
              take: [],
            },
          };
          expect(planViolations(input, swap(drainAll))).not.toEqual([]);
          // A pool above its max.
          const first = plan.pools[0];
          const max =
            input.topology.workloads
              .find((w) => w.name === plan.workload)
              ?.regions[first?.region ?? ""]?.gpuPools.find((p) => p.name === first?.pool)?.max ?? 0;
          const over =
            first === undefined ? undefined : { ...plan, pools: [{ ...first, to: max + 1 }, ...plan.pools.slice(1)] };
          expect(over === undefined ? ["no pool to tamper with"] : planViolations(input, swap(over))).not.toEqual([]);
          tampered++;
        },
      ),
      { numRuns: 150 },
    );
    expect(tampered).toBeGreaterThan(20);
  });
});
