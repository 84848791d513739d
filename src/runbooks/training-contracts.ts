/**
 * Frozen names and zod schemas of the training-resume runbook and its activities (the lead merges the names into
 * contracts.ts). History stores these strings: a breaking change gets a new name, never an edit.
 *
 * Also {@link buildResumeTrainingInput}, the pure mapping from a topology workload to the runbook's input, for the
 * failover runbook and for drills: orchestrators never read config, so everything arrives in the input.
 */
import { z } from "zod";
import type { CheckpointDefect, CheckpointHeader, HubNewest, WorkLost } from "../domain/checkpoint";
import { checkpointLocationSchema, type Topology } from "../domain/topology";

export const TRAINING_ORCHESTRATIONS = {
  resumeTraining: "resumeTraining",
} as const;

export const TRAINING_ACTIVITIES = {
  listTrainingCheckpoints: "listTrainingCheckpoints",
  inspectTrainingCheckpoint: "inspectTrainingCheckpoint",
  hashTrainingCheckpointShards: "hashTrainingCheckpointShards",
  fenceTrainingRun: "fenceTrainingRun",
  submitTrainingJob: "submitTrainingJob",
  getTrainingJobStatus: "getTrainingJobStatus",
} as const;

const runId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "expected a run id of letters, digits, '.', '_' or '-'");
const step = z.number().int().min(0);
const epoch = z.number().int().min(1);
const region = z.string().regex(/^[a-z][a-z0-9]+$/, "expected an Azure region name");
const instant = z.iso.datetime({ offset: true });

export const siteSchema = z.strictObject({ region, location: checkpointLocationSchema });
export type Site = z.infer<typeof siteSchema>;

export const trainingJobTargetSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("azureml"),
    subscriptionId: z.string().min(1),
    resourceGroup: z.string().min(1),
    workspace: z.string().min(1),
    compute: z.string().min(1),
    environment: z.string().min(1),
    experiment: z.string().min(1),
  }),
  z.strictObject({
    kind: z.literal("kubernetes"),
    cluster: z.strictObject({ resourceGroup: z.string().min(1), name: z.string().min(1) }),
    namespace: z.string().min(1),
    image: z.string().min(1),
  }),
]);

// ---------------------------------------------------------------------------------------------------------------
// Activity inputs

export const listCheckpointsInputSchema = z.strictObject({
  runId,
  hub: siteSchema,
  secondary: siteSchema,
  /** How long the hub may take to answer before it counts as unreachable, ms. */
  hubProbeTimeoutMs: z.number().int().min(1).max(120_000).default(10_000),
});
export type ListCheckpointsInput = z.input<typeof listCheckpointsInputSchema>;

export const inspectCheckpointInputSchema = z.strictObject({
  runId,
  location: checkpointLocationSchema,
  step,
  hubNewestStep: step.optional(),
  batchBytes: z.number().int().min(1),
  batchShards: z.number().int().min(1).max(10_000),
});
export type InspectCheckpointInput = z.input<typeof inspectCheckpointInputSchema>;

export const hashShardsInputSchema = z.strictObject({
  runId,
  location: checkpointLocationSchema,
  step,
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  from: z.number().int().min(0),
  to: z.number().int().min(1),
});
export type HashShardsInput = z.input<typeof hashShardsInputSchema>;

export const fenceRunInputSchema = z.strictObject({
  runId,
  holder: z.string().min(1),
  minEpoch: epoch,
  closeAtStep: step.nullable(),
  at: instant,
  /** The secondary's fence epoch when the runbook listed it (null: none). */
  basedOnEpoch: z.number().int().min(0).nullable(),
  secondary: siteSchema,
  hub: siteSchema,
  hubProbeTimeoutMs: z.number().int().min(1).max(120_000).default(10_000),
});
export type FenceRunInput = z.input<typeof fenceRunInputSchema>;

export const submitJobInputSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a job name from trainingJobName()"),
  runId,
  epoch,
  region,
  checkpoint: z.strictObject({ uri: z.url({ protocol: /^https?$/ }), step }),
  command: z.string().min(1),
  target: trainingJobTargetSchema,
});
export type SubmitJobInput = z.input<typeof submitJobInputSchema>;

export const jobStatusInputSchema = z.strictObject({ jobId: z.string().min(1) });

// ---------------------------------------------------------------------------------------------------------------
// Activity outputs (parsed again by the runbook: the value a yield returns is a boundary too)

const defectSchema = z.strictObject({
  step,
  reason: z.enum([
    "no-marker",
    "marker-invalid",
    "manifest-missing",
    "manifest-invalid",
    "missing-shard",
    "size-mismatch",
    "hash-mismatch",
    "not-replicated",
    "fenced",
  ]),
  detail: z.string(),
});

