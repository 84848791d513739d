/**
 * Fencing with real blobs in Azurite: once Cutover advances the run's epoch, the old trainer can no longer commit
 * checkpoints (before writing, or at the commit point if it was already mid-write), its late checkpoints are
 * rejected by validation and by the replicator, and the resumed trainer (next epoch) commits normally.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTrainingActivities } from "../../src/activities/training";
import type { TrainingJobPort } from "../../src/activities/training-ports";
import { CHECKPOINT_LAYOUT, MARKER_FORMAT, judgeStructure, stepPath } from "../../src/domain/checkpoint";
import type { CheckpointLocation } from "../../src/domain/topology";
import { CheckpointReplicator } from "../../local/sim/checkpoint-replicator";
import { CheckpointWriter } from "../../local/training/checkpoint-writer";
import { VirtualClock } from "../../local/clock";
import { bytes, freshLocations, invocationContext, startTrainingEnv, type TrainingEnv } from "./support/env";

const RUN = "foundation-13b-run-42";
const AT = "2030-01-01T01:00:00.000Z";
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

function writer(loc: CheckpointLocation, epoch: number, region: string, mirrors: CheckpointLocation[] = []) {
  return new CheckpointWriter({
    resolveContainer: env.resolver.resolve,
    location: loc,
    region,
    runId: RUN,
    epoch,
    mirrors,
  });
}
const shard = (seed: number) => [{ path: "weights.pt", data: bytes(20_000, seed) }];

async function folderExists(loc: CheckpointLocation, step: number): Promise<boolean> {
  for await (const _ of env.resolver.resolve(loc).listBlobsFlat({ prefix: stepPath(loc.prefix, RUN, step) }))
    return true;
  return false;
}

async function structure(loc: CheckpointLocation, step: number) {
  const [facts, fence] = await Promise.all([env.store.readFacts(loc, RUN, step), env.fence.readFence(loc, RUN)]);
  return judgeStructure(facts, { fence });
}

describe("fencing a training run", () => {
  it("stops the old trainer after Cutover advances the epoch; the resumed trainer takes over", async () => {
    const { hub } = await freshLocations(env);
    const old = writer(hub, 1, "eastus2");
    await old.claim();
    expect((await old.writeCheckpoint(100, shard(1))).status).toBe("committed");

    const advanced = await env.fence.advanceFence(hub, {
      runId: RUN,
      holder: "cutover/failover-1",
      minEpoch: 2,
      closeAtStep: 100,
      at: AT,
      basedOnEpoch: 1,
    });
    expect(advanced).toMatchObject({ status: "advanced", previousEpoch: 1, record: { epoch: 2 } });

    const refused = await old.writeCheckpoint(200, shard(2));
    expect(refused).toMatchObject({ status: "fenced", fenceEpoch: 2, phase: "before-write" });
    expect(await folderExists(hub, 200)).toBe(false);

    const resumed = writer(hub, 2, "eastus2");
    expect(await resumed.claim()).toEqual({ status: "holder", created: false });
    expect((await resumed.writeCheckpoint(200, shard(3))).status).toBe("committed");
    expect((await structure(hub, 100)).ok).toBe(true); // the old epoch's history up to the resume point stays valid
    expect((await structure(hub, 200)).ok).toBe(true);
  });

  it("an old trainer racing the fence at its commit point loses, and leaves no marker", async () => {
    const { hub } = await freshLocations(env);
    const old = writer(hub, 1, "eastus2");
    await old.claim();
    await old.writeCheckpoint(100, shard(4));
    const result = await old.writeCheckpoint(200, shard(5), {
      beforeCommit: async () => {
        await env.fence.advanceFence(hub, {
          runId: RUN,
          holder: "cutover/failover-2",
          minEpoch: 2,
          closeAtStep: 100,
          at: AT,
        });
      },
    });
    expect(result).toMatchObject({ status: "fenced", fenceEpoch: 2, phase: "commit" });
    expect(await folderExists(hub, 200)).toBe(true); // shards and manifest were uploaded ...
    expect(await structure(hub, 200)).toMatchObject({ ok: false, defect: { reason: "no-marker" } }); // ... never valid
  });

  it("a zombie marker written around the protocol after the fence is rejected as fenced", async () => {
    const { hub } = await freshLocations(env);
    const old = writer(hub, 1, "eastus2");
    await old.claim();
    await old.writeCheckpoint(100, shard(6));
    await old.writeCheckpoint(200, shard(7), { crashBefore: "marker" });
    await env.fence.advanceFence(hub, { runId: RUN, holder: "cutover/x", minEpoch: 2, closeAtStep: 100, at: AT });
    // A trainer ignoring the protocol completes its step-200 checkpoint anyway.
    const manifest = await env.resolver
      .resolve(hub)
      .getBlockBlobClient(`${stepPath(hub.prefix, RUN, 200)}${CHECKPOINT_LAYOUT.manifest}`)
      .downloadToBuffer();
    const { createHash } = await import("node:crypto");
    const marker = JSON.stringify({
      format: MARKER_FORMAT,
      runId: RUN,
      step: 200,
      epoch: 1,
      manifestSha256: createHash("sha256").update(manifest).digest("hex"),
      committedAt: AT,
    });
    await env.resolver
      .resolve(hub)
      .getBlockBlobClient(`${stepPath(hub.prefix, RUN, 200)}${CHECKPOINT_LAYOUT.marker}`)
      .upload(marker, marker.length);
    expect(await structure(hub, 200)).toMatchObject({ ok: false, defect: { reason: "fenced" } });
    expect((await structure(hub, 100)).ok).toBe(true);
  });

  it("a trainer coming back in an unfenced hub is stopped by the secondary's fence, and never replicated", async () => {
    const { hub, secondary } = await freshLocations(env);
    const clock = new VirtualClock();
    const old = writer(hub, 1, "eastus2", [secondary]);
    await old.claim();
    await old.writeCheckpoint(100, shard(8));
    // The hub is dark during the failover: only the secondary gets fenced.
    env.resolver.setReachable("stckpteastus2", false);
    const fenced = await createTrainingActivities({
      checkpoints: env.store,
      fence: env.fence,
      jobs: noJobs,
    }).fenceTrainingRun(
      {
        runId: RUN,
        holder: "cutover/failover-3",
        minEpoch: 2,
        closeAtStep: 100,
        at: AT,
        basedOnEpoch: null,
        secondary: { region: "westus3", location: secondary },
        hub: { region: "eastus2", location: hub },
        hubProbeTimeoutMs: 5_000,
      },
      invocationContext(),
    );
    env.resolver.setReachable("stckpteastus2", true);
    expect(fenced).toMatchObject({ status: "advanced", epoch: 2, hubFenced: false });
    expect((await env.fence.readFence(hub, RUN))?.epoch).toBe(1);

    // The hub is back; the old trainer tries to carry on there.
    expect(await old.writeCheckpoint(200, shard(9))).toMatchObject({
      status: "fenced",
      fenceEpoch: 2,
      phase: "before-write",
    });
    expect(await folderExists(hub, 200)).toBe(false);

    // Even a trainer that does not check mirrors (plain hub writer) cannot leak into the secondary.
    const blind = writer(hub, 1, "eastus2");
    expect((await blind.writeCheckpoint(300, shard(10))).status).toBe("committed");
    const replicator = new CheckpointReplicator({
      clock,
      resolveContainer: env.resolver.resolve,
      source: hub,
      target: secondary,
      runId: RUN,
      lagMs: 0,
    });
    await replicator.scan();
    clock.advanceTo(Date.parse("2031-01-01T00:00:00Z"));
    await clock.idle();
    expect(replicator.events.filter((e) => e.kind === "refused").map((e) => e.step)).toEqual([300]);
    expect(replicator.copiedSteps()).toEqual([100]);
    expect(await folderExists(secondary, 300)).toBe(false);
  });

  it("advancing is idempotent for the same holder and refuses to stack on another holder's newer epoch", async () => {
    const { secondary } = await freshLocations(env);
    const request = { runId: RUN, holder: "cutover/a", minEpoch: 2, closeAtStep: 100, at: AT, basedOnEpoch: 0 };
    const first = await env.fence.advanceFence(secondary, request);
    const again = await env.fence.advanceFence(secondary, request);
    expect(first).toMatchObject({ status: "advanced", record: { epoch: 2, holder: "cutover/a" } });
    expect(again).toMatchObject({ status: "already-held", record: { epoch: 2 } });
    const other = await env.fence.advanceFence(secondary, { ...request, holder: "cutover/b" });
    expect(other).toMatchObject({ status: "superseded", record: { epoch: 2, holder: "cutover/a" } });
    // Without a basis (an operator forcing it), a different holder does get the next epoch.
    const forced = await env.fence.advanceFence(secondary, {
      ...request,
      holder: "cutover/b",
      basedOnEpoch: undefined,
    });
    expect(forced).toMatchObject({ status: "advanced", record: { epoch: 3, holder: "cutover/b" }, previousEpoch: 2 });
  });

  it("concurrent advances by two holders produce exactly one winner per epoch (compare-and-swap)", async () => {
    const { secondary } = await freshLocations(env);
    const results = await Promise.all(
      ["cutover/p", "cutover/q", "cutover/r"].map((holder) =>
        env.fence.advanceFence(secondary, {
          runId: RUN,
          holder,
          minEpoch: 2,
          closeAtStep: null,
          at: AT,
          basedOnEpoch: 0,
        }),
      ),
    );
    const advanced = results.filter((r) => r.status === "advanced");
    expect(advanced).toHaveLength(1);
    expect(results.filter((r) => r.status === "superseded")).toHaveLength(2);
    expect((await env.fence.readFence(secondary, RUN))?.holder).toBe(advanced[0]!.record.holder);
  });
});
