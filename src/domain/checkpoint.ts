/**
 * Training checkpoints: the layout contract a training job follows, the verdicts Cutover reaches about a checkpoint,
 * the fencing rules that keep two trainers from writing the same run, and the work-lost arithmetic.
 *
 * Layout (one run, in one region's checkpoint location `{accountUrl}/{container}/{prefix}`):
 *
 * ```
 * {prefix}{runId}/
 *   _fence.json                      fencing epoch of the run at this location (conditional writes only)
 *   _progress.json                   newest checkpoint committed by the writer (informational, also mirrored)
 *   step-000000004000/               one folder per step, 12-digit zero-padded so names sort by step
 *     <shard paths…>                 any relative paths, listed in the manifest
 *     manifest.json                  every shard with size and sha256
 *     _COMPLETE                      the marker, written LAST; binds the manifest by its sha256
 * ```
 *
 * A checkpoint is valid only when the marker is present and names the manifest's exact bytes, the manifest parses,
 * every shard exists with the listed size and sha256, and the location's fence admits the epoch it was written
 * under. Everything here is pure: the adapters fetch the facts, these functions judge them.
 */
import { z } from "zod";
import type { CheckpointLocation } from "./topology";
import { fnv1a } from "./hash";

/** File names of the layout. Frozen: training jobs in the field write them. */
export const CHECKPOINT_LAYOUT = {
  manifest: "manifest.json",
  marker: "_COMPLETE",
  fence: "_fence.json",
  progress: "_progress.json",
  stepPrefix: "step-",
  stepDigits: 12,
} as const;

export const MANIFEST_FORMAT = "cutover-checkpoint/v1";
export const MARKER_FORMAT = "cutover-checkpoint-marker/v1";
export const FENCE_FORMAT = "cutover-fence/v1";
export const PROGRESS_FORMAT = "cutover-progress/v1";

/** Largest step a 12-digit folder name can carry. */
export const MAX_STEP = 999_999_999_999;

const runIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "expected a run id of letters, digits, '.', '_' or '-'");
const stepSchema = z.number().int().min(0).max(MAX_STEP);
const epochSchema = z.number().int().min(1);
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, "expected a lower-case hex sha256");
const instantSchema = z.iso.datetime({ offset: true });

/** A shard path relative to its step folder: plain segments, no `.`/`..`, no clash with the layout's own files. */
const shardPathSchema = z
  .string()
  .max(512)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/, "expected a relative path of plain names")
  .refine((p) => p !== CHECKPOINT_LAYOUT.manifest && p !== CHECKPOINT_LAYOUT.marker, {
    message: "a shard cannot use a name reserved by the layout",
  });

export const shardSchema = z.strictObject({
  path: shardPathSchema,
  size: z.number().int().min(0),
  sha256: sha256Schema,
});
export type Shard = z.infer<typeof shardSchema>;

/**
 * `manifest.json`. `createdAt` is when the trainer started writing the checkpoint; `metadata` is free-form (loss,
 * tokens seen, framework) and never interpreted by Cutover.
 */
export const manifestSchema = z
  .strictObject({
    format: z.literal(MANIFEST_FORMAT),
    runId: runIdSchema,
    step: stepSchema,
    epoch: epochSchema,
    createdAt: instantSchema,
    shards: z.array(shardSchema).min(1),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.shards.forEach((s, i) => {
      if (seen.has(s.path))
        ctx.addIssue({ code: "custom", path: ["shards", i, "path"], message: `duplicate shard ${s.path}` });
      seen.add(s.path);
    });
  });
export type Manifest = z.infer<typeof manifestSchema>;

/** `_COMPLETE`: written after every shard and the manifest; `manifestSha256` pins the manifest's exact bytes. */
export const markerSchema = z.strictObject({
  format: z.literal(MARKER_FORMAT),
  runId: runIdSchema,
  step: stepSchema,
  epoch: epochSchema,
  manifestSha256: sha256Schema,
  committedAt: instantSchema,
});
export type Marker = z.infer<typeof markerSchema>;

