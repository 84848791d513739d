/**
 * Reference writer of the checkpoint contract (docs/training.md): what a training job does to save a checkpoint so
 * that Cutover can validate it, resume from it and fence it. Used by tests, by scenario seeding, and as the model for
 * users' trainers (the docs carry the same protocol in Python).
 *
 * Protocol for one checkpoint at step N under epoch E:
 * 1. standing: read `_fence.json` here (and, read-only, at each mirror); a newer epoch anywhere → fenced, stop;
 * 2. upload every shard (sha256 computed while uploading), then `manifest.json`;
 * 3. commit point: conditional update (If-Match) of `_fence.json` with `committedStep: N`; losing it to a newer
 *    epoch → fenced (the shards and manifest stay unreferenced: no marker, never valid);
 * 4. `_COMPLETE` marker, create-only (If-None-Match: *), naming the manifest's sha256 and E;
 * 5. `_progress.json` here and, best effort, at each mirror (so Cutover knows how far the hub got while the
 *    replication of the checkpoint itself is still lagging).
 */
import { createHash } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import type { ContainerClient } from "@azure/storage-blob";
import {
  CHECKPOINT_LAYOUT,
  FENCE_FORMAT,
  MANIFEST_FORMAT,
  MARKER_FORMAT,
  PROGRESS_FORMAT,
  markerSchema,
  runRoot,
  stepPath,
  writerStanding,
  type FenceRecord,
  type Manifest,
  type Marker,
  type ProgressRecord,
} from "../../src/domain/checkpoint";
import type { CheckpointLocation } from "../../src/domain/topology";
import { BlobRunFence } from "../../src/adapters/checkpoint-fence";
import type { ContainerResolver } from "../../src/adapters/checkpoint-store";
import type { Clock } from "../clock";

export interface ShardInput {
  readonly path: string;
  /** Bytes, or a factory of a stream (for shards too large to hold; hashed while uploading). */
  readonly data: Buffer | (() => Readable);
}

export interface CheckpointWriterOptions {
  readonly resolveContainer: ContainerResolver;
  /** Where this trainer writes (its own region's location). */
  readonly location: CheckpointLocation;
  readonly region: string;
  readonly runId: string;
  /** The fencing epoch this trainer was started with (a resumed job gets it as an input). */
  readonly epoch: number;
  readonly holder?: string;
  /** Replica locations: their fences are checked before every commit, and progress is mirrored there. */
  readonly mirrors?: ReadonlyArray<CheckpointLocation>;
  /** Timestamps (createdAt, committedAt); defaults to the wall clock. */
  readonly clock?: Clock;
  /** The step this trainer resumed from, for closing older epochs when it claims a location Cutover could not fence. */
  readonly resumedFromStep?: number;
}

export type ClaimResult =
  | { readonly status: "holder"; readonly created: boolean }
  | { readonly status: "fenced"; readonly fenceEpoch: number; readonly where: string };

export type WriteResult =
  | {
      readonly status: "committed";
      readonly step: number;
      readonly manifestSha256: string;
      readonly committedAt: string;
      readonly bytes: number;
    }
  | {
      readonly status: "fenced";
      readonly step: number;
      readonly fenceEpoch: number;
      readonly where: string;
      readonly phase: "before-write" | "commit";
    }
  | { readonly status: "conflict"; readonly step: number; readonly detail: string }
  | { readonly status: "crashed"; readonly step: number; readonly before: CrashPoint };

/** Test and seeding aid: stop as a crashed trainer would, leaving a partial checkpoint. */
export type CrashPoint = "manifest" | "commit" | "marker";

export interface WriteOptions {
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
  readonly crashBefore?: CrashPoint;
  /** Test aid: runs after the manifest is written and before the commit point (to race a fence advance). */
  readonly beforeCommit?: () => Promise<void>;
}

const wallClock: Clock = { now: () => Date.now() };

export class CheckpointWriter {
  private readonly options: CheckpointWriterOptions;
  private readonly fence: BlobRunFence;
  private readonly container: ContainerClient;
  private readonly clock: Clock;
  readonly holder: string;

