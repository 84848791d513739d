/**
 * Activities of the training-resume runbook, built from ports (`createTrainingActivities(ports)`): one idempotent
 * I/O step each, input parsed with zod, expected outcomes returned as values, only transient failures thrown (with
 * the `[CODE]` prefix the runbook reads back).
 *
 * Idempotency: listing, inspecting and hashing only read; fencing is idempotent per holder (the orchestration's
 * instance id); submission is idempotent per job name (run id + epoch), so a retry finds the job it created.
 */
import type { InvocationContext } from "@azure/functions";
import type { z } from "zod";
import { hashBatches, judgeShardDigests, judgeStructure, manifestSchema, type HubNewest } from "../domain/checkpoint";
import { CutoverError, errorCodeOf } from "../domain/errors";
import type { CheckpointLocation } from "../domain/topology";
import {
  fenceRunInputSchema,
  hashShardsInputSchema,
  inspectCheckpointInputSchema,
  jobStatusInputSchema,
  listCheckpointsInputSchema,
  submitJobInputSchema,
  type FenceRunOutput,
  type HashShardsOutput,
  type InspectCheckpointOutput,
  type JobStatusOutput,
  type ListCheckpointsOutput,
  type SubmitJobOutput,
} from "../runbooks/training-contracts";
import type { TrainingPorts } from "./training-ports";

export type TrainingActivity<O> = (input: unknown, context: InvocationContext) => Promise<O>;

export interface TrainingActivities {
  readonly listTrainingCheckpoints: TrainingActivity<ListCheckpointsOutput>;
  readonly inspectTrainingCheckpoint: TrainingActivity<InspectCheckpointOutput>;
  readonly hashTrainingCheckpointShards: TrainingActivity<HashShardsOutput>;
  readonly fenceTrainingRun: TrainingActivity<FenceRunOutput>;
  readonly submitTrainingJob: TrainingActivity<SubmitJobOutput>;
  readonly getTrainingJobStatus: TrainingActivity<JobStatusOutput>;
}

function parse<S extends z.ZodType>(schema: S, input: unknown, activity: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues
    .map((i) => `${i.path.length === 0 ? "(root)" : i.path.map(String).join(".")}: ${i.message}`)
    .join("; ");
  throw new CutoverError("INVALID_INPUT", `${activity}: ${problems}`, { retryable: false });
}

