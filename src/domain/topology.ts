/**
 * The topology: where every GPU pool, model store, Front Door origin and training checkpoint of every workload
 * lives, and which GPU SKUs each zone can provision. Everything Cutover decides starts from it.
 *
 * The schema is the contract of the YAML file named by the `CUTOVER_TOPOLOGY_PATH` setting. Structural checks are
 * zod's; {@link crossCheckTopology} adds the checks that span several parts of the file (a pool's zone exists in its
 * region, a fallback SKU is in the matrix, residency leaves a target, names are unique). Both report every problem at
 * once, each with the path of the offending value.
 */
import { z } from "zod";
import { practiceScheduleSchema } from "./practice";
import { formatPath, ZONES, zoneSchema, type Zone } from "./schema-common";

export { formatPath, ZONES, zoneSchema, type Zone };

/** Azure resource names we reference: conservative charset, no path separators. */
const resourceName = z
  .string()
  .min(1)
  .max(90)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "expected letters, digits, '.', '_' or '-'");
/** AKS agent pool names: `^[a-z][a-z0-9]{0,11}$` (ARM Agent Pools - Create Or Update). */
const agentPoolName = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,11}$/, "expected an AKS pool name matching ^[a-z][a-z0-9]{0,11}$");
const regionName = z.string().regex(/^[a-z][a-z0-9]+$/, "expected an Azure region name such as eastus2");
const vmSize = z
  .string()
  .regex(/^Standard_[A-Za-z0-9_]+$/, "expected an Azure VM size such as Standard_NC24ads_A100_v4");
const httpUrl = z.url({ protocol: /^https?$/ });
const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "expected a GUID");

export const regionSchema = z.strictObject({
  /** Geography for data residency, e.g. `us`, `eu`. */
  geography: z.string().regex(/^[a-z]{2,12}$/, "expected a short lower-case geography code such as us or eu"),
  /** `core` regions can run heavy models; `edge` regions only light/distilled ones. */
  class: z.enum(["core", "edge"]),
  /** Availability zones of the region; empty for a region without zones. */
  zones: z.array(zoneSchema).default([...ZONES]),
});
export type Region = z.infer<typeof regionSchema>;

export const probeSchema = z.strictObject({
  path: z.string().startsWith("/").default("/health"),
  protocol: z.enum(["Http", "Https"]).default("Https"),
  method: z.enum(["HEAD", "GET"]).default("HEAD"),
  /** ARM range 1–255 s. */
  intervalSeconds: z.number().int().min(1).max(255).default(30),
  sampleSize: z.number().int().min(1).max(255).default(4),
  successfulSamplesRequired: z.number().int().min(1).max(255).default(3),
  /** Latency sensitivity: origins within this many ms of the fastest share traffic by weight. */
  additionalLatencyMs: z.number().int().min(0).max(1000).default(50),
});
export type ProbeSettings = z.infer<typeof probeSchema>;

/**
 * The health-gate contract's cache bound: an origin behind this Front Door answers its health probes from Cutover's
 * gate read at most this many seconds ago (README, "The health-gate contract for origins"). A drain reaches Front
 * Door's probes that much later, so the runbook's probe window after a drain includes it.
 */
const gateCacheSeconds = z.number().int().min(0).max(60).default(5);

const frontDoorStandardSchema = z.strictObject({
  kind: z.literal("standard"),
  resourceGroup: resourceName,
  profile: resourceName,
  originGroup: resourceName,
  probe: probeSchema.prefault({}),
  gateCacheSeconds,
});
const frontDoorClassicSchema = z.strictObject({
  kind: z.literal("classic"),
  resourceGroup: resourceName,
  frontDoorName: resourceName,
  backendPool: resourceName,
  probe: probeSchema.prefault({}),
  gateCacheSeconds,
});
export const frontDoorSchema = z.discriminatedUnion("kind", [frontDoorStandardSchema, frontDoorClassicSchema]);
export type FrontDoor = z.infer<typeof frontDoorSchema>;