  constructor(options: CheckpointWriterOptions) {
    this.options = options;
    this.fence = new BlobRunFence({ resolveContainer: options.resolveContainer });
    this.container = options.resolveContainer(options.location);
    this.clock = options.clock ?? wallClock;
    this.holder = options.holder ?? `trainer/${options.region}/epoch-${options.epoch}`;
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Fenced by any reachable mirror holding a newer epoch? Unreachable mirrors do not block training. */
  private async mirrorVerdict(): Promise<{ fenceEpoch: number; where: string } | undefined> {
    for (const mirror of this.options.mirrors ?? []) {
      let record: FenceRecord | undefined;
      try {
        record = await this.fence.readFence(mirror, this.options.runId);
      } catch {
        continue;
      }
      const s = writerStanding(record, this.options.epoch);
      if (s.standing === "fenced") return { fenceEpoch: s.fenceEpoch, where: mirror.accountUrl };
    }
    return undefined;
  }

  /**
   * Takes the run at this location for this trainer's epoch: creates the fence if none exists, moves a fence that is
   * behind up to this epoch, and refuses when any fence holds a newer epoch.
   */
  async claim(): Promise<ClaimResult> {
    const { location, runId, epoch } = this.options;
    const mirrored = await this.mirrorVerdict();
    if (mirrored !== undefined) return { status: "fenced", ...mirrored };
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.fence.readVersioned(location, runId);
      const standing = writerStanding(current?.record, epoch);
      if (standing.standing === "holder") return { status: "holder", created: false };
      if (standing.standing === "fenced")
        return { status: "fenced", fenceEpoch: standing.fenceEpoch, where: location.accountUrl };
      const at = this.iso();
      const closed = current?.record.closed ?? [];
      const record: FenceRecord = {
        format: FENCE_FORMAT,
        runId,
        epoch,
        holder: this.holder,
        updatedAt: at,
        committedStep: null,
        closed:
          current === undefined
            ? []
            : [
                ...closed,
                {
                  epoch: epoch - 1,
                  lastStep: this.options.resumedFromStep ?? current.record.committedStep,
                  holder: current.record.holder,
                  closedAt: at,
                },
              ],
      };
      const swapped = await this.fence.compareAndSwap(location, record, current?.etag);
      if (swapped.ok) return { status: "holder", created: current === undefined };
    }
    throw new Error(`[CONFLICT] could not claim run ${runId}: the fence kept changing`);
  }

  /** Writes one checkpoint following the protocol above. Fencing and conflicts are results, not exceptions. */
  async writeCheckpoint(
    step: number,
    shards: ReadonlyArray<ShardInput>,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const { location, runId, epoch, region } = this.options;
    const folder = stepPath(location.prefix, runId, step);

    const before = await this.fence.readFence(location, runId);
    const standing = writerStanding(before, epoch);
    if (standing.standing === "fenced")
      return {
        status: "fenced",
        step,
        fenceEpoch: standing.fenceEpoch,
        where: location.accountUrl,
        phase: "before-write",
      };
    const mirrored = await this.mirrorVerdict();
    if (mirrored !== undefined) return { status: "fenced", step, ...mirrored, phase: "before-write" };
    if (standing.standing !== "holder") {
      const claimed = await this.claim();
      if (claimed.status === "fenced")
        return { status: "fenced", step, fenceEpoch: claimed.fenceEpoch, where: claimed.where, phase: "before-write" };
    }

    const createdAt = this.iso();
    const listed: Manifest["shards"] = [];
    for (const shard of shards) listed.push({ path: shard.path, ...(await this.uploadShard(folder, shard)) });
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      runId,
      step,
      epoch,
      createdAt,
      shards: listed,
      ...(options.metadata === undefined ? {} : { metadata: { ...options.metadata } }),
    };
    if (options.crashBefore === "manifest") return { status: "crashed", step, before: "manifest" };
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    const manifestSha256 = createHash("sha256").update(manifestText).digest("hex");
    await this.container
      .getBlockBlobClient(`${folder}${CHECKPOINT_LAYOUT.manifest}`)
      .upload(manifestText, Buffer.byteLength(manifestText), {
        blobHTTPHeaders: { blobContentType: "application/json" },
      });
    if (options.crashBefore === "commit") return { status: "crashed", step, before: "commit" };
    await options.beforeCommit?.();