/** `_progress.json`: the newest checkpoint a writer committed (the writer mirrors it to the replica locations). */
export const progressSchema = z.strictObject({
  format: z.literal(PROGRESS_FORMAT),
  runId: runIdSchema,
  region: z.string().min(1),
  epoch: epochSchema,
  step: stepSchema,
  committedAt: instantSchema,
});
export type ProgressRecord = z.infer<typeof progressSchema>;

/**
 * A closed epoch: checkpoints written under `epoch` or any lower epoch with a step above `lastStep` are not part of
 * the run's history any more (a zombie writer, or a branch the run abandoned when it resumed from `lastStep`).
 */
export const closedEpochSchema = z.strictObject({
  epoch: z.number().int().min(0),
  lastStep: stepSchema.nullable(),
  holder: z.string(),
  closedAt: instantSchema,
});
export type ClosedEpoch = z.infer<typeof closedEpochSchema>;

/**
 * `_fence.json`. Only the holder of `epoch` may commit checkpoints at this location; a commit is a conditional
 * (If-Match) update of this blob, so a fence advance and a commit can never both succeed against the same version.
 */
export const fenceRecordSchema = z.strictObject({
  format: z.literal(FENCE_FORMAT),
  runId: runIdSchema,
  epoch: epochSchema,
  holder: z.string().min(1),
  updatedAt: instantSchema,
  /** Last step committed under `epoch` at this location, null before the first commit. */
  committedStep: stepSchema.nullable(),
  closed: z.array(closedEpochSchema),
});
export type FenceRecord = z.infer<typeof fenceRecordSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Paths

/** The run's folder inside the container, always ending in `/`. */
export function runRoot(prefix: string, runId: string): string {
  const clean = prefix.replace(/^\/+/, "");
  return `${clean === "" || clean.endsWith("/") ? clean : `${clean}/`}${runId}/`;
}

export function stepFolderName(step: number): string {
  if (!Number.isInteger(step) || step < 0 || step > MAX_STEP) throw new RangeError(`step out of range: ${step}`);
  return `${CHECKPOINT_LAYOUT.stepPrefix}${String(step).padStart(CHECKPOINT_LAYOUT.stepDigits, "0")}`;
}

