/**
 * Checkpoint validation with real blobs in Azurite, through the production adapters and activities: complete,
 * partial (no marker), missing shard, wrong size, wrong hash, manifest tampering, not yet replicated.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTrainingActivities } from "../../src/activities/training";
import type { TrainingJobPort } from "../../src/activities/training-ports";
import { CHECKPOINT_LAYOUT, planCandidates, stepPath } from "../../src/domain/checkpoint";
import type { CheckpointLocation } from "../../src/domain/topology";
import type { InspectCheckpointOutput } from "../../src/runbooks/training-contracts";
import { CheckpointReplicator } from "../../local/sim/checkpoint-replicator";
import { CheckpointWriter } from "../../local/training/checkpoint-writer";
import { VirtualClock } from "../../local/clock";
import { bytes, freshLocations, invocationContext, startTrainingEnv, type TrainingEnv } from "./support/env";

const RUN = "foundation-13b-run-42";
const noJobs: TrainingJobPort = {
  submit: () => Promise.reject(new Error("not used")),
  getStatus: () => Promise.reject(new Error("not used")),
};

let env: TrainingEnv;
beforeAll(async () => {
  env = await startTrainingEnv();
});
afterAll(async () => {
  await env?.azurite.stop();
});

function activities() {
  return createTrainingActivities({ checkpoints: env.store, fence: env.fence, jobs: noJobs });
}

/** inspect, then hash every batch: what the runbook does for one candidate. */
async function validate(
  loc: CheckpointLocation,
  step: number,
  opts: { batchBytes?: number; hubNewestStep?: number } = {},
): Promise<{ verdict: InspectCheckpointOutput; hash?: Awaited<ReturnType<typeof hashAll>> }> {
  const a = activities();
  const ctx = invocationContext();
  const verdict = await a.inspectTrainingCheckpoint(
    {
      runId: RUN,
      location: loc,
      step,
      batchBytes: opts.batchBytes ?? 1024 ** 3,
      batchShards: 64,
      ...(opts.hubNewestStep === undefined ? {} : { hubNewestStep: opts.hubNewestStep }),
    },
    ctx,
  );
  if (!verdict.ok) return { verdict };
  return { verdict, hash: await hashAll(loc, step, verdict) };
}

async function hashAll(loc: CheckpointLocation, step: number, verdict: Extract<InspectCheckpointOutput, { ok: true }>) {
  const a = activities();
  return Promise.all(
    verdict.batches.map((b) =>
      a.hashTrainingCheckpointShards(
        { runId: RUN, location: loc, step, manifestSha256: verdict.header.manifestSha256, from: b.from, to: b.to },
        invocationContext(),
      ),
    ),
  );
}

function writer(loc: CheckpointLocation, epoch = 1, clock?: VirtualClock, mirrors: CheckpointLocation[] = []) {
  return new CheckpointWriter({
    resolveContainer: env.resolver.resolve,
    location: loc,
    region: "eastus2",
    runId: RUN,
    epoch,
    mirrors,
    ...(clock === undefined ? {} : { clock }),
  });
}

const shards = (seed: number) => [
  { path: "model/rank-0.pt", data: bytes(70_000, seed) },
  { path: "model/rank-1.pt", data: bytes(50_000, seed + 1) },
  { path: "optimizer.pt", data: bytes(30_000, seed + 2) },
];

async function overwrite(loc: CheckpointLocation, step: number, path: string, data: Buffer): Promise<void> {
  await env.resolver
    .resolve(loc)
    .getBlockBlobClient(`${stepPath(loc.prefix, RUN, step)}${path}`)
    .uploadData(data);
}