/** Runs `work`, or reports why the hub could not answer in time. The hub being down is why we are here. */
async function probe<T>(
  work: () => Promise<T>,
  timeoutMs: number,
): Promise<{ ok: true; value: T } | { ok: false; problem: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: false; problem: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, problem: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      work().then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({
          ok: false as const,
          problem: describeFailure(error),
        }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line for a failure that crossed a port: the message when it already carries its `[CODE]`, else code + message. */
function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message.slice(0, 200) : "failed";
  return /^\[[A-Z_]+\]/.test(message) ? message : `[${errorCodeOf(error) ?? "ERROR"}] ${message}`;
}

export function createTrainingActivities(ports: TrainingPorts): TrainingActivities {
  const { checkpoints, fence, jobs } = ports;

  /** The newest checkpoint the hub is known to have committed: hub listing, hub progress, mirrored progress. */
  async function hubView(
    runId: string,
    hub: CheckpointLocation,
  ): Promise<{ newest: HubNewest | undefined; fenceEpoch: number | undefined }> {
    const [folders, progress, hubFence] = await Promise.all([
      checkpoints.listFolders(hub, runId),
      checkpoints.readProgress(hub, runId),
      fence.readFence(hub, runId),
    ]);
    let newest: HubNewest | undefined;
    const marked = folders.find((f) => f.hasMarker);
    if (marked !== undefined) {
      const marker = await checkpoints.readMarker(hub, runId, marked.step);
      if (marker !== undefined)
        newest = { step: marker.step, epoch: marker.epoch, committedAt: marker.committedAt, source: "hub-listing" };
    }
    if (progress !== undefined && (newest === undefined || progress.step > newest.step))
      newest = {
        step: progress.step,
        epoch: progress.epoch,
        committedAt: progress.committedAt,
        source: "hub-progress",
      };
    return { newest, fenceEpoch: hubFence?.epoch };
  }

  return {
    async listTrainingCheckpoints(raw) {
      const input = parse(listCheckpointsInputSchema, raw, "listTrainingCheckpoints");
      const secondary = input.secondary.location;
      const [folders, mirrored, secondaryFence] = await Promise.all([
        checkpoints.listFolders(secondary, input.runId),
        checkpoints.readProgress(secondary, input.runId),
        fence.readFence(secondary, input.runId),
      ]);
      const hub = await probe(() => hubView(input.runId, input.hub.location), input.hubProbeTimeoutMs);

      let newest: HubNewest | undefined = hub.ok ? hub.value.newest : undefined;
      if (mirrored !== undefined && (newest === undefined || mirrored.step > newest.step))
        newest = {
          step: mirrored.step,
          epoch: mirrored.epoch,
          committedAt: mirrored.committedAt,
          source: "mirrored-progress",
        };
      if (newest === undefined) {
        const marked = folders.find((f) => f.hasMarker);
        const marker =
          marked === undefined ? undefined : await checkpoints.readMarker(secondary, input.runId, marked.step);
        if (marker !== undefined)
          newest = {
            step: marker.step,
            epoch: marker.epoch,
            committedAt: marker.committedAt,
            source: "secondary-listing",
          };
      }
      const hubFenceEpoch = hub.ok ? (hub.value.fenceEpoch ?? null) : null;
      return {
        folders,
        hubNewest: newest ?? null,
        hubReachable: hub.ok,
        ...(hub.ok ? {} : { hubProblem: hub.problem }),
        secondaryFenceEpoch: secondaryFence?.epoch ?? null,
        hubFenceEpoch,
        maxEpochSeen: Math.max(0, secondaryFence?.epoch ?? 0, hubFenceEpoch ?? 0, newest?.epoch ?? 0),
      };
    },

    async inspectTrainingCheckpoint(raw) {
      const input = parse(inspectCheckpointInputSchema, raw, "inspectTrainingCheckpoint");
      const [facts, locationFence] = await Promise.all([
        checkpoints.readFacts(input.location, input.runId, input.step),
        fence.readFence(input.location, input.runId),
      ]);
      const verdict = judgeStructure(facts, { fence: locationFence, hubNewestStep: input.hubNewestStep });
      if (!verdict.ok) return { ok: false, defect: verdict.defect };
      return {
        ok: true,
        header: verdict.header,
        batches: hashBatches(verdict.manifest.shards, input.batchBytes, input.batchShards),
      };
    },

    async hashTrainingCheckpointShards(raw) {
      const input = parse(hashShardsInputSchema, raw, "hashTrainingCheckpointShards");
      const facts = await checkpoints.readFacts(input.location, input.runId, input.step);
      if (facts.manifest === undefined || facts.manifest.sha256 !== input.manifestSha256)
        return {
          ok: false,
          defect: {
            step: input.step,
            reason: "manifest-invalid",
            detail: "the manifest changed or vanished while the checkpoint was being validated",
          },
        };
      const manifest = manifestSchema.parse(JSON.parse(facts.manifest.text));
      if (input.to > manifest.shards.length || input.from >= input.to)
        throw new CutoverError(
          "INVALID_INPUT",
          `hashTrainingCheckpointShards: range [${input.from}, ${input.to}) outside ${manifest.shards.length} shards`,
          { retryable: false },
        );
      const shards = manifest.shards.slice(input.from, input.to);
      const digests = await checkpoints.hashShards(input.location, input.runId, input.step, shards);
      const verdict = judgeShardDigests(input.step, shards, digests);
      if (!verdict.ok) return { ok: false, defect: verdict.defect };
      return { ok: true, from: input.from, to: input.to, bytes: shards.reduce((s, x) => s + x.size, 0) };
    },

    async fenceTrainingRun(raw, context) {
      const input = parse(fenceRunInputSchema, raw, "fenceTrainingRun");
      const request = {
        runId: input.runId,
        holder: input.holder,
        minEpoch: input.minEpoch,
        closeAtStep: input.closeAtStep,
        at: input.at,
      };
      const result = await fence.advanceFence(input.secondary.location, {
        ...request,
        basedOnEpoch: input.basedOnEpoch ?? 0,
      });
      if (result.status === "superseded")
        return { status: "superseded", epoch: result.record.epoch, holder: result.record.holder };
      // Best effort at the hub: it is usually down. Same epoch, so a trainer that comes back there is refused too.
      const hub = await probe(
        () => fence.advanceFence(input.hub.location, { ...request, minEpoch: result.record.epoch }),
        input.hubProbeTimeoutMs,
      );
      const hubFenced = hub.ok && hub.value.status !== "superseded";
      if (!hub.ok) context.log(`fenceTrainingRun: hub ${input.hub.region} not fenced (${hub.problem})`);
      return {
        status: result.status,
        epoch: result.record.epoch,
        previousEpoch: result.previousEpoch ?? null,
        hubFenced,
        ...(hub.ok ? {} : { hubProblem: hub.problem }),
      };
    },

    async submitTrainingJob(raw) {
      const input = parse(submitJobInputSchema, raw, "submitTrainingJob");
      return jobs.submit(input);
    },

    async getTrainingJobStatus(raw) {
      const input = parse(jobStatusInputSchema, raw, "getTrainingJobStatus");
      const status = await jobs.getStatus(input.jobId);
      return {
        jobId: status.jobId,
        state: status.state,
        providerState: status.providerState,
        ...(status.message === undefined ? {} : { message: status.message }),
      };
    },
  };
}
