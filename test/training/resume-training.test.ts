/**
 * The resumeTraining runbook run by the in-process local host (real durable-functions replay, durable timers on the
 * virtual clock), with the real Blob adapters against Azurite and a scripted job port. Covers every outcome, that a
 * dry run neither fences nor submits, and a replay determinism check with its negative control.
 */
import type { InvocationContext } from "@azure/functions";
import type * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FencePort } from "../../src/activities/training-ports";
import { stepPath, trainingJobName } from "../../src/domain/checkpoint";
import type { CheckpointLocation } from "../../src/domain/topology";
import { resumeTrainingOrchestrator } from "../../src/runbooks/resume-training";
import type { ResumeTrainingInput, ResumeTrainingResult } from "../../src/runbooks/training-contracts";
import { DEFAULT_EPOCH, VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost } from "../../local/host";
import { CheckpointReplicator } from "../../local/sim/checkpoint-replicator";
import { CheckpointWriter } from "../../local/training/checkpoint-writer";
import { registerTrainingFunctions } from "../../local/training/training-app";
import { ScriptedJobs } from "./support/fake-jobs";
import { bytes, freshLocations, startTrainingEnv, type TrainingEnv } from "./support/env";

const RUN = "foundation-13b-run-42";
const INTERVAL_S = 1800;
const clock = new VirtualClock(DEFAULT_EPOCH);
const jobs = new ScriptedJobs(clock);
let env: TrainingEnv;
let host: LocalHost;
let beforeAdvance: (() => Promise<void>) | undefined;

beforeAll(async () => {
  env = await startTrainingEnv();
  const fence: FencePort = {
    readFence: (location, runId) => env.fence.readFence(location, runId),
    advanceFence: async (location, request) => {
      const hook = beforeAdvance;
      beforeAdvance = undefined;
      await hook?.();
      return env.fence.advanceFence(location, request);
    },
  };
  host = await startLocalHost({
    entry: () => {
      registerTrainingFunctions({ checkpoints: env.store, fence, jobs });
      return Promise.resolve();
    },
    clock,
    hostJsonPath: null,
  });
});
afterAll(async () => {
  await host?.stop();
  await env?.azurite.stop();
});

interface Seeded {
  readonly runId: string;
  readonly hub: CheckpointLocation;
  readonly secondary: CheckpointLocation;
  readonly committedAt: Map<number, string>;
}

/**
 * A run with a checkpoint every INTERVAL_S: steps written in the hub by an epoch-1 trainer (mirroring progress to
 * the secondary), `replicated` ones copied to the secondary, `corrupt` ones damaged there (one byte of one shard).
 */
let runs = 0;
async function seed(steps: number[], replicated: number[], corrupt: number[] = []): Promise<Seeded> {
  const { hub, secondary } = await freshLocations(env);
  runs += 1;
  const runId = `${RUN}-${runs}`;
  const writer = new CheckpointWriter({
    resolveContainer: env.resolver.resolve,
    location: hub,
    region: "eastus2",
    runId,
    epoch: 1,
    mirrors: [secondary],
    clock,
  });
  const replicator = new CheckpointReplicator({
    clock,
    resolveContainer: env.resolver.resolve,
    source: hub,
    target: secondary,
    runId,
    lagMs: 0,
  });
  const committedAt = new Map<number, string>();
  for (const step of steps) {
    clock.advanceBy(INTERVAL_S * 1000);
    const r = await writer.writeCheckpoint(step, [
      { path: "model/rank-0.pt", data: bytes(40_000, step) },
      { path: "model/rank-1.pt", data: bytes(40_000, step + 1) },
      { path: "optimizer.pt", data: bytes(20_000, step + 2) },
    ]);
    if (r.status !== "committed") throw new Error(`seed: ${JSON.stringify(r)}`);
    committedAt.set(step, r.committedAt);
    if (replicated.includes(step)) await replicator.copyNow(step);
  }
  for (const step of corrupt) {
    const data = bytes(40_000, step + 1);
    data[7] = (data[7]! ^ 0xff) & 0xff;
    await env.resolver
      .resolve(secondary)
      .getBlockBlobClient(`${stepPath(secondary.prefix, runId, step)}model/rank-1.pt`)
      .uploadData(data);
  }
  clock.advanceBy(600_000); // the hub fails ten minutes after its last checkpoint
  return { runId, hub, secondary, committedAt };
}

function input(s: Seeded, mode: "live" | "dry-run", options: ResumeTrainingInput["options"] = {}): ResumeTrainingInput {
  return {
    workload: "pretrain",
    runId: s.runId,
    mode,
    hub: { region: "eastus2", location: s.hub },
    secondary: { region: "westus3", location: s.secondary },
    checkpointIntervalSeconds: INTERVAL_S,
    failedAt: new Date(clock.now()).toISOString(),
    job: {
      command: "python train.py --resume-from ${{inputs.checkpoint}} --epoch ${{inputs.epoch}}",
      target: {
        kind: "azureml",
        subscriptionId: "6f1c2b7e-9a55-4c1e-8d2a-3e0f4b5a6c7d",
        resourceGroup: "rg-ml-westus3",
        workspace: "mlw-train-westus3",
        compute: "gpu-cluster-wus3",
        environment: "azureml:acpt-pytorch-2.4-cuda12:3",
        experiment: "cutover-resume",
      },
    },
    options: { pollIntervalSeconds: 30, startTimeoutSeconds: 1800, hashBatchBytes: 50_000, ...options },
  };
}

