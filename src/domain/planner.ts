/**
 * The failover planner: given the topology, the capability matrix, current health and capacity and a failed scope
 * (a region, or one zone of a region), it returns per affected workload either a plan or a refusal with reasons.
 *
 * Pure and deterministic: no I/O, no clock, no randomness; iteration follows topology order. A runbook calls it from
 * an activity, a drill shows it as a preview, and `cutover plan` prints it.
 *
 * Invariants every returned plan keeps (property-tested in test/unit/planner):
 * - it never drains the last healthy origin of a workload (Front Door fails open when every origin is unhealthy);
 * - every region that gains load or GPU capacity satisfies the workload's residency and tier, except the failed
 *   region itself recovering inside its healthy zones after a zone failure (no traffic leaves the region);
 * - pool counts are set-to, never above the pool's `max`, never below its current count, and only for pools whose
 *   VM size the matrix lists in that zone and that did not fail to allocate there, within free vCPU quota;
 * - every region that serves traffic after the plan holds its share of `capacity.gpus` under the plan's weights;
 * - `predictedRtoSeconds` is the longest path to `verify` through the steps that count for RTO.
 *
 * The planner never invents pools: it scales only the GPU pools the topology declares (standby pools have min 0).
 */
import { CutoverError } from "./errors";
import {
  DEFAULT_LATENCY_MODEL,
  mean,
  nodeProvisioningFor,
  probeWindowSeconds,
  type LatencyModel,
} from "./latency-model";
import {
  poolKey,
  type FailedScope,
  type OriginRef,
  type PlanInput,
  type PlanResult,
  type PlanStep,
  type PoolCandidate,
  type PoolChange,
  type RegionLoad,
  type TrafficChange,
  type WarmupStep,
  type WorkloadPlan,
  type WorkloadRefusal,
} from "./plan";
import { criticalPathTo } from "./step-graph";
import {
  probeSchema,
  type GpuPool,
  type ProbeSettings,
  type Topology,
  type Workload,
  type WorkloadRegion,
  type Zone,
} from "./topology";

const EPS = 1e-9;
/** Front Door origin weights are integers 1–1000 (azure-facts §1.2). */
const MAX_WEIGHT = 1000;

/** `eastus2` or `eastus2 zone 1`. */
export function describeScope(scope: FailedScope): string {
  return scope.zone === undefined ? scope.region : `${scope.region} zone ${scope.zone}`;
}

/**
 * Every problem with a plan input that refers to things the topology does not have (unknown region, zone, workload,
 * pool or VM size, negative counts). Empty when the input is usable. {@link planFailover} throws `INVALID_INPUT` with
 * these; callers that want to show them one per line (the CLI) call this first.
 */
export function checkPlanInput(input: PlanInput): string[] {
  const problems: string[] = [];
  const { topology, scope } = input;
  const regionNames = Object.keys(topology.regions).sort();
  const checkRegionZone = (what: string, region: string, zone: string | undefined): void => {
    const r = topology.regions[region];
    if (r === undefined) problems.push(`${what}: unknown region "${region}" (known: ${regionNames.join(", ")})`);
    else if (zone !== undefined && !r.zones.includes(zone as Zone))
      problems.push(`${what}: zone ${zone} is not a zone of ${region} (zones: ${r.zones.join(", ") || "none"})`);
  };
  checkRegionZone("scope", scope.region, scope.zone);
  if (input.workload !== undefined && !topology.workloads.some((w) => w.name === input.workload))
    problems.push(
      `workload: unknown workload "${input.workload}" (known: ${topology.workloads.map((w) => w.name).join(", ")})`,
    );
  if (input.detection !== undefined && !["alert", "probe", "none"].includes(input.detection))
    problems.push(`detection: expected "alert" | "probe" | "none", got ${JSON.stringify(input.detection)}`);
  for (const region of input.health?.impairedRegions ?? []) checkRegionZone("impaired region", region, undefined);
  for (const { region, zone } of input.health?.impairedZones ?? []) checkRegionZone("impaired zone", region, zone);
  const keys = new Set<string>();
  for (const w of topology.workloads)
    for (const [region, entry] of Object.entries(w.regions))
      for (const pool of entry.gpuPools) keys.add(poolKey(w.name, region, pool.name));
  for (const [key, count] of Object.entries(input.capacity?.pools ?? {})) {
    if (!keys.has(key)) problems.push(`capacity: unknown pool "${key}" (expected workload/region/pool)`);
    if (!Number.isInteger(count) || count < 0)
      problems.push(`capacity: node count of ${key} must be a whole number >= 0, got ${count}`);
  }
  for (const u of input.capacity?.unavailable ?? []) {
    checkRegionZone("unavailable", u.region, u.zone);
    if (topology.capabilityMatrix.skus[u.vmSize] === undefined)
      problems.push(`unavailable: VM size ${u.vmSize} is not in the capability matrix`);
  }
  for (const m of input.modelStores?.missing ?? []) {
    const w = topology.workloads.find((x) => x.name === m.workload);
    if (w === undefined) problems.push(`modelStores: unknown workload "${m.workload}"`);
    else if (w.regions[m.region] === undefined) problems.push(`modelStores: ${m.workload} has no region "${m.region}"`);
  }
  return problems;
}

/**
 * Plans the failover of every workload the scope affects (or only `input.workload`). Throws `CutoverError`
 * `INVALID_INPUT` when the input names things the topology lacks ({@link checkPlanInput}); every other outcome,
 * including a refusal, is returned.
 */