/** The step of a folder name such as `step-000000004000`, or undefined for any other name. */
export function parseStepFolder(name: string): number | undefined {
  const m = /^step-(\d{12})$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/** Blob name of the step folder (ending in `/`) under the location's prefix. */
export function stepPath(prefix: string, runId: string, step: number): string {
  return `${runRoot(prefix, runId)}${stepFolderName(step)}/`;
}

/** The URI a resumed job mounts: the step folder in the location's account, with a trailing slash. */
export function checkpointUri(location: CheckpointLocation, runId: string, step: number): string {
  const base = location.accountUrl.replace(/\/+$/, "");
  return `${base}/${location.container}/${stepPath(location.prefix, runId, step)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Verdicts

/** Why a checkpoint cannot be resumed from. */
export type CheckpointDefectReason =
  | "no-marker"
  | "marker-invalid"
  | "manifest-missing"
  | "manifest-invalid"
  | "missing-shard"
  | "size-mismatch"
  | "hash-mismatch"
  | "not-replicated"
  | "fenced";

export interface CheckpointDefect {
  readonly step: number;
  readonly reason: CheckpointDefectReason;
  /** One line for people: which shard, expected vs actual. Never contains file contents. */
  readonly detail: string;
}

/** A small file as fetched: its text (bounded by the adapter) and the sha256 of its exact bytes. */
export interface FetchedFile {
  readonly text: string;
  readonly sha256: string;
  /** The file exceeded the adapter's read bound: `text` is empty, `sha256` still covers every byte. */
  readonly tooLarge?: boolean;
}

/** What an adapter saw in one step folder, before any judgement. */
export interface CheckpointFacts {
  readonly runId: string;
  readonly step: number;
  readonly marker: FetchedFile | undefined;
  readonly manifest: FetchedFile | undefined;
  /** Relative path → size in bytes, for every blob in the step folder. */
  readonly blobs: Readonly<Record<string, number>>;
}

export interface CheckpointHeader {
  readonly step: number;
  readonly epoch: number;
  readonly committedAt: string;
  readonly createdAt: string;
  readonly manifestSha256: string;
  readonly shardCount: number;
  readonly totalBytes: number;
}

export type StructureVerdict =
  | { readonly ok: true; readonly header: CheckpointHeader; readonly manifest: Manifest }
  | { readonly ok: false; readonly defect: CheckpointDefect };

export interface StructureContext {
  /** The fence of the location the checkpoint lives in; absent when the location was never fenced. */
  readonly fence?: FenceRecord | undefined;
  /** A checkpoint with no marker at or below this step is reported as `not-replicated` rather than `no-marker`. */
  readonly hubNewestStep?: number | undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : "not JSON" };
  }
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "invalid";
  const path = issue.path.map(String).join(".");
  return `${path === "" ? "" : `${path}: `}${issue.message}${error.issues.length > 1 ? ` (+${error.issues.length - 1} more)` : ""}`;
}

/**
 * Judges everything about a checkpoint except shard contents: the marker, the manifest and its binding to the
 * marker, identity (run, step, epoch), the fence, and that every shard exists with its listed size. Order matters:
 * the first defect found is the one reported, cheapest checks first.
 */
export function judgeStructure(facts: CheckpointFacts, context: StructureContext = {}): StructureVerdict {
  const fail = (reason: CheckpointDefectReason, detail: string): StructureVerdict => ({
    ok: false,
    defect: { step: facts.step, reason, detail },
  });
  if (facts.marker === undefined) {
    const hub = context.hubNewestStep;
    return hub !== undefined && facts.step <= hub
      ? fail("not-replicated", `no ${CHECKPOINT_LAYOUT.marker} yet; the hub committed up to step ${hub}`)
      : fail("no-marker", `no ${CHECKPOINT_LAYOUT.marker} marker: the checkpoint was never completed`);
  }
  if (facts.marker.tooLarge === true) return fail("marker-invalid", "marker is larger than a marker can be");
  const markerJson = parseJson(facts.marker.text);
  if (!markerJson.ok) return fail("marker-invalid", `marker is not JSON (${markerJson.message})`);
  const marker = markerSchema.safeParse(markerJson.value);
  if (!marker.success) return fail("marker-invalid", `marker: ${firstIssue(marker.error)}`);
  if (marker.data.runId !== facts.runId || marker.data.step !== facts.step)
    return fail(
      "marker-invalid",
      `marker names run ${marker.data.runId} step ${marker.data.step}, folder is run ${facts.runId} step ${facts.step}`,
    );

  if (facts.manifest === undefined) return fail("manifest-missing", `no ${CHECKPOINT_LAYOUT.manifest}`);
  if (facts.manifest.sha256 !== marker.data.manifestSha256)
    return fail(
      "manifest-invalid",
      `manifest sha256 ${facts.manifest.sha256.slice(0, 12)}… differs from the marker's ${marker.data.manifestSha256.slice(0, 12)}…`,
    );
  if (facts.manifest.tooLarge === true) return fail("manifest-invalid", "manifest exceeds the size Cutover reads");
  const manifestJson = parseJson(facts.manifest.text);
  if (!manifestJson.ok) return fail("manifest-invalid", `manifest is not JSON (${manifestJson.message})`);
  const manifest = manifestSchema.safeParse(manifestJson.value);
  if (!manifest.success) return fail("manifest-invalid", `manifest: ${firstIssue(manifest.error)}`);
  const m = manifest.data;
  if (m.runId !== facts.runId || m.step !== facts.step || m.epoch !== marker.data.epoch)
    return fail(
      "manifest-invalid",
      `manifest names run ${m.runId} step ${m.step} epoch ${m.epoch}; marker says run ${marker.data.runId} step ${marker.data.step} epoch ${marker.data.epoch}`,
    );

  const admitted = fenceAdmits(context.fence, marker.data.epoch, facts.step);
  if (!admitted.admitted) return fail("fenced", admitted.detail);

  const missing = m.shards.filter((s) => facts.blobs[s.path] === undefined);
  if (missing.length > 0)
    return fail(
      "missing-shard",
      `shard ${missing[0]!.path} is missing${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ""}`,
    );
  const wrong = m.shards.filter((s) => facts.blobs[s.path] !== s.size);
  if (wrong.length > 0) {
    const s = wrong[0]!;
    return fail(
      "size-mismatch",
      `shard ${s.path} has ${facts.blobs[s.path]} bytes, manifest says ${s.size}${wrong.length > 1 ? ` (and ${wrong.length - 1} more)` : ""}`,
    );
  }
  return {
    ok: true,
    manifest: m,
    header: {
      step: facts.step,
      epoch: marker.data.epoch,
      committedAt: marker.data.committedAt,
      createdAt: m.createdAt,
      manifestSha256: marker.data.manifestSha256,
      shardCount: m.shards.length,
      totalBytes: m.shards.reduce((sum, s) => sum + s.size, 0),
    },
  };
}

