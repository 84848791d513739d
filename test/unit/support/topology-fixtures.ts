/* eslint-disable @typescript-eslint/no-explicit-any -- these tests edit untyped YAML data on purpose, to produce invalid topologies. */
/**
 * Topology fixtures for unit tests: the example file (as text, raw object or parsed topology), YAML built from a
 * mutated copy of it, and a compact builder for small planner scenarios. Everything built here goes through the real
 * schema and cross-checks, so a fixture that stops being valid fails loudly instead of testing the wrong thing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { parseTopology } from "../../../src/config/topology-loader";
import { crossCheckTopology, topologySchema, type Topology, type Zone } from "../../../src/domain/topology";

export const EXAMPLE_PATH = join(__dirname, "..", "..", "..", "examples", "topology.yaml");

export function exampleText(): string {
  return readFileSync(EXAMPLE_PATH, "utf8");
}

/** A fresh deep copy of the example as plain data (safe to mutate). */
export function exampleRaw(): Record<string, any> {
  return parse(exampleText()) as Record<string, any>;
}

export function exampleTopology(): Topology {
  const result = parseTopology(exampleText(), EXAMPLE_PATH);
  if (!result.ok) throw new Error(`example topology is invalid: ${JSON.stringify(result.problems)}`);
  return result.topology;
}

/** YAML text of the example after `mutate` edits its raw data. */
export function mutatedExample(mutate: (raw: Record<string, any>) => void): string {
  const raw = exampleRaw();
  mutate(raw);
  return stringify(raw);
}

// ------------------------------------------------------------------------------------------------------------------
// Compact builder.

export const SKUS = {
  Standard_NC24ads_A100_v4: { gpus: 1, vcpus: 24, family: "standardNCADSA100v4Family" },
  Standard_NC48ads_A100_v4: { gpus: 2, vcpus: 48, family: "standardNCADSA100v4Family" },
  Standard_NC96ads_A100_v4: { gpus: 4, vcpus: 96, family: "standardNCADSA100v4Family" },
  Standard_NC40ads_H100_v5: { gpus: 1, vcpus: 40, family: "standardNCadsH100v5Family" },
} as const;
export type SkuName = keyof typeof SKUS;
export const A100 = "Standard_NC24ads_A100_v4";
export const A100X2 = "Standard_NC48ads_A100_v4";
export const A100X4 = "Standard_NC96ads_A100_v4";
export const H100 = "Standard_NC40ads_H100_v5";

export interface PoolSpec {
  readonly name: string;
  readonly zone: Zone;
  readonly vmSize?: SkuName;
  readonly max: number;
  readonly current?: number;
  readonly min?: number;
}

export interface WorkloadRegionSpec {
  readonly priority?: number;
  readonly weight?: number;
  readonly pools?: ReadonlyArray<PoolSpec>;
}

export interface WorkloadSpec {
  readonly name: string;
  readonly kind?: "inference" | "training";
  readonly tier?: "heavy" | "light";
  readonly residency?: ReadonlyArray<string>;
  readonly gpus: number;
  readonly approval?: Record<string, unknown>;
  readonly rtoSeconds?: number;
  readonly sizeGb?: number;
  readonly regions: Readonly<Record<string, WorkloadRegionSpec>>;
  readonly training?: { hub: string; secondary: string; checkpointSizeGb?: number };
}

export interface TopologySpec {
  readonly regions: Readonly<Record<string, { geography?: string; class?: "core" | "edge"; zones?: Zone[] }>>;
  /** region → zone → SKUs; default: every SKU in every zone of every region. */
  readonly availability?: Readonly<Record<string, Partial<Record<Zone, SkuName[]>>>>;
  readonly fallbacks?: Readonly<Partial<Record<SkuName, SkuName[]>>>;
  readonly quotas?: Readonly<Record<string, Record<string, number>>>;
  readonly workloads: ReadonlyArray<WorkloadSpec>;
  readonly probe?: Record<string, unknown>;
}

