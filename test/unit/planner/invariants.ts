/**
 * An independent checker of the planner's invariants. It recomputes what it needs from the plan input and the
 * returned plan only (never from planner internals), so a planner bug cannot hide behind a shared helper:
 * - no plan drains every origin of a workload, and every origin that takes load is alive;
 * - every region that gains load or GPU capacity satisfies residency and tier (the failed zone's own region may
 *   recover inside itself);
 * - pool changes are set-to, above the live count, at most the pool's max, in healthy zones, on available SKUs,
 *   within quota (cumulated over the workloads of the result);
 * - every region that serves traffic after the plan holds its share under the plan's weights;
 * - the predicted RTO equals the longest path to `verify` over counted steps, found by enumerating every path.
 */
import type { PlanInput, PlanResult, WorkloadPlan } from "../../../src/domain/plan";
import type { Topology, Workload } from "../../../src/domain/topology";

const EPS = 1e-6;

interface View {
  readonly topology: Topology;
  readonly regionDown: (region: string) => boolean;
  readonly zoneDown: (region: string, zone: string) => boolean;
  readonly live: (workload: string, region: string, pool: string, fallback: number) => number;
}

function viewOf(input: PlanInput): View {
  const { topology, scope } = input;
  const impaired = new Set(input.health?.impairedRegions ?? []);
  const impairedZones = new Set((input.health?.impairedZones ?? []).map((z) => `${z.region}/${z.zone}`));
  const regionDown = (region: string): boolean =>
    impaired.has(region) || (scope.zone === undefined && scope.region === region);
  return {
    topology,
    regionDown,
    zoneDown: (region, zone) =>
      regionDown(region) || (scope.region === region && scope.zone === zone) || impairedZones.has(`${region}/${zone}`),
    live: (workload, region, pool, fallback) => input.capacity?.pools[`${workload}/${region}/${pool}`] ?? fallback,
  };
}

function eligible(topology: Topology, workload: Workload, region: string): boolean {
  const r = topology.regions[region];
  return (
    r !== undefined && workload.residency.includes(r.geography) && (workload.tier === "light" || r.class === "core")
  );
}

/** Every path ending at `end` through counted steps, as id lists (enumerated, not dynamic programming). */
function allPaths(plan: WorkloadPlan, end: string): string[][] {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const out: string[][] = [];
  const walk = (id: string, suffix: string[], depth: number): void => {
    if (depth > plan.steps.length) throw new Error("cycle");
    const step = byId.get(id);
    if (step === undefined || !step.countsForRto) return;
    const deps = step.after.filter((d) => byId.get(d)?.countsForRto === true);
    if (deps.length === 0) out.push([id, ...suffix]);
    for (const d of deps) walk(d, [id, ...suffix], depth + 1);
  };
  walk(end, [], 0);
  return out;
}

function stepGraphViolations(plan: WorkloadPlan): string[] {
  const v: string[] = [];
  const ids = plan.steps.map((s) => s.id);
  if (new Set(ids).size !== ids.length) v.push("step ids are not unique");
  for (const s of plan.steps)
    for (const d of s.after) if (!ids.includes(d)) v.push(`step ${s.id} depends on unknown ${d}`);
  const verify = plan.steps.find((s) => s.id === "verify");
  if (verify === undefined || !verify.countsForRto) return [...v, "no counted verify step"];
  for (const s of plan.steps)
    if (!Number.isInteger(s.expectedSeconds) || s.expectedSeconds < 0)
      v.push(`step ${s.id}: expectedSeconds ${s.expectedSeconds} is not a whole number >= 0`);
  let paths: string[][];
  try {
    paths = allPaths(plan, "verify");
  } catch {
    return [...v, "the step graph has a cycle"];
  }
  const length = (path: string[]): number =>
    path.reduce((sum, id) => sum + (plan.steps.find((s) => s.id === id)?.expectedSeconds ?? 0), 0);
  const longest = Math.max(...paths.map(length));
  if (longest !== plan.predictedRtoSeconds)
    v.push(`predictedRtoSeconds ${plan.predictedRtoSeconds} is not the longest path ${longest}`);
  const critical = [...plan.criticalPath];
  if (!paths.some((p) => p.join(">") === critical.join(">")))
    v.push(`criticalPath ${critical.join(" → ")} is not a path of counted steps ending at verify`);
  else if (length(critical) !== plan.predictedRtoSeconds) v.push("criticalPath length differs from the predicted RTO");
  for (const kind of ["frontdoor", "propagate"] as const) {
    const s = plan.steps.find((x) => x.kind === kind);
    if (s !== undefined && s.countsForRto && !plan.notes.some((n) => n.includes("propagation is on the RTO path")))
      v.push(`${s.id} counts for RTO without the note that explains why`);
  }
  return v;
}