export const skuSchema = z.strictObject({
  gpus: z.number().int().min(1).max(16),
  vcpus: z.number().int().min(1),
  /** Quota family, e.g. `standardNCADSA100v4Family`. */
  family: z.string().min(1),
});
export type Sku = z.infer<typeof skuSchema>;

export const capabilityMatrixSchema = z.strictObject({
  skus: z.record(vmSize, skuSchema),
  /** region → zone → SKUs that can be provisioned there now. */
  availability: z.record(regionName, z.partialRecord(zoneSchema, z.array(vmSize))),
  /** SKU → ordered substitutes, best first. */
  fallbacks: z.record(vmSize, z.array(vmSize)).default({}),
  /** region → quota family → vCPUs still available; absent means unknown (not checked). */
  quotas: z.record(regionName, z.record(z.string(), z.number().int().min(0))).default({}),
});
export type CapabilityMatrix = z.infer<typeof capabilityMatrixSchema>;

export const gpuPoolSchema = z
  .strictObject({
    name: agentPoolName,
    zone: zoneSchema,
    vmSize,
    min: z.number().int().min(0).max(1000),
    max: z.number().int().min(0).max(1000),
    /** Node count at last sync; the live value comes from the agent pool. */
    current: z.number().int().min(0).max(1000).default(0),
  })
  // `when` runs these even when a sibling field is invalid, so that every problem is reported at once.
  .refine((pool) => pool.min <= pool.max, {
    path: ["min"],
    message: "must not exceed max",
    when: (payload) => hasNumbers(payload.value, "min", "max"),
  })
  .refine((pool) => pool.current <= pool.max, {
    path: ["current"],
    message: "must not exceed max",
    when: (payload) => hasNumbers(payload.value, "current", "max"),
  });
export type GpuPool = z.infer<typeof gpuPoolSchema>;

function hasNumbers(value: unknown, ...keys: string[]): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    keys.every((k) => typeof (value as Record<string, unknown>)[k] === "number")
  );
}

export const modelStoreSchema = z.strictObject({
  /** Blob service URL of the region's model store, e.g. https://stmodelseus2.blob.core.windows.net */
  accountUrl: httpUrl,
  container: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/, "expected a blob container name"),
  /** Prefix under which `<model>/<version>/` folders live. */
  prefix: z.string().default(""),
});
export type ModelStore = z.infer<typeof modelStoreSchema>;

export const endpointSchema = z.strictObject({
  healthUrl: httpUrl,
  warmupUrl: httpUrl,
});
export type InferenceEndpoint = z.infer<typeof endpointSchema>;

export const checkpointLocationSchema = z.strictObject({
  accountUrl: httpUrl,
  container: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/, "expected a blob container name"),
  prefix: z.string().default(""),
});
export type CheckpointLocation = z.infer<typeof checkpointLocationSchema>;

export const workloadRegionSchema = z.strictObject({
  /** Origin name in the Standard/Premium origin group, or backend address for classic (inference only). */
  origin: z.string().min(1).optional(),
  /** 1–5; lower is preferred (Front Door routing). */
  priority: z.number().int().min(1).max(5).default(1),
  /** 1–1000 (Front Door routing). */
  weight: z.number().int().min(1).max(1000).default(50),
  /** AKS cluster that hosts the GPU pools (inference only). */
  cluster: z.strictObject({ resourceGroup: resourceName, name: resourceName }).optional(),
  gpuPools: z.array(gpuPoolSchema).default([]),
  modelStore: modelStoreSchema.optional(),
  endpoint: endpointSchema.optional(),
  checkpoints: checkpointLocationSchema.optional(),
});
export type WorkloadRegion = z.infer<typeof workloadRegionSchema>;

