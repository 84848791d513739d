/**
 * Fencing of a training run with an epoch blob (`_fence.json`) and conditional writes (ETag `If-Match`, or
 * `If-None-Match: *` to create). Chosen over a blob lease because:
 * - an epoch outlives its holder: a trainer that died (or a region that went dark) needs no renewal, break or
 *   expiry for Cutover to take over, and a trainer that comes back is refused by what is written, not by timing;
 * - a lease protects only the leased blob, while the epoch is also stamped into every manifest and marker, so a
 *   checkpoint written by a zombie is recognisable after the fact, even in a replica;
 * - a lease id would have to reach every trainer process, and a 15–60 s lease needs a renewal loop in the trainer.
 *
 * A writer commits a checkpoint by a conditional update of this blob (see docs/training.md); Cutover advances the
 * epoch by a conditional update too, so exactly one of two racing writes wins. SDK errors are mapped by
 * {@link blobErrorToCutover}; bodies are never logged.
 */
import {
  advanceFenceRecord,
  CHECKPOINT_LAYOUT,
  fenceRecordSchema,
  runRoot,
  type FenceAdvanceRequest,
  type FenceRecord,
} from "../domain/checkpoint";
import { CutoverError } from "../domain/errors";
import type { CheckpointLocation } from "../domain/topology";
import type { FenceAdvanceResult, FencePort } from "../activities/training-ports";
import { blobErrorToCutover, readBounded, type ContainerResolver } from "./checkpoint-store";

const FENCE_MAX_BYTES = 256 * 1024;

export interface VersionedFence {
  readonly record: FenceRecord;
  readonly etag: string;
}

export type CompareAndSwapResult =
  { readonly ok: true; readonly etag: string } | { readonly ok: false; readonly reason: "condition-failed" };

export interface BlobRunFenceOptions {
  readonly resolveContainer: ContainerResolver;
  /** Compare-and-swap attempts before giving up with CONFLICT (each loses only to a concurrent write). Default 5. */
  readonly maxAttempts?: number;
}

export function fenceBlobName(location: CheckpointLocation, runId: string): string {
  return `${runRoot(location.prefix, runId)}${CHECKPOINT_LAYOUT.fence}`;
}

export class BlobRunFence implements FencePort {
  private readonly resolve: ContainerResolver;
  private readonly maxAttempts: number;

  constructor(options: BlobRunFenceOptions) {
    this.resolve = options.resolveContainer;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  /** The fence and its ETag, or undefined when the location was never fenced. A corrupt fence throws: never guess. */
  async readVersioned(location: CheckpointLocation, runId: string): Promise<VersionedFence | undefined> {
    const name = fenceBlobName(location, runId);
    const file = await readBounded(this.resolve(location), name, FENCE_MAX_BYTES);
    if (file === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(file.text) as unknown;
    } catch {
      value = undefined;
    }
    const parsed = fenceRecordSchema.safeParse(value);
    if (file.tooLarge === true || !parsed.success || parsed.data.runId !== runId || file.etag === undefined)
      throw new CutoverError(
        "PRECONDITION_FAILED",
        `fence ${name} in ${location.accountUrl} is not a valid ${CHECKPOINT_LAYOUT.fence} for run ${runId}; repair it by hand`,
        { retryable: false },
      );
    return { record: parsed.data, etag: file.etag };
  }

  async readFence(location: CheckpointLocation, runId: string): Promise<FenceRecord | undefined> {
    return (await this.readVersioned(location, runId))?.record;
  }

  /**
   * Writes `record` if the fence is still at `etag` (or, with `etag` undefined, if no fence exists yet). Losing the
   * race is an expected outcome, returned, never thrown.
   */
  async compareAndSwap(
    location: CheckpointLocation,
    record: FenceRecord,
    etag: string | undefined,
  ): Promise<CompareAndSwapResult> {
    const name = fenceBlobName(location, record.runId);
    const body = JSON.stringify(fenceRecordSchema.parse(record));
    try {
      const response = await this.resolve(location)
        .getBlockBlobClient(name)
        .upload(body, Buffer.byteLength(body), {
          conditions: etag === undefined ? { ifNoneMatch: "*" } : { ifMatch: etag },
          blobHTTPHeaders: { blobContentType: "application/json" },
        });
      if (response.etag === undefined) throw new CutoverError("INTERNAL", `no ETag after writing ${name}`);
      return { ok: true, etag: response.etag };
    } catch (error) {
      if (isConditionFailure(error)) return { ok: false, reason: "condition-failed" };
      throw blobErrorToCutover(error, `write ${name}`);
    }
  }

  async advanceFence(
    location: CheckpointLocation,
    request: FenceAdvanceRequest & { readonly basedOnEpoch?: number | undefined },
  ): Promise<FenceAdvanceResult> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const current = await this.readVersioned(location, request.runId);
      const record = current?.record;
      if (
        record !== undefined &&
        record.holder !== request.holder &&
        request.basedOnEpoch !== undefined &&
        record.epoch > request.basedOnEpoch &&
        record.epoch >= request.minEpoch
      )
        return { status: "superseded", record };
      const next = advanceFenceRecord(record, request);
      if (!next.changed) return { status: "already-held", record: next.record, previousEpoch: previousOf(next.record) };
      const swapped = await this.compareAndSwap(location, next.record, current?.etag);
      if (swapped.ok) return { status: "advanced", record: next.record, previousEpoch: record?.epoch };
    }
    throw new CutoverError(
      "CONFLICT",
      `fence for run ${request.runId} in ${location.accountUrl} kept changing during ${this.maxAttempts} attempts`,
    );
  }
}

function previousOf(record: FenceRecord): number | undefined {
  const last = record.closed[record.closed.length - 1];
  return last === undefined || last.epoch < 1 ? undefined : last.epoch;
}

/** 412 (If-Match lost) and 409 BlobAlreadyExists (If-None-Match: * lost) both mean "someone wrote first". */
function isConditionFailure(error: unknown): boolean {
  if (typeof error !== "object" || error === null || error instanceof CutoverError) return false;
  const e = error as { statusCode?: unknown; code?: unknown };
  return e.statusCode === 412 || (e.statusCode === 409 && e.code === "BlobAlreadyExists");
}