/** The raw (YAML-shaped) data for a spec; {@link buildTopology} parses and cross-checks it. */
export function rawTopology(spec: TopologySpec): Record<string, any> {
  const regions: Record<string, any> = {};
  for (const [name, r] of Object.entries(spec.regions))
    regions[name] = { geography: r.geography ?? "us", class: r.class ?? "core", zones: r.zones ?? ["1", "2", "3"] };
  const availability: Record<string, any> =
    spec.availability ??
    Object.fromEntries(
      Object.entries(regions).map(([name, r]) => [
        name,
        Object.fromEntries((r.zones as string[]).map((z) => [z, Object.keys(SKUS)])),
      ]),
    );
  const workloads = spec.workloads.map((w) => {
    const kind = w.kind ?? "inference";
    const wregions: Record<string, any> = {};
    for (const [region, r] of Object.entries(w.regions)) {
      const entry: Record<string, any> = {};
      if (kind === "inference") {
        entry.origin = `${w.name}-${region}`;
        entry.priority = r.priority ?? 1;
        entry.weight = r.weight ?? 50;
        entry.cluster = { resourceGroup: `rg-${w.name}-${region}`, name: `aks-${w.name}-${region}` };
        entry.modelStore = { accountUrl: `https://st${region}.blob.core.windows.net`, container: "models" };
        entry.endpoint = {
          healthUrl: `https://${w.name}-${region}.example/healthz`,
          warmupUrl: `https://${w.name}-${region}.example/warmup`,
        };
        entry.gpuPools = (r.pools ?? []).map((p) => ({
          name: p.name,
          zone: p.zone,
          vmSize: p.vmSize ?? A100,
          min: p.min ?? 0,
          max: p.max,
          current: p.current ?? 0,
        }));
      } else {
        entry.checkpoints = { accountUrl: `https://stckpt${region}.blob.core.windows.net`, container: "checkpoints" };
      }
      wregions[region] = entry;
    }
    const out: Record<string, any> = {
      name: w.name,
      kind,
      tier: w.tier ?? "light",
      residency: w.residency ?? ["us"],
      approval: w.approval ?? { mode: "auto" },
      slo: { latencyMs: 1000, rtoSeconds: w.rtoSeconds ?? 900 },
      model: { name: "model", version: "1", sizeGb: w.sizeGb ?? 100 },
      capacity: { gpus: w.gpus },
      regions: wregions,
    };
    if (kind === "inference") out.frontDoor = "afd";
    if (w.training !== undefined) {
      const { hub, secondary } = w.training;
      out.training = {
        hub,
        secondary,
        runId: "run-1",
        ...(w.training.checkpointSizeGb === undefined ? {} : { checkpointSizeGb: w.training.checkpointSizeGb }),
        job: {
          workspaces: {
            [hub]: { resourceGroup: "rg-ml", name: `mlw-${hub}` },
            [secondary]: { resourceGroup: "rg-ml", name: `mlw-${secondary}` },
          },
          compute: { [hub]: "gpu", [secondary]: "gpu" },
          environment: "azureml:env:1",
          command: "python train.py",
        },
      };
    }
    return out;
  });
  return {
    version: 1,
    subscriptionId: "00000000-0000-4000-8000-000000000001",
    regions,
    frontDoors: {
      afd: {
        kind: "standard",
        resourceGroup: "rg-edge",
        profile: "afd",
        originGroup: "og",
        probe: spec.probe ?? {
          intervalSeconds: 30,
          sampleSize: 4,
          successfulSamplesRequired: 3,
          additionalLatencyMs: 1000,
        },
      },
    },
    capabilityMatrix: {
      skus: SKUS,
      availability,
      fallbacks: spec.fallbacks ?? {},
      quotas: spec.quotas ?? {},
    },
    workloads,
  };
}

/** Parses and cross-checks; throws with every problem when the spec is not a valid topology. */
export function buildTopology(spec: TopologySpec, options: { crossCheck?: boolean } = {}): Topology {
  const parsed = topologySchema.safeParse(rawTopology(spec));
  if (!parsed.success) throw new Error(`fixture fails the schema: ${parsed.error.message}`);
  if (options.crossCheck !== false) {
    const problems = crossCheckTopology(parsed.data);
    if (problems.length > 0) throw new Error(`fixture fails cross-checks: ${JSON.stringify(problems)}`);
  }
  return parsed.data;
}