const hubNewestSchema = z.strictObject({
  step,
  epoch,
  committedAt: instant,
  source: z.enum(["hub-listing", "hub-progress", "mirrored-progress", "secondary-listing"]),
});

export const listCheckpointsOutputSchema = z.strictObject({
  folders: z.array(
    z.strictObject({
      step,
      hasMarker: z.boolean(),
      hasManifest: z.boolean(),
      blobCount: z.number().int().min(0),
      bytes: z.number().min(0),
    }),
  ),
  hubNewest: hubNewestSchema.nullable(),
  hubReachable: z.boolean(),
  hubProblem: z.string().optional(),
  secondaryFenceEpoch: z.number().int().min(1).nullable(),
  hubFenceEpoch: z.number().int().min(1).nullable(),
  maxEpochSeen: z.number().int().min(0),
});
export type ListCheckpointsOutput = z.infer<typeof listCheckpointsOutputSchema>;

const headerSchema = z.strictObject({
  step,
  epoch,
  committedAt: instant,
  createdAt: instant,
  manifestSha256: z.string(),
  shardCount: z.number().int().min(1),
  totalBytes: z.number().min(0),
});

export const inspectCheckpointOutputSchema = z.discriminatedUnion("ok", [
  z.strictObject({ ok: z.literal(false), defect: defectSchema }),
  z.strictObject({
    ok: z.literal(true),
    header: headerSchema,
    batches: z.array(z.strictObject({ from: z.number().int(), to: z.number().int(), bytes: z.number() })).min(1),
  }),
]);
export type InspectCheckpointOutput = z.infer<typeof inspectCheckpointOutputSchema>;

export const hashShardsOutputSchema = z.discriminatedUnion("ok", [
  z.strictObject({ ok: z.literal(false), defect: defectSchema }),
  z.strictObject({ ok: z.literal(true), from: z.number().int(), to: z.number().int(), bytes: z.number() }),
]);
export type HashShardsOutput = z.infer<typeof hashShardsOutputSchema>;

export const fenceRunOutputSchema = z.discriminatedUnion("status", [
  z.strictObject({
    status: z.enum(["advanced", "already-held"]),
    epoch,
    previousEpoch: z.number().int().nullable(),
    hubFenced: z.boolean(),
    hubProblem: z.string().optional(),
  }),
  z.strictObject({ status: z.literal("superseded"), epoch, holder: z.string() }),
]);
export type FenceRunOutput = z.infer<typeof fenceRunOutputSchema>;

const jobState = z.enum(["Queued", "Running", "Completed", "Failed", "Canceled", "Unknown"]);

export const submitJobOutputSchema = z.discriminatedUnion("status", [
  z.strictObject({ status: z.literal("submitted"), jobId: z.string(), created: z.boolean(), state: jobState }),
  z.strictObject({
    status: z.literal("rejected"),
    reason: z.enum(["invalid-input", "not-found", "unsupported-target", "conflict"]),
    message: z.string(),
  }),
]);
export type SubmitJobOutput = z.infer<typeof submitJobOutputSchema>;

export const jobStatusOutputSchema = z.strictObject({
  jobId: z.string(),
  state: jobState,
  providerState: z.string(),
  message: z.string().optional(),
});
export type JobStatusOutput = z.infer<typeof jobStatusOutputSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Orchestration input and result

export const resumeTrainingOptionsSchema = z.strictObject({
  /** Newest step folders inspected before giving up. */
  maxCandidates: z.number().int().min(1).max(50).default(5),
  /** Bytes hashed by one activity (each must finish well inside the Functions timeout). Default 8 GiB. */
  hashBatchBytes: z
    .number()
    .int()
    .min(1)
    .default(8 * 1024 ** 3),
  hashBatchShards: z.number().int().min(1).max(10_000).default(64),
  /** Durable-timer interval between job status polls. */
  pollIntervalSeconds: z.number().int().min(1).max(3600).default(30),
  /** How long the job may stay queued before the runbook reports `job-start-timeout` (the job keeps running). */
  startTimeoutSeconds: z.number().int().min(60).max(86_400).default(3600),
  hubProbeTimeoutMs: z.number().int().min(1).max(120_000).default(10_000),
});