describe("checkpoint validation in Azurite", () => {
  it("accepts a complete checkpoint and reports its header", async () => {
    const { hub } = await freshLocations(env);
    const w = writer(hub);
    expect(await w.claim()).toEqual({ status: "holder", created: true });
    const written = await w.writeCheckpoint(1000, shards(1), { metadata: { loss: 1.93 } });
    expect(written.status).toBe("committed");
    const { verdict, hash } = await validate(hub, 1000);
    expect(verdict).toMatchObject({ ok: true, header: { step: 1000, epoch: 1, shardCount: 3, totalBytes: 150_000 } });
    expect(hash?.every((h) => h.ok)).toBe(true);
  });

  it("splits hashing into batches by bytes and still accepts the checkpoint", async () => {
    const { hub } = await freshLocations(env);
    await writer(hub).writeCheckpoint(1000, shards(2));
    const { verdict, hash } = await validate(hub, 1000, { batchBytes: 60_000 });
    expect(verdict.ok && verdict.batches.map((b) => [b.from, b.to])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(hash).toHaveLength(3);
    expect(hash?.every((h) => h.ok)).toBe(true);
  });

  it("rejects a partial checkpoint (no marker) as no-marker", async () => {
    const { hub } = await freshLocations(env);
    const result = await writer(hub).writeCheckpoint(2000, shards(3), { crashBefore: "marker" });
    expect(result).toEqual({ status: "crashed", step: 2000, before: "marker" });
    const { verdict } = await validate(hub, 2000);
    expect(verdict).toMatchObject({ ok: false, defect: { step: 2000, reason: "no-marker" } });
  });

  it("rejects a checkpoint whose shard is missing", async () => {
    const { hub } = await freshLocations(env);
    await writer(hub).writeCheckpoint(3000, shards(4));
    await env.resolver.resolve(hub).deleteBlob(`${stepPath(hub.prefix, RUN, 3000)}model/rank-1.pt`);
    const { verdict } = await validate(hub, 3000);
    expect(verdict).toMatchObject({ ok: false, defect: { reason: "missing-shard" } });
    expect(!verdict.ok && verdict.defect.detail).toContain("model/rank-1.pt");
  });

  it("rejects a shard of the wrong size", async () => {
    const { hub } = await freshLocations(env);
    await writer(hub).writeCheckpoint(4000, shards(5));
    await overwrite(hub, 4000, "optimizer.pt", bytes(29_999, 99));
    const { verdict } = await validate(hub, 4000);
    expect(verdict).toMatchObject({ ok: false, defect: { reason: "size-mismatch" } });
    expect(!verdict.ok && verdict.defect.detail).toContain("29999");
  });

  it("rejects a shard with the right size but the wrong bytes (hash-mismatch), found only by hashing", async () => {
    const { hub } = await freshLocations(env);
    await writer(hub).writeCheckpoint(5000, shards(6));
    const corrupt = bytes(70_000, 6);
    corrupt[12_345] = (corrupt[12_345]! + 1) & 0xff;
    await overwrite(hub, 5000, "model/rank-0.pt", corrupt);
    const { verdict, hash } = await validate(hub, 5000);
    expect(verdict.ok).toBe(true);
    expect(hash?.find((h) => !h.ok)).toMatchObject({ ok: false, defect: { reason: "hash-mismatch" } });
  });

  it("rejects a manifest edited after the marker was written", async () => {
    const { hub } = await freshLocations(env);
    await writer(hub).writeCheckpoint(6000, shards(7));
    const blob = env.resolver
      .resolve(hub)
      .getBlockBlobClient(`${stepPath(hub.prefix, RUN, 6000)}${CHECKPOINT_LAYOUT.manifest}`);
    const text = (await blob.downloadToBuffer()).toString("utf8").replace('"step": 6000', '"step": 6000 ');
    await blob.upload(text, Buffer.byteLength(text));
    const { verdict } = await validate(hub, 6000);
    expect(verdict).toMatchObject({ ok: false, defect: { reason: "manifest-invalid" } });
  });

  it("reports a checkpoint the hub committed but the secondary lacks as not-replicated", async () => {
    const { hub, secondary } = await freshLocations(env);
    const clock = new VirtualClock();
    const w = writer(hub, 1, clock, [secondary]);
    const replicator = new CheckpointReplicator({
      clock,
      resolveContainer: env.resolver.resolve,
      source: hub,
      target: secondary,
      runId: RUN,
      lagMs: 10 * 60_000,
    });
    await w.writeCheckpoint(1000, shards(8));
    await replicator.scan();
    clock.advanceBy(15 * 60_000);
    await clock.idle();
    expect(replicator.copiedSteps()).toEqual([1000]);
    await w.writeCheckpoint(2000, shards(9));
    await replicator.scan();
    clock.advanceBy(60_000); // not yet: the lag is 10 minutes
    await clock.idle();
    expect(replicator.copiedSteps()).toEqual([1000]);

    const listing = await activities().listTrainingCheckpoints(
      { runId: RUN, hub: { region: "eastus2", location: hub }, secondary: { region: "westus3", location: secondary } },
      invocationContext(),
    );
    expect(listing.folders.map((f) => f.step)).toEqual([1000]);
    expect(listing.hubNewest).toMatchObject({ step: 2000, source: "hub-listing" });
    const plan = planCandidates(listing.folders, listing.hubNewest ?? undefined, 5);
    expect(plan.rejected).toEqual([expect.objectContaining({ step: 2000, reason: "not-replicated" })]);
    expect(plan.inspect).toEqual([1000]);

    // A copy in progress (shards but no marker yet) is not-replicated too, not a broken checkpoint.
    const { verdict } = await validate(secondary, 2000, { hubNewestStep: 2000 });
    expect(verdict).toMatchObject({ ok: false, defect: { reason: "not-replicated" } });

    // With the hub dark, the progress record the writer mirrored still says how far the hub got.
    env.resolver.setReachable("stckpteastus2", false);
    try {
      const dark = await activities().listTrainingCheckpoints(
        {
          runId: RUN,
          hub: { region: "eastus2", location: hub },
          secondary: { region: "westus3", location: secondary },
        },
        invocationContext(),
      );
      expect(dark.hubReachable).toBe(false);
      expect(dark.hubProblem).toMatch(/TRANSIENT/);
      expect(dark.hubNewest).toMatchObject({ step: 2000, source: "mirrored-progress" });
    } finally {
      env.resolver.setReachable("stckpteastus2", true);
    }

    clock.advanceBy(10 * 60_000);
    await clock.idle();
    expect(replicator.copiedSteps()).toEqual([1000, 2000]);
    const copied = await validate(secondary, 2000);
    expect(copied.verdict.ok).toBe(true);
    expect(copied.hash?.every((h) => h.ok)).toBe(true);
  });

  it("rejects input that does not match the activity contract, naming the field", async () => {
    await expect(
      activities().inspectTrainingCheckpoint(
        { runId: RUN, step: -1, batchBytes: 1, batchShards: 1 },
        invocationContext(),
      ),
    ).rejects.toThrow(/^\[INVALID_INPUT\] inspectTrainingCheckpoint: .*location/);
  });
});