export const approvalSchema = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("auto") }),
  z.strictObject({ mode: z.literal("manual"), timeoutSeconds: z.number().int().min(60).default(3600) }),
  z.strictObject({ mode: z.literal("auto-after-timeout"), timeoutSeconds: z.number().int().min(0).max(3600) }),
]);
export type Approval = z.infer<typeof approvalSchema>;

export const trainingSchema = z.strictObject({
  hub: regionName,
  secondary: regionName,
  /** Training run id; checkpoints live under `<prefix>/<runId>/`. */
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "expected a run id of letters, digits, '.', '_' or '-'"),
  /** Seconds of training between checkpoints (for the work-lost estimate). */
  checkpointIntervalSeconds: z.number().int().min(1).default(1800),
  /** Size of one checkpoint (weights + optimizer state), for the resume estimate; defaults to `model.sizeGb`. */
  checkpointSizeGb: z.number().positive().optional(),
  job: z.strictObject({
    /** Azure ML workspace per region. */
    workspaces: z.record(regionName, z.strictObject({ resourceGroup: resourceName, name: resourceName })),
    compute: z.record(regionName, resourceName),
    environment: z.string().min(1),
    command: z.string().min(1),
    experiment: resourceName.default("cutover-resume"),
  }),
});
export type Training = z.infer<typeof trainingSchema>;

export const workloadSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, "expected a lower-case name of letters, digits and '-'"),
  kind: z.enum(["inference", "training"]),
  /** Heavy models only run in core regions; light/distilled ones anywhere. */
  tier: z.enum(["heavy", "light"]),
  /** Geographies a failover target may be in. */
  residency: z.array(z.string()).min(1),
  approval: approvalSchema.prefault({ mode: "auto" }),
  slo: z.strictObject({
    latencyMs: z.number().int().min(1),
    rtoSeconds: z.number().int().min(60).max(86_400),
  }),
  model: z.strictObject({
    name: resourceName,
    version: z.string().min(1),
    sizeGb: z.number().positive(),
  }),
  /** GPUs needed to carry the workload's whole traffic (inference) or to run the job (training). */
  capacity: z.strictObject({
    gpus: z.number().int().min(1),
    /**
     * Hedged allocation: when a scale-up has provisioned this many seconds without finishing, also ask the next
     * same-region fallback candidate (if it fits the quota beside it); the first to finish serves, the other is scaled
     * back. Trades GPU-minutes and ARM writes for not sitting through an allocation failure AKS reports only after
     * minutes. Absent: fallbacks only after a failure.
     */
    hedge: z.strictObject({ afterSeconds: z.number().int().min(0).max(900) }).optional(),
    /**
     * Spare nodes: each pool a failover scales up is asked for this many nodes beyond the ones it needs (within the
     * pool's max and the vCPU quota left), and its step counts as done once the needed nodes are Ready in the
     * cluster's Kubernetes API, so the slowest nodes of a scale-up from zero do not hold the failover. Trades
     * GPU-minutes for minutes of RTO; the spare nodes stay as headroom. Absent or 0: none.
     */
    spareNodes: z.number().int().min(0).max(16).optional(),
  }),
  /** Name of an entry under `frontDoors`; required for inference. */
  frontDoor: resourceName.optional(),
  regions: z.record(regionName, workloadRegionSchema),
  training: trainingSchema.optional(),
  /**
   * Practice runs (scheduled drills) of this workload's failover: when (six-field NCRONTAB, UTC), from which scope,
   * dry-run or live, and the windows they must fit (see `src/domain/practice.ts` and docs/health-and-failback.md).
   */
  practice: practiceScheduleSchema.omit({ workload: true }).optional(),
});
export type Workload = z.infer<typeof workloadSchema>;

export const topologySchema = z.strictObject({
  version: z.literal(1),
  subscriptionId: guid,
  regions: z.record(regionName, regionSchema),
  frontDoors: z.record(resourceName, frontDoorSchema).default({}),
  capabilityMatrix: capabilityMatrixSchema,
  workloads: z.array(workloadSchema).min(1),
});
export type Topology = z.infer<typeof topologySchema>;
export type TopologyInput = z.input<typeof topologySchema>;

