/**
 * Scenario files: a topology (by path) plus what the simulated world does with it — seed, latency profile,
 * overrides of the topology, a fault timeline, metric alert rules, Front Door POPs, probe vantage points, and seed
 * data for Azurite (model-store contents, training checkpoints) that the scenario runner writes; the simulator
 * itself never emulates Blob storage.
 *
 * Validated like the topology: zod for structure, then cross-checks against the (overridden) topology, every
 * problem at once with its path. Times are seconds after the scenario starts (virtual time zero).
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { parseDocument, LineCounter } from "yaml";
import { z } from "zod";
import { readSettings, SETTINGS } from "../../src/config/settings";
import {
  crossCheckTopology,
  problemsFromZod,
  topologySchema,
  ZONES,
  type Topology,
  type TopologyProblem,
} from "../../src/domain/topology";

const zone = z.enum(ZONES);
const regionName = z.string().regex(/^[a-z][a-z0-9]+$/, "expected an Azure region name such as eastus2");
const vmSize = z
  .string()
  .regex(/^Standard_[A-Za-z0-9_]+$/, "expected an Azure VM size such as Standard_NC24ads_A100_v4");
const seconds = z.number().min(0);
const isoDuration = z
  .string()
  .regex(/^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$/, "expected an ISO 8601 duration such as PT5M");

const faultBase = {
  /** Optional id (defaults to `<kind>-<n>`), used to clear the fault or find it in the timeline. */
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .optional(),
  /** Seconds after the start. */
  at: seconds.default(0),
  /** How long the fault lasts; absent means until cleared. */
  durationSeconds: z.number().positive().optional(),
};

const httpTarget = z.enum(["arm", "metrics", "logs", "endpoint"]);
const httpMatch = z
  .strictObject({
    method: z.enum(["GET", "PUT", "PATCH", "POST", "DELETE", "HEAD"]).optional(),
    /** Case-insensitive substring of the request path. */
    pathContains: z.string().min(1).optional(),
    /** For endpoint faults: only this workload / region. */
    workload: z.string().optional(),
    region: regionName.optional(),
  })
  .optional();

export const faultSchema = z.discriminatedUnion("kind", [
  z.strictObject({ ...faultBase, kind: z.literal("region-down"), region: regionName }),
  z.strictObject({ ...faultBase, kind: z.literal("zone-down"), region: regionName, zone }),
  z.strictObject({
    ...faultBase,
    kind: z.literal("degraded-latency"),
    region: regionName,
    workload: z.string().optional(),
    /** Multiplies the endpoint's inference latency. */
    factor: z.number().min(1).default(3),
    addMs: z.number().min(0).default(0),
  }),
  z.strictObject({
    ...faultBase,
    kind: z.literal("stale-model"),
    workload: z.string(),
    region: regionName,
    /** The version the endpoint serves instead of the expected one (until a warm-up loads another). */
    version: z.string().min(1),
    /**
     * `version-aware` (default): the health check compares versions and answers 503 `stale`. `status-only`: like
     * vLLM's `/health`, it answers 200 whatever model is loaded (still reporting `modelVersion`), so Front Door keeps
     * routing to the stale model and only a probe that checks the version sees it.
     */
    healthCheck: z.enum(["version-aware", "status-only"]).default("version-aware"),
  }),
  z.strictObject({
    ...faultBase,
    kind: z.literal("http-error"),
    target: httpTarget,
    status: z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503), z.literal(504)]),
    /** Probability per matching request (drawn from the `http-faults` stream). */
    rate: z.number().min(0).max(1).default(1),
    /** Sent as `Retry-After` (seconds) when set. */
    retryAfterSeconds: z.number().int().min(0).optional(),
    /** Stop after this many hits. */
    count: z.number().int().min(1).optional(),
    match: httpMatch,
  }),
  z.strictObject({
    ...faultBase,
    kind: z.literal("timeout"),
    target: httpTarget,
    rate: z.number().min(0).max(1).default(1),
    count: z.number().int().min(1).optional(),
    match: httpMatch,
  }),
  z.strictObject({
    ...faultBase,
    kind: z.literal("allocation-failure"),
    region: regionName,
    zone: zone.optional(),
    vmSize: vmSize.optional(),
    code: z.enum(["ZonalAllocationFailed", "AllocationFailed", "OverconstrainedAllocationRequest"]).optional(),
  }),
  z.strictObject({
    ...faultBase,
    kind: z.literal("quota-exceeded"),
    region: regionName,
    /** Quota family; absent means every family in the region. */
    family: z.string().optional(),
    code: z.enum(["QuotaExceeded", "ErrCode_InsufficientVCPUQuota"]).default("ErrCode_InsufficientVCPUQuota"),
    /** vCPUs left while the fault lasts (default 0). */
    remainingVcpus: z.number().int().min(0).default(0),
  }),
  z.strictObject({
    ...faultBase,
    kind: z.literal("slow-propagation"),
    /** Multiplies sampled Front Door propagation times. */
    factor: z.number().min(1).default(3),
  }),
  z.strictObject({
    ...faultBase,
    kind: z.literal("vantage-partition"),
    region: regionName,
    /** Cutover probe vantage points that cannot reach the region (requests carrying their header). */
    vantagePoints: z.array(z.string().min(1)).default([]),
    /** Front Door POPs that cannot reach the region. */
    pops: z.array(z.string().min(1)).default([]),
  }),
]);
export type Fault = z.output<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;
export type FaultKind = Fault["kind"];

const metricAlertSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/),
  description: z.string().default(""),
  severity: z.number().int().min(0).max(4).default(2),
  /** What the rule watches: a Front Door of the topology, the AKS cluster of a workload region, or an ARM id. */
  target: z.union([
    z.strictObject({ frontDoor: z.string() }),
    z.strictObject({ cluster: z.strictObject({ workload: z.string(), region: regionName }) }),
    z.strictObject({ resourceId: z.string().startsWith("/subscriptions/") }),
  ]),
  metric: z.strictObject({
    name: z.string().min(1),
    namespace: z.string().optional(),
    aggregation: z.enum(["Average", "Minimum", "Maximum", "Total", "Count"]).default("Average"),
    /** Split by these dimensions (`*`) or filter them to given values. */
    dimensions: z
      .array(z.strictObject({ name: z.string(), values: z.array(z.string()).min(1).default(["*"]) }))
      .default([]),
  }),
  operator: z.enum(["GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Equals"]),
  threshold: z.number(),
  evaluationFrequency: z.enum(["PT1M", "PT5M", "PT15M", "PT30M", "PT1H"]).default("PT1M"),
  windowSize: z.enum(["PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "PT24H"]).default("PT5M"),
  /** Stateful (default): resolves after three clean evaluations (azure-facts §3.1). */
  autoMitigate: z.boolean().default(true),
  customProperties: z.record(z.string(), z.string()).default({}),
});
export type MetricAlertRule = z.output<typeof metricAlertSchema>;

const popSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9-]+$/),
  geography: z.string().regex(/^[a-z]{2,12}$/),
  /** Relative share of user traffic entering at this POP. */
  weight: z.number().positive().default(1),
});

const checkpointSeedSchema = z.strictObject({
  step: z.number().int().min(0),
  /** Seconds relative to the start (negative: written before the scenario begins). */
  writtenAt: z.number(),
  sizeGb: z.number().positive().default(1),
  /** False: the manifest or checksums are incomplete (an invalid checkpoint). */
  complete: z.boolean().default(true),
});