/** What hashing one shard as a stream produced. */
export type ShardDigest =
  | { readonly path: string; readonly status: "hashed"; readonly sha256: string; readonly bytes: number }
  | { readonly path: string; readonly status: "missing" };

/** Compares streamed digests with the manifest's shards (same order). The first disagreement is the defect. */
export function judgeShardDigests(
  step: number,
  expected: ReadonlyArray<Shard>,
  actual: ReadonlyArray<ShardDigest>,
): { readonly ok: true } | { readonly ok: false; readonly defect: CheckpointDefect } {
  const byPath = new Map(actual.map((d) => [d.path, d]));
  for (const shard of expected) {
    const d = byPath.get(shard.path);
    if (d === undefined || d.status === "missing")
      return { ok: false, defect: { step, reason: "missing-shard", detail: `shard ${shard.path} disappeared` } };
    if (d.bytes !== shard.size)
      return {
        ok: false,
        defect: {
          step,
          reason: "size-mismatch",
          detail: `shard ${shard.path} streamed ${d.bytes} bytes, manifest says ${shard.size}`,
        },
      };
    if (d.sha256 !== shard.sha256)
      return {
        ok: false,
        defect: {
          step,
          reason: "hash-mismatch",
          detail: `shard ${shard.path} sha256 ${d.sha256.slice(0, 12)}… differs from the manifest's ${shard.sha256.slice(0, 12)}…`,
        },
      };
  }
  return { ok: true };
}

/**
 * Splits shards into contiguous index ranges `[from, to)` of at most `maxBytes` (a shard larger than that gets a
 * range of its own) and at most `maxShards`, so each hashing activity stays well inside the Functions timeout.
 */
