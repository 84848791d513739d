/**
 * Runbook `resumeTraining`: resume a training run in its secondary region after the hub failed.
 *
 * Input: {@link resumeTrainingInputSchema} (build it with `buildResumeTrainingInput`). Run by the failover runbook
 * (as a sub-orchestration) for training workloads whose hub region is the failed scope, and by drills.
 *
 * Activities (all through `callActivityWithRetry`, transient failures retried with backoff):
 * 1. `listTrainingCheckpoints`: step folders in the secondary, the hub's newest known checkpoint (hub listing if
 *    reachable, else the progress record the trainer mirrors), fence epochs;
 * 2. per candidate, newest first: `inspectTrainingCheckpoint` (marker, manifest, fence, presence and sizes), then
 *    `hashTrainingCheckpointShards` fanned out over byte-bounded batches (streamed sha256); a defect records why and
 *    falls back to the previous checkpoint;
 * 3. live only: `fenceTrainingRun` (next epoch, closing older epochs at the chosen step; hub best effort),
 *    `submitTrainingJob` (job name from run id + epoch, so a retry finds its job), then `getTrainingJobStatus`
 *    every `pollIntervalSeconds` on a durable timer until Running, Failed/Canceled or `startTimeoutSeconds`.
 * Timers: only the poll timers. Events: none. Custom status: {@link ResumeTrainingStatus}.
 *
 * Dry run: steps 1–2 only; reports the checkpoint that would be used, the work lost and the epoch it would take.
 * Outcomes are returned ({@link ResumeTrainingResult}); the orchestration fails only on a bug or an exhausted retry.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import type { z } from "zod";
import {
  checkpointUri,
  computeWorkLost,
  planCandidates,
  trainingJobName,
  type CheckpointDefect,
  type HubNewest,
} from "../domain/checkpoint";
import {
  fenceRunOutputSchema,
  hashShardsOutputSchema,
  inspectCheckpointOutputSchema,
  jobStatusOutputSchema,
  listCheckpointsOutputSchema,
  resumeTrainingInputSchema,
  submitJobOutputSchema,
  TRAINING_ACTIVITIES,
  type ResumeCheckpoint,
  type ResumeTrainingResult,
  type ResumeTrainingStatus,
} from "./training-contracts";

function retryOptions(): df.RetryOptions {
  const retry = new df.RetryOptions(5_000, 4);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 60_000;
  return retry;
}

export const resumeTrainingOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = resumeTrainingInputSchema.parse(context.df.getInput());
  const o = input.options;
  const retry = retryOptions();
  const timeline: Array<{ at: string; event: string }> = [];
  const now = (): Date => context.df.currentUtcDateTime;
  const mark = (event: string): void => {
    timeline.push({ at: now().toISOString(), event });
  };
  const status = (s: Omit<ResumeTrainingStatus, "runId">): void => {
    context.df.setCustomStatus({ runId: input.runId, ...s } satisfies ResumeTrainingStatus);
  };
  /** Calls an activity and parses what it returned: the value a yield gives back is a boundary too. */
  function* call<S extends z.ZodType>(name: string, schema: S, payload: unknown): Generator<Task, z.infer<S>, unknown> {
    const raw = yield context.df.callActivityWithRetry(name, retry, payload);
    return schema.parse(raw);
  }

  // 1. What is there.
  status({ phase: "listing" });
  const listing = yield* call(TRAINING_ACTIVITIES.listTrainingCheckpoints, listCheckpointsOutputSchema, {
    runId: input.runId,
    hub: input.hub,
    secondary: input.secondary,
    hubProbeTimeoutMs: o.hubProbeTimeoutMs,
  });
  const hubNewest: HubNewest | undefined = listing.hubNewest ?? undefined;
  mark(
    `listed ${listing.folders.length} checkpoint folder(s) in ${input.secondary.region}; hub ${input.hub.region} ` +
      `${listing.hubReachable ? "reachable" : `unreachable (${listing.hubProblem ?? "no answer"})`}; ` +
      `newest known step ${hubNewest === undefined ? "none" : `${hubNewest.step} (${hubNewest.source})`}`,
  );

  // 2. Newest valid checkpoint, falling back on any defect.
  const plan = planCandidates(listing.folders, hubNewest, o.maxCandidates);
  const rejected: CheckpointDefect[] = [...plan.rejected];
  let selected: ResumeCheckpoint | undefined;
  for (const step of plan.inspect) {
    status({ phase: "validating", step });
    const inspected = yield* call(TRAINING_ACTIVITIES.inspectTrainingCheckpoint, inspectCheckpointOutputSchema, {
      runId: input.runId,
      location: input.secondary.location,
      step,
      ...(hubNewest === undefined ? {} : { hubNewestStep: hubNewest.step }),
      batchBytes: o.hashBatchBytes,
      batchShards: o.hashBatchShards,
    });
    if (!inspected.ok) {
      rejected.push(inspected.defect);
      mark(`step ${step} rejected: ${inspected.defect.reason} (${inspected.defect.detail})`);
      continue;
    }
    const raws: unknown = yield context.df.Task.all(
      inspected.batches.map((b) =>
        context.df.callActivityWithRetry(TRAINING_ACTIVITIES.hashTrainingCheckpointShards, retry, {
          runId: input.runId,
          location: input.secondary.location,
          step,
          manifestSha256: inspected.header.manifestSha256,
          from: b.from,
          to: b.to,
        }),
      ),
    );
    const hashed = (raws as unknown[]).map((r) => hashShardsOutputSchema.parse(r));
    const bad = hashed.find((h) => !h.ok);
    if (bad !== undefined && !bad.ok) {
      rejected.push(bad.defect);
      mark(`step ${step} rejected: ${bad.defect.reason} (${bad.defect.detail})`);
      continue;
    }
    selected = { ...inspected.header, uri: checkpointUri(input.secondary.location, input.runId, step) };
    mark(
      `step ${step} valid: ${inspected.header.shardCount} shard(s), ${inspected.header.totalBytes} bytes hashed in ${hashed.length} batch(es)`,
    );
    break;
  }

  const base = {
    workload: input.workload,
    runId: input.runId,
    mode: input.mode,
    region: input.secondary.region,
    rejected,
    hubNewest: hubNewest ?? null,
    hubReachable: listing.hubReachable,
    timeline,
  };
  if (selected === undefined) {
    mark(`no valid checkpoint among the newest ${plan.inspect.length}`);
    status({ phase: "done" });
    return { ...base, status: "no-valid-checkpoint" } satisfies ResumeTrainingResult;
  }
  const workLost = computeWorkLost({
    resumed: { step: selected.step, committedAt: selected.committedAt },
    hubNewest,
    checkpointIntervalSeconds: input.checkpointIntervalSeconds,
    failedAt: input.failedAt,
  });
  const chosen = { ...base, checkpoint: selected, workLost };
  const nextEpoch = listing.maxEpochSeen + 1;

  if (input.mode === "dry-run") {
    status({ phase: "done", step: selected.step, epoch: nextEpoch });
    return { ...chosen, status: "dry-run", nextEpoch } satisfies ResumeTrainingResult;
  }

  // 3. Fence, then resubmit under the new epoch.
  status({ phase: "fencing", step: selected.step });
  const fenced = yield* call(TRAINING_ACTIVITIES.fenceTrainingRun, fenceRunOutputSchema, {
    runId: input.runId,
    holder: `cutover/${context.df.instanceId}`,
    minEpoch: nextEpoch,
    closeAtStep: selected.step,
    at: now().toISOString(),
    basedOnEpoch: listing.secondaryFenceEpoch,
    secondary: input.secondary,
    hub: input.hub,
    hubProbeTimeoutMs: o.hubProbeTimeoutMs,
  });
  if (fenced.status === "superseded") {
    mark(`fence already advanced to epoch ${fenced.epoch} by ${fenced.holder}: another resume owns the run`);
    status({ phase: "done", step: selected.step, epoch: fenced.epoch });
    return {
      ...chosen,
      status: "superseded",
      epoch: fenced.epoch,
      holder: fenced.holder,
    } satisfies ResumeTrainingResult;
  }
  const epoch = fenced.epoch;
  mark(
    `fenced the run at epoch ${epoch} in ${input.secondary.region} (its fence was ${fenced.previousEpoch ?? "absent"}); ` +
      `hub ${fenced.hubFenced ? "fenced too" : `not fenced (${fenced.hubProblem ?? "unreachable"})`}`,
  );

  status({ phase: "submitting", step: selected.step, epoch });
  const submitted = yield* call(TRAINING_ACTIVITIES.submitTrainingJob, submitJobOutputSchema, {
    name: trainingJobName(input.runId, epoch),
    runId: input.runId,
    epoch,
    region: input.secondary.region,
    checkpoint: { uri: selected.uri, step: selected.step },
    command: input.job.command,
    target: input.job.target,
  });
  const fencedPart = { epoch, hubFenced: fenced.hubFenced };
  if (submitted.status === "rejected") {
    mark(`job rejected: ${submitted.reason} (${submitted.message})`);
    status({ phase: "done", step: selected.step, epoch });
    return {
      ...chosen,
      ...fencedPart,
      status: "job-rejected",
      reason: submitted.reason,
      message: submitted.message,
    } satisfies ResumeTrainingResult;
  }
  const jobId = submitted.jobId;
  mark(`job ${submitted.created ? "submitted" : "found (retry)"}: ${jobId}, ${submitted.state}`);

  const deadline = now().getTime() + o.startTimeoutSeconds * 1000;
  let state: string = submitted.state;
  let providerState: string = submitted.state;
  while (state === "Queued" || state === "Unknown") {
    status({ phase: "waiting-for-job", step: selected.step, epoch, jobId, jobState: providerState });
    if (now().getTime() >= deadline) {
      mark(`job still ${providerState} after ${o.startTimeoutSeconds} s`);
      status({ phase: "done", step: selected.step, epoch, jobId, jobState: providerState });
      return {
        ...chosen,
        ...fencedPart,
        status: "job-start-timeout",
        jobId,
        jobState: providerState,
      } satisfies ResumeTrainingResult;
    }
    yield context.df.createTimer(new Date(Math.min(deadline, now().getTime() + o.pollIntervalSeconds * 1000)));
    const polled = yield* call(TRAINING_ACTIVITIES.getTrainingJobStatus, jobStatusOutputSchema, { jobId });
    state = polled.state;
    providerState = polled.providerState;
  }
  mark(`job ${providerState}`);
  status({ phase: "done", step: selected.step, epoch, jobId, jobState: providerState });
  if (state === "Running" || state === "Completed")
    return { ...chosen, ...fencedPart, status: "resumed", jobId, jobState: state } satisfies ResumeTrainingResult;
  return {
    ...chosen,
    ...fencedPart,
    status: "job-failed",
    jobId,
    jobState: providerState,
  } satisfies ResumeTrainingResult;
};