export const resumeTrainingInputSchema = z.strictObject({
  workload: z.string().min(1),
  runId,
  mode: z.enum(["live", "dry-run"]),
  hub: siteSchema,
  secondary: siteSchema,
  checkpointIntervalSeconds: z.number().int().min(1),
  /** When the hub failed, if known (bounds the un-checkpointed work). */
  failedAt: instant.optional(),
  job: z.strictObject({ command: z.string().min(1), target: trainingJobTargetSchema }),
  options: resumeTrainingOptionsSchema.prefault({}),
});
export type ResumeTrainingInput = z.input<typeof resumeTrainingInputSchema>;
export type ResumeTrainingParsedInput = z.infer<typeof resumeTrainingInputSchema>;

export type ResumeTrainingPhase = "listing" | "validating" | "fencing" | "submitting" | "waiting-for-job" | "done";

/** Custom status while the runbook runs. */
export interface ResumeTrainingStatus {
  readonly phase: ResumeTrainingPhase;
  readonly runId: string;
  readonly step?: number;
  readonly epoch?: number;
  readonly jobId?: string;
  readonly jobState?: string;
}

export interface ResumeCheckpoint extends CheckpointHeader {
  readonly uri: string;
}

interface ResultBase {
  readonly workload: string;
  readonly runId: string;
  readonly mode: "live" | "dry-run";
  readonly region: string;
  /** Checkpoints passed over, newest first, each with why. */
  readonly rejected: ReadonlyArray<CheckpointDefect>;
  readonly hubNewest: HubNewest | null;
  readonly hubReachable: boolean;
  readonly timeline: ReadonlyArray<{ readonly at: string; readonly event: string }>;
}

interface Selected extends ResultBase {
  readonly checkpoint: ResumeCheckpoint;
  readonly workLost: WorkLost;
}

/**
 * What the runbook reports. Expected outcomes are values: only a bug or an exhausted retry of a transient failure
 * fails the orchestration.
 */
export type ResumeTrainingResult =
  | (Selected & { readonly status: "dry-run"; readonly nextEpoch: number })
  | (Selected & {
      readonly status: "resumed";
      readonly epoch: number;
      readonly hubFenced: boolean;
      readonly jobId: string;
      readonly jobState: "Running" | "Completed";
    })
  | (Selected & {
      readonly status: "job-failed" | "job-start-timeout";
      readonly epoch: number;
      readonly hubFenced: boolean;
      readonly jobId: string;
      readonly jobState: string;
    })
  | (Selected & {
      readonly status: "job-rejected";
      readonly epoch: number;
      readonly hubFenced: boolean;
      readonly reason: string;
      readonly message: string;
    })
  | (Selected & { readonly status: "superseded"; readonly epoch: number; readonly holder: string })
  | (ResultBase & { readonly status: "no-valid-checkpoint" });

export interface BuildResumeInputOptions {
  readonly mode: "live" | "dry-run";
  readonly failedAt?: string;
  readonly options?: z.input<typeof resumeTrainingOptionsSchema>;
}

/**
 * The runbook input for a training workload of the topology. Throws `[INVALID_INPUT]` when the workload is not a
 * training workload or lacks what a resume needs (the topology's cross-checks normally catch this first).
 */
export function buildResumeTrainingInput(
  topology: Topology,
  workloadName: string,
  options: BuildResumeInputOptions,
): ResumeTrainingInput {
  const workload = topology.workloads.find((w) => w.name === workloadName);
  const t = workload?.training;
  if (workload === undefined || t === undefined)
    throw new Error(`[INVALID_INPUT] workload ${workloadName} is not a training workload of the topology`);
  const hub = workload.regions[t.hub]?.checkpoints;
  const secondary = workload.regions[t.secondary]?.checkpoints;
  const ws = t.job.workspaces[t.secondary];
  const compute = t.job.compute[t.secondary];
  if (hub === undefined || secondary === undefined || ws === undefined || compute === undefined)
    throw new Error(
      `[INVALID_INPUT] workload ${workloadName} lacks checkpoints for ${t.hub}/${t.secondary} or a workspace and compute in ${t.secondary}`,
    );
  return {
    workload: workload.name,
    runId: t.runId,
    mode: options.mode,
    hub: { region: t.hub, location: hub },
    secondary: { region: t.secondary, location: secondary },
    checkpointIntervalSeconds: t.checkpointIntervalSeconds,
    ...(options.failedAt === undefined ? {} : { failedAt: options.failedAt }),
    job: {
      command: t.job.command,
      target: {
        kind: "azureml",
        subscriptionId: topology.subscriptionId,
        resourceGroup: ws.resourceGroup,
        workspace: ws.name,
        compute,
        environment: t.job.environment,
        experiment: t.job.experiment,
      },
    },
    ...(options.options === undefined ? {} : { options: options.options }),
  };
}