export function planFailover(input: PlanInput): PlanResult {
  const problems = checkPlanInput(input);
  if (problems.length > 0) throw new CutoverError("INVALID_INPUT", problems.join("; "));
  const ctx = makeContext(input);
  const selected =
    input.workload === undefined
      ? input.topology.workloads
      : input.topology.workloads.filter((w) => w.name === input.workload);
  const workloads: Array<WorkloadPlan | WorkloadRefusal> = [];
  const notes: string[] = [];
  for (const workload of selected) {
    const outcome = workload.kind === "training" ? planTraining(ctx, workload) : planInference(ctx, workload);
    if (outcome.status === "unaffected") notes.push(`${workload.name}: ${outcome.note}`);
    else workloads.push(outcome);
  }
  if (workloads.length === 0)
    notes.unshift(
      `nothing to do: no ${input.workload ?? "workload"} is affected by a failure of ${describeScope(input.scope)}`,
    );
  const refusals = workloads.filter((w): w is WorkloadRefusal => w.status === "refused");
  const planned = workloads.filter((w): w is WorkloadPlan => w.status === "ok");
  return {
    status: refusals.length > 0 ? "refused" : "ok",
    scope: input.scope.zone === undefined ? { region: input.scope.region } : { ...input.scope },
    reasons: refusals.flatMap((r) => r.reasons.map((reason) => `${r.workload}: ${reason}`)),
    workloads,
    predictedRtoSeconds: planned.reduce((max, p) => Math.max(max, p.predictedRtoSeconds), 0),
    notes,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Context: health, live counts, allocation failures and the quota ledger shared by every workload of one plan.

interface Context {
  readonly topology: Topology;
  readonly scope: FailedScope;
  readonly latency: LatencyModel;
  readonly detection: "alert" | "probe" | "none";
  readonly impairedRegions: ReadonlySet<string>;
  readonly impairedZones: ReadonlySet<string>;
  readonly livePools: Readonly<Record<string, number>>;
  readonly unavailable: ReadonlyMap<string, string>;
  readonly modelMissing: ReadonlySet<string> | undefined;
  /** `region/family` → vCPUs still free. Workloads are planned in topology order and consume it in turn. */
  readonly quota: Map<string, number>;
}

function makeContext(input: PlanInput): Context {
  const quota = new Map<string, number>();
  for (const [region, families] of Object.entries(input.topology.capabilityMatrix.quotas))
    for (const [family, vcpus] of Object.entries(families)) quota.set(`${region}/${family}`, vcpus);
  return {
    topology: input.topology,
    scope: input.scope,
    latency: input.latency ?? DEFAULT_LATENCY_MODEL,
    detection: input.detection ?? "alert",
    impairedRegions: new Set(input.health?.impairedRegions ?? []),
    impairedZones: new Set((input.health?.impairedZones ?? []).map((z) => `${z.region}/${z.zone}`)),
    livePools: input.capacity?.pools ?? {},
    unavailable: new Map(
      (input.capacity?.unavailable ?? []).map((u) => [`${u.region}/${u.zone}/${u.vmSize}`, u.reason] as const),
    ),
    modelMissing:
      input.modelStores === undefined
        ? undefined
        : new Set(input.modelStores.missing.map((m) => `${m.workload}/${m.region}`)),
    quota,
  };
}

function isRegionFailure(ctx: Context): boolean {
  return ctx.scope.zone === undefined;
}

/** Why a region takes no traffic and provides nothing after the failure, or undefined when it is alive. */
function regionDown(ctx: Context, region: string): string | undefined {
  if (isRegionFailure(ctx) && region === ctx.scope.region) return `${region} is the failed region`;
  if (ctx.impairedRegions.has(region)) return `${region} is impaired`;
  return undefined;
}

function zoneDown(ctx: Context, region: string, zone: Zone): string | undefined {
  const down = regionDown(ctx, region);
  if (down !== undefined) return down;
  if (ctx.scope.region === region && ctx.scope.zone === zone) return `zone ${zone} of ${region} failed`;
  if (ctx.impairedZones.has(`${region}/${zone}`)) return `zone ${zone} of ${region} is impaired`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Pools and allocation.

interface Slot {
  readonly region: string;
  readonly entry: WorkloadRegion;
  readonly pool: GpuPool;
  /** Position in the workload (regions, then pools, in topology order): the tie-breaker everywhere. */
  readonly order: number;
  readonly gpus: number;
  readonly vcpus: number;
  readonly family: string;
  /** `region/family`: the quota ledger key. */
  readonly quotaKey: string;
  readonly current: number;
  /** Why the pool's zone provides nothing now. */
  readonly down: string | undefined;
  /** Why the pool cannot scale up (its zone is up). */
  readonly blocked: string | undefined;
  planned: number;
}

function slotsOf(ctx: Context, workload: Workload): Slot[] {
  const slots: Slot[] = [];
  const matrix = ctx.topology.capabilityMatrix;
  for (const [region, entry] of Object.entries(workload.regions)) {
    for (const pool of entry.gpuPools) {
      const sku = matrix.skus[pool.vmSize];
      if (sku === undefined) continue; // the topology cross-checks make this impossible
      const current = ctx.livePools[poolKey(workload.name, region, pool.name)] ?? pool.current;
      const unavailable = ctx.unavailable.get(`${region}/${pool.zone}/${pool.vmSize}`);
      let blocked: string | undefined;
      if (!(matrix.availability[region]?.[pool.zone] ?? []).includes(pool.vmSize))
        blocked = `${pool.vmSize} not available in zone ${pool.zone}`;
      else if (unavailable !== undefined)
        blocked = `${pool.vmSize} failed to allocate in zone ${pool.zone} (${unavailable})`;
      else if (current > pool.max) blocked = `live count ${current} is above its max ${pool.max}`;
      slots.push({
        region,
        entry,
        pool,
        order: slots.length,
        gpus: sku.gpus,
        vcpus: sku.vcpus,
        family: sku.family,
        quotaKey: `${region}/${sku.family}`,
        current,
        down: zoneDown(ctx, region, pool.zone),
        blocked,
        planned: current,
      });
    }
  }
  return slots;
}

function canAddNode(slot: Slot, ledger: ReadonlyMap<string, number>): boolean {
  return (
    slot.down === undefined &&
    slot.blocked === undefined &&
    slot.planned < slot.pool.max &&
    (ledger.get(slot.quotaKey) ?? Number.POSITIVE_INFINITY) >= slot.vcpus
  );
}

function healthyGpus(slots: ReadonlyArray<Slot>): number {
  return slots.reduce((sum, s) => sum + (s.down === undefined ? s.planned * s.gpus : 0), 0);
}

/**
 * Adds nodes one at a time until the region's healthy pools hold `need` GPUs or nothing more can be added. Each node
 * goes to the scalable pool whose zone holds the fewest GPUs (spreading the load over zones), ties to the pool listed
 * first. The choice depends only on the current state, so a run with a smaller `need` is a prefix of a run with a
 * larger one: whatever `reachOf` reports is reachable for any smaller need. Mutates the slots and the ledger.
 */
function allocate(slots: ReadonlyArray<Slot>, need: number, ledger: Map<string, number>): number {
  let have = healthyGpus(slots);
  while (have < need - EPS) {
    const zoneGpus = new Map<string, number>();
    for (const s of slots)
      if (s.down === undefined) zoneGpus.set(s.pool.zone, (zoneGpus.get(s.pool.zone) ?? 0) + s.planned * s.gpus);
    let choice: Slot | undefined;
    for (const s of slots) {
      if (!canAddNode(s, ledger)) continue;
      if (choice === undefined || (zoneGpus.get(s.pool.zone) ?? 0) < (zoneGpus.get(choice.pool.zone) ?? 0)) choice = s;
    }
    if (choice === undefined) break;
    choice.planned += 1;
    have += choice.gpus;
    const left = ledger.get(choice.quotaKey);
    if (left !== undefined) ledger.set(choice.quotaKey, left - choice.vcpus);
  }
  return have;
}

/**
 * Spare nodes for one scale-up: `wanted`, capped at the pool's max and at the vCPU quota left in the ledger (which it
 * then takes, so later plans see it in use).
 */
function spareNodesFor(slot: Slot, wanted: number, ledger: Map<string, number>): number {
  let spare = Math.max(0, Math.min(wanted, slot.pool.max - slot.planned));
  const left = ledger.get(slot.quotaKey);
  if (left !== undefined) {
    spare = Math.max(0, Math.min(spare, Math.floor(left / slot.vcpus)));
    ledger.set(slot.quotaKey, left - spare * slot.vcpus);
  }
  return spare;
}

/** GPUs the region's healthy pools can reach after scaling, and why each pool stops where it does. */
function reachOf(slots: ReadonlyArray<Slot>, ledger: ReadonlyMap<string, number>): { gpus: number; limits: string[] } {
  const copies = slots.map((s) => ({ ...s }));
  const scratch = new Map(ledger);
  const gpus = allocate(copies, Number.POSITIVE_INFINITY, scratch);
  const limits = copies.map((s) => {
    const name = `${s.region}/${s.pool.name}`;
    if (s.down !== undefined) return `${name}: ${s.down}`;
    if (s.blocked !== undefined) return `${name}: ${s.blocked}`;
    if (s.planned >= s.pool.max) return `${name}: at its max ${s.pool.max}`;
    return `${name}: quota ${s.family} in ${s.region} has ${scratch.get(s.quotaKey) ?? 0} vCPUs left, a node needs ${s.vcpus}`;
  });
  return { gpus, limits };
}

// ---------------------------------------------------------------------------------------------------------------
// Inference workloads.

type Outcome = WorkloadPlan | WorkloadRefusal | { readonly status: "unaffected"; readonly note: string };

interface Member {
  readonly key: string;
  readonly entry: WorkloadRegion;
  readonly origin: string;
  readonly priority: number;
  readonly weight: number;
  readonly order: number;
  readonly slots: Slot[];
  readonly down: string | undefined;
  readonly eligible: boolean;
  readonly whyIneligible: string | undefined;
  /** Zone failure: this is the failed zone's region (it may recover inside its healthy zones whatever its residency). */
  readonly self: boolean;
  readonly preLoad: number;
  /** Healthy GPUs now; GPUs reachable by scaling (equal to `now` for regions that may not scale). */
  readonly now: number;
  readonly reach: number;
  readonly limits: ReadonlyArray<string>;
  /** Most load the region may carry: its reach, and for a region outside residency no more than it carried before. */
  readonly cap: number;
}

function refuse(workload: Workload, reasons: string[]): WorkloadRefusal {
  return { status: "refused", workload: workload.name, kind: workload.kind, reasons };
}

function eligibility(ctx: Context, workload: Workload, region: string): string | undefined {
  const r = ctx.topology.regions[region];
  if (r === undefined) return `${region} is not declared`;
  if (!workload.residency.includes(r.geography))
    return `${region} is outside residency [${workload.residency.join(", ")}]`;
  if (workload.tier === "heavy" && r.class !== "core")
    return `${region} is an ${r.class} region and the model is heavy`;
  return undefined;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/\.?0+$/, "");
}

function planInference(ctx: Context, workload: Workload): Outcome {
  const scope = ctx.scope;
  const scopeText = describeScope(scope);
  const failedEntry = workload.regions[scope.region];
  if (failedEntry === undefined)
    return { status: "unaffected", note: `not affected: it does not run in ${scope.region}` };
  const allSlots = slotsOf(ctx, workload);
  if (!isRegionFailure(ctx)) {
    const inZone = allSlots.filter((s) => s.region === scope.region && s.pool.zone === scope.zone);
    if (inZone.length === 0) return { status: "unaffected", note: `not affected: it has no GPU pool in ${scopeText}` };
    if (inZone.every((s) => s.current === 0))
      return {
        status: "unaffected",
        note: `not affected: its pools in ${scopeText} (${inZone.map((s) => s.pool.name).join(", ")}) have no nodes`,
      };
  }
  const frontDoorName = workload.frontDoor ?? "";
  const frontDoor = ctx.topology.frontDoors[frontDoorName];
  if (frontDoor === undefined) return refuse(workload, [`Front Door "${frontDoorName}" is not declared`]);
  const demand = workload.capacity.gpus;
  const notes: string[] = [];

  // Before the failure: Front Door serves the lowest priority value among origins that are up, split by weight.
  const regionKeys = Object.keys(workload.regions);
  const upBefore = regionKeys.filter((key) => !ctx.impairedRegions.has(key));
  const preBand = bandOf(upBefore.map((key) => ({ key, ...originOf(workload.regions[key]) })));
  const preWeight = preBand.reduce((s, m) => s + m.weight, 0);
  const preLoadOf = (key: string): number => {
    const m = preBand.find((x) => x.key === key);
    return m === undefined || preWeight === 0 ? 0 : (demand * m.weight) / preWeight;
  };

  const members: Member[] = regionKeys.map((key, order) => {
    const entry = workload.regions[key] as WorkloadRegion;
    const slots = allSlots.filter((s) => s.region === key);
    const down = regionDown(ctx, key);
    const whyIneligible = eligibility(ctx, workload, key);
    const self = !isRegionFailure(ctx) && key === scope.region;
    const now = healthyGpus(slots);
    const mayScale = down === undefined && (whyIneligible === undefined || self);
    const reach = mayScale ? reachOf(slots, ctx.quota) : { gpus: now, limits: [] };
    const preLoad = preLoadOf(key);
    return {
      key,
      entry,
      ...originOf(entry),
      order,
      slots,
      down,
      eligible: whyIneligible === undefined,
      whyIneligible,
      self,
      preLoad,
      now,
      reach: down === undefined ? reach.gpus : 0,
      limits: reach.limits,
      cap: down !== undefined ? 0 : whyIneligible === undefined ? reach.gpus : Math.min(reach.gpus, preLoad),
    };
  });
  for (const m of members)
    if (m.down !== undefined && !(isRegionFailure(ctx) && m.key === scope.region))
      notes.push(`${m.down}: not a target`);

  const drained = new Set<string>();
  if (isRegionFailure(ctx)) drained.add(scope.region);
  const live = (): Member[] => members.filter((m) => m.down === undefined && !drained.has(m.key));

  // Origins in the serving band that can carry nothing are drained: Front Door would otherwise keep sending them
  // traffic (a region outside residency that carried nothing before counts: draining it keeps the traffic out).
  let weights: Map<string, number> | undefined;
  let priorityOf = new Map<string, number>();
  let band: Member[] = [];
  let shifted = false;
  for (;;) {
    const alive = live();
    if (alive.length === 0) break;
    const top = Math.min(...alive.map((m) => m.priority));
    band = alive.filter((m) => m.priority === top);
    const empty = band.filter((m) => m.cap <= EPS);
    if (empty.length > 0) {
      for (const m of empty) {
        drained.add(m.key);
        notes.push(
          m.eligible || m.self
            ? `${m.key} can hold no GPUs after the failure; its origin is drained so Front Door stops sending it traffic`
            : `${m.whyIneligible ?? m.key} and carried no traffic before; its origin is drained so the traffic does not move there`,
        );
      }
      continue;
    }
    // Natural split: Front Door's own weights among the band once the drained origins are out.
    const total = band.reduce((s, m) => s + m.weight, 0);
    if (band.every((m) => (demand * m.weight) / total <= m.cap + EPS)) {
      weights = new Map(band.map((m) => [m.key, m.weight]));
      priorityOf = new Map(band.map((m) => [m.key, m.priority]));
      break;
    }
    // Shift weights toward regions that can hold more, pulling in eligible regions from the next bands if needed.
    const pull = alive
      .filter((m) => m.priority > top && m.eligible && (m.cap * weightTotal(demand)) / demand >= 1 - EPS)
      .sort((a, b) => a.priority - b.priority || a.order - b.order);
    let tooSmall: Member | undefined;
    for (let k = 0; k <= pull.length && weights === undefined; k++) {
      const set = [...band, ...pull.slice(0, k)];
      const result = shiftWeights(set, demand);
      if (result.kind === "too-small" && k === 0) tooSmall = result.member;
      if (result.kind === "ok") {
        weights = result.weights;
        band = set;
      }
    }
    if (weights === undefined && tooSmall !== undefined) {
      // A band member cannot take even one weight unit of traffic: drain it and try again.
      drained.add(tooSmall.key);
      notes.push(`${tooSmall.key} can hold too little to stay in the serving band; its origin is drained`);
      continue;
    }
    priorityOf = new Map(band.map((m) => [m.key, top]));
    shifted = weights !== undefined;
    break;
  }

  // Guards and refusals.
  const drainedMembers = members.filter((m) => drained.has(m.key));
  if (live().length === 0) {
    const reasons = drainedMembers
      .filter((m) => m.key === scope.region)
      .map(
        (m) =>
          `refusing to drain ${m.origin}: it is the last healthy origin of ${workload.name} (Front Door fails open when every origin is unhealthy)`,
      );
    const others = members.filter((m) => m.key !== scope.region);
    if (reasons.length === 0)
      reasons.push(
        `no origin of ${workload.name} would stay healthy (Front Door fails open when every origin is unhealthy)`,
      );
    for (const m of others)
      reasons.push(
        m.down ??
          (m.eligible || m.self
            ? `${m.key} can hold no GPUs (${m.limits.join("; ") || "no GPU pools"})`
            : (m.whyIneligible ?? m.key)),
      );
    if (!isRegionFailure(ctx)) {
      const self = members.find((m) => m.self);
      if (self !== undefined && self.cap <= EPS)
        reasons.push(
          `${scope.region} has no usable GPU pool outside zone ${scope.zone ?? ""} (${self.limits.join("; ") || "no GPU pools"})`,
        );
    }
    return refuse(workload, reasons);
  }
  const candidates = members.filter((m) => m.down === undefined && (m.eligible || m.self));
  if (weights === undefined && candidates.length === 0) {
    const why = members
      .filter((m) => m.key !== scope.region || !isRegionFailure(ctx))
      .map((m) => m.down ?? m.whyIneligible)
      .filter((x): x is string => x !== undefined);
    return refuse(workload, [`no eligible target: ${why.join("; ") || "the workload has no other region"}`]);
  }
  if (weights === undefined) {
    const bystanders = live().filter((m) => !m.eligible && !m.self);
    const held = candidates.reduce((s, m) => s + m.cap, 0);
    const needed = demand - bystanders.reduce((s, m) => s + m.cap, 0);
    const limits = candidates.flatMap((m) =>
      m.cap < m.reach ? [`${m.key}: at most its previous share of ${fmt(m.preLoad)} GPUs`] : [...m.limits],
    );
    return refuse(workload, [
      `not enough capacity: targets can hold ${fmt(held)} of ${fmt(needed)} GPUs after fallback (${limits.join("; ") || "no GPU pools"})`,
    ]);
  }

  // Model presence, before anything is committed to the shared quota ledger.
  const totalWeight = [...weights.values()].reduce((s, w) => s + w, 0);
  const loadOf = (key: string): number => {
    const w = weights?.get(key);
    return w === undefined ? 0 : (demand * w) / totalWeight;
  };
  const scaled = band.filter((m) => (m.eligible || m.self) && Math.ceil(loadOf(m.key) - EPS) > m.now);
  const warmups: WarmupStep[] = [];
  for (const m of scaled) {
    const missing = ctx.modelMissing?.has(`${workload.name}/${m.key}`) ?? false;
    if (!missing) {
      warmups.push({ region: m.key, model: workload.model.name, version: workload.model.version });
      continue;
    }
    const source = members.find(
      (x) => x.key !== m.key && x.down === undefined && !(ctx.modelMissing?.has(`${workload.name}/${x.key}`) ?? false),
    );
    if (source === undefined)
      return refuse(workload, [
        `model ${workload.model.name} ${workload.model.version} is missing in ${m.key} and no healthy region's store holds it`,
      ]);
    warmups.push({ region: m.key, model: workload.model.name, version: workload.model.version, copyFrom: source.key });
  }
  if (warmups.length > 0 && ctx.modelMissing === undefined)
    notes.push(
      `assumed: ${workload.model.name} ${workload.model.version} is already in the model store of ${warmups.map((w) => w.region).join(", ")} (no model-store hint; the runbook checks and copies if missing)`,
    );

  // Commit: scale the band's regions to their new loads.
  for (const m of band) {
    if (!(m.eligible || m.self)) continue;
    const need = Math.ceil(loadOf(m.key) - EPS);
    const got = allocate(m.slots, need, ctx.quota);
    if (got < need - EPS) throw new CutoverError("INTERNAL", `planner: ${m.key} reached ${got} of ${need} GPUs`);
  }
  const changes = allSlots.filter((s) => s.planned > s.current);
  // Spare nodes, within the pool's max and the quota left: part of the pool's set-to count from here on (fallbacks
  // start from it), but not needed for the change to count as done.
  const spares = changes.map((s) => spareNodesFor(s, workload.capacity.spareNodes ?? 0, ctx.quota));
  changes.forEach((s, i) => (s.planned += spares[i] ?? 0));
  // What a change must cover if it fails: its GPUs less the region's overshoot (the need rounded up to whole nodes).
  // At least one GPU: a failed change always has a way forward (the executor does not judge a change unneeded).
  const deficitIfFailed = (s: Slot): number => {
    const m = members.find((x) => x.key === s.region);
    const overshoot = m === undefined ? 0 : Math.max(0, healthyGpus(m.slots) - Math.ceil(loadOf(m.key) - EPS));
    return Math.max(1, (s.planned - s.current) * s.gpus - overshoot);
  };
  const pools: PoolChange[] = changes.map((s, i) => ({
    region: s.region,
    pool: s.pool.name,
    zone: s.pool.zone,
    vmSize: s.pool.vmSize,
    cluster: clusterOf(s),
    from: s.current,
    to: s.planned,
    ...((spares[i] ?? 0) > 0 ? { spare: spares[i] } : {}),
    fallbacks: fallbacksFor(ctx, s, deficitIfFailed(s), allSlots, members, drained),
  }));
  const spareNote = pools
    .filter((p) => p.spare !== undefined)
    .map((p) => `${p.region}/${p.pool} +${p.spare}`)
    .join(", ");
  if (spareNote !== "")
    notes.push(
      `spare nodes (${spareNote}): each scale-up is done once its needed nodes are Ready; the spares stay as headroom`,
    );
  const shortOfSpare = changes.filter((s, i) => (spares[i] ?? 0) < (workload.capacity.spareNodes ?? 0));
  if (shortOfSpare.length > 0)
    notes.push(
      `fewer spare nodes than capacity.spareNodes (${workload.capacity.spareNodes ?? 0}) on ${shortOfSpare.map((s) => `${s.region}/${s.pool.name}`).join(", ")}: pool max or vCPU quota`,
    );

  // Traffic.
  const drain: OriginRef[] = drainedMembers.map((m) => ({ region: m.key, origin: m.origin }));
  const take = band.map((m) => ({
    region: m.key,
    origin: m.origin,
    weight: weights?.get(m.key) ?? m.weight,
    priority: priorityOf.get(m.key) ?? m.priority,
  }));
  const recordChanged =
    shifted &&
    take.some((t) => {
      const m = members.find((x) => x.key === t.region);
      return m !== undefined && (m.weight !== t.weight || m.priority !== t.priority);
    });
  const traffic: TrafficChange | undefined =
    drain.length === 0 && !recordChanged ? undefined : { frontDoor: frontDoorName, kind: frontDoor.kind, drain, take };
  if (recordChanged)
    notes.push(
      `Front Door weights change (${take.map((t) => `${t.region} ${t.weight}@${t.priority}`).join(", ")}): traffic follows the new split only once the change has propagated (3–20 min), so propagation is on the RTO path`,
    );
  const bystanders = band.filter((m) => !m.eligible && !m.self);
  for (const m of bystanders)
    notes.push(`${m.whyIneligible ?? m.key}: it keeps serving at most its previous share and is never scaled`);
  if (band.length > 1 && frontDoor.probe.additionalLatencyMs < 200)
    notes.push(
      `${frontDoorName} has additionalLatencyMs ${frontDoor.probe.additionalLatencyMs}: Front Door splits by weight only among origins within that many ms of the fastest, so one region may get more than its weighted share`,
    );
  if (!isRegionFailure(ctx) && changes.length === 0 && !recordChanged && drain.length === 0) {
    const self = members.find((m) => m.self);
    if (self !== undefined)
      notes.push(
        `${self.key} still holds its ${fmt(loadOf(self.key))}-GPU share without zone ${scope.zone ?? ""} (${fmt(healthyGpus(self.slots))} GPUs in its healthy zones): no scaling needed`,
      );
  }

  // Targets: regions serving after the plan that may gain load, the one gaining most first.
  const gain = (m: Member): number => loadOf(m.key) - m.preLoad;
  let targetMembers = band.filter((m) => m.eligible || m.self);
  if (targetMembers.length === 0) targetMembers = [...band];
  const primary =
    targetMembers.find((m) => m.self) ??
    [...targetMembers].sort((a, b) => gain(b) - gain(a) || loadOf(b.key) - loadOf(a.key) || a.order - b.order)[0];
  const ordered = primary === undefined ? targetMembers : [primary, ...targetMembers.filter((m) => m !== primary)];
  const targets = ordered.map((m) => ({ region: m.key, zones: zonesOf(m.slots) }));

  const loads: RegionLoad[] = members.map((m) => ({
    region: m.key,
    beforeGpus: round3(m.preLoad),
    loadGpus: round3(loadOf(m.key)),
    gpus: healthyGpus(m.slots),
  }));

  const steps = buildInferenceSteps(
    ctx,
    workload,
    frontDoor.probe,
    frontDoor.gateCacheSeconds,
    frontDoorName,
    pools,
    warmups,
    drain,
    traffic,
    recordChanged,
  );
  return finish(workload, {
    target: targets[0] ?? { region: scope.region, zones: [] },
    targets,
    pools,
    traffic,
    warmups,
    training: undefined,
    steps,
    notes,
    loads,
  });
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function originOf(entry: WorkloadRegion | undefined): { origin: string; priority: number; weight: number } {
  return { origin: entry?.origin ?? "", priority: entry?.priority ?? 1, weight: entry?.weight ?? 50 };
}

function bandOf<T extends { priority: number }>(origins: ReadonlyArray<T>): T[] {
  if (origins.length === 0) return [];
  const top = Math.min(...origins.map((o) => o.priority));
  return origins.filter((o) => o.priority === top);
}

function clusterOf(slot: Slot): { resourceGroup: string; name: string } {
  return { resourceGroup: slot.entry.cluster?.resourceGroup ?? "", name: slot.entry.cluster?.name ?? "" };
}

function zonesOf(slots: ReadonlyArray<Slot>): Zone[] {
  return [...new Set(slots.filter((s) => s.down === undefined && s.planned > 0).map((s) => s.pool.zone))].sort();
}

type ShiftResult =
  | { readonly kind: "ok"; readonly weights: Map<string, number> }
  | { readonly kind: "short" }
  | { readonly kind: "too-small"; readonly member: Member };

/**
 * Integer weights for `set` such that each member's share of `demand` fits its cap, as close to proportional to its
 * current weight as the caps allow (water-filling, then largest remainder). The weights sum to a multiple of
 * `demand` (at most 1000), so a share of whole GPUs is exact.
 */
function weightTotal(demand: number): number {
  return demand <= MAX_WEIGHT ? demand * Math.floor(MAX_WEIGHT / demand) : MAX_WEIGHT;
}

function shiftWeights(set: ReadonlyArray<Member>, demand: number): ShiftResult {
  const total = weightTotal(demand);
  const upper = new Map(set.map((m) => [m.key, Math.min(MAX_WEIGHT, Math.floor((m.cap * total) / demand + EPS))]));
  const small = set.find((m) => (upper.get(m.key) ?? 0) < 1);
  if (small !== undefined) return { kind: "too-small", member: small };
  if (set.length > total || [...upper.values()].reduce((s, u) => s + u, 0) < total) return { kind: "short" };
  // Water-fill real-valued targets proportional to current weights, capped by `upper`.
  const target = new Map<string, number>();
  let active = [...set];
  let remaining = total;
  for (;;) {
    const weightSum = active.reduce((s, m) => s + m.weight, 0);
    const capped = active.filter((m) => (remaining * m.weight) / weightSum > (upper.get(m.key) ?? 0));
    if (capped.length === 0) {
      for (const m of active) target.set(m.key, (remaining * m.weight) / weightSum);
      break;
    }
    for (const m of capped) {
      target.set(m.key, upper.get(m.key) ?? 0);
      remaining -= upper.get(m.key) ?? 0;
    }
    active = active.filter((m) => !capped.includes(m));
    if (active.length === 0) break;
  }
  const weights = new Map(
    set.map((m) => [m.key, Math.min(upper.get(m.key) ?? 1, Math.max(1, Math.floor(target.get(m.key) ?? 0)))]),
  );
  const slack = (m: Member): number => (target.get(m.key) ?? 0) - (weights.get(m.key) ?? 0);
  let sum = [...weights.values()].reduce((s, w) => s + w, 0);
  while (sum < total) {
    const grow = set
      .filter((m) => (weights.get(m.key) ?? 0) < (upper.get(m.key) ?? 0))
      .sort((a, b) => slack(b) - slack(a) || a.order - b.order)[0];
    if (grow === undefined) return { kind: "short" };
    weights.set(grow.key, (weights.get(grow.key) ?? 0) + 1);
    sum += 1;
  }
  while (sum > total) {
    const shrink = set
      .filter((m) => (weights.get(m.key) ?? 0) > 1)
      .sort((a, b) => slack(a) - slack(b) || a.order - b.order)[0];
    if (shrink === undefined) return { kind: "short" };
    weights.set(shrink.key, (weights.get(shrink.key) ?? 0) - 1);
    sum -= 1;
  }
  return { kind: "ok", weights };
}

/**
 * Ordered alternatives for one pool change if it cannot allocate: pools of the workload in the same zone whose SKU
 * is a matrix fallback of this one (matrix order), then pools in the region's other healthy zones, then pools in
 * other eligible regions (which needs a traffic shift). Each carries the set-to count covering `deficitGpus` (what the
 * region would lack if the change failed: its GPUs less the plan's overshoot of the need, so a 4-GPU node asked for
 * 2 missing GPUs falls back to 2 GPUs, not 4), capped at its max and at the vCPU quota left after the plan (the failed
 * change's own vCPUs count as freed).
 */
function fallbacksFor(
  ctx: Context,
  change: Slot,
  deficitGpus: number,
  slots: ReadonlyArray<Slot>,
  members: ReadonlyArray<Member>,
  drained: ReadonlySet<string>,
): PoolCandidate[] {
  const fallbackSkus = ctx.topology.capabilityMatrix.fallbacks[change.pool.vmSize] ?? [];
  const skuRank = (vmSize: string): number => {
    if (vmSize === change.pool.vmSize) return 0;
    const i = fallbackSkus.indexOf(vmSize);
    return i < 0 ? fallbackSkus.length + 1 : i + 1;
  };
  const ranked: Array<{ slot: Slot; tier: number; why: string }> = [];
  for (const slot of slots) {
    if (slot === change || slot.down !== undefined || slot.blocked !== undefined) continue;
    const member = members.find((m) => m.key === slot.region);
    if (member === undefined || drained.has(member.key) || !(member.eligible || member.self)) continue;
    if (slot.region === change.region && slot.pool.zone === change.pool.zone) {
      if (!fallbackSkus.includes(slot.pool.vmSize)) continue;
      ranked.push({ slot, tier: 0, why: `same zone ${slot.pool.zone}, fallback SKU ${slot.pool.vmSize}` });
    } else if (slot.region === change.region) {
      const sku = slot.pool.vmSize === change.pool.vmSize ? "" : `, SKU ${slot.pool.vmSize}`;
      ranked.push({ slot, tier: 1, why: `other zone ${slot.pool.zone} of ${slot.region}${sku}` });
    } else {
      if (!member.eligible) continue;
      ranked.push({ slot, tier: 2, why: `other region ${slot.region} (needs a traffic shift)` });
    }
  }
  ranked.sort(
    (a, b) =>
      a.tier - b.tier || skuRank(a.slot.pool.vmSize) - skuRank(b.slot.pool.vmSize) || a.slot.order - b.slot.order,
  );
  const out: PoolCandidate[] = [];
  for (const { slot, why } of ranked) {
    let to = Math.min(slot.pool.max, slot.planned + Math.ceil(deficitGpus / slot.gpus));
    const left = ctx.quota.get(slot.quotaKey);
    if (left !== undefined) {
      const freed = slot.quotaKey === change.quotaKey ? (change.planned - change.current) * change.vcpus : 0;
      to = Math.min(to, slot.planned + Math.floor((left + freed) / slot.vcpus));
    }
    if (to <= slot.planned) continue;
    out.push({
      region: slot.region,
      pool: slot.pool.name,
      zone: slot.pool.zone,
      vmSize: slot.pool.vmSize,
      cluster: clusterOf(slot),
      from: slot.planned,
      to,
      hedgeable: left === undefined || to <= slot.planned + Math.floor(left / slot.vcpus),
      why,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Training workloads.

function planTraining(ctx: Context, workload: Workload): Outcome {
  const scope = ctx.scope;
  const training = workload.training;
  if (workload.regions[scope.region] === undefined || training === undefined)
    return { status: "unaffected", note: `not affected: it does not run in ${scope.region}` };
  if (!isRegionFailure(ctx))
    return {
      status: "unaffected",
      note: `no action: a failure of ${describeScope(scope)} does not stop the training job (its Azure ML compute in ${training.hub} is regional)`,
    };
  if (scope.region !== training.hub)
    return {
      status: "unaffected",
      note:
        scope.region === training.secondary
          ? `no action: the secondary ${training.secondary} failed; the job keeps running in ${training.hub}, but its checkpoints are not replicated until ${training.secondary} recovers`
          : `no action: ${scope.region} is neither the hub nor the secondary`,
    };
  const secondary = training.secondary;
  const why = regionDown(ctx, secondary) ?? eligibility(ctx, workload, secondary);
  if (why !== undefined) return refuse(workload, [`no eligible target: the secondary ${why}`]);

  const sizeGb = training.checkpointSizeGb ?? workload.model.sizeGb;
  const notes: string[] = [];
  if (training.checkpointSizeGb === undefined)
    notes.push(
      `assumed: a checkpoint is ${fmt(sizeGb)} GB (model.sizeGb; set training.checkpointSizeGb for a better estimate)`,
    );
  notes.push(
    `up to ${training.checkpointIntervalSeconds} s of training since the last checkpoint is lost, plus whatever had not replicated to ${secondary}`,
  );
  const steps = baseSteps(ctx, workload, probeSchema.parse({}), notes);
  steps.push({
    id: "resume-training",
    kind: "resume-training",
    after: ["approve"],
    expectedSeconds: seconds(
      sizeGb * mean(ctx.latency.checkpointHashSecondsPerGb) + mean(ctx.latency.trainingJobStart),
    ),
    countsForRto: true,
    region: secondary,
    detail: `validate the newest checkpoint of ${training.runId} in ${secondary} (${fmt(sizeGb)} GB), fence the old job, resubmit`,
  });
  steps.push(verifyStep(ctx, ["resume-training"], "the resumed job is running and writing checkpoints"));
  return finish(workload, {
    target: { region: secondary, zones: [] },
    targets: [{ region: secondary, zones: [] }],
    pools: [],
    traffic: undefined,
    warmups: [],
    training: { hub: training.hub, secondary, runId: training.runId },
    steps,
    notes,
    loads: [],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Steps.

function seconds(value: number): number {
  return Math.round(value);
}

function baseSteps(ctx: Context, workload: Workload, probe: ProbeSettings, notes: string[]): PlanStep[] {
  const l = ctx.latency;
  const detect =
    ctx.detection === "alert"
      ? mean(l.alertDetection) + mean(l.alertDispatch)
      : ctx.detection === "probe"
        ? mean(probeWindowSeconds(probe))
        : 0;
  const approval = workload.approval;
  let approve = 0;
  let approveDetail = "automatic";
  if (approval.mode === "auto-after-timeout") {
    approve = approval.timeoutSeconds;
    approveDetail = `proceeds automatically after ${approval.timeoutSeconds} s unless rejected`;
  } else if (approval.mode === "manual") {
    approveDetail = `waits for a human (times out after ${approval.timeoutSeconds} s)`;
    notes.push("manual approval: the predicted RTO does not include the time a human takes to approve");
  }
  return [
    {
      id: "detect",
      kind: "detect",
      after: [],
      expectedSeconds: seconds(detect),
      countsForRto: true,
      detail: ctx.detection === "none" ? "failure already known" : `by ${ctx.detection}`,
    },
    { id: "decide", kind: "decide", after: ["detect"], expectedSeconds: seconds(mean(l.decide)), countsForRto: true },
    {
      id: "approve",
      kind: "approve",
      after: ["decide"],
      expectedSeconds: seconds(approve),
      countsForRto: true,
      detail: approveDetail,
    },
  ];
}

function verifyStep(ctx: Context, after: ReadonlyArray<string>, detail: string): PlanStep {
  return {
    id: "verify",
    kind: "verify",
    after: after.length === 0 ? ["approve"] : [...after],
    expectedSeconds: seconds(mean(ctx.latency.verify)),
    countsForRto: true,
    detail,
  };
}

function buildInferenceSteps(
  ctx: Context,
  workload: Workload,
  probe: ProbeSettings,
  gateCache: number,
  frontDoorName: string,
  pools: ReadonlyArray<PoolChange>,
  warmups: ReadonlyArray<WarmupStep>,
  drain: ReadonlyArray<OriginRef>,
  traffic: TrafficChange | undefined,
  recordOnRtoPath: boolean,
): PlanStep[] {
  const l = ctx.latency;
  const steps = baseSteps(ctx, workload, probe, []);
  const verifyAfter: string[] = [];
  for (const p of pools)
    steps.push({
      id: `scale:${p.region}/${p.pool}`,
      kind: "scale",
      after: ["approve"],
      expectedSeconds: seconds(mean(l.armAccept) + mean(nodeProvisioningFor(l, p.vmSize))),
      countsForRto: true,
      region: p.region,
      zone: p.zone,
      pool: p.pool,
      detail: `set ${p.pool} (${p.vmSize}, zone ${p.zone}) to ${p.to} nodes (from ${p.from}${p.spare === undefined ? "" : `; done when ${p.to - p.spare} are Ready`})`,
    });
  for (const w of warmups) {
    const copy = w.copyFrom === undefined ? 0 : workload.model.sizeGb * mean(l.modelCopySecondsPerGb);
    const load = workload.model.sizeGb * mean(l.modelLoadSecondsPerGb) + mean(l.engineStartup);
    const scaleIds = pools.filter((p) => p.region === w.region).map((p) => `scale:${p.region}/${p.pool}`);
    steps.push({
      id: `warm:${w.region}`,
      kind: "warm",
      after: scaleIds.length === 0 ? ["approve"] : scaleIds,
      expectedSeconds: seconds(copy + load),
      countsForRto: true,
      region: w.region,
      detail:
        (w.copyFrom === undefined ? "" : `copy ${workload.model.sizeGb} GB from ${w.copyFrom}, then `) +
        `load ${w.model} ${w.version} (${workload.model.sizeGb} GB) and start the engine`,
    });
    verifyAfter.push(`warm:${w.region}`);
  }
  for (const d of drain) {
    steps.push({
      id: `drain-gate:${d.region}`,
      kind: "drain-gate",
      after: ["approve"],
      expectedSeconds: seconds(mean(l.gateWrite)),
      countsForRto: true,
      region: d.region,
      detail: `health gate of ${d.origin} answers 503`,
    });
    steps.push({
      id: `probe-window:${d.region}`,
      kind: "probe-window",
      after: [`drain-gate:${d.region}`],
      // The origin sees the drain within its gate cache (half of it on average), then Front Door's probes fail.
      expectedSeconds: seconds(mean(probeWindowSeconds(probe)) + gateCache / 2),
      countsForRto: true,
      region: d.region,
      detail: `Front Door probes (every ${probe.intervalSeconds} s) mark ${d.origin} unhealthy`,
    });
    verifyAfter.push(`probe-window:${d.region}`);
  }
  if (traffic !== undefined) {
    steps.push({
      id: `frontdoor:${frontDoorName}`,
      kind: "frontdoor",
      after: ["approve", ...drain.map((d) => `drain-gate:${d.region}`)],
      expectedSeconds: seconds(mean(l.frontDoorArmUpdate)),
      countsForRto: recordOnRtoPath,
      detail: [
        ...traffic.drain.map((d) => `disable ${d.origin}`),
        ...(recordOnRtoPath ? traffic.take.map((t) => `${t.origin} weight ${t.weight} priority ${t.priority}`) : []),
      ].join("; "),
    });
    steps.push({
      id: `propagate:${frontDoorName}`,
      kind: "propagate",
      after: [`frontdoor:${frontDoorName}`],
      expectedSeconds: seconds(mean(l.frontDoorPropagation)),
      countsForRto: recordOnRtoPath,
      detail: "global propagation of the Front Door change (3–20 min)",
    });
    if (recordOnRtoPath) verifyAfter.push(`propagate:${frontDoorName}`);
  }
  steps.push(verifyStep(ctx, verifyAfter, "serving regions healthy, model version matches, latency within SLO"));
  return steps;
}

interface PlanBody {
  readonly target: WorkloadPlan["target"];
  readonly targets: WorkloadPlan["targets"];
  readonly pools: ReadonlyArray<PoolChange>;
  readonly traffic: TrafficChange | undefined;
  readonly warmups: ReadonlyArray<WarmupStep>;
  readonly training: WorkloadPlan["training"];
  readonly steps: PlanStep[];
  readonly notes: string[];
  readonly loads: ReadonlyArray<RegionLoad>;
}

function finish(workload: Workload, body: PlanBody): WorkloadPlan {
  const notes = [...body.notes];
  if (workload.approval.mode === "manual" && !notes.some((n) => n.startsWith("manual approval")))
    notes.push("manual approval: the predicted RTO does not include the time a human takes to approve");
  const critical = criticalPathTo(body.steps, "verify");
  if (critical.seconds > workload.slo.rtoSeconds)
    notes.push(`predicted RTO ${critical.seconds} s exceeds the SLO of ${workload.slo.rtoSeconds} s`);
  return {
    status: "ok",
    workload: workload.name,
    kind: workload.kind,
    target: body.target,
    targets: body.targets,
    pools: body.pools,
    traffic: body.traffic,
    warmups: body.warmups,
    training: body.training,
    steps: body.steps,
    criticalPath: critical.path,
    predictedRtoSeconds: critical.seconds,
    notes,
    loads: body.loads,
  };
}
