/**
 * Input and output schemas of the failover activities: the wire contract between `failoverWorkload` and
 * `createFailoverActivities`. Both sides parse with these, so a change shows up in one place.
 */
import { z } from "zod";
import {
  frontDoorSchema,
  modelStoreSchema,
  topologySchema,
  workloadSchema,
  zoneSchema,
  endpointSchema,
} from "../domain/topology";
import { scopeSchema } from "./contracts";

const modelRefSchema = z.strictObject({ name: z.string().min(1), version: z.string().min(1) });
const clusterSchema = z.strictObject({ resourceGroup: z.string().min(1), name: z.string().min(1) });

export const snapshotInputSchema = z.strictObject({
  subscriptionId: z.string().min(1),
  workload: workloadSchema,
  frontDoor: frontDoorSchema.optional(),
});
export type SnapshotInput = z.input<typeof snapshotInputSchema>;

export const snapshotSchema = z.object({
  takenAt: z.string(),
  pools: z.array(
    z.object({
      region: z.string(),
      pool: z.string(),
      zone: z.string(),
      vmSize: z.string(),
      count: z.number().int(),
      provisioningState: z.string(),
      error: z.string().optional(),
    }),
  ),
  origins: z.array(
    z.object({
      region: z.string(),
      origin: z.string(),
      enabledState: z.enum(["Enabled", "Disabled"]),
      weight: z.number(),
      priority: z.number(),
      deploymentStatus: z.string().optional(),
    }),
  ),
  /** Origins of the same origin group (backend pool) that the topology does not declare, as Front Door lists them. */
  otherOrigins: z.array(z.object({ origin: z.string(), enabledState: z.enum(["Enabled", "Disabled"]) })).optional(),
  gates: z.array(z.object({ region: z.string(), state: z.enum(["open", "drained"]) })),
  endpoints: z.array(
    z.object({
      region: z.string(),
      status: z.number(),
      modelVersion: z.string().optional(),
      latencyMs: z.number().optional(),
      state: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
  models: z.array(
    z.object({ region: z.string(), status: z.enum(["present", "absent", "copying", "failed", "unknown"]) }),
  ),
  errors: z.array(z.string()),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const planActivityInputSchema = z.strictObject({
  topology: topologySchema,
  workload: z.string().min(1),
  scope: scopeSchema,
  capacity: z.strictObject({ pools: z.record(z.string(), z.number().int().min(0)) }),
  health: z.strictObject({
    impairedRegions: z.array(z.string()),
    impairedZones: z.array(z.strictObject({ region: z.string(), zone: zoneSchema })),
  }),
  detection: z.enum(["alert", "probe", "none"]),
  modelStores: z
    .strictObject({ missing: z.array(z.strictObject({ workload: z.string(), region: z.string() })) })
    .optional(),
});
export type PlanActivityInput = z.input<typeof planActivityInputSchema>;

export const poolTargetSchema = z.strictObject({
  subscriptionId: z.string().min(1),
  region: z.string().min(1),
  pool: z.string().min(1),
  zone: zoneSchema,
  vmSize: z.string().min(1),
  cluster: clusterSchema,
  /** The executor's own bookkeeping (count before the failover, hedge eligibility); not used by the activities. */
  from: z.number().int().min(0).max(1000).optional(),
  hedgeable: z.boolean().optional(),
  to: z.number().int().min(0).max(1000),
  /**
   * Nodes that must be Ready for the scale-up to count as done, when fewer than `to` (spare nodes asked for beyond the
   * need): read from the cluster's Kubernetes API while the AKS operation still runs. Absent: AKS's own completion.
   */
  need: z.number().int().min(0).max(1000).optional(),
  operation: z.string().optional(),
});
export type PoolTargetInput = z.input<typeof poolTargetSchema>;

export const ensureModelInputSchema = z.strictObject({
  region: z.string().min(1),
  model: modelRefSchema,
  target: modelStoreSchema,
  sources: z.array(z.strictObject({ region: z.string().min(1), store: modelStoreSchema })),
});
export type EnsureModelInput = z.input<typeof ensureModelInputSchema>;

export const warmInputSchema = z.strictObject({
  region: z.string().min(1),
  endpoint: endpointSchema,
  model: modelRefSchema,
  latencyMs: z.number().positive(),
});
export type WarmInput = z.input<typeof warmInputSchema>;

export const gateInputSchema = z.strictObject({
  workload: z.string().min(1),
  region: z.string().min(1),
  state: z.enum(["open", "drained"]),
  reason: z.string().min(1),
  by: z.string().min(1),
});
export type GateInput = z.input<typeof gateInputSchema>;

const originPatchSchema = z.strictObject({
  enabledState: z.enum(["Enabled", "Disabled"]).optional(),
  weight: z.number().int().min(1).max(1000).optional(),
  priority: z.number().int().min(1).max(5).optional(),
});

export const frontDoorInputSchema = z.strictObject({
  subscriptionId: z.string().min(1),
  frontDoor: frontDoorSchema,
  /** origin name → the patch to apply (updateFrontDoor) or to wait for (getFrontDoorStatus). */
  origins: z.record(z.string(), originPatchSchema),
  /** Origins of this workload, for the last-healthy-origin guard. */
  workloadOrigins: z.array(z.string()),
});
export type FrontDoorInput = z.input<typeof frontDoorInputSchema>;

export const verifyInputSchema = z.strictObject({
  subscriptionId: z.string().min(1),
  model: modelRefSchema,
  latencyMs: z.number().positive(),
  targets: z.array(
    z.strictObject({
      region: z.string().min(1),
      endpoint: endpointSchema,
      needGpus: z.number().min(0),
      pools: z.array(
        z.strictObject({ cluster: clusterSchema, pool: z.string(), gpusPerNode: z.number().int().min(1) }),
      ),
    }),
  ),
});
export type VerifyInput = z.input<typeof verifyInputSchema>;

export const restoreInputSchema = z.strictObject({
  subscriptionId: z.string().min(1),
  workload: z.string().min(1),
  reason: z.string().min(1),
  by: z.string().min(1),
  gates: z.array(z.string()),
  frontDoor: frontDoorSchema.optional(),
  origins: z.record(z.string(), originPatchSchema),
});
export type RestoreInput = z.input<typeof restoreInputSchema>;

export const restoreOutputSchema = z.array(z.object({ action: z.string(), outcome: z.string() }));

export const confirmInputSchema = z.strictObject({
  subscriptionId: z.string().min(1),
  frontDoor: frontDoorSchema,
  origin: z.string().min(1),
  region: z.string().min(1),
  /** Confirmed when the origin's health % over the window is below this. */
  thresholdPercent: z.number().min(0).max(100),
  minutes: z.number().int().min(1).max(60),
});
export type ConfirmInput = z.input<typeof confirmInputSchema>;

export const confirmOutputSchema = z.object({ confirmed: z.boolean(), detail: z.string() });

export const saveReportInputSchema = z.strictObject({ instanceId: z.string().min(1), report: z.unknown() });

/**
 * Regions (other than the failed one) that cannot take load now: their endpoint is unreachable or reports its region
 * `down`, or another failover drained their gate. A cold or empty region is not impaired: it is a (cold) target.
 */
export function impairedRegions(snapshot: Snapshot, failedRegion: string): string[] {
  const impaired = new Set<string>();
  for (const e of snapshot.endpoints)
    if (e.region !== failedRegion && (e.status === 0 || e.state === "down")) impaired.add(e.region);
  for (const g of snapshot.gates) if (g.region !== failedRegion && g.state === "drained") impaired.add(g.region);
  return [...impaired].sort();
}