/** One problem found in a topology: the dotted/bracketed path and what was wrong there. */
export interface TopologyProblem {
  readonly path: string;
  readonly message: string;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return "a list";
  return "an object";
}

/** Turns zod issues into `path: expected …, got …` problems, one per issue (unions are flattened). */
export function problemsFromZod(issues: ReadonlyArray<z.core.$ZodIssue>, root: unknown): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  for (const issue of issues) {
    const input = issue.code !== "custom" && "input" in issue ? issue.input : valueAt(root, issue.path);
    switch (issue.code) {
      case "invalid_value":
        problems.push({
          path: formatPath(issue.path),
          message: `expected ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}, got ${describe(input)}`,
        });
        break;
      case "invalid_type":
        problems.push({
          path: formatPath(issue.path),
          message:
            input === undefined
              ? `required (expected ${issue.expected})`
              : `expected ${issue.expected}, got ${describe(input)}`,
        });
        break;
      case "unrecognized_keys":
        for (const key of issue.keys)
          problems.push({ path: formatPath([...issue.path, key]), message: "unknown field (check its spelling)" });
        break;
      case "invalid_union":
        if (issue.errors.length > 0) {
          const best = issue.errors.reduce((a, b) => (a.length <= b.length ? a : b));
          problems.push(
            ...problemsFromZod(
              best.map((i) => ({ ...i, path: [...issue.path, ...i.path] })),
              root,
            ),
          );
        } else {
          // zod 4 reports a bad discriminator at the discriminator's own path, with the enclosing object as input
          // and its allowed values under `options`.
          const discriminator =
            "discriminator" in issue && typeof issue.discriminator === "string" ? issue.discriminator : undefined;
          const options = "options" in issue && Array.isArray(issue.options) ? (issue.options as unknown[]) : undefined;
          const path =
            discriminator === undefined || issue.path[issue.path.length - 1] === discriminator
              ? issue.path
              : [...issue.path, discriminator];
          const expected =
            options === undefined
              ? issue.message.replace(/^Invalid input: ?/, "")
              : `expected ${options.map((o) => JSON.stringify(o)).join(" | ")}`;
          problems.push({ path: formatPath(path), message: `${expected}, got ${describe(valueAt(root, path))}` });
        }
        break;
      default:
        problems.push({
          path: formatPath(issue.path),
          message: `${issue.message}${input === undefined ? "" : `, got ${describe(input)}`}`,
        });
    }
  }
  return problems;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Checks that span several parts of a structurally valid topology. Returns every problem found (empty when the
 * topology is consistent).
 */