async function run(i: ResumeTrainingInput): Promise<{ result: ResumeTrainingResult; id: string }> {
  const id = host.startNew("resumeTraining", { input: i });
  const status = await host.waitForInstance(id);
  if (status.runtimeStatus !== "Completed")
    throw new Error(`${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
  return { result: status.output as ResumeTrainingResult, id };
}

describe("resumeTraining runbook in the local host", () => {
  it("resumes from the newest valid replicated checkpoint, fences the run and reports the work lost", async () => {
    const s = await seed([1000, 2000, 3000, 4000], [1000, 2000, 3000], [3000]);
    jobs.script = { kind: "starts", afterMs: 4 * 60_000 };
    const submittedBefore = jobs.submitted.length;
    const { result, id } = await run(input(s, "live"));

    expect(result.status).toBe("resumed");
    if (result.status !== "resumed") throw new Error("unreachable");
    expect(result.checkpoint).toMatchObject({ step: 2000, epoch: 1, shardCount: 3, totalBytes: 100_000 });
    expect(result.checkpoint.uri).toBe(
      `https://stckptwestus3.blob.core.windows.net/${s.secondary.container}/runs/${s.runId}/step-000000002000/`,
    );
    expect(result.rejected.map((d) => [d.step, d.reason])).toEqual([
      [4000, "not-replicated"],
      [3000, "hash-mismatch"],
    ]);
    expect(result.hubNewest).toMatchObject({ step: 4000, source: "hub-listing" });
    expect(result.workLost).toEqual({
      steps: 2000,
      seconds: 2 * INTERVAL_S,
      basis: "hub-listing",
      uncheckpointedSecondsUpperBound: 600,
    });
    expect(result).toMatchObject({ epoch: 2, hubFenced: true, jobState: "Running" });

    // One job, named for run + epoch, given the checkpoint and the epoch.
    const mine = jobs.submitted.slice(submittedBefore);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      name: trainingJobName(s.runId, 2),
      epoch: 2,
      checkpoint: { uri: result.checkpoint.uri, step: 2000 },
    });
    // Both locations now refuse epoch 1 beyond step 2000.
    expect(await env.fence.readFence(s.secondary, s.runId)).toMatchObject({
      epoch: 2,
      holder: `cutover/${id}`,
      closed: [{ epoch: 1, lastStep: 2000 }],
    });
    expect((await env.fence.readFence(s.hub, s.runId))?.epoch).toBe(2);
    // Polled on durable timers until Running: 4 minutes of start-up at 30 s per poll.
    const timers = host.getRecord(id)!.history.filter((e) => e.EventType === 11);
    expect(timers.length).toBe(8);
    expect(host.getStatus(id)?.customStatus).toMatchObject({
      phase: "done",
      step: 2000,
      epoch: 2,
      jobState: "Running",
    });
  });

  it("dry run: reports the checkpoint, the work lost and the next epoch without fencing or submitting", async () => {
    const s = await seed([1000, 2000, 3000], [1000, 2000, 3000], [3000]);
    const submittedBefore = jobs.submitted.length;
    const { result } = await run(input(s, "dry-run"));
    expect(result).toMatchObject({ status: "dry-run", nextEpoch: 2, checkpoint: { step: 2000 } });
    expect(result.status === "dry-run" && result.workLost).toMatchObject({ steps: 1000, seconds: INTERVAL_S });
    expect(await env.fence.readFence(s.secondary, s.runId)).toBeUndefined();
    expect((await env.fence.readFence(s.hub, s.runId))?.epoch).toBe(1);
    expect(jobs.submitted.length).toBe(submittedBefore);
  });

  it("works from the mirrored progress when the hub is dark, and reports that the hub was not fenced", async () => {
    const s = await seed([1000, 2000, 3000], [1000, 2000]);
    jobs.script = { kind: "starts", afterMs: 60_000 };
    env.resolver.setReachable("stckpteastus2", false);
    try {
      const { result } = await run(input(s, "live"));
      expect(result).toMatchObject({
        status: "resumed",
        hubReachable: false,
        hubFenced: false,
        checkpoint: { step: 2000 },
        hubNewest: { step: 3000, source: "mirrored-progress" },
        workLost: { steps: 1000, seconds: INTERVAL_S },
      });
    } finally {
      env.resolver.setReachable("stckpteastus2", true);
    }
    expect((await env.fence.readFence(s.hub, s.runId))?.epoch).toBe(1);
    expect((await env.fence.readFence(s.secondary, s.runId))?.epoch).toBe(2);
  });

  it("returns no-valid-checkpoint, without fencing or submitting, when every candidate is defective", async () => {
    const s = await seed([1000, 2000], [1000, 2000], [1000, 2000]);
    const submittedBefore = jobs.submitted.length;
    const { result } = await run(input(s, "live"));
    expect(result.status).toBe("no-valid-checkpoint");
    expect(result.rejected.map((d) => d.reason)).toEqual(["hash-mismatch", "hash-mismatch"]);
    expect(await env.fence.readFence(s.secondary, s.runId)).toBeUndefined();
    expect(jobs.submitted.length).toBe(submittedBefore);
  });

  it("reports a rejected submission, a failed job and a job that never starts", async () => {
    const s1 = await seed([1000], [1000]);
    jobs.script = { kind: "rejects", message: "UserError: Compute gpu-cluster-wus3 was not found" };
    expect((await run(input(s1, "live"))).result).toMatchObject({
      status: "job-rejected",
      reason: "invalid-input",
      epoch: 2,
    });

    const s2 = await seed([1000], [1000]);
    jobs.script = { kind: "fails", afterMs: 90_000 };
    expect((await run(input(s2, "live"))).result).toMatchObject({ status: "job-failed", jobState: "Failed" });

    const s3 = await seed([1000], [1000]);
    jobs.script = { kind: "never-starts" };
    const polls = jobs.statusCalls.length;
    const started = clock.now();
    expect((await run(input(s3, "live", { startTimeoutSeconds: 600 }))).result).toMatchObject({
      status: "job-start-timeout",
      jobState: "Queued",
    });
    expect(jobs.statusCalls.length - polls).toBe(20); // 600 s at one poll per 30 s
    expect(clock.now() - started).toBeGreaterThanOrEqual(600_000);
  });

  it("stops without submitting when another resume advanced the fence after the listing", async () => {
    const s = await seed([1000, 2000], [1000, 2000]);
    const submittedBefore = jobs.submitted.length;
    beforeAdvance = async () => {
      await env.fence.advanceFence(s.secondary, {
        runId: s.runId,
        holder: "cutover/someone-else",
        minEpoch: 2,
        closeAtStep: 2000,
        at: new Date(clock.now()).toISOString(),
      });
    };
    const { result } = await run(input(s, "live"));
    expect(result).toMatchObject({ status: "superseded", epoch: 2, holder: "cutover/someone-else" });
    expect(jobs.submitted.length).toBe(submittedBefore);
  });
});

