/**
 * Checkpoint reads from Azure Blob storage (`@azure/storage-blob`): listing step folders, fetching the small layout
 * files, and hashing shards as streams so that multi-GB shards never sit in memory.
 *
 * Every SDK failure goes through {@link blobErrorToCutover}; request and response bodies are never logged.
 */
import { createHash } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient, type ContainerClient, type StoragePipelineOptions } from "@azure/storage-blob";
import {
  CHECKPOINT_LAYOUT,
  markerSchema,
  parseStepFolder,
  progressSchema,
  runRoot,
  stepPath,
  type CheckpointFacts,
  type CheckpointFolder,
  type FetchedFile,
  type Marker,
  type ProgressRecord,
  type Shard,
  type ShardDigest,
} from "../domain/checkpoint";
import { CutoverError } from "../domain/errors";
import { statusErrorToCutover, type SdkErrorLike } from "./rest-errors";
import type { CheckpointLocation } from "../domain/topology";
import type { CheckpointPort } from "../activities/training-ports";

/** Gives the container client for a checkpoint location (account URL + container). */
export type ContainerResolver = (location: CheckpointLocation) => ContainerClient;

export interface BlobCheckpointStoreOptions {
  readonly resolveContainer: ContainerResolver;
  /** Shards hashed at the same time by {@link BlobCheckpointStore.hashShards}. Default 4. */
  readonly hashConcurrency?: number;
  /** Largest manifest read, bytes. Default 16 MiB (about 100 000 shards). */
  readonly maxManifestBytes?: number;
  /** Retries of a broken download stream per shard (the SDK resumes at the last byte). Default 5. */
  readonly maxRetryRequests?: number;
}

/** Production resolver: one `BlobServiceClient` per account URL, with a managed identity or other credential. */
export function credentialContainerResolver(
  credential: TokenCredential,
  options: StoragePipelineOptions = {},
): ContainerResolver {
  const services = new Map<string, BlobServiceClient>();
  return (location) => {
    let service = services.get(location.accountUrl);
    if (service === undefined) {
      service = new BlobServiceClient(location.accountUrl, credential, options);
      services.set(location.accountUrl, service);
    }
    return service.getContainerClient(location.container);
  };
}

const MARKER_MAX_BYTES = 64 * 1024;
const PROGRESS_MAX_BYTES = 64 * 1024;

type ErrorLike = SdkErrorLike;

/**
 * The one place Blob SDK errors become domain errors. 404s are handled by callers before they get here (a missing
 * file is an expected outcome); what arrives is throttling, outages, auth and conflicts.
 */
export function blobErrorToCutover(error: unknown, action: string): CutoverError {
  return statusErrorToCutover(error, action, (status, code) =>
    status === 412 ? "PRECONDITION_FAILED" : status === 503 && code === "ServerBusy" ? "THROTTLED" : undefined,
  );
}

export function isNotFound(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as ErrorLike).statusCode === 404 &&
    !(error instanceof CutoverError)
  );
}

/** A bounded read: the first `maxBytes` as text, and the sha256 of ALL bytes (streamed). */
export async function readBounded(
  container: ContainerClient,
  blobName: string,
  maxBytes: number,
): Promise<(FetchedFile & { readonly etag: string | undefined }) | undefined> {
  let response;
  try {
    response = await container.getBlobClient(blobName).download(0);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw blobErrorToCutover(error, `read ${blobName}`);
  }
  const hash = createHash("sha256");
  const kept: Buffer[] = [];
  let bytes = 0;
  try {
    const body = response.readableStreamBody;
    if (body !== undefined) {
      for await (const chunk of body) {
        const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        hash.update(buf);
        if (bytes < maxBytes) kept.push(buf.subarray(0, Math.max(0, maxBytes - bytes)));
        bytes += buf.length;
      }
    }
  } catch (error) {
    throw blobErrorToCutover(error, `read ${blobName}`);
  }
  const tooLarge = bytes > maxBytes;
  return {
    text: tooLarge ? "" : Buffer.concat(kept).toString("utf8"),
    sha256: hash.digest("hex"),
    etag: response.etag,
    ...(tooLarge ? { tooLarge: true } : {}),
  };
}

