/**
 * `cutover simulate`: runs a scenario end to end — the fault hits the simulated world, Azure Monitor alerts reach the
 * app's `/api/alerts`, the app fails over through the real SDK clients, and the run is measured against the world's
 * ground truth and the lower bound of its sampled waits.
 *
 * A simulated operator answers approval gates (`approveAfterSeconds` after a failover starts waiting), through the
 * same `POST /api/failovers/{id}/approve` a person would use.
 */
import { poolKey as simPoolKey } from "../sim/aks";
import type { LoadedScenario, Scenario } from "../sim/scenario";
import type { FailoverReport, FailoverStatus, Outcome } from "../../src/runbooks/contracts";
import { ORCHESTRATIONS } from "../../src/runbooks/contracts";
import type { ResumeTrainingResult } from "../../src/runbooks/training-contracts";
import type { WorkloadPlan } from "../../src/domain/plan";
import {
  breakerEntityStateSchema,
  failbackMayBeRetried,
  HEALTH_ORCHESTRATIONS,
  type FailbackReport,
  type FailbackStatus,
} from "../../src/runbooks/health-contracts";
import { startSimulation, type Simulation, type SimulationOptions } from "./environment";
import {
  lowerBoundSeconds,
  phasesOf,
  stepTimings,
  targetHealthyDelaySeconds,
  worldRecoverySeconds,
  worstServed,
  type Phase,
  type StepTiming,
} from "./measure";

export interface SimulateOptions extends Omit<SimulationOptions, "scenario"> {
  readonly scenario: string | LoadedScenario;
  /** Virtual seconds to keep running after the last fault ends (or starts, when it has no duration), at most. Default 2700 (45 min). */
  readonly horizonSeconds?: number;
  /** The simulated operator approves a waiting failover after this many virtual seconds. Default 60. */
  readonly approveAfterSeconds?: number;
  /** Progress lines (live view on a TTY). */
  readonly onProgress?: (line: string) => void;
  /** Called with the running simulation once started (tests drive extra actions through it). */
  readonly during?: (simulation: Simulation) => Promise<void> | void;
}

export interface FailoverSummary {
  readonly instanceId: string;
  readonly workload: string;
  readonly scope: { readonly region: string; readonly zone?: string | undefined };
  readonly outcome: Outcome | "running";
  readonly rtoSeconds: number | null;
  readonly reasons: ReadonlyArray<string>;
}

/** One breaker transition the app recorded (seconds from the fault). */
export interface BreakerTransitionSummary {
  readonly t: number;
  readonly breaker: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly detail: string;
}

export interface FailbackSummary {
  readonly instanceId: string;
  readonly workload: string;
  readonly scope: { readonly region: string; readonly zone?: string | undefined };
  readonly outcome: FailbackReport["outcome"] | "running";
  /** Seconds from the fault. */
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly steps: FailbackReport["steps"];
  readonly reasons: ReadonlyArray<string>;
  /** Earlier attempts that did not succeed (refused, relapsed, …), each replaced by a later one under the same id. */
  readonly earlierAttempts: NonNullable<FailbackReport["earlierAttempts"]>;
}

/**
 * How the fault was first detected: the earliest of an Azure Monitor alert reaching `/api/alerts` and one of Cutover's
 * breakers opening, each in seconds after the fault (null: that signal never came).
 */
export interface DetectionSummary {
  readonly source: "alert" | "probe" | null;
  readonly delaySeconds: number | null;
  readonly alertSeconds: number | null;
  readonly probeSeconds: number | null;
}