describe("determinism of resumeTraining", () => {
  // Internal testing helpers of durable-functions, shipped without types (local-testing-feasibility §3.7).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createOrchestrator, DummyOrchestrationContext } = require("durable-functions/lib/src/util/testingUtils") as {
    createOrchestrator: (fn: unknown) => (trigger: unknown, ctx: InvocationContext) => Promise<unknown>;
    DummyOrchestrationContext: new (name?: string) => InvocationContext;
  };

  /** Replays a finished instance's whole history through the real SDK executor and returns its state. */
  async function replay(fn: unknown, id: string): Promise<string> {
    const rec = host.getRecord(id)!;
    const handler = createOrchestrator(fn);
    const payload = {
      history: rec.history.map((e) => ({ ...e, IsPlayed: true })),
      input: JSON.parse(rec.input ?? "null") as unknown,
      instanceId: id,
      isReplaying: true,
      parentInstanceId: null,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 2,
      longRunningTimerIntervalDuration: "3.00:00:00",
      maximumShortTimerDuration: "3650.00:00:00",
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    return JSON.stringify(await handler(payload, new DummyOrchestrationContext("resumeTraining")));
  }

  it("the same history gives the same actions and output whatever the wall clock says; a clock-reading variant is caught", async () => {
    const s = await seed([1000, 2000], [1000, 2000]);
    jobs.script = { kind: "starts", afterMs: 60_000 };
    const { id } = await run(input(s, "live"));
    const realNow = Date.now;
    try {
      Date.now = () => Date.UTC(2031, 5, 1);
      const a = await replay(resumeTrainingOrchestrator, id);
      Date.now = () => Date.UTC(2045, 0, 1);
      const b = await replay(resumeTrainingOrchestrator, id);
      expect(JSON.parse(a)).toMatchObject({ isDone: true, output: { status: "resumed" } });
      expect(b).toBe(a);

      // Negative control: the same runbook but stamping the fence with the wall clock.
      const leaky = function* (context: OrchestrationContext) {
        const original = context.df.callActivityWithRetry.bind(context.df);
        context.df.callActivityWithRetry = (name: string, retry: df.RetryOptions, payload?: unknown) =>
          original(
            name,
            retry,
            name === "fenceTrainingRun" ? { ...(payload as object), at: new Date(Date.now()).toISOString() } : payload,
          );
        return yield* resumeTrainingOrchestrator(context);
      };
      Date.now = () => Date.UTC(2031, 5, 1);
      const c = await replay(leaky, id);
      Date.now = () => Date.UTC(2045, 0, 1);
      const d = await replay(leaky, id);
      expect(d).not.toBe(c);
    } finally {
      Date.now = realNow;
    }
  });
});
