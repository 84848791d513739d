/**
 * The pure rules of src/domain/checkpoint.ts and the contract helpers: layout names, verdict ordering, hashing
 * batches, candidate planning, fencing admission, work lost, job names, and the runbook input built from the
 * example topology. Property-based where the rule is a law.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  advanceFenceRecord,
  checkpointUri,
  computeWorkLost,
  fenceAdmits,
  FENCE_FORMAT,
  hashBatches,
  hubFailed,
  judgeShardDigests,
  judgeStructure,
  MANIFEST_FORMAT,
  MARKER_FORMAT,
  parseStepFolder,
  planCandidates,
  runRoot,
  stepFolderName,
  trainingJobName,
  type CheckpointFacts,
  type FenceRecord,
  type Manifest,
} from "../../src/domain/checkpoint";
import { loadTopologyFile } from "../../src/config/topology-loader";
import { buildResumeTrainingInput, resumeTrainingInputSchema } from "../../src/runbooks/training-contracts";

const RUN = "run-1";
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
const AT = "2030-01-01T00:00:00.000Z";

function facts(overrides: { manifest?: Partial<Manifest>; markerEpoch?: number; blobs?: Record<string, number> } = {}) {
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    runId: RUN,
    step: 500,
    epoch: 1,
    createdAt: AT,
    shards: [
      { path: "a.pt", size: 10, sha256: sha("a") },
      { path: "b/c.pt", size: 20, sha256: sha("b") },
    ],
    ...overrides.manifest,
  };
  const manifestText = JSON.stringify(manifest);
  const marker = {
    format: MARKER_FORMAT,
    runId: RUN,
    step: 500,
    epoch: overrides.markerEpoch ?? manifest.epoch,
    manifestSha256: sha(manifestText),
    committedAt: AT,
  };
  const f: CheckpointFacts = {
    runId: RUN,
    step: 500,
    marker: { text: JSON.stringify(marker), sha256: sha(JSON.stringify(marker)) },
    manifest: { text: manifestText, sha256: sha(manifestText) },
    blobs: overrides.blobs ?? { "a.pt": 10, "b/c.pt": 20 },
  };
  return f;
}

function fence(epoch: number, closed: FenceRecord["closed"] = []): FenceRecord {
  return { format: FENCE_FORMAT, runId: RUN, epoch, holder: "h", updatedAt: AT, committedStep: null, closed };
}

describe("layout", () => {
  it("step folder names sort like steps and parse back", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999_999_999 }),
        fc.integer({ min: 0, max: 999_999_999_999 }),
        (a, b) => {
          expect(parseStepFolder(stepFolderName(a))).toBe(a);
          expect(Math.sign(stepFolderName(a).localeCompare(stepFolderName(b)))).toBe(Math.sign(a - b));
        },
      ),
    );
    expect(parseStepFolder("step-12")).toBeUndefined();
    expect(() => stepFolderName(-1)).toThrow(RangeError);
  });

  it("builds run roots and the URI a job mounts", () => {
    expect(runRoot("", "r")).toBe("r/");
    expect(runRoot("runs", "r")).toBe("runs/r/");
    expect(runRoot("/runs/", "r")).toBe("runs/r/");
    expect(
      checkpointUri({ accountUrl: "https://acct.blob.core.windows.net/", container: "ck", prefix: "p" }, "r", 7),
    ).toBe("https://acct.blob.core.windows.net/ck/p/r/step-000000000007/");
  });
});

describe("judgeStructure", () => {
  it("accepts a consistent checkpoint and sums its header", () => {
    expect(judgeStructure(facts())).toMatchObject({
      ok: true,
      header: { step: 500, epoch: 1, shardCount: 2, totalBytes: 30, committedAt: AT },
    });
  });

  it("names each defect, cheapest check first", () => {
    const reason = (f: CheckpointFacts, ctx = {}) => {
      const v = judgeStructure(f, ctx);
      return v.ok ? "ok" : v.defect.reason;
    };
    const base = facts();
    expect(reason({ ...base, marker: undefined })).toBe("no-marker");
    expect(reason({ ...base, marker: undefined }, { hubNewestStep: 500 })).toBe("not-replicated");
    expect(reason({ ...base, marker: undefined }, { hubNewestStep: 499 })).toBe("no-marker");
    expect(reason({ ...base, marker: { text: "{", sha256: sha("{") } })).toBe("marker-invalid");
    expect(reason({ ...base, marker: { text: "{}", sha256: sha("{}") } })).toBe("marker-invalid");
    expect(reason({ ...base, marker: { text: "", sha256: "", tooLarge: true } })).toBe("marker-invalid");
    expect(reason({ ...base, step: 501 })).toBe("marker-invalid");
    expect(reason({ ...base, manifest: undefined })).toBe("manifest-missing");
    expect(
      reason({ ...base, manifest: { text: base.manifest!.text + " ", sha256: sha(base.manifest!.text + " ") } }),
    ).toBe("manifest-invalid");
    expect(reason(facts({ markerEpoch: 2 }))).toBe("manifest-invalid");
    expect(reason(facts({ manifest: { shards: [] } }))).toBe("manifest-invalid");
    expect(
      reason(facts({ manifest: { shards: [{ path: "../x", size: 1, sha256: sha("x") }] }, blobs: { "../x": 1 } })),
    ).toBe("manifest-invalid");
    expect(reason(facts(), { fence: fence(2, [{ epoch: 1, lastStep: 400, holder: "h", closedAt: AT }]) })).toBe(
      "fenced",
    );
    expect(reason(facts({ blobs: { "a.pt": 10 } }))).toBe("missing-shard");
    expect(reason(facts({ blobs: { "a.pt": 10, "b/c.pt": 21 } }))).toBe("size-mismatch");
    // A fenced checkpoint is reported as fenced even when a shard is also missing: fencing is checked first.
    expect(
      reason(facts({ blobs: {} }), { fence: fence(3, [{ epoch: 2, lastStep: 0, holder: "h", closedAt: AT }]) }),
    ).toBe("fenced");
  });

  it("judges streamed digests against the manifest", () => {
    const shards = [
      { path: "a", size: 3, sha256: sha("aaa") },
      { path: "b", size: 3, sha256: sha("bbb") },
    ];
    const ok = [
      { path: "a", status: "hashed" as const, sha256: sha("aaa"), bytes: 3 },
      { path: "b", status: "hashed" as const, sha256: sha("bbb"), bytes: 3 },
    ];
    expect(judgeShardDigests(1, shards, ok)).toEqual({ ok: true });
    expect(judgeShardDigests(1, shards, [ok[0]!, { ...ok[1]!, sha256: sha("bbc") }])).toMatchObject({
      ok: false,
      defect: { reason: "hash-mismatch" },
    });
    expect(judgeShardDigests(1, shards, [ok[0]!, { ...ok[1]!, bytes: 4 }])).toMatchObject({
      defect: { reason: "size-mismatch" },
    });
    expect(judgeShardDigests(1, shards, [ok[0]!, { path: "b", status: "missing" }])).toMatchObject({
      defect: { reason: "missing-shard" },
    });
    expect(judgeShardDigests(1, shards, [ok[0]!])).toMatchObject({ defect: { reason: "missing-shard" } });
  });
});

describe("hashBatches", () => {
  it("covers every shard once, in order, within the byte and count bounds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 10 }),
        (sizes, maxBytes, maxShards) => {
          const batches = hashBatches(
            sizes.map((size) => ({ size })),
            maxBytes,
            maxShards,
          );
          let next = 0;
          for (const b of batches) {
            expect(b.from).toBe(next);
            expect(b.to).toBeGreaterThan(b.from);
            expect(b.to - b.from).toBeLessThanOrEqual(maxShards);
            expect(b.bytes).toBe(sizes.slice(b.from, b.to).reduce((x, y) => x + y, 0));
            expect(b.to - b.from === 1 || b.bytes <= maxBytes).toBe(true);
            next = b.to;
          }
          expect(next).toBe(sizes.length);
        },
      ),
    );
    expect(() => hashBatches([], 0)).toThrow(RangeError);
  });
});

describe("planCandidates", () => {
  const folder = (step: number) => ({ step, hasMarker: true, hasManifest: true, blobCount: 3, bytes: 10 });
  it("inspects newest first, capped, and rejects the hub's newest up front when it has no replica", () => {
    const hub = { step: 400, epoch: 1, committedAt: AT, source: "mirrored-progress" as const };
    expect(planCandidates([folder(100), folder(300), folder(200)], hub, 2)).toEqual({
      inspect: [300, 200],
      rejected: [{ step: 400, reason: "not-replicated", detail: expect.stringContaining("step 400") }],
    });
    expect(planCandidates([folder(400), folder(300)], hub, 5).rejected).toEqual([]);
    expect(planCandidates([], undefined, 5)).toEqual({ inspect: [], rejected: [] });
  });
});

describe("fencing rules", () => {
  it("admits everything without a fence, the current epoch, older epochs up to their closing step", () => {
    expect(fenceAdmits(undefined, 9, 9)).toEqual({ admitted: true });
    const f = fence(3, [
      { epoch: 1, lastStep: 100, holder: "a", closedAt: AT },
      { epoch: 2, lastStep: 250, holder: "b", closedAt: AT },
    ]);
    expect(fenceAdmits(f, 3, 10_000).admitted).toBe(true);
    expect(fenceAdmits(f, 4, 1).admitted).toBe(false);
    expect(fenceAdmits(f, 2, 250).admitted).toBe(true);
    expect(fenceAdmits(f, 2, 251).admitted).toBe(false);
    expect(fenceAdmits(f, 1, 100).admitted).toBe(true);
    expect(fenceAdmits(f, 1, 101).admitted).toBe(false); // the tighter closing of epoch 1 wins
    expect(fenceAdmits(fence(2, [{ epoch: 1, lastStep: null, holder: "a", closedAt: AT }]), 1, 0).admitted).toBe(false);
  });

  it("an advance moves the epoch up, closes every older epoch at the resume step, and is idempotent per holder", () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 20_000 }),
        (currentEpoch, minEpoch, closeAt, probeEpoch, probeStep) => {
          const current = currentEpoch === undefined ? undefined : fence(currentEpoch);
          const request = { runId: RUN, holder: "cutover/x", minEpoch, closeAtStep: closeAt, at: AT };
          const { changed, record } = advanceFenceRecord(current, request);
          expect(changed).toBe(true);
          expect(record.epoch).toBeGreaterThan(currentEpoch ?? 0);
          expect(record.epoch).toBeGreaterThanOrEqual(minEpoch);
          expect(advanceFenceRecord(record, request)).toEqual({ changed: false, record });
          const older = probeEpoch < record.epoch;
          expect(!older || fenceAdmits(record, probeEpoch, probeStep).admitted === probeStep <= closeAt).toBe(true);
        },
      ),
    );
  });
});

describe("work lost", () => {
  it("measures from the resumed checkpoint to the hub's newest, and bounds the un-checkpointed tail", () => {
    const hub = { step: 1200, epoch: 1, committedAt: "2030-01-01T01:00:00.000Z", source: "hub-listing" as const };
    expect(
      computeWorkLost({
        resumed: { step: 1000, committedAt: "2030-01-01T00:00:00.000Z" },
        hubNewest: hub,
        checkpointIntervalSeconds: 1800,
        failedAt: "2030-01-01T01:10:00.000Z",
      }),
    ).toEqual({ steps: 200, seconds: 3600, basis: "hub-listing", uncheckpointedSecondsUpperBound: 600 });
    expect(
      computeWorkLost({
        resumed: { step: 1200, committedAt: hub.committedAt },
        hubNewest: hub,
        checkpointIntervalSeconds: 1800,
      }),
    ).toEqual({ steps: 0, seconds: 0, basis: "resumed-is-newest", uncheckpointedSecondsUpperBound: 1800 });
  });
});

describe("job names", () => {
  it("are deterministic, valid for Azure ML and Kubernetes, and differ by epoch and run", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/),
        fc.integer({ min: 1, max: 1_000_000 }),
        (runId, epoch) => {
          const name = trainingJobName(runId, epoch);
          expect(name).toBe(trainingJobName(runId, epoch));
          expect(name).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
          expect(name).not.toBe(trainingJobName(runId, epoch + 1));
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/),
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/),
        (a, b) => {
          fc.pre(a !== b);
          expect(trainingJobName(a, 1)).not.toBe(trainingJobName(b, 1));
        },
      ),
    );
    expect(trainingJobName("Run.A", 1)).not.toBe(trainingJobName("run-a", 1));
    const long = "x".repeat(120);
    expect(trainingJobName(`${long}a`, 1)).not.toBe(trainingJobName(`${long}b`, 1));
    expect(trainingJobName("foundation-13b-run-42", 2)).toBe("cutover-foundation-13b-run-42-e2");
  });
});

describe("runbook input from the topology", () => {
  it("builds the resume input for the example's pretrain workload", async () => {
    const loaded = await loadTopologyFile(resolve(__dirname, "../../examples/topology.yaml"));
    if (!loaded.ok) throw new Error("example topology invalid");
    const input = buildResumeTrainingInput(loaded.topology, "pretrain", { mode: "dry-run", failedAt: AT });
    const parsed = resumeTrainingInputSchema.parse(input);
    expect(parsed).toMatchObject({
      runId: "foundation-13b-run-42",
      hub: { region: "eastus2", location: { accountUrl: "https://stckpteastus2.blob.core.windows.net" } },
      secondary: { region: "westus3", location: { container: "checkpoints" } },
      checkpointIntervalSeconds: 1800,
      job: {
        target: {
          kind: "azureml",
          workspace: "mlw-train-westus3",
          compute: "gpu-cluster-wus3",
          resourceGroup: "rg-ml-westus3",
        },
      },
      options: { maxCandidates: 5, pollIntervalSeconds: 30 },
    });
    expect(() => buildResumeTrainingInput(loaded.topology, "chat", { mode: "live" })).toThrow(/^\[INVALID_INPUT\]/);
    const pretrain = loaded.topology.workloads.find((w) => w.name === "pretrain")!.training!;
    expect(hubFailed(pretrain, { region: "eastus2" })).toBe(true);
    expect(hubFailed(pretrain, { region: "eastus2", zone: "1" })).toBe(false);
    expect(hubFailed(pretrain, { region: "westus3" })).toBe(false);
  });
});