export interface SimulateReport {
  readonly scenario: string;
  readonly seed: number;
  readonly outcome: Outcome | "no-failover" | "running";
  /** Workload of the first failover (the one the phases and steps describe). */
  readonly workload: string | null;
  readonly scope: { readonly region: string; readonly zone?: string | undefined } | null;
  /** From the fault to the verified cutover, as the app measured it. */
  readonly rtoSeconds: number | null;
  /** From the fault to the world serving the workload again (≥ 99% inside the SLO, and staying there). */
  readonly worldRecoverySeconds: number | null;
  readonly lowerBoundSeconds: number | null;
  readonly rtoOverLowerBound: number | null;
  readonly predictedRtoSeconds: number | null;
  readonly phases: Record<Phase, number>;
  readonly steps: ReadonlyArray<StepTiming>;
  /** Live failovers started (exactly one per workload + scope however many alerts arrived); dry runs not counted. */
  readonly failovers: number;
  readonly failoverList: ReadonlyArray<FailoverSummary>;
  /** ARM writes (PUT/PATCH/POST/DELETE) the app made. */
  readonly armWrites: number;
  readonly alerts: { readonly fired: number; readonly resolved: number; readonly delivered: number };
  readonly servedAtEnd: number | null;
  readonly worstServed: number | null;
  /** Training workloads: the checkpoint resumed from and the work lost. */
  readonly checkpointStep?: number | null;
  readonly workLostSeconds?: number | null;
  readonly timeline: ReadonlyArray<{ readonly t: number; readonly source: "world" | "app"; readonly event: string }>;
  readonly reports: ReadonlyArray<FailoverReport>;
  /** The first signal of the fault and how late each kind came. */
  readonly detection: DetectionSummary;
  /** Every breaker transition after the fault (also on the timeline). */
  readonly breakerTransitions: ReadonlyArray<BreakerTransitionSummary>;
  readonly failbacks: ReadonlyArray<FailbackSummary>;
  /** Ground-truth samples (seconds from the fault → served fraction per workload), for the HTML report. */
  readonly groundTruth: ReadonlyArray<{ readonly t: number; readonly served: Readonly<Record<string, number>> }>;
}

interface Instance {
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly status: FailoverStatus | undefined;
  readonly report: FailoverReport | undefined;
  readonly createdTime: number;
}

const TERMINAL = new Set(["Completed", "Failed", "Terminated"]);

interface FailbackInstance {
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly status: FailbackStatus | undefined;
  readonly report: FailbackReport | undefined;
  readonly createdTime: number;
}

/**
 * The app's instances and entities now. The live records of the host (the store holds the same content once the host
 * has settled, which it has between chunks) — `store.load()` would copy and parse every history on every check.
 */
function records(simulation: Simulation): Promise<ReturnType<Simulation["host"]["records"]>> {
  return Promise.resolve(simulation.host.records());
}

async function failbackInstances(simulation: Simulation): Promise<FailbackInstance[]> {
  const snapshot = await records(simulation);
  return snapshot.instances
    .filter((i) => i.name === HEALTH_ORCHESTRATIONS.failbackWorkload && i.parent === null)
    .map((i) => ({
      instanceId: i.instanceId,
      runtimeStatus: i.runtimeStatus,
      status: i.customStatus === null ? undefined : (JSON.parse(i.customStatus) as FailbackStatus),
      report: i.output === null ? undefined : (JSON.parse(i.output) as FailbackReport),
      createdTime: i.createdTime,
    }))
    .sort((a, b) => a.createdTime - b.createdTime || a.instanceId.localeCompare(b.instanceId));
}

/** Every breaker transition the app's breaker entities recorded, oldest first. */
async function breakerTransitions(
  simulation: Simulation,
): Promise<
  Array<{ at: number; breaker: string; from: string; to: string; reason: string; detail: string; cause?: string }>
> {
  const snapshot = await records(simulation);
  const out: Array<{
    at: number;
    breaker: string;
    from: string;
    to: string;
    reason: string;
    detail: string;
    cause?: string;
  }> = [];
  for (const e of snapshot.entities) {
    if (e.name !== "breaker" || !e.exists || e.state === undefined) continue;
    const parsed = breakerEntityStateSchema.safeParse(JSON.parse(e.state));
    if (!parsed.success) continue;
    for (const t of parsed.data.breaker.transitions)
      out.push({
        at: t.at,
        breaker: e.key,
        from: t.from,
        to: t.to,
        reason: t.reason,
        detail: t.detail,
        ...(t.evidence.trigger === undefined ? {} : { cause: t.evidence.trigger.source }),
      });
  }
  return out.sort((a, b) => a.at - b.at || a.breaker.localeCompare(b.breaker));
}