export const scenarioSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a kebab-case scenario name"),
  description: z.string().default(""),
  /** Path of the topology YAML, relative to the scenario file. */
  topology: z.string().min(1).default("../topology.yaml"),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(1),
  profile: z.enum(["typical", "fast", "slow"]).default("typical"),
  overrides: z
    .strictObject({
      /** Node counts at the start (a cold target has 0, a warm standby some). */
      pools: z
        .array(
          z.strictObject({
            workload: z.string(),
            region: regionName,
            pool: z.string(),
            current: z.number().int().min(0).max(1000),
          }),
        )
        .default([]),
      /** Replaces the capability matrix entries of the given region/zone (what each zone can provision). */
      availability: z.record(regionName, z.partialRecord(zone, z.array(vmSize))).default({}),
      /** Replaces vCPU quota left per family for the given regions. */
      quotas: z.record(regionName, z.record(z.string(), z.number().int().min(0))).default({}),
      /** Front Door probe settings per Front Door of the topology. */
      probes: z
        .record(
          z.string(),
          z.strictObject({
            intervalSeconds: z.number().int().min(1).max(255).optional(),
            sampleSize: z.number().int().min(1).max(255).optional(),
            successfulSamplesRequired: z.number().int().min(1).max(255).optional(),
            additionalLatencyMs: z.number().int().min(0).max(1000).optional(),
          }),
        )
        .default({}),
    })
    .prefault({}),
  /** Front Door edge POPs; each probes every origin independently. */
  pops: z
    .array(popSchema)
    .min(1)
    .default([
      { name: "iad", geography: "us", weight: 1 },
      { name: "dfw", geography: "us", weight: 1 },
      { name: "lax", geography: "us", weight: 1 },
      { name: "ams", geography: "eu", weight: 1 },
      { name: "fra", geography: "eu", weight: 1 },
    ]),
  /** Cutover's own probe vantage points (request header `x-cutover-vantage`). */
  vantagePoints: z.array(z.string().regex(/^[A-Za-z0-9-]+$/)).default([]),
  /** Endpoints that start with no model loaded even though they have nodes. Default: loaded where nodes exist. */
  coldEndpoints: z.array(z.strictObject({ workload: z.string(), region: regionName })).default([]),
  faults: z.array(faultSchema).default([]),
  alerts: z.array(metricAlertSchema).default([]),
  /** Seed data for Azurite: workload → region → model versions present in that region's store. */
  modelStores: z.record(z.string(), z.record(regionName, z.array(z.string().min(1)))).default({}),
  /** Seed data for Azurite: workload → region → checkpoints replicated there. */
  checkpoints: z.record(z.string(), z.record(regionName, z.array(checkpointSeedSchema))).default({}),
  /**
   * Cutover app settings for this scenario (e.g. `CUTOVER_FAILBACK_SOAK_SECONDS: "300"`), validated against the
   * settings table; settings passed by a test or the CLI win.
   */
  settings: z
    .record(z.string().regex(/^CUTOVER_[A-Z0-9_]+$/, "expected a CUTOVER_* app setting"), z.string())
    .default({}),
});
export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;

/** A scenario with its topology resolved and overridden. */
export interface LoadedScenario {
  readonly scenario: Scenario;
  readonly topology: Topology;
  /** Where it came from (a file path, or "inline"). */
  readonly source: string;
}

export interface ScenarioProblem extends TopologyProblem {
  /** `scenario` or `topology`: which file the path refers to. */
  readonly file: "scenario" | "topology";
  readonly line?: number;
}

export type ScenarioLoadResult =
  { readonly ok: true; readonly loaded: LoadedScenario } | { readonly ok: false; readonly problems: ScenarioProblem[] };

export class ScenarioError extends Error {
  override readonly name = "ScenarioError" as const;
  constructor(
    readonly source: string,
    readonly problems: ReadonlyArray<ScenarioProblem>,
  ) {
    super(`invalid scenario ${source}:\n${problems.map((p) => `  ${formatScenarioProblem(p)}`).join("\n")}`);
  }
}

export function formatScenarioProblem(p: ScenarioProblem): string {
  return `${p.file}: ${p.path}: ${p.message}${p.line === undefined ? "" : ` (line ${p.line})`}`;
}

/** Seconds in an ISO 8601 duration such as PT5M or P1D. */
export function isoDurationSeconds(text: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  if (m === null) throw new Error(`[INVALID_INPUT] not an ISO 8601 duration: ${text}`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}
export { isoDuration };

/**
 * Validates a scenario object against a raw topology object (both as parsed from YAML): structure, overrides
 * applied to the topology, then cross-checks. Returns every problem.
 */
export function resolveScenario(rawScenario: unknown, rawTopology: unknown, source = "inline"): ScenarioLoadResult {
  const parsed = scenarioSchema.safeParse(rawScenario, { reportInput: true });
  if (!parsed.success)
    return {
      ok: false,
      problems: problemsFromZod(parsed.error.issues, rawScenario).map((p) => ({ ...p, file: "scenario" })),
    };
  const scenario = parsed.data;
  const problems: ScenarioProblem[] = [];
  const add = (p: string, message: string): void => {
    problems.push({ file: "scenario", path: p, message });
  };

  const topoRaw = structuredClone(rawTopology) as Record<string, unknown>;
  applyOverrides(scenario, topoRaw, add);
  const topo = topologySchema.safeParse(topoRaw, { reportInput: true });
  if (!topo.success) {
    problems.push(...problemsFromZod(topo.error.issues, topoRaw).map((p) => ({ ...p, file: "topology" as const })));
    return { ok: false, problems };
  }
  problems.push(...crossCheckTopology(topo.data).map((p) => ({ ...p, file: "topology" as const })));
  crossCheckScenario(scenario, topo.data, add);
  for (const name of Object.keys(scenario.settings))
    if (!(name in SETTINGS)) add(`settings.${name}`, "is not a Cutover app setting (see src/config/settings.ts)");
  const settings = readSettings(scenario.settings);
  if (!settings.ok) for (const p of settings.problems) add(`settings.${p.name}`, p.message);
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, loaded: { scenario, topology: topo.data, source } };
}

