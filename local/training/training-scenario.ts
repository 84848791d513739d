/**
 * Runs a training-hub-outage scenario end to end, with no Azure: real Azurite accounts for the hub and secondary
 * checkpoint stores (seeded from the scenario by the reference writer, replicas copied by the replicator, defects
 * injected), the Azure simulator answering ARM for Azure ML jobs (on the same virtual clock, with the scenario's
 * faults), and the `resumeTraining` runbook run by the in-process local host through the production adapters.
 *
 * Seed mapping (the simulator's scenario schema, `checkpoints: workload → region → [{ step, writtenAt, sizeGb,
 * complete }]`):
 * - hub entries are written by an epoch-1 trainer at `writtenAt` (seconds from the start, negative = before); the
 *   trainer mirrors its progress record to the secondary, as the contract recommends; `complete: false` in the hub
 *   is a trainer that crashed before its marker;
 * - secondary entries are replicas copied from the hub at their `writtenAt`; `complete: false` there is a replica
 *   that arrived damaged (one byte of one shard differs, so only the streamed sha256 finds it); hub checkpoints with
 *   no secondary entry had not been replicated when the hub failed;
 * - `sizeGb` is recorded as manifest metadata; the shards written are small (4 × 64 KiB) so a run takes seconds.
 *
 * The runbook starts when a perfect failover would start it: at the hub's `region-down` fault plus a sampled alert
 * detection, dispatch and decision time (the latency model's distributions, the world's seeded stream). After it
 * finishes, the hub comes back and the old trainer tries to write its next checkpoint: the report says whether
 * the fence stopped it.
 */
import { randomBytes } from "node:crypto";
import { startAzurite } from "../azurite";
import { DEFAULT_EPOCH, VirtualClock } from "../clock";
import { startLocalHost } from "../host";
import { CheckpointReplicator } from "../sim/checkpoint-replicator";
import { loadScenarioOrThrow, type LoadedScenario } from "../sim/scenario";
import { startSimulator } from "../sim/simulator";
import { AmlTrainingJobs } from "../../src/adapters/aml-jobs";
import { BlobRunFence } from "../../src/adapters/checkpoint-fence";
import { BlobCheckpointStore, type ContainerResolver } from "../../src/adapters/checkpoint-store";
import { stepPath, type CheckpointDefect, type HubNewest, type WorkLost } from "../../src/domain/checkpoint";
import type { Workload } from "../../src/domain/topology";
import {
  buildResumeTrainingInput,
  TRAINING_ORCHESTRATIONS,
  type ResumeTrainingResult,
} from "../../src/runbooks/training-contracts";
import { accountOf, azuriteResolver } from "./azurite-resolver";
import { CheckpointWriter } from "./checkpoint-writer";
import { registerTrainingFunctions } from "./training-app";

export interface TrainingScenarioOptions {
  /** A scenario file, or a loaded scenario. */
  readonly scenario: string | LoadedScenario;
  /** The training workload (default: the one whose hub the scenario takes down). */
  readonly workload?: string;
  readonly mode?: "live" | "dry-run";
}

/** The report `simulate-training --json` prints. Times are seconds from the scenario's start (virtual). */
export interface TrainingScenarioReport {
  readonly scenario: string;
  readonly seed: number;
  readonly workload: string;
  readonly runId: string;
  readonly hub: string;
  readonly secondary: string;
  readonly mode: "live" | "dry-run";
  readonly status: ResumeTrainingResult["status"] | "orchestration-failed";
  /** The step resumed from (or that a dry run would use); null when none was valid. */
  readonly checkpointStep: number | null;
  readonly checkpointUri: string | null;
  readonly workLostSeconds: number | null;
  readonly workLostSteps: number | null;
  readonly workLost: WorkLost | null;
  readonly rejected: ReadonlyArray<CheckpointDefect>;
  readonly hubNewest: HubNewest | null;
  readonly epoch: number | null;
  readonly jobId: string | null;
  readonly jobState: string | null;
  readonly hubFailedAt: number;
  readonly runbookStartedAt: number;
  readonly runbookFinishedAt: number;
  /** After the hub recovered: what the old (epoch-1) trainer's next checkpoint write got. */
  readonly oldTrainerAfterRecovery: { readonly status: string; readonly fenceEpoch?: number } | null;
  readonly timeline: ReadonlyArray<{ readonly t: number; readonly event: string }>;
  readonly error?: string;
}