/** True for a dry-run failover (an API or scheduled drill that changes nothing): not counted as a failover. */
function isDryRun(input: string | null): boolean {
  if (input === null) return false;
  try {
    return (JSON.parse(input) as { mode?: unknown }).mode === "dry-run";
  } catch {
    return false;
  }
}

async function failoverInstances(simulation: Simulation): Promise<Instance[]> {
  const snapshot = await records(simulation);
  return snapshot.instances
    .filter((i) => i.name === ORCHESTRATIONS.failoverWorkload && i.parent === null && !isDryRun(i.input))
    .map((i) => ({
      instanceId: i.instanceId,
      runtimeStatus: i.runtimeStatus,
      status: i.customStatus === null ? undefined : (JSON.parse(i.customStatus) as FailoverStatus),
      report: i.output === null ? undefined : (JSON.parse(i.output) as FailoverReport),
      createdTime: i.createdTime,
    }))
    .sort((a, b) => a.createdTime - b.createdTime || a.instanceId.localeCompare(b.instanceId));
}

/** True for a fault that, by itself, takes requests away from healthy, warm capacity inside the SLO. */
export function hurtsServing(fault: Scenario["faults"][number]): boolean {
  switch (fault.kind) {
    case "region-down":
    case "zone-down":
    case "degraded-latency":
    case "stale-model":
      return true;
    case "http-error":
    case "timeout":
      return fault.target === "endpoint";
    default:
      return false;
  }
}

export async function runScenario(options: SimulateOptions): Promise<SimulateReport> {
  const simulation = await startSimulation(options);
  try {
    return await drive(simulation, options);
  } finally {
    await simulation.stop();
  }
}