function applyOverrides(scenario: Scenario, topo: Record<string, unknown>, add: (p: string, m: string) => void): void {
  const workloads = Array.isArray(topo["workloads"]) ? (topo["workloads"] as Array<Record<string, unknown>>) : [];
  scenario.overrides.pools.forEach((o, i) => {
    const w = workloads.find((x) => x["name"] === o.workload);
    const regions = (w?.["regions"] ?? {}) as Record<string, Record<string, unknown>>;
    const pools = (regions[o.region]?.["gpuPools"] ?? []) as Array<Record<string, unknown>>;
    const pool = pools.find((p) => p["name"] === o.pool);
    if (pool === undefined) add(`overrides.pools[${i}]`, `no pool ${o.workload}/${o.region}/${o.pool} in the topology`);
    else pool["current"] = o.current;
  });
  const matrix = (topo["capabilityMatrix"] ?? {}) as Record<string, unknown>;
  for (const [region, zones] of Object.entries(scenario.overrides.availability)) {
    const availability = (matrix["availability"] ??= {}) as Record<string, Record<string, unknown>>;
    const current = (availability[region] ??= {});
    for (const [z, skus] of Object.entries(zones)) current[z] = skus;
  }
  for (const [region, families] of Object.entries(scenario.overrides.quotas)) {
    const quotas = (matrix["quotas"] ??= {}) as Record<string, Record<string, number>>;
    quotas[region] = { ...(quotas[region] ?? {}), ...families };
  }
  const frontDoors = (topo["frontDoors"] ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, probe] of Object.entries(scenario.overrides.probes)) {
    const fd = frontDoors[name];
    if (fd === undefined) {
      add(`overrides.probes.${name}`, `Front Door "${name}" is not declared in the topology`);
      continue;
    }
    const before: unknown = fd["probe"];
    fd["probe"] = { ...(typeof before === "object" && before !== null ? before : {}), ...stripUndefined({ ...probe }) };
  }
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function crossCheckScenario(s: Scenario, topo: Topology, add: (p: string, m: string) => void): void {
  const regions = new Set(Object.keys(topo.regions));
  const workloads = new Map(topo.workloads.map((w) => [w.name, w]));
  const pops = new Set<string>();
  s.pops.forEach((p, i) => {
    if (pops.has(p.name)) add(`pops[${i}].name`, `duplicate POP "${p.name}"`);
    pops.add(p.name);
  });
  const ids = new Set<string>();
  s.faults.forEach((f, i) => {
    const base = `faults[${i}]`;
    if (f.id !== undefined) {
      if (ids.has(f.id)) add(`${base}.id`, `duplicate fault id "${f.id}"`);
      ids.add(f.id);
    }
    if ("region" in f && f.region !== undefined && !regions.has(f.region))
      add(`${base}.region`, `region "${f.region}" is not declared in the topology`);
    if (f.kind === "zone-down" && !(topo.regions[f.region]?.zones ?? []).includes(f.zone))
      add(`${base}.zone`, `zone ${f.zone} is not a zone of ${f.region}`);
    if (f.kind === "stale-model" || (f.kind === "degraded-latency" && f.workload !== undefined)) {
      const w = workloads.get(f.workload ?? "");
      if (w === undefined) add(`${base}.workload`, `workload "${f.workload ?? ""}" is not in the topology`);
      else if (w.regions[f.region] === undefined) add(`${base}.region`, `workload ${w.name} has no region ${f.region}`);
    }
    if (f.kind === "vantage-partition") {
      f.vantagePoints.forEach((v, j) => {
        if (!s.vantagePoints.includes(v))
          add(`${base}.vantagePoints[${j}]`, `"${v}" is not listed under vantagePoints`);
      });
      f.pops.forEach((p, j) => {
        if (!pops.has(p)) add(`${base}.pops[${j}]`, `"${p}" is not listed under pops`);
      });
    }
    if (f.kind === "allocation-failure" && f.vmSize !== undefined && topo.capabilityMatrix.skus[f.vmSize] === undefined)
      add(`${base}.vmSize`, `VM size ${f.vmSize} is not described under capabilityMatrix.skus`);
  });
  s.alerts.forEach((a, i) => {
    const base = `alerts[${i}]`;
    if ("frontDoor" in a.target && topo.frontDoors[a.target.frontDoor] === undefined)
      add(`${base}.target.frontDoor`, `Front Door "${a.target.frontDoor}" is not declared in the topology`);
    if ("cluster" in a.target) {
      const w = workloads.get(a.target.cluster.workload);
      if (w?.regions[a.target.cluster.region]?.cluster === undefined)
        add(`${base}.target.cluster`, `no AKS cluster for ${a.target.cluster.workload} in ${a.target.cluster.region}`);
    }
    if (isoDurationSeconds(a.windowSize) < isoDurationSeconds(a.evaluationFrequency))
      add(`${base}.windowSize`, "must be at least the evaluation frequency");
  });
  const checkWr = (p: string, workload: string, region: string): void => {
    const w = workloads.get(workload);
    if (w === undefined) add(p, `workload "${workload}" is not in the topology`);
    else if (w.regions[region] === undefined) add(p, `workload ${workload} has no region ${region}`);
  };
  s.coldEndpoints.forEach((c, i) => checkWr(`coldEndpoints[${i}]`, c.workload, c.region));
  for (const [w, regionsOf] of Object.entries(s.modelStores))
    for (const r of Object.keys(regionsOf)) checkWr(`modelStores.${w}.${r}`, w, r);
  for (const [w, regionsOf] of Object.entries(s.checkpoints)) {
    for (const r of Object.keys(regionsOf)) checkWr(`checkpoints.${w}.${r}`, w, r);
    if (workloads.get(w)?.kind !== "training" && workloads.has(w))
      add(`checkpoints.${w}`, `workload ${w} is not a training workload`);
  }
}