interface SeedEvent {
  readonly at: number;
  readonly kind: "write" | "replicate";
  readonly step: number;
  readonly sizeGb: number;
  readonly complete: boolean;
}

const SHARDS = 4;
const SHARD_BYTES = 64 * 1024;

function shardBytes(seed: number, step: number, index: number): Buffer {
  const out = Buffer.alloc(SHARD_BYTES);
  let x = (seed ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function pickWorkload(loaded: LoadedScenario, name: string | undefined): Workload {
  const training = loaded.topology.workloads.filter((w) => w.kind === "training" && w.training !== undefined);
  const downRegions = new Set(loaded.scenario.faults.filter((f) => f.kind === "region-down").map((f) => f.region));
  const found =
    name === undefined ? training.find((w) => downRegions.has(w.training!.hub)) : training.find((w) => w.name === name);
  if (found === undefined)
    throw new Error(
      name === undefined
        ? `[INVALID_INPUT] scenario ${loaded.scenario.name} takes down no training hub (training workloads: ${training.map((w) => w.name).join(", ") || "none"})`
        : `[INVALID_INPUT] ${name} is not a training workload of the scenario's topology`,
    );
  return found;
}

/** The scenario's checkpoint seed data for a training workload, as timed write/replicate events. */
export function seedEvents(loaded: LoadedScenario, workload: Workload): SeedEvent[] {
  const training = workload.training!;
  const seeds = loaded.scenario.checkpoints[workload.name] ?? {};
  const events: SeedEvent[] = [
    ...(seeds[training.hub] ?? []).map((c) => ({
      at: c.writtenAt,
      kind: "write" as const,
      step: c.step,
      sizeGb: c.sizeGb,
      complete: c.complete,
    })),
    ...(seeds[training.secondary] ?? []).map((c) => ({
      at: c.writtenAt,
      kind: "replicate" as const,
      step: c.step,
      sizeGb: c.sizeGb,
      complete: c.complete,
    })),
  ].sort((a, b) => a.at - b.at || (a.kind === "write" ? -1 : 1));
  const hubSteps = new Set((seeds[training.hub] ?? []).map((c) => c.step));
  for (const e of events)
    if (e.kind === "replicate" && !hubSteps.has(e.step))
      throw new Error(
        `[INVALID_INPUT] checkpoints.${workload.name}.${training.secondary}: step ${e.step} was never written in the hub ${training.hub}`,
      );

  return events;
}

export interface SeedTrainingRunOptions {
  readonly loaded: LoadedScenario;
  readonly workload: Workload;
  readonly resolveContainer: ContainerResolver;
  readonly clock: VirtualClock;
  /** Virtual epoch ms of the scenario's start (seed times are relative to it). */
  readonly start: number;
}

/**
 * Writes the run as it stood before the scenario starts: hub checkpoints by an epoch-1 trainer (mirroring its
 * progress record to the secondary), replicas copied at their times, damaged replicas where the scenario says so.
 * Leaves the clock at the last seed event (the caller moves it to the start).
 */
export async function seedTrainingRun(
  options: SeedTrainingRunOptions,
): Promise<{ writer: CheckpointWriter; hubSteps: Set<number> }> {
  const { loaded, workload, resolveContainer, clock, start } = options;
  const training = workload.training!;
  const hubLocation = workload.regions[training.hub]?.checkpoints;
  const secondaryLocation = workload.regions[training.secondary]?.checkpoints;
  if (hubLocation === undefined || secondaryLocation === undefined)
    throw new Error(
      `[INVALID_INPUT] ${workload.name} lacks checkpoint locations for ${training.hub}/${training.secondary}`,
    );
  const events = seedEvents(loaded, workload);
  const seeds = loaded.scenario.checkpoints[workload.name] ?? {};
  const hubSteps = new Set((seeds[training.hub] ?? []).map((c) => c.step));
  for (const location of [hubLocation, secondaryLocation]) await resolveContainer(location).createIfNotExists();
  const writer = new CheckpointWriter({
    resolveContainer,
    location: hubLocation,
    region: training.hub,
    runId: training.runId,
    epoch: 1,
    mirrors: [secondaryLocation],
    clock,
  });
  const replicator = new CheckpointReplicator({
    clock,
    resolveContainer,
    source: hubLocation,
    target: secondaryLocation,
    runId: training.runId,
    lagMs: 0,
  });
  const seed = loaded.scenario.seed;
  for (const e of events) {
    clock.advanceTo(start + e.at * 1000);
    if (e.kind === "write") {
      const shards = Array.from({ length: SHARDS }, (_, i) => ({
        path: `model/shard-${i}.safetensors`,
        data: shardBytes(seed, e.step, i),
      }));
      const r = await writer.writeCheckpoint(e.step, shards, {
        metadata: { nominalSizeGb: e.sizeGb },
        ...(e.complete ? {} : { crashBefore: "marker" as const }),
      });
      if (r.status !== "committed" && r.status !== "crashed")
        throw new Error(`seeding step ${e.step}: ${JSON.stringify(r)}`);
    } else {
      await replicator.copyNow(e.step);
      if (!e.complete) {
        const damaged = shardBytes(seed, e.step, 1);
        damaged[SHARD_BYTES >> 1] = (damaged[SHARD_BYTES >> 1]! ^ 0x5a) & 0xff;
        await resolveContainer(secondaryLocation)
          .getBlockBlobClient(`${stepPath(secondaryLocation.prefix, training.runId, e.step)}model/shard-1.safetensors`)
          .uploadData(damaged);
      }
    }
  }
  return { writer, hubSteps };
}

export async function runTrainingScenario(options: TrainingScenarioOptions): Promise<TrainingScenarioReport> {
  const loaded = typeof options.scenario === "string" ? await loadScenarioOrThrow(options.scenario) : options.scenario;
  const mode = options.mode ?? "live";
  const workload = pickWorkload(loaded, options.workload);
  const training = workload.training!;
  const hubLocation = workload.regions[training.hub]?.checkpoints;
  const secondaryLocation = workload.regions[training.secondary]?.checkpoints;
  if (hubLocation === undefined || secondaryLocation === undefined)
    throw new Error(
      `[INVALID_INPUT] ${workload.name} lacks checkpoint locations for ${training.hub}/${training.secondary}`,
    );
  const fault = loaded.scenario.faults.find((f) => f.kind === "region-down" && f.region === training.hub);
  if (fault === undefined)
    throw new Error(`[INVALID_INPUT] scenario ${loaded.scenario.name} has no region-down fault for ${training.hub}`);

  const start = DEFAULT_EPOCH;
  const earliest = Math.min(0, ...seedEvents(loaded, workload).map((e) => e.at));
  const clock = new VirtualClock(start + earliest * 1000 - 60_000);
  const hubAccount = accountOf(hubLocation);
  const accounts = [...new Set([hubAccount, accountOf(secondaryLocation)])].map((name) => ({
    name,
    key: randomBytes(32).toString("base64"),
  }));
  const azurite = await startAzurite({ accounts });
  const stops: Array<() => Promise<void>> = [() => azurite.stop()];
  try {
    const resolver = azuriteResolver({ connectionStringFor: (a, k) => azurite.connectionStringFor(a, k), accounts });
    await resolver.ensureContainers([hubLocation, secondaryLocation]);

    // ---- seed the run as it stood before the scenario starts
    const seed = loaded.scenario.seed;
    const { writer, hubSteps } = await seedTrainingRun({
      loaded,
      workload,
      resolveContainer: resolver.resolve,
      clock,
      start,
    });
    clock.advanceTo(start);

    // ---- the world: simulator (ARM incl. Azure ML jobs) and the hub's storage outage, on one clock
    const sim = await startSimulator({ scenario: loaded, clock });
    stops.unshift(() => sim.stop());
    const hubFailedAt = start + fault.at * 1000;
    clock.schedule(hubFailedAt, () => resolver.setReachable(hubAccount, false), `storage ${hubAccount} down`);
    if (fault.durationSeconds !== undefined)
      clock.schedule(
        hubFailedAt + fault.durationSeconds * 1000,
        () => resolver.setReachable(hubAccount, true),
        `storage ${hubAccount} up`,
      );

    const jobs = new AmlTrainingJobs({ credential: sim.credential, clientOptions: sim.clientOptions });
    const host = await startLocalHost({
      entry: () => {
        registerTrainingFunctions({
          checkpoints: new BlobCheckpointStore({ resolveContainer: resolver.resolve }),
          fence: new BlobRunFence({ resolveContainer: resolver.resolve }),
          jobs,
        });
        return Promise.resolve();
      },
      clock,
      hostJsonPath: null,
    });
    stops.unshift(() => host.stop());

    // ---- detection: when a failover would start the runbook
    const rng = sim.world.stream("training-detection");
    const lat = sim.world.latency;
    const detectionMs = Math.round(
      (rng.triangular(lat.alertDetection) + rng.triangular(lat.alertDispatch) + rng.triangular(lat.decide)) * 1000,
    );
    await host.advanceTime(hubFailedAt + detectionMs - clock.now());
    const runbookStartedAt = clock.now();
    const input = buildResumeTrainingInput(loaded.topology, workload.name, {
      mode,
      failedAt: new Date(hubFailedAt).toISOString(),
      options: { hubProbeTimeoutMs: 5_000 },
    });
    const id = host.startNew(TRAINING_ORCHESTRATIONS.resumeTraining, {
      instanceId: `resume-training-${workload.name}-${training.hub}`,
      input,
    });
    const status = await host.waitForInstance(id);
    const runbookFinishedAt = clock.now();
    const t = (ms: number): number => Math.round((ms - start) / 1000);
    const base = {
      scenario: loaded.scenario.name,
      seed,
      workload: workload.name,
      runId: training.runId,
      hub: training.hub,
      secondary: training.secondary,
      mode,
      hubFailedAt: t(hubFailedAt),
      runbookStartedAt: t(runbookStartedAt),
      runbookFinishedAt: t(runbookFinishedAt),
    };
    if (status.runtimeStatus !== "Completed")
      return {
        ...base,
        status: "orchestration-failed",
        checkpointStep: null,
        checkpointUri: null,
        workLostSeconds: null,
        workLostSteps: null,
        workLost: null,
        rejected: [],
        hubNewest: null,
        epoch: null,
        jobId: null,
        jobState: null,
        oldTrainerAfterRecovery: null,
        timeline: [],
        error: `${status.runtimeStatus}: ${JSON.stringify(status.output)}`,
      };
    const result = status.output as ResumeTrainingResult;

    // ---- the hub comes back; the old trainer carries on as if nothing happened
    let oldTrainer: TrainingScenarioReport["oldTrainerAfterRecovery"] = null;
    if (mode === "live") {
      resolver.setReachable(hubAccount, true);
      const lastHubStep = Math.max(0, ...hubSteps);
      const attempt = await writer.writeCheckpoint(lastHubStep + 100, [
        { path: "model/shard-0.safetensors", data: shardBytes(seed, lastHubStep + 100, 0) },
      ]);
      oldTrainer =
        attempt.status === "fenced"
          ? { status: attempt.status, fenceEpoch: attempt.fenceEpoch }
          : { status: attempt.status };
    }

    const selected = "checkpoint" in result ? result.checkpoint : undefined;
    const workLost = "workLost" in result ? result.workLost : undefined;
    return {
      ...base,
      status: result.status,
      checkpointStep: selected?.step ?? null,
      checkpointUri: selected?.uri ?? null,
      workLostSeconds: workLost?.seconds ?? null,
      workLostSteps: workLost?.steps ?? null,
      workLost: workLost ?? null,
      rejected: result.rejected,
      hubNewest: result.hubNewest,
      epoch: "epoch" in result ? result.epoch : result.status === "dry-run" ? result.nextEpoch : null,
      jobId: "jobId" in result ? result.jobId : null,
      jobState: "jobState" in result ? result.jobState : null,
      oldTrainerAfterRecovery: oldTrainer,
      timeline: [
        { t: t(hubFailedAt), event: `${training.hub} down (storage and Azure ML unreachable)` },
        {
          t: t(runbookStartedAt),
          event: `resumeTraining started (detection + decision ${Math.round(detectionMs / 1000)} s)`,
        },
        ...result.timeline.map((e) => ({ t: t(Date.parse(e.at)), event: e.event })),
      ],
    };
  } finally {
    for (const stop of stops) await stop();
  }
}
