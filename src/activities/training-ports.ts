/**
 * Ports of the training-resume activities: what they need from the outside world, and nothing more. The composition
 * root passes real adapters (Blob storage, Azure ML over ARM); tests pass hand-written fakes or the same adapters
 * against Azurite and the simulator.
 *
 * Error contract for every port: expected outcomes come back as values (a missing file is `undefined`, a rejected
 * job submission is `{ status: "rejected" }`); only transient or programming failures throw, as `CutoverError`.
 */
import type {
  CheckpointFacts,
  CheckpointFolder,
  FenceAdvanceRequest,
  FenceRecord,
  Marker,
  ProgressRecord,
  Shard,
  ShardDigest,
} from "../domain/checkpoint";
import type { CheckpointLocation } from "../domain/topology";

/** Read access to checkpoints in one region's location. */
export interface CheckpointPort {
  /** Every step folder of the run (names and sizes only). An empty run gives an empty list. */
  listFolders(location: CheckpointLocation, runId: string): Promise<CheckpointFolder[]>;
  /** The run's `_progress.json` at the location, or undefined when absent or unreadable as a progress record. */
  readProgress(location: CheckpointLocation, runId: string): Promise<ProgressRecord | undefined>;
  /** A step's `_COMPLETE` marker, parsed; undefined when absent or malformed. */
  readMarker(location: CheckpointLocation, runId: string, step: number): Promise<Marker | undefined>;
  /** Marker and manifest bytes (bounded) with their sha256, and the size of every blob in the step folder. */
  readFacts(location: CheckpointLocation, runId: string, step: number): Promise<CheckpointFacts>;
  /**
   * Streams each shard through sha256 (never buffering a whole shard). A shard that vanished is `missing`; the
   * digest's `bytes` is what was actually streamed.
   */
  hashShards(
    location: CheckpointLocation,
    runId: string,
    step: number,
    shards: ReadonlyArray<Pick<Shard, "path">>,
  ): Promise<ShardDigest[]>;
}

export type FenceAdvanceResult =
  | {
      readonly status: "advanced" | "already-held";
      readonly record: FenceRecord;
      readonly previousEpoch: number | undefined;
    }
  | {
      /** Someone else advanced the fence past `basedOnEpoch` after we looked: another resume owns the run. */
      readonly status: "superseded";
      readonly record: FenceRecord;
    };

/** The run's fencing epoch at one location. */
export interface FencePort {
  readFence(location: CheckpointLocation, runId: string): Promise<FenceRecord | undefined>;
  /**
   * Moves the location's fence to a new epoch held by `request.holder` with a conditional write (compare-and-swap
   * on the blob's ETag), closing every older epoch at `request.closeAtStep`. Idempotent for the same holder.
   * `basedOnEpoch`: the fence epoch the caller saw when it decided; a fence since moved by another holder beyond it
   * yields `superseded` instead of a second advance.
   */
  advanceFence(
    location: CheckpointLocation,
    request: FenceAdvanceRequest & { readonly basedOnEpoch?: number | undefined },
  ): Promise<FenceAdvanceResult>;
}

/** Where a job runs. One member per job backend; an adapter rejects targets it does not serve. */
export type TrainingJobTarget =
  | {
      readonly kind: "azureml";
      readonly subscriptionId: string;
      readonly resourceGroup: string;
      readonly workspace: string;
      readonly compute: string;
      /** `azureml:<name>:<version>`, an ARM id, or an `azureml://registries/...` id. */
      readonly environment: string;
      readonly experiment: string;
    }
  | {
      readonly kind: "kubernetes";
      readonly cluster: { readonly resourceGroup: string; readonly name: string };
      readonly namespace: string;
      readonly image: string;
    };

/** Everything a backend needs to start the resumed trainer. */
export interface TrainingJobSpec {
  /** Deterministic (see `trainingJobName`): the idempotency key of the submission. */
  readonly name: string;
  readonly runId: string;
  /** The fencing epoch the new trainer writes under (an input of the job). */
  readonly epoch: number;
  readonly region: string;
  readonly checkpoint: { readonly uri: string; readonly step: number };
  /** May reference `${{inputs.checkpoint}}`, `${{inputs.epoch}}`, `${{inputs.run_id}}`, `${{inputs.step}}`. */
  readonly command: string;
  readonly target: TrainingJobTarget;
}

/** Backend-neutral job states; `providerState` keeps the backend's own word. */
export type TrainingJobState = "Queued" | "Running" | "Completed" | "Failed" | "Canceled" | "Unknown";

export interface TrainingJobStatus {
  readonly jobId: string;
  readonly state: TrainingJobState;
  readonly providerState: string;
  readonly message?: string | undefined;
}

export type TrainingJobRejection = "invalid-input" | "not-found" | "unsupported-target" | "conflict";

export type TrainingJobSubmitResult =
  | {
      readonly status: "submitted";
      readonly jobId: string;
      /** False when a job with this name already existed (a retried submission). */
      readonly created: boolean;
      readonly state: TrainingJobState;
    }
  | {
      readonly status: "rejected";
      readonly reason: TrainingJobRejection;
      readonly message: string;
    };

/**
 * Submits and watches the resumed trainer. An Azure ML command-job adapter exists; a Kubernetes Job adapter fits the
 * same shape (name → Job name, target → cluster/namespace, status from the Job's conditions).
 */
export interface TrainingJobPort {
  /** Creates the job unless one with `spec.name` exists, in which case that job is returned (`created: false`). */
  submit(spec: TrainingJobSpec): Promise<TrainingJobSubmitResult>;
  getStatus(jobId: string): Promise<TrainingJobStatus>;
  cancel?(jobId: string): Promise<void>;
}

export interface TrainingPorts {
  readonly checkpoints: CheckpointPort;
  readonly fence: FencePort;
  readonly jobs: TrainingJobPort;
}