/** Parses scenario YAML text; `readTopology` returns the raw topology text for a path relative to the scenario. */
export async function parseScenario(
  text: string,
  source: string,
  readTopology: (topologyPath: string) => Promise<string>,
): Promise<ScenarioLoadResult> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length > 0)
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        file: "scenario" as const,
        path: "(yaml)",
        message: (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ""),
        ...(e.linePos?.[0] === undefined ? {} : { line: e.linePos[0].line }),
      })),
    };
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const topoPath =
    typeof raw === "object" && raw !== null && typeof (raw as Record<string, unknown>)["topology"] === "string"
      ? ((raw as Record<string, unknown>)["topology"] as string)
      : "../topology.yaml";
  let topoText: string;
  try {
    topoText = await readTopology(topoPath);
  } catch (error) {
    // Still report the scenario's own problems: every problem at once.
    const own = scenarioSchema.safeParse(raw, { reportInput: true });
    const more = own.success
      ? []
      : problemsFromZod(own.error.issues, raw).map((p) => {
          const line = lineOf(doc, lc, p.path);
          return { ...p, file: "scenario" as const, ...(line === undefined ? {} : { line }) };
        });
    return {
      ok: false,
      problems: [
        { file: "scenario", path: "topology", message: `cannot read topology ${topoPath}: ${String(error)}` },
        ...more,
      ],
    };
  }
  const topoDoc = parseDocument(topoText, { uniqueKeys: true });
  if (topoDoc.errors.length > 0)
    return {
      ok: false,
      problems: topoDoc.errors.map((e) => ({
        file: "topology" as const,
        path: "(yaml)",
        message: e.message.split("\n")[0] ?? e.message,
      })),
    };
  const result = resolveScenario(raw, topoDoc.toJS({ maxAliasCount: 100 }), source);
  if (result.ok) return result;
  return {
    ok: false,
    problems: result.problems.map((p) => {
      if (p.file !== "scenario") return p;
      const line = lineOf(doc, lc, p.path);
      return line === undefined ? p : { ...p, line };
    }),
  };
}

function lineOf(doc: ReturnType<typeof parseDocument>, lc: LineCounter, p: string): number | undefined {
  const keys: Array<string | number> = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) keys.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? ""));
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range !== undefined) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Loads a scenario file and its topology (relative to the scenario file). */
export async function loadScenarioFile(file: string): Promise<ScenarioLoadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problems: [
        {
          file: "scenario",
          path: "(file)",
          message: code === "ENOENT" ? `no such file: ${file}` : `cannot read ${file}: ${String(error)}`,
        },
      ],
    };
  }
  return parseScenario(text, file, (p) => readFile(path.resolve(path.dirname(file), p), "utf8"));
}

/** Like {@link loadScenarioFile} but throws {@link ScenarioError} listing every problem. */
export async function loadScenarioOrThrow(file: string): Promise<LoadedScenario> {
  const r = await loadScenarioFile(file);
  if (!r.ok) throw new ScenarioError(file, r.problems);
  return r.loaded;
}