export function hashBatches(
  shards: ReadonlyArray<{ readonly size: number }>,
  maxBytes: number,
  maxShards = 64,
): Array<{ readonly from: number; readonly to: number; readonly bytes: number }> {
  if (!(maxBytes > 0) || !(maxShards > 0)) throw new RangeError("maxBytes and maxShards must be positive");
  const out: Array<{ from: number; to: number; bytes: number }> = [];
  let from = 0;
  let bytes = 0;
  shards.forEach((s, i) => {
    if (i > from && (bytes + s.size > maxBytes || i - from >= maxShards)) {
      out.push({ from, to: i, bytes });
      from = i;
      bytes = 0;
    }
    bytes += s.size;
  });
  if (shards.length > from) out.push({ from, to: shards.length, bytes });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Candidates and selection

/** One step folder as listed, without reading anything but names and sizes. */
export interface CheckpointFolder {
  readonly step: number;
  readonly hasMarker: boolean;
  readonly hasManifest: boolean;
  readonly blobCount: number;
  readonly bytes: number;
}

/** The hub's newest committed checkpoint as far as Cutover can tell, and where that knowledge came from. */
export interface HubNewest {
  readonly step: number;
  readonly epoch: number;
  readonly committedAt: string;
  readonly source: "hub-listing" | "hub-progress" | "mirrored-progress" | "secondary-listing";
}

export interface CandidatePlan {
  /** Steps to inspect, newest first. */
  readonly inspect: ReadonlyArray<number>;
  /** Defects known from the listing alone (the hub's newest is not in the secondary at all). */
  readonly rejected: ReadonlyArray<CheckpointDefect>;
}

/**
 * Orders the secondary's step folders newest first and caps how many are inspected. The hub's newest checkpoint,
 * when the secondary has no folder for it, is rejected up front as `not-replicated` so the report says why the
 * newest checkpoint of the run was not used.
 */
export function planCandidates(
  folders: ReadonlyArray<CheckpointFolder>,
  hubNewest: HubNewest | undefined,
  maxCandidates: number,
): CandidatePlan {
  const steps = [...new Set(folders.map((f) => f.step))].sort((a, b) => b - a);
  const rejected: CheckpointDefect[] = [];
  if (hubNewest !== undefined && !steps.includes(hubNewest.step) && (steps[0] ?? -1) < hubNewest.step)
    rejected.push({
      step: hubNewest.step,
      reason: "not-replicated",
      detail: `the hub committed step ${hubNewest.step} (${hubNewest.source}) but the secondary has no copy yet`,
    });
  return { inspect: steps.slice(0, Math.max(0, maxCandidates)), rejected };
}

// ---------------------------------------------------------------------------------------------------------------
// Fencing

export type FenceAdmission = { readonly admitted: true } | { readonly admitted: false; readonly detail: string };

/**
 * Whether a checkpoint written under `epoch` at `step` belongs to the run's history at a location with fence `fence`.
 * No fence: everything is admitted (the location was never fenced). The current epoch: admitted. A newer epoch than
 * the fence: refused (no one granted it here). An older epoch: admitted only up to the step at which that epoch was
 * closed (the tightest bound among the closings at or above it).
 */
export function fenceAdmits(fence: FenceRecord | undefined, epoch: number, step: number): FenceAdmission {
  if (fence === undefined || epoch === fence.epoch) return { admitted: true };
  if (epoch > fence.epoch)
    return {
      admitted: false,
      detail: `written under epoch ${epoch}, newer than this location's fence epoch ${fence.epoch}`,
    };
  let limit: number | undefined;
  for (const c of fence.closed) {
    if (c.epoch < epoch) continue;
    const last = c.lastStep ?? -1;
    limit = limit === undefined ? last : Math.min(limit, last);
  }
  if (limit === undefined) return { admitted: true };
  return step <= limit
    ? { admitted: true }
    : {
        admitted: false,
        detail: `written under epoch ${epoch} at step ${step}, after that epoch was closed at step ${limit < 0 ? "none" : limit} (fence epoch ${fence.epoch})`,
      };
}

export interface FenceAdvanceRequest {
  readonly runId: string;
  /** Deterministic per orchestration, so a retried activity recognises its own earlier write. */
  readonly holder: string;
  /** The new epoch is at least this (one above every epoch seen anywhere for the run). */
  readonly minEpoch: number;
  /** The step the run resumes from: older epochs' checkpoints above it stop counting. */
  readonly closeAtStep: number | null;
  /** Virtual or real time of the decision (orchestration time), ISO. */
  readonly at: string;
}

/**
 * The fence record after an advance. When `current` already belongs to `holder`, the advance already happened (a
 * retried activity): the same record is returned, so advancing is idempotent.
 */
export function advanceFenceRecord(
  current: FenceRecord | undefined,
  request: FenceAdvanceRequest,
): { readonly changed: boolean; readonly record: FenceRecord } {
  if (current !== undefined && current.holder === request.holder) return { changed: false, record: current };
  const epoch = Math.max((current?.epoch ?? 0) + 1, request.minEpoch);
  const closed: ClosedEpoch[] = [...(current?.closed ?? [])];
  closed.push({
    epoch: epoch - 1,
    lastStep: request.closeAtStep,
    holder: current?.holder ?? "(unfenced)",
    closedAt: request.at,
  });
  return {
    changed: true,
    record: {
      format: FENCE_FORMAT,
      runId: request.runId,
      epoch,
      holder: request.holder,
      updatedAt: request.at,
      committedStep: null,
      closed,
    },
  };
}

/** What a writer holding `epoch` may do at a location with fence `fence`. */
export type WriterStanding =
  | { readonly standing: "holder" }
  | { readonly standing: "unclaimed" }
  | { readonly standing: "behind"; readonly fenceEpoch: number }
  | { readonly standing: "fenced"; readonly fenceEpoch: number };

export function writerStanding(fence: FenceRecord | undefined, epoch: number): WriterStanding {
  if (fence === undefined) return { standing: "unclaimed" };
  if (fence.epoch === epoch) return { standing: "holder" };
  return fence.epoch > epoch
    ? { standing: "fenced", fenceEpoch: fence.epoch }
    : { standing: "behind", fenceEpoch: fence.epoch };
}

// ---------------------------------------------------------------------------------------------------------------
// Work lost

export interface WorkLost {
  /** Steps between the hub's newest known checkpoint and the one resumed from (0 when resuming from the newest). */
  readonly steps: number;
  /** Wall time between those two checkpoints' commits, seconds. */
  readonly seconds: number;
  /** What the figure is measured against. */
  readonly basis: HubNewest["source"] | "resumed-is-newest";
  /**
   * Training done after the hub's last checkpoint is lost too but unknowable; at most one checkpoint interval (or
   * the time from that checkpoint to the failure, when known). Reported separately as an upper bound.
   */
  readonly uncheckpointedSecondsUpperBound: number;
}

export interface WorkLostInput {
  readonly resumed: { readonly step: number; readonly committedAt: string };
  readonly hubNewest: HubNewest | undefined;
  readonly checkpointIntervalSeconds: number;
  /** When the hub failed (ISO), if known. */
  readonly failedAt?: string | undefined;
}

export function computeWorkLost(input: WorkLostInput): WorkLost {
  const resumedAt = Date.parse(input.resumed.committedAt);
  const hub = input.hubNewest;
  const newer = hub !== undefined && hub.step > input.resumed.step;
  const newestAt = newer ? Date.parse(hub.committedAt) : resumedAt;
  const seconds = newer ? Math.max(0, Math.round((newestAt - resumedAt) / 1000)) : 0;
  let tail = input.checkpointIntervalSeconds;
  if (input.failedAt !== undefined) {
    const failed = Date.parse(input.failedAt);
    if (Number.isFinite(failed)) tail = Math.min(tail, Math.max(0, Math.round((failed - newestAt) / 1000)));
  }
  return {
    steps: newer ? hub.step - input.resumed.step : 0,
    seconds,
    basis: newer ? hub.source : "resumed-is-newest",
    uncheckpointedSecondsUpperBound: tail,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Jobs

/**
 * The resumed job's name: a pure function of run id and epoch, so a retried submission finds the job it already
 * created instead of starting a second trainer. Fits Azure ML job names (`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$`) and
 * Kubernetes names (lower-case DNS label, 63 characters).
 */
export function trainingJobName(runId: string, epoch: number): string {
  if (!Number.isInteger(epoch) || epoch < 1) throw new RangeError(`epoch must be a positive integer: ${epoch}`);
  const suffix = `-e${epoch}`;
  const raw = `cutover-${runId}`;
  let base = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/-+$/, "");
  // Lower-casing, replacing characters or truncating could make two run ids collide: add a digest of the original.
  if (base !== raw || base.length > 63 - suffix.length) {
    const digest = fnv1a(runId).toString(36).padStart(7, "0").slice(0, 7);
    base = `${base.slice(0, 63 - suffix.length - 8).replace(/-+$/, "")}-${digest}`;
  }
  return `${base}${suffix}`;
}

/** Training resumes when the failed scope is the whole hub region (a zone loss leaves the region's job running). */
export function hubFailed(
  training: { readonly hub: string },
  scope: { readonly region: string; readonly zone?: string },
): boolean {
  return scope.region === training.hub && scope.zone === undefined;
}