async function mapLimit<T, R>(items: ReadonlyArray<T>, limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export class BlobCheckpointStore implements CheckpointPort {
  private readonly resolve: ContainerResolver;
  private readonly concurrency: number;
  private readonly maxManifestBytes: number;
  private readonly maxRetryRequests: number;

  constructor(options: BlobCheckpointStoreOptions) {
    this.resolve = options.resolveContainer;
    this.concurrency = options.hashConcurrency ?? 4;
    this.maxManifestBytes = options.maxManifestBytes ?? 16 * 1024 * 1024;
    this.maxRetryRequests = options.maxRetryRequests ?? 5;
  }

  async listFolders(location: CheckpointLocation, runId: string): Promise<CheckpointFolder[]> {
    const container = this.resolve(location);
    const root = runRoot(location.prefix, runId);
    const folders = new Map<number, { hasMarker: boolean; hasManifest: boolean; blobCount: number; bytes: number }>();
    try {
      for await (const item of container.listBlobsFlat({ prefix: root })) {
        const rest = item.name.slice(root.length);
        const slash = rest.indexOf("/");
        if (slash < 0) continue;
        const step = parseStepFolder(rest.slice(0, slash));
        if (step === undefined) continue;
        const file = rest.slice(slash + 1);
        const f = folders.get(step) ?? { hasMarker: false, hasManifest: false, blobCount: 0, bytes: 0 };
        f.blobCount += 1;
        f.bytes += item.properties.contentLength ?? 0;
        if (file === CHECKPOINT_LAYOUT.marker) f.hasMarker = true;
        if (file === CHECKPOINT_LAYOUT.manifest) f.hasManifest = true;
        folders.set(step, f);
      }
    } catch (error) {
      if (isNotFound(error))
        throw new CutoverError(
          "NOT_FOUND",
          `container ${location.container} does not exist in ${location.accountUrl} (check the topology's checkpoints)`,
          { cause: error, retryable: false },
        );
      throw blobErrorToCutover(error, `list ${root}`);
    }
    return [...folders.entries()].map(([step, f]) => ({ step, ...f })).sort((a, b) => b.step - a.step);
  }

  async readProgress(location: CheckpointLocation, runId: string): Promise<ProgressRecord | undefined> {
    const file = await readBounded(
      this.resolve(location),
      `${runRoot(location.prefix, runId)}${CHECKPOINT_LAYOUT.progress}`,
      PROGRESS_MAX_BYTES,
    );
    if (file === undefined || file.tooLarge === true) return undefined;
    const parsed = progressSchema.safeParse(safeJson(file.text));
    return parsed.success && parsed.data.runId === runId ? parsed.data : undefined;
  }

  async readMarker(location: CheckpointLocation, runId: string, step: number): Promise<Marker | undefined> {
    const file = await readBounded(
      this.resolve(location),
      `${stepPath(location.prefix, runId, step)}${CHECKPOINT_LAYOUT.marker}`,
      MARKER_MAX_BYTES,
    );
    if (file === undefined || file.tooLarge === true) return undefined;
    const parsed = markerSchema.safeParse(safeJson(file.text));
    return parsed.success && parsed.data.runId === runId && parsed.data.step === step ? parsed.data : undefined;
  }

  async readFacts(location: CheckpointLocation, runId: string, step: number): Promise<CheckpointFacts> {
    const container = this.resolve(location);
    const folder = stepPath(location.prefix, runId, step);
    const blobs: Record<string, number> = {};
    try {
      for await (const item of container.listBlobsFlat({ prefix: folder })) {
        const rel = item.name.slice(folder.length);
        if (rel === CHECKPOINT_LAYOUT.marker || rel === CHECKPOINT_LAYOUT.manifest) continue;
        blobs[rel] = item.properties.contentLength ?? 0;
      }
    } catch (error) {
      throw blobErrorToCutover(error, `list ${folder}`);
    }
    // The marker first: a marker read before the manifest can only be older, never newer, than the manifest.
    const marker = await readBounded(container, `${folder}${CHECKPOINT_LAYOUT.marker}`, MARKER_MAX_BYTES);
    const manifest = await readBounded(container, `${folder}${CHECKPOINT_LAYOUT.manifest}`, this.maxManifestBytes);
    return {
      runId,
      step,
      marker: marker === undefined ? undefined : { text: marker.text, sha256: marker.sha256, ...tooLarge(marker) },
      manifest:
        manifest === undefined ? undefined : { text: manifest.text, sha256: manifest.sha256, ...tooLarge(manifest) },
      blobs,
    };
  }

  async hashShards(
    location: CheckpointLocation,
    runId: string,
    step: number,
    shards: ReadonlyArray<Pick<Shard, "path">>,
  ): Promise<ShardDigest[]> {
    const container = this.resolve(location);
    const folder = stepPath(location.prefix, runId, step);
    return mapLimit(shards, this.concurrency, async ({ path }): Promise<ShardDigest> => {
      let response;
      try {
        response = await container.getBlobClient(`${folder}${path}`).download(0, undefined, {
          maxRetryRequests: this.maxRetryRequests,
        });
      } catch (error) {
        if (isNotFound(error)) return { path, status: "missing" };
        throw blobErrorToCutover(error, `read shard ${path}`);
      }
      const hash = createHash("sha256");
      let bytes = 0;
      try {
        const body = response.readableStreamBody;
        if (body !== undefined) {
          for await (const chunk of body) {
            const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
            hash.update(buf);
            bytes += buf.length;
          }
        }
      } catch (error) {
        throw blobErrorToCutover(error, `stream shard ${path}`);
      }
      return { path, status: "hashed", sha256: hash.digest("hex"), bytes };
    });
  }
}

function tooLarge(file: { readonly tooLarge?: boolean }): { tooLarge?: true } {
  return file.tooLarge === true ? { tooLarge: true } : {};
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