/** Runs an already started simulation to its end and measures it. */
export async function drive(
  simulation: Simulation,
  options: Omit<SimulateOptions, "scenario" | "entry" | "seed">,
): Promise<SimulateReport> {
  const { loaded, sim, clock } = simulation;
  const start = simulation.startedAt;
  const faults = loaded.scenario.faults;
  // The incident starts with the first fault that hurts serving; control-plane conditions set up beforehand (a pool
  // that cannot allocate, exhausted quota, slow propagation, ARM errors) are not the incident.
  const serving = faults.filter(hurtsServing);
  const incident = serving.length > 0 ? serving : faults;
  const faultAt = start + (incident.length > 0 ? Math.min(...incident.map((f) => f.at)) : 0) * 1000;
  const lastFault =
    start + (faults.length > 0 ? Math.max(...faults.map((f) => f.at + (f.durationSeconds ?? 0))) : 0) * 1000;
  const failbackAuto = (simulation.env["CUTOVER_FAILBACK_MODE"] ?? "auto") === "auto";
  const horizon = lastFault + (options.horizonSeconds ?? 2700) * 1000;
  const approveAfter = (options.approveAfterSeconds ?? 60) * 1000;
  const progress = options.onProgress ?? ((): void => undefined);
  const waitingSince = new Map<string, number>();
  const approved = new Set<string>();
  const seen = new Map<string, string>();
  let quietSince: number | undefined;

  await options.during?.(simulation);
  await simulation.runUntil(
    async () => {
      const now = clock.now();
      const instances = await failoverInstances(simulation);
      for (const i of instances) {
        const line = `${i.status?.phase ?? "starting"} ${i.status?.current.join(", ") ?? ""}`.trim();
        if (seen.get(i.instanceId) !== line) {
          seen.set(i.instanceId, line);
          progress(
            `t=${Math.round((now - faultAt) / 1000)}s ${i.instanceId}: ${line}${i.status?.predictedRemainingSeconds === undefined ? "" : ` (≈${i.status.predictedRemainingSeconds}s left)`}`,
          );
        }
        if (i.status?.phase === "approval" && !TERMINAL.has(i.runtimeStatus) && !approved.has(i.instanceId)) {
          const since = waitingSince.get(i.instanceId) ?? now;
          waitingSince.set(i.instanceId, since);
          if (now - since >= approveAfter) {
            approved.add(i.instanceId);
            const r = await simulation.call("POST", `/api/failovers/${encodeURIComponent(i.instanceId)}/approve`, {
              by: "simulated-operator",
            });
            progress(`t=${Math.round((now - faultAt) / 1000)}s approved ${i.instanceId} (${r.status})`);
          }
        }
      }
      const failbacks = await failbackInstances(simulation);
      for (const i of failbacks) {
        const line = `failback ${i.status?.phase ?? "starting"}${i.status?.detail === undefined ? "" : `: ${i.status.detail}`}`;
        if (seen.get(i.instanceId) !== line) {
          seen.set(i.instanceId, line);
          progress(`t=${Math.round((now - faultAt) / 1000)}s ${i.instanceId}: ${line}`);
        }
        // The simulated operator approves each failback step that waits for one (of each attempt: a failback tried
        // again runs under the same instance id).
        const key = `${i.instanceId}@${i.createdTime}#${i.status?.step ?? 0}`;
        if (i.status?.phase === "approval" && !TERMINAL.has(i.runtimeStatus) && !approved.has(key)) {
          const since = waitingSince.get(key) ?? now;
          waitingSince.set(key, since);
          if (now - since >= approveAfter) {
            approved.add(key);
            const r = await simulation.call("POST", `/api/failovers/${encodeURIComponent(i.instanceId)}/approve`, {
              by: "simulated-operator",
            });
            progress(`t=${Math.round((now - faultAt) / 1000)}s approved ${key} (${r.status})`);
          }
        }
      }
      // A failback is still to come while a live failover succeeded, every fault has cleared and none started yet, or
      // the one that did ended in a way the app tries again (a retryable refusal or a relapse, attempts left).
      const allCleared = sim.world.sampledWaits().faults.every((f) => f.clearedAt !== null);
      const failbackDue =
        failbackAuto &&
        allCleared &&
        instances.some((i) => {
          if (i.report?.outcome !== "succeeded" || i.report.mode !== "live") return false;
          const fb = failbacks.find((f) => f.instanceId === `failback-${i.instanceId}`);
          return fb === undefined || failbackMayBeRetried(fb.report);
        });
      const allDone =
        instances.length > 0 &&
        instances.every((i) => TERMINAL.has(i.runtimeStatus)) &&
        failbacks.every((i) => TERMINAL.has(i.runtimeStatus)) &&
        !failbackDue;
      if (now < lastFault || !allDone) {
        quietSince = undefined;
        return false;
      }
      // Every failover finished: keep the world running a little so late alerts would show as joins.
      quietSince ??= now;
      return now - quietSince >= 120_000;
    },
    { maxVirtualMs: Math.max(0, horizon - clock.now()), chunkMs: 15_000 },
  );

  const instances = await failoverInstances(simulation);
  const primary = instances[0];
  const report = primary?.report;
  const workload = report?.workload ?? primary?.status?.workload ?? null;
  // Only waits that began before the verified cutover can bound it (a recovered region reloading its model later,
  // or a failback's scaling, are not on the failover's path).
  const sampled = sim.world.sampledWaits();
  const cutoverAt = report?.verifiedAt === undefined ? Infinity : Date.parse(report.verifiedAt);
  const waits = {
    ...sampled,
    nodeProvisioning: sampled.nodeProvisioning.filter((n) => n.requestedAt <= cutoverAt),
    modelLoads: sampled.modelLoads.filter((l) => l.startedAt <= cutoverAt),
  };
  const poolOwner = new Map<string, string>();
  for (const w of loaded.topology.workloads)
    for (const entry of Object.values(w.regions))
      if (entry.cluster !== undefined)
        for (const p of entry.gpuPools)
          poolOwner.set(simPoolKey(entry.cluster.resourceGroup, entry.cluster.name, p.name), w.name);
  const topologyWorkload = loaded.topology.workloads.find((w) => w.name === workload);
  // A hedge that lost the race (or the attempt a hedge beat) provisioned nodes that served nothing: the bound counts
  // the capacity that served, as a controller that had asked only for it would have waited for it.
  const released = new Set<string>();
  for (const s of report?.steps ?? []) {
    if (s.kind !== "release") continue;
    const [region, pool] = s.id
      .replace(/^release:/, "")
      .replace(/#\d+$/, "")
      .split("/");
    const cluster = topologyWorkload?.regions[region ?? ""]?.cluster;
    if (cluster !== undefined && pool !== undefined)
      released.add(simPoolKey(cluster.resourceGroup, cluster.name, pool));
  }
  // How long the failed region's origin took to see Cutover's drain (its gate cache), for the bound.
  const drainStep = report?.steps.find((x) => x.kind === "drain-gate" && x.id === `drain-gate:${report.scope.region}`);
  const drainedAt = drainStep?.end === undefined ? undefined : Date.parse(drainStep.end);
  const drainSeen =
    drainedAt === undefined || report === undefined
      ? undefined
      : sim.timeline
          .all()
          .find(
            (e) =>
              e.kind === "gate-changed" &&
              e.at >= drainedAt &&
              e.detail["workload"] === report.workload &&
              e.detail["region"] === report.scope.region &&
              e.detail["state"] === "drained",
          );
  const notifications = sim.alertNotifications();
  // The earliest signal about the fault: the first alert webhook accepted after it, or the first breaker opening.
  const delivered = notifications
    .filter((n) => n.condition === "Fired")
    .map((n) => n.deliveredAt)
    .filter((t): t is number => t !== null && t >= faultAt);
  const firstAlert = delivered.length > 0 ? Math.min(...delivered) : undefined;
  const transitions = await breakerTransitions(simulation);
  // A breaker opening counts as a probe signal unless an alert's arrival is what opened it (that is the alert's signal).
  const openings = transitions
    .filter((t) => t.from === "closed" && t.to === "open" && t.at >= faultAt && t.cause !== "alert")
    .filter((t) => workload === null || t.breaker.startsWith(`${workload}:`))
    .map((t) => t.at);
  const firstOpening = openings.length > 0 ? Math.min(...openings) : undefined;
  const firstSignal =
    firstAlert === undefined
      ? firstOpening
      : firstOpening === undefined
        ? firstAlert
        : Math.min(firstAlert, firstOpening);
  const secondsAfter = (t: number | undefined): number | null =>
    t === undefined ? null : Math.round((t - faultAt) / 100) / 10;
  const detection: DetectionSummary = {
    source:
      firstSignal === undefined
        ? null
        : firstOpening !== undefined && firstOpening <= (firstAlert ?? Infinity)
          ? "probe"
          : "alert",
    delaySeconds: secondsAfter(firstSignal),
    alertSeconds: secondsAfter(firstAlert),
    probeSeconds: secondsAfter(firstOpening),
  };
  const failbacks = await failbackInstances(simulation);
  // The drain's Front Door change, when it leaves one of the plan's targets as the group's only enabled origin (every
  // origin of the simulated group is the topology's, enabled at the start): its sampled request-to-propagated time.
  const reportPlan = report?.plan as WorkloadPlan | undefined;
  const aloneAfter = (() => {
    if (topologyWorkload === undefined || reportPlan?.traffic === undefined) return false;
    const drainedOrigins = new Set(reportPlan.traffic.drain.map((d) => d.origin));
    const enabled = Object.values(topologyWorkload.regions)
      .map((e) => e.origin)
      .filter((o): o is string => o !== undefined && !drainedOrigins.has(o));
    const targets = new Set(reportPlan.targets.map((t) => topologyWorkload.regions[t.region]?.origin));
    return enabled.length === 1 && targets.has(enabled[0]);
  })();
  const fdStep = report?.steps.find((x) => x.kind === "frontdoor");
  const fdChange =
    !aloneAfter || fdStep?.start === undefined
      ? undefined
      : waits.propagations
          .filter(
            (p) =>
              p.frontDoor === reportPlan?.traffic?.frontDoor && p.requestedAt >= Date.parse(fdStep.start ?? "") - 1000,
          )
          .sort((a, b) => a.requestedAt - b.requestedAt)[0];
  const drainPropagation = fdChange === undefined ? undefined : (fdChange.finishedAt - fdChange.requestedAt) / 1000;
  // Spare nodes the plan asked for, by the simulator's pool key.
  const spareByPool = new Map(
    (reportPlan?.pools ?? [])
      .filter((p) => p.spare !== undefined)
      .map((p) => [simPoolKey(p.cluster.resourceGroup, p.cluster.name, p.pool), p.spare ?? 0]),
  );
  const lowerBound =
    topologyWorkload === undefined || topologyWorkload.kind === "training"
      ? null
      : lowerBoundSeconds(waits, {
          workload: topologyWorkload.name,
          origins:
            report?.scope.zone === undefined && report !== undefined
              ? [topologyWorkload.regions[report.scope.region]?.origin ?? ""]
              : [],
          faultAt,
          ...(firstSignal === undefined ? {} : { detectedAt: firstSignal }),
          targetHealthySeconds: targetHealthyDelaySeconds(sim.timeline.all(), {
            workload: topologyWorkload.name,
            targets: ((report?.plan as { targets?: Array<{ region: string }> } | undefined)?.targets ?? []).map(
              (t) => ({
                region: t.region,
                origin: topologyWorkload.regions[t.region]?.origin ?? "",
              }),
            ),
            faultAt,
          }),
          poolsOf: (pool) => (released.has(pool) ? undefined : poolOwner.get(pool)),
          spareOf: (pool) => spareByPool.get(pool) ?? 0,
          ...(drainSeen === undefined || drainedAt === undefined
            ? {}
            : { drainSeenSeconds: (drainSeen.at - drainedAt) / 1000 }),
          ...(drainPropagation === undefined ? {} : { propagationSeconds: drainPropagation }),
        });
  const rto =
    report?.verifiedAt === undefined ? null : Math.round((Date.parse(report.verifiedAt) - faultAt) / 100) / 10;
  const worldRecovery =
    workload === null || topologyWorkload?.kind === "training"
      ? null
      : worldRecoverySeconds(simulation.samples, workload, faultAt);
  const training = instances.map((i) => i.report?.training).find((t) => t !== undefined) as
    ResumeTrainingResult | undefined;
  // ARM's `list…` POST actions (listClusterUserCredential for the kubeconfig) read; they are not writes.
  const armWrites = sim.requestLog
    .find({ service: "arm" })
    .filter(
      (e) => e.method !== "GET" && !e.path.startsWith("/_sim") && !/\/list[A-Za-z]*$/.test(e.path.split("?")[0] ?? ""),
    ).length;
  const lastSample = simulation.samples[simulation.samples.length - 1];
  const timeline = [
    ...sim.timeline
      .all()
      .filter(
        (e) => e.at >= faultAt - 1000 && !/^(origin-(un)?healthy|frontdoor-config-applied|node-ready)$/.test(e.kind),
      )
      .map((e) => ({
        t: Math.round((e.at - faultAt) / 100) / 10,
        source: "world" as const,
        event: `${e.kind} ${JSON.stringify(e.detail)}`,
      })),
    ...instances.flatMap((i) =>
      (i.report?.timeline ?? []).map((e) => ({
        t: Math.round((Date.parse(e.at) - faultAt) / 100) / 10,
        source: "app" as const,
        event: `${i.instanceId}: ${e.event}`,
      })),
    ),
    ...failbacks.flatMap((i) =>
      (i.report?.timeline ?? []).map((e) => ({
        t: Math.round((Date.parse(e.at) - faultAt) / 100) / 10,
        source: "app" as const,
        event: `${i.instanceId}: ${e.event}`,
      })),
    ),
    ...transitions
      .filter((tr) => tr.at >= faultAt - 1000)
      .map((tr) => ({
        t: Math.round((tr.at - faultAt) / 100) / 10,
        source: "app" as const,
        event: `breaker ${tr.breaker}: ${tr.from} → ${tr.to} (${tr.reason}): ${tr.detail}`,
      })),
  ].sort((a, b) => a.t - b.t);

  return {
    scenario: loaded.scenario.name,
    seed: loaded.scenario.seed,
    outcome: primary === undefined ? "no-failover" : (report?.outcome ?? "running"),
    workload,
    scope: report?.scope ?? primary?.status?.scope ?? null,
    rtoSeconds: rto,
    worldRecoverySeconds: worldRecovery,
    lowerBoundSeconds: lowerBound,
    rtoOverLowerBound:
      rto === null || lowerBound === null || lowerBound <= 0 ? null : Math.round((rto / lowerBound) * 1000) / 1000,
    predictedRtoSeconds: report?.predictedRtoSeconds ?? null,
    phases:
      report === undefined
        ? phasesOf({ steps: [], startedAt: new Date(faultAt).toISOString() } as unknown as FailoverReport, faultAt)
        : phasesOf(report, faultAt),
    steps: report === undefined ? [] : stepTimings(report, faultAt),
    failovers: instances.length,
    failoverList: instances.map((i) => ({
      instanceId: i.instanceId,
      workload: i.report?.workload ?? i.status?.workload ?? "",
      scope: i.report?.scope ?? i.status?.scope ?? { region: "" },
      outcome: i.report?.outcome ?? "running",
      rtoSeconds:
        i.report?.verifiedAt === undefined ? null : Math.round((Date.parse(i.report.verifiedAt) - faultAt) / 100) / 10,
      reasons: i.report?.reasons ?? [],
    })),
    armWrites,
    alerts: {
      fired: notifications.filter((n) => n.condition === "Fired").length,
      resolved: notifications.filter((n) => n.condition === "Resolved").length,
      delivered: notifications.filter((n) => n.deliveredAt !== null).length,
    },
    servedAtEnd: workload === null || lastSample === undefined ? null : (lastSample.served[workload] ?? null),
    worstServed: workload === null ? null : worstServed(simulation.samples, workload, faultAt),
    ...(training === undefined
      ? {}
      : {
          checkpointStep: "checkpoint" in training ? training.checkpoint.step : null,
          workLostSeconds: "workLost" in training ? training.workLost.seconds : null,
        }),
    timeline,
    reports: instances.map((i) => i.report).filter((r): r is FailoverReport => r !== undefined),
    detection,
    breakerTransitions: transitions
      .filter((tr) => tr.at >= faultAt - 1000)
      .map((tr) => ({
        t: Math.round((tr.at - faultAt) / 100) / 10,
        breaker: tr.breaker,
        from: tr.from,
        to: tr.to,
        reason: tr.reason,
        detail: tr.detail,
      })),
    failbacks: failbacks.map((i) => ({
      instanceId: i.instanceId,
      workload: i.report?.workload ?? i.status?.workload ?? "",
      scope: i.report?.scope ?? i.status?.scope ?? { region: "" },
      outcome: i.report?.outcome ?? "running",
      startedAt: Math.round((i.createdTime - faultAt) / 100) / 10,
      endedAt: i.report === undefined ? null : Math.round((Date.parse(i.report.endedAt) - faultAt) / 100) / 10,
      steps: i.report?.steps ?? i.status?.steps ?? [],
      reasons: i.report?.reasons ?? [],
      earlierAttempts: i.report?.earlierAttempts ?? [],
    })),
    groundTruth: simulation.samples
      .filter((_, i) => i % 6 === 0)
      .map((s) => ({ t: Math.round((s.at - faultAt) / 1000), served: s.served })),
  };
}