function inferenceViolations(view: View, input: PlanInput, workload: Workload, plan: WorkloadPlan): string[] {
  const v: string[] = [];
  const { topology } = view;
  const scope = input.scope;
  const matrix = topology.capabilityMatrix;
  const regions = Object.entries(workload.regions);
  const drained = new Set(plan.traffic?.drain.map((d) => d.region) ?? []);

  // Never drain every origin.
  const alive = regions.filter(([r]) => !view.regionDown(r) && !drained.has(r));
  if (alive.length === 0) v.push("the plan leaves no healthy origin");
  for (const t of plan.traffic?.take ?? []) {
    if (view.regionDown(t.region)) v.push(`take ${t.region} is down`);
    if (drained.has(t.region)) v.push(`${t.region} is both drained and taking load`);
    if (t.weight < 1 || t.weight > 1000 || !Number.isInteger(t.weight)) v.push(`weight ${t.weight} out of 1..1000`);
    if (t.priority < 1 || t.priority > 5) v.push(`priority ${t.priority} out of 1..5`);
  }
  if (plan.traffic !== undefined && plan.traffic.take.length === 0) v.push("traffic change with no origin taking load");

  // Serving set after the plan and each region's share.
  let serving: Array<{ region: string; weight: number }>;
  if (plan.traffic !== undefined) serving = plan.traffic.take.map((t) => ({ region: t.region, weight: t.weight }));
  else {
    const top = Math.min(...alive.map(([, e]) => e.priority));
    serving = alive.filter(([, e]) => e.priority === top).map(([region, e]) => ({ region, weight: e.weight }));
  }
  const servingTotal = serving.reduce((s, x) => s + x.weight, 0);
  const load = (region: string): number => {
    const s = serving.find((x) => x.region === region);
    return s === undefined ? 0 : (workload.capacity.gpus * s.weight) / servingTotal;
  };
  const upBefore = regions.filter(([r]) => !(input.health?.impairedRegions ?? []).includes(r));
  const preTop = Math.min(...upBefore.map(([, e]) => e.priority));
  const preBand = upBefore.filter(([, e]) => e.priority === preTop);
  const preTotal = preBand.reduce((s, [, e]) => s + e.weight, 0);
  const preLoad = (region: string): number => {
    const e = preBand.find(([r]) => r === region);
    return e === undefined ? 0 : (workload.capacity.gpus * e[1].weight) / preTotal;
  };

  // Pool changes.
  const changed = new Map(plan.pools.map((p) => [`${p.region}/${p.pool}`, p]));
  for (const p of plan.pools) {
    const pool = workload.regions[p.region]?.gpuPools.find((x) => x.name === p.pool);
    if (pool === undefined) {
      v.push(`pool ${p.region}/${p.pool} is not declared (the planner must never invent pools)`);
      continue;
    }
    const live = view.live(workload.name, p.region, p.pool, pool.current);
    if (p.from !== live) v.push(`${p.region}/${p.pool}: from ${p.from} is not the live count ${live}`);
    if (p.to <= p.from) v.push(`${p.region}/${p.pool}: to ${p.to} does not exceed from ${p.from}`);
    if (p.to > pool.max) v.push(`${p.region}/${p.pool}: to ${p.to} exceeds max ${pool.max}`);
    if (p.zone !== pool.zone || p.vmSize !== pool.vmSize) v.push(`${p.region}/${p.pool}: zone or VM size differs`);
    if (view.zoneDown(p.region, p.zone)) v.push(`${p.region}/${p.pool}: scaled in a down zone`);
    if (!(matrix.availability[p.region]?.[p.zone] ?? []).includes(p.vmSize))
      v.push(`${p.region}/${p.pool}: ${p.vmSize} is not available in zone ${p.zone}`);
    if (
      (input.capacity?.unavailable ?? []).some(
        (u) => u.region === p.region && u.zone === p.zone && u.vmSize === p.vmSize,
      )
    )
      v.push(`${p.region}/${p.pool}: scaled although reported unavailable`);
    if (!plan.steps.some((s) => s.id === `scale:${p.region}/${p.pool}` && s.kind === "scale"))
      v.push(`no scale step for ${p.region}/${p.pool}`);
    if (!plan.steps.some((s) => s.id === `warm:${p.region}`)) v.push(`no warm step for ${p.region}`);
    // What the region would lack if this change failed: its GPUs less the region's overshoot of its load.
    const gpusOf = (vmSize: string): number => matrix.skus[vmSize]?.gpus ?? 1;
    const regionGpus = (workload.regions[p.region]?.gpuPools ?? []).reduce((sum, x) => {
      if (view.zoneDown(p.region, x.zone)) return sum;
      const count = changed.get(`${p.region}/${x.name}`)?.to ?? view.live(workload.name, p.region, x.name, x.current);
      return sum + count * gpusOf(x.vmSize);
    }, 0);
    const overshoot = Math.max(0, regionGpus - Math.ceil(load(p.region) - EPS));
    // (At least one GPU: a fallback always adds something.)
    const deficit = Math.max(1, (p.to - p.from) * gpusOf(p.vmSize) - overshoot);
    for (const c of p.fallbacks) {
      const added = (c.to - c.from) * gpusOf(c.vmSize);
      if (added - gpusOf(c.vmSize) >= deficit - EPS)
        v.push(
          `fallback ${c.region}/${c.pool} adds ${added} GPUs where ${p.region}/${p.pool} failing would leave ${deficit} missing (more than one node too many)`,
        );
      const cp = workload.regions[c.region]?.gpuPools.find((x) => x.name === c.pool);
      if (cp === undefined) v.push(`fallback ${c.region}/${c.pool} is not declared`);
      else if (c.to > cp.max) v.push(`fallback ${c.region}/${c.pool}: to ${c.to} exceeds max ${cp.max}`);
      if (c.region === p.region && c.pool === p.pool) v.push(`${p.pool} lists itself as a fallback`);
      if (cp !== undefined) {
        const setBy = plan.pools.find((x) => x.region === c.region && x.pool === c.pool);
        const expectedFrom = setBy?.to ?? view.live(workload.name, c.region, c.pool, cp.current);
        if (c.from !== expectedFrom)
          v.push(`fallback ${c.region}/${c.pool}: from ${c.from}, but the plan leaves it at ${expectedFrom}`);
        if (c.to <= c.from) v.push(`fallback ${c.region}/${c.pool}: to ${c.to} does not add to ${c.from}`);
      }
      if (view.zoneDown(c.region, c.zone)) v.push(`fallback ${c.region}/${c.pool} is in a down zone`);
      if (!eligible(topology, workload, c.region) && !(scope.zone !== undefined && c.region === scope.region))
        v.push(`fallback ${c.region}/${c.pool} is not an eligible region`);
    }
  }
  for (const s of plan.steps)
    if (s.kind === "scale" && !changed.has(s.id.slice("scale:".length)))
      v.push(`scale step ${s.id} has no pool change`);

  // Capacity holds, residency and tier.
  for (const [region, entry] of regions) {
    const gpus = entry.gpuPools.reduce((sum, pool) => {
      if (view.zoneDown(region, pool.zone)) return sum;
      const count =
        changed.get(`${region}/${pool.name}`)?.to ?? view.live(workload.name, region, pool.name, pool.current);
      return sum + count * (matrix.skus[pool.vmSize]?.gpus ?? 0);
    }, 0);
    const l = load(region);
    if (l > EPS && gpus < l - EPS) v.push(`${region} serves ${l} GPUs of load with only ${gpus} GPUs`);
    const gains = l > preLoad(region) + EPS || plan.pools.some((p) => p.region === region);
    const self = scope.zone !== undefined && scope.region === region;
    if (gains && !eligible(topology, workload, region) && !(self && l <= preLoad(region) + EPS))
      v.push(`${region} gains load or capacity but violates residency or tier`);
  }
  if (!plan.targets.some((t) => t.region === plan.target.region)) v.push("target is not among targets");
  for (const t of plan.targets) if (view.regionDown(t.region)) v.push(`target ${t.region} is down`);
  return v;
}

