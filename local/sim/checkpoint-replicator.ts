/**
 * Models hub → secondary replication of training checkpoints (object replication or a copy job in production) in
 * real Azurite accounts, with a lag scheduled on the shared virtual clock. A checkpoint becomes eligible once its
 * `_COMPLETE` marker exists in the hub; it is copied `lag` after its commit time, shards and manifest first and the
 * marker last (so a copy in progress looks unfinished, never complete). The copies themselves are real async Blob
 * I/O, registered with `clock.track()` so a run-to-quiescence loop never jumps time while one is under way.
 *
 * Fence-aware like a careful copy job: a checkpoint the secondary's fence does not admit (a zombie's, written after
 * Cutover closed its epoch) is refused, so a trainer that comes back in the old hub cannot leak into the new home.
 */
import type { ContainerClient } from "@azure/storage-blob";
import type { Readable } from "node:stream";
import { CHECKPOINT_LAYOUT, fenceAdmits, stepPath } from "../../src/domain/checkpoint";
import type { CheckpointLocation } from "../../src/domain/topology";
import { BlobRunFence } from "../../src/adapters/checkpoint-fence";
import { BlobCheckpointStore, type ContainerResolver } from "../../src/adapters/checkpoint-store";
import type { VirtualClock } from "../clock";

export interface CheckpointReplicatorOptions {
  readonly clock: VirtualClock;
  readonly resolveContainer: ContainerResolver;
  readonly source: CheckpointLocation;
  readonly target: CheckpointLocation;
  readonly runId: string;
  /** Replication lag in virtual ms after the checkpoint's commit, sampled per checkpoint. */
  readonly lagMs: number | ((step: number) => number);
}

export type ReplicationEvent =
  | { readonly kind: "scheduled"; readonly step: number; readonly at: number }
  | { readonly kind: "copied"; readonly step: number; readonly at: number; readonly blobs: number }
  | { readonly kind: "refused"; readonly step: number; readonly at: number; readonly reason: string }
  | { readonly kind: "blocked"; readonly step: number; readonly at: number; readonly reason: string };

export class CheckpointReplicator {
  private readonly o: CheckpointReplicatorOptions;
  private readonly store: BlobCheckpointStore;
  private readonly fence: BlobRunFence;
  private readonly known = new Set<number>();
  private readonly waiting = new Set<number>();
  private sourceUp = true;
  readonly events: ReplicationEvent[] = [];

  constructor(options: CheckpointReplicatorOptions) {
    this.o = options;
    this.store = new BlobCheckpointStore({ resolveContainer: options.resolveContainer });
    this.fence = new BlobRunFence({ resolveContainer: options.resolveContainer });
  }

  /** Steps copied so far. */
  copiedSteps(): number[] {
    return this.events.filter((e) => e.kind === "copied").map((e) => e.step);
  }

  /**
   * Looks for newly completed checkpoints in the source and schedules their copies. Call it after a writer commits
   * (event-driven, like Blob change feed), or on a timer of your own.
   */
  scan(): Promise<void> {
    return this.o.clock.track(this.scanOnce());
  }

  /** Copies one step now (seeding and tests), with the same ordering and fence check as a scheduled copy. */
  copyNow(step: number): Promise<void> {
    this.known.add(step);
    return this.o.clock.track(this.copy(step));
  }

  /** A regional outage of the source: copies due while it lasts wait, and resume when it ends. */
  setSourceReachable(reachable: boolean): void {
    this.sourceUp = reachable;
    if (!reachable) return;
    for (const step of [...this.waiting]) {
      this.waiting.delete(step);
      this.o.clock.scheduleIn(0, () => void this.o.clock.track(this.copy(step)), `replicate ${this.o.runId}@${step}`);
    }
  }

  private async scanOnce(): Promise<void> {
    if (!this.sourceUp) return;
    const folders = await this.store.listFolders(this.o.source, this.o.runId);
    for (const folder of folders) {
      if (!folder.hasMarker || this.known.has(folder.step)) continue;
      const marker = await this.store.readMarker(this.o.source, this.o.runId, folder.step);
      if (marker === undefined) continue;
      this.known.add(folder.step);
      const lag = typeof this.o.lagMs === "number" ? this.o.lagMs : this.o.lagMs(folder.step);
      const at = Math.max(this.o.clock.now(), Date.parse(marker.committedAt) + lag);
      this.events.push({ kind: "scheduled", step: folder.step, at });
      this.o.clock.schedule(
        at,
        () => void this.o.clock.track(this.copy(folder.step)),
        `replicate ${this.o.runId}@${folder.step}`,
      );
    }
  }

  private async copy(step: number): Promise<void> {
    const now = this.o.clock.now();
    if (!this.sourceUp) {
      this.waiting.add(step);
      this.events.push({ kind: "blocked", step, at: now, reason: "source unreachable" });
      return;
    }
    const { source, target, runId, resolveContainer } = this.o;
    const marker = await this.store.readMarker(source, runId, step);
    if (marker === undefined) {
      this.events.push({ kind: "refused", step, at: now, reason: "marker vanished from the source" });
      return;
    }
    const targetFence = await this.fence.readFence(target, runId);
    const admitted = fenceAdmits(targetFence, marker.epoch, step);
    if (!admitted.admitted) {
      this.events.push({ kind: "refused", step, at: now, reason: admitted.detail });
      return;
    }
    const from = resolveContainer(source);
    const to = resolveContainer(target);
    const srcFolder = stepPath(source.prefix, runId, step);
    const dstFolder = stepPath(target.prefix, runId, step);
    const names: string[] = [];
    for await (const item of from.listBlobsFlat({ prefix: srcFolder })) names.push(item.name.slice(srcFolder.length));
    const ordered = [
      ...names.filter((n) => n !== CHECKPOINT_LAYOUT.marker && n !== CHECKPOINT_LAYOUT.manifest),
      ...names.filter((n) => n === CHECKPOINT_LAYOUT.manifest),
      ...names.filter((n) => n === CHECKPOINT_LAYOUT.marker),
    ];
    for (const name of ordered) await copyBlob(from, `${srcFolder}${name}`, to, `${dstFolder}${name}`);
    this.events.push({ kind: "copied", step, at: this.o.clock.now(), blobs: ordered.length });
  }
}

async function copyBlob(from: ContainerClient, src: string, to: ContainerClient, dst: string): Promise<void> {
  const download = await from.getBlobClient(src).download(0);
  const body = download.readableStreamBody;
  if (body === undefined) throw new Error(`no body for ${src}`);
  await to.getBlockBlobClient(dst).uploadStream(body as Readable, 4 * 1024 * 1024, 2, {
    ...(download.contentType === undefined ? {} : { blobHTTPHeaders: { blobContentType: download.contentType } }),
  });
}