    // Commit point: compare-and-swap on the fence. Whoever advanced the epoch since we read it wins.
    const committedAt = this.iso();
    for (let attempt = 0; ; attempt++) {
      const current = await this.fence.readVersioned(location, runId);
      const s = writerStanding(current?.record, epoch);
      if (s.standing !== "holder" || current === undefined)
        return {
          status: "fenced",
          step,
          fenceEpoch: s.standing === "fenced" || s.standing === "behind" ? s.fenceEpoch : 0,
          where: location.accountUrl,
          phase: "commit",
        };
      const m = await this.mirrorVerdict();
      if (m !== undefined) return { status: "fenced", step, ...m, phase: "commit" };
      const swapped = await this.fence.compareAndSwap(
        location,
        { ...current.record, committedStep: step, updatedAt: committedAt },
        current.etag,
      );
      if (swapped.ok) break;
      if (attempt >= 4) return { status: "conflict", step, detail: "the fence kept changing during the commit" };
    }
    if (options.crashBefore === "marker") return { status: "crashed", step, before: "marker" };

    const marker: Marker = { format: MARKER_FORMAT, runId, step, epoch, manifestSha256, committedAt };
    const placed = await this.placeMarker(`${folder}${CHECKPOINT_LAYOUT.marker}`, marker);
    if (placed !== undefined) return { status: "conflict", step, detail: placed };

    const progress: ProgressRecord = { format: PROGRESS_FORMAT, runId, region, epoch, step, committedAt };
    await this.writeProgress(location, progress);
    for (const mirror of this.options.mirrors ?? []) {
      try {
        const record = await this.fence.readFence(mirror, runId);
        if (writerStanding(record, epoch).standing !== "fenced") await this.writeProgress(mirror, progress);
      } catch {
        // A mirror that cannot be reached now catches up with the next checkpoint.
      }
    }
    return { status: "committed", step, manifestSha256, committedAt, bytes: listed.reduce((n, s) => n + s.size, 0) };
  }

  private async uploadShard(folder: string, shard: ShardInput): Promise<{ size: number; sha256: string }> {
    const blob = this.container.getBlockBlobClient(`${folder}${shard.path}`);
    if (Buffer.isBuffer(shard.data)) {
      await blob.uploadData(shard.data);
      return { size: shard.data.length, sha256: createHash("sha256").update(shard.data).digest("hex") };
    }
    const hash = createHash("sha256");
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const source = shard.data();
    source.on("error", (error) => tap.destroy(error));
    await blob.uploadStream(source.pipe(tap), 4 * 1024 * 1024, 4);
    return { size, sha256: hash.digest("hex") };
  }

  /** Create-only; a marker left by an older epoch (a fenced branch) is replaced, anything else is a conflict. */
  private async placeMarker(name: string, marker: Marker): Promise<string | undefined> {
    const text = `${JSON.stringify(marker)}\n`;
    const blob = this.container.getBlockBlobClient(name);
    const put = (conditions: { ifNoneMatch: string } | { ifMatch: string }) =>
      blob.upload(text, Buffer.byteLength(text), {
        conditions,
        blobHTTPHeaders: { blobContentType: "application/json" },
      });
    try {
      await put({ ifNoneMatch: "*" });
      return undefined;
    } catch (error) {
      if (!isStatus(error, 409) && !isStatus(error, 412)) throw error;
    }
    const existing = await blob.download(0);
    const body = await streamText(existing.readableStreamBody);
    const parsed = markerSchema.safeParse(safeJson(body));
    if (parsed.success && parsed.data.epoch >= marker.epoch)
      return `step ${marker.step} already has a marker from epoch ${parsed.data.epoch}`;
    if (existing.etag === undefined) return "existing marker has no ETag";
    try {
      await put({ ifMatch: existing.etag });
      return undefined;
    } catch (error) {
      if (isStatus(error, 412)) return `step ${marker.step}: marker changed while replacing a stale one`;
      throw error;
    }
  }

  private async writeProgress(location: CheckpointLocation, progress: ProgressRecord): Promise<void> {
    const text = `${JSON.stringify(progress)}\n`;
    await this.options
      .resolveContainer(location)
      .getBlockBlobClient(`${runRoot(location.prefix, progress.runId)}${CHECKPOINT_LAYOUT.progress}`)
      .upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: "application/json" } });
  }
}

function isStatus(error: unknown, status: number): boolean {
  return typeof error === "object" && error !== null && (error as { statusCode?: unknown }).statusCode === status;
}

async function streamText(body: NodeJS.ReadableStream | undefined): Promise<string> {
  if (body === undefined) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