/** Every invariant the result breaks (empty when it keeps them all). */
export function planViolations(input: PlanInput, result: PlanResult): string[] {
  const v: string[] = [];
  const view = viewOf(input);
  const quotaUse = new Map<string, number>();
  for (const entry of result.workloads) {
    const workload = input.topology.workloads.find((w) => w.name === entry.workload);
    if (workload === undefined) {
      v.push(`unknown workload ${entry.workload}`);
      continue;
    }
    if (entry.status === "refused") {
      if (entry.reasons.length === 0) v.push(`${entry.workload}: refused without a reason`);
      for (const r of entry.reasons)
        if (!result.reasons.includes(`${entry.workload}: ${r}`)) v.push(`reason "${r}" missing from the result`);
      continue;
    }
    const sub = stepGraphViolations(entry);
    if (workload.kind === "inference") sub.push(...inferenceViolations(view, input, workload, entry));
    else {
      const secondary = workload.training?.secondary ?? "";
      if (entry.target.region !== secondary) sub.push("training target is not the secondary");
      if (view.regionDown(secondary) || !eligible(input.topology, workload, secondary))
        sub.push("training secondary is down or not eligible");
    }
    for (const p of entry.pools) {
      const sku = input.topology.capabilityMatrix.skus[p.vmSize];
      if (sku === undefined) continue;
      const key = `${p.region}/${sku.family}`;
      quotaUse.set(key, (quotaUse.get(key) ?? 0) + (p.to - p.from) * sku.vcpus);
    }
    v.push(...sub.map((s) => `${entry.workload}: ${s}`));
  }
  for (const [key, used] of quotaUse) {
    const [region = "", family = ""] = key.split("/");
    const free = input.topology.capabilityMatrix.quotas[region]?.[family];
    if (free !== undefined && used > free) v.push(`quota ${key}: plan uses ${used} vCPUs of ${free}`);
  }
  const refused = result.workloads.some((w) => w.status === "refused");
  if ((result.status === "refused") !== refused) v.push(`status ${result.status} does not match the workloads`);
  const rto = Math.max(0, ...result.workloads.map((w) => (w.status === "ok" ? w.predictedRtoSeconds : 0)));
  if (result.predictedRtoSeconds !== rto) v.push(`result RTO ${result.predictedRtoSeconds} is not the max ${rto}`);
  return v;
}