export function crossCheckTopology(topology: Topology): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  const add = (path: ReadonlyArray<PropertyKey>, message: string): void => {
    problems.push({ path: formatPath(path), message });
  };
  const matrix = topology.capabilityMatrix;
  const geographies = new Set(Object.values(topology.regions).map((r) => r.geography));

  for (const [regionKey, zones] of Object.entries(matrix.availability)) {
    const region = topology.regions[regionKey];
    if (region === undefined) {
      add(["capabilityMatrix", "availability", regionKey], `region "${regionKey}" is not declared under regions`);
      continue;
    }
    for (const [zone, skus] of Object.entries(zones)) {
      if (!region.zones.includes(zone as Zone))
        add(["capabilityMatrix", "availability", regionKey, zone], `zone ${zone} is not a zone of ${regionKey}`);
      (skus ?? []).forEach((sku, i) => {
        if (matrix.skus[sku] === undefined)
          add(
            ["capabilityMatrix", "availability", regionKey, zone, i],
            `SKU ${sku} is not described under capabilityMatrix.skus`,
          );
      });
    }
  }
  for (const [sku, substitutes] of Object.entries(matrix.fallbacks)) {
    if (matrix.skus[sku] === undefined)
      add(["capabilityMatrix", "fallbacks", sku], `SKU ${sku} is not described under capabilityMatrix.skus`);
    substitutes.forEach((fallback, i) => {
      if (matrix.skus[fallback] === undefined)
        add(["capabilityMatrix", "fallbacks", sku, i], `fallback SKU ${fallback} is not in the capability matrix`);
      if (fallback === sku) add(["capabilityMatrix", "fallbacks", sku, i], "a SKU cannot be its own fallback");
    });
  }
  for (const regionKey of Object.keys(matrix.quotas)) {
    if (topology.regions[regionKey] === undefined)
      add(["capabilityMatrix", "quotas", regionKey], `region "${regionKey}" is not declared under regions`);
  }

  const workloadNames = new Map<string, number>();
  const originOwners = new Map<string, string>();
  topology.workloads.forEach((workload, w) => {
    const base: PropertyKey[] = ["workloads", w];
    const previous = workloadNames.get(workload.name);
    if (previous !== undefined)
      add([...base, "name"], `duplicate workload name "${workload.name}" (also workloads[${previous}])`);
    else workloadNames.set(workload.name, w);

    workload.residency.forEach((geo, i) => {
      if (!geographies.has(geo))
        add(
          [...base, "residency", i],
          `geography "${geo}" is not used by any region (known: ${[...geographies].sort().join(", ")})`,
        );
    });

    const regionEntries = Object.entries(workload.regions);
    if (regionEntries.length === 0) add([...base, "regions"], "a workload needs at least one region");

    const practice = workload.practice;
    if (practice !== undefined) {
      const scope = practice.scope;
      if (workload.regions[scope.region] === undefined)
        add(
          [...base, "practice", "scope", "region"],
          `workload ${workload.name} has no region "${scope.region}" (has ${Object.keys(workload.regions).join(", ")})`,
        );
      else if (scope.zone !== undefined && !(topology.regions[scope.region]?.zones ?? []).includes(scope.zone))
        add([...base, "practice", "scope", "zone"], `zone ${scope.zone} is not a zone of ${scope.region}`);
    }

    if (workload.kind === "inference") {
      if (workload.frontDoor === undefined) add([...base, "frontDoor"], "required for an inference workload");
      else if (topology.frontDoors[workload.frontDoor] === undefined)
        add([...base, "frontDoor"], `Front Door "${workload.frontDoor}" is not declared under frontDoors`);
      if (workload.training !== undefined)
        add([...base, "training"], "only training workloads have a training section");
    } else if (workload.training === undefined) {
      add([...base, "training"], "required for a training workload");
    }

    const poolNames = new Map<string, string>();
    for (const [regionKey, entry] of regionEntries) {
      const rbase = [...base, "regions", regionKey];
      const region = topology.regions[regionKey];
      if (region === undefined) {
        add(rbase, `region "${regionKey}" is not declared under regions`);
        continue;
      }
      if (workload.tier === "heavy" && region.class !== "core" && workload.kind === "inference") {
        add(rbase, `heavy workloads run only in core regions; ${regionKey} is ${region.class}`);
      }
      if (workload.kind === "inference") {
        if (entry.origin === undefined) add([...rbase, "origin"], "required for an inference workload region");
        else {
          const originKey = `${workload.frontDoor ?? ""}/${entry.origin}`;
          const owner = originOwners.get(originKey);
          if (owner !== undefined) add([...rbase, "origin"], `origin "${entry.origin}" is already used by ${owner}`);
          else originOwners.set(originKey, `workloads[${w}].regions.${regionKey}`);
        }
        if (entry.cluster === undefined) add([...rbase, "cluster"], "required for an inference workload region");
        if (entry.endpoint === undefined) add([...rbase, "endpoint"], "required for an inference workload region");
        if (entry.modelStore === undefined) add([...rbase, "modelStore"], "required for an inference workload region");
      }
      entry.gpuPools.forEach((pool, p) => {
        const pbase = [...rbase, "gpuPools", p];
        if (entry.cluster === undefined) {
          add([...rbase, "cluster"], "required: GPU pools need the AKS cluster that hosts them");
          return;
        }
        const clusterPool = `${entry.cluster.resourceGroup}/${entry.cluster.name}/${pool.name}`;
        const dup = poolNames.get(clusterPool);
        if (dup !== undefined)
          add([...pbase, "name"], `duplicate pool "${pool.name}" in cluster ${entry.cluster.name} (also ${dup})`);
        else poolNames.set(clusterPool, formatPath(pbase));
        if (!region.zones.includes(pool.zone))
          add(
            [...pbase, "zone"],
            `zone ${pool.zone} is not a zone of ${regionKey} (zones: ${region.zones.join(", ") || "none"})`,
          );
        if (matrix.skus[pool.vmSize] === undefined)
          add([...pbase, "vmSize"], `VM size ${pool.vmSize} is not described under capabilityMatrix.skus`);
      });
    }

    if (workload.training !== undefined) {
      const t = workload.training;
      const tbase = [...base, "training"];
      if (t.hub === t.secondary) add([...tbase, "secondary"], `the secondary must differ from the hub (${t.hub})`);
      for (const [key, label] of [
        [t.hub, "hub"],
        [t.secondary, "secondary"],
      ] as const) {
        if (workload.regions[key] === undefined)
          add([...tbase, label], `${label} region "${key}" is not one of this workload's regions`);
        else if (workload.regions[key]?.checkpoints === undefined)
          add([...base, "regions", key, "checkpoints"], `required: the training ${label} needs a checkpoint location`);
        if (t.job.workspaces[key] === undefined)
          add([...tbase, "job", "workspaces", key], `required: no Azure ML workspace for the ${label}`);
        if (t.job.compute[key] === undefined)
          add([...tbase, "job", "compute", key], `required: no compute target for the ${label}`);
      }
      // The secondary is the training workload's only failover target: it must satisfy residency and tier.
      const secondary = topology.regions[t.secondary];
      if (secondary !== undefined && t.hub !== t.secondary) {
        if (!workload.residency.includes(secondary.geography))
          add(
            [...tbase, "secondary"],
            `the secondary ${t.secondary} (geography ${secondary.geography}) is outside residency ${JSON.stringify(workload.residency)}`,
          );
        if (workload.tier === "heavy" && secondary.class !== "core")
          add(
            [...tbase, "secondary"],
            `heavy workloads run only in core regions; ${t.secondary} is ${secondary.class}`,
          );
      }
    }

    // Residency and tier must leave at least one possible failover target besides any single region.
    const allowed = regionEntries.filter(([key]) => {
      const region = topology.regions[key];
      return (
        region !== undefined &&
        workload.residency.includes(region.geography) &&
        (workload.tier === "light" || region.class === "core")
      );
    });
    if (regionEntries.length > 0 && allowed.length < 2 && workload.kind === "inference") {
      add(
        [...base, "residency"],
        `residency ${JSON.stringify(workload.residency)} and tier ${workload.tier} leave ${allowed.length} eligible region(s); a failover needs at least 2`,
      );
    }
  });
  return problems;
}

/** All (workload, region, pool) triples, in topology order. */
export function allPools(
  topology: Topology,
): Array<{ workload: string; region: string; entry: WorkloadRegion; pool: GpuPool }> {
  const out: Array<{ workload: string; region: string; entry: WorkloadRegion; pool: GpuPool }> = [];
  for (const workload of topology.workloads)
    for (const [region, entry] of Object.entries(workload.regions))
      for (const pool of entry.gpuPools) out.push({ workload: workload.name, region, entry, pool });
  return out;
}

export function findWorkload(topology: Topology, name: string): Workload | undefined {
  return topology.workloads.find((w) => w.name === name);
}
