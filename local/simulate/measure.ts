/**
 * Measures a simulated failover: the RTO broken into phases along the executed critical path, the run's lower bound
 * (what a perfect controller would reach with the waits the world sampled in this run), and the world's own view
 * (when traffic was again served by healthy, warm capacity inside the SLO). Pure functions over the reports, the
 * simulator's sampled waits and the ground-truth samples, so they are unit-tested on their own.
 */
import type { SampledWaits } from "../sim/world";
import type { FailoverReport, StepReport } from "../../src/runbooks/contracts";
import type { WorkloadPlan } from "../../src/domain/plan";
import type { GroundTruthSample } from "./environment";

export const PHASES = ["detect", "decide", "capacity", "warmup", "traffic", "verify", "resume"] as const;
export type Phase = (typeof PHASES)[number];

const PHASE_OF: Record<string, Phase> = {
  detect: "detect",
  decide: "decide",
  approve: "decide",
  scale: "capacity",
  warm: "warmup",
  "drain-gate": "traffic",
  "probe-window": "traffic",
  frontdoor: "traffic",
  propagate: "traffic",
  verify: "verify",
  "resume-training": "resume",
};

export interface StepTiming {
  readonly id: string;
  readonly kind: string;
  /** Seconds from the fault. */
  readonly start: number | null;
  readonly end: number | null;
  readonly outcome: StepReport["status"];
  readonly detail?: string;
}

function seconds(iso: string | undefined, faultAt: number): number | null {
  if (iso === undefined) return null;
  return Math.round((Date.parse(iso) - faultAt) / 100) / 10;
}

export function stepTimings(report: FailoverReport, faultAt: number): StepTiming[] {
  return report.steps.map((s) => ({
    id: s.id,
    kind: s.kind,
    start: seconds(s.start, faultAt),
    end: seconds(s.end, faultAt),
    outcome: s.status,
    ...(s.detail === undefined ? {} : { detail: s.detail }),
  }));
}

/**
 * Splits [fault, verified] into phases along the executed critical path: from `verify` back through, at each step,
 * the dependency that finished last. Detection runs from the fault to the failover's start (when the signal reached
 * Cutover), `decide` from there to the end of approval. The phases add up to the RTO.
 */
export function phasesOf(report: FailoverReport, faultAt: number): Record<Phase, number> {
  const out = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  const plan = report.plan as WorkloadPlan | undefined;
  if (report.verifiedAt === undefined || plan === undefined) return out;
  const byId = new Map(report.steps.map((s) => [s.id, s]));
  const after = new Map(plan.steps.map((s) => [s.id, s.after]));
  const end = (id: string): number => Date.parse(byId.get(id)?.end ?? report.startedAt);
  const started = Date.parse(report.startedAt);
  out.detect = Math.max(0, (started - faultAt) / 1000);
  let current = "verify";
  let guard = 0;
  while (guard++ < 100) {
    const deps = (after.get(current) ?? []).filter((d) => byId.get(d)?.end !== undefined);
    const step = byId.get(current);
    if (step === undefined) break;
    if (deps.length === 0 || current === "approve") {
      // Reached the part the runbook itself times (detect/decide/approve): from the start to this step's end.
      out.decide += Math.max(0, (end(current) - started) / 1000);
      break;
    }
    const prev = deps.reduce((a, b) => (end(a) >= end(b) ? a : b));
    const phase = PHASE_OF[step.kind] ?? "verify";
    out[phase] += Math.max(0, (end(current) - end(prev)) / 1000);
    current = prev;
  }
  for (const p of PHASES) out[p] = Math.round(out[p] * 10) / 10;
  return out;
}

/** Events this close to the fault (ms) are taken as caused by it. */
const SAME_INSTANT_MS = 1000;

/**
 * The RTO a perfect controller would reach with this run's sampled waits and instant decisions: it learns of the fault
 * from the earliest signal the world delivered in this run (`detectedAt`: the first alert webhook, or the first probe
 * that saw it), asks for capacity at once, and still waits for the GPU nodes
 * (the longest provisioning the world sampled for this workload's pools after the fault, less each pool's slowest
 * spare nodes; `poolsOf` leaves out pools that served nothing, such as a hedge that lost the race), for any model load it sampled, for Front Door to route to
 * a target that became healthy only now (its probes, or the drain's propagation when the target is left alone),
 * and for Front Door's own probes to drop the failed origin (the slowest POP; counted from the detection when Front
 * Door could not see the fault itself and had to be told by a drain). Null when the workload needed none
 * of these (nothing to bound) or is a training workload (no serving path).
 */
export function lowerBoundSeconds(
  waits: SampledWaits,
  options: {
    readonly workload: string;
    readonly origins: ReadonlyArray<string>;
    readonly faultAt: number;
    /** Virtual epoch ms of the earliest signal that reached the controller; undefined: the world's detectableAt. */
    readonly detectedAt?: number;
    readonly poolsOf: (pool: string) => string | undefined;
    /**
     * Seconds Front Door took, in this run, to mark a target healthy once its endpoint became healthy after the fault
     * (a cold target); 0 when every target was healthy all along.
     */
    readonly targetHealthySeconds?: number;
    /**
     * Seconds, in this run, from the drain's gate write to the origin answering its health probes with it (the
     * origin's gate cache): a perfect controller drains through the same contract and waits for it too. 0 if unknown.
     */
    readonly drainSeenSeconds?: number;
    /**
     * Seconds, in this run, from the Front Door change that drained the failed origin to its global propagation, when
     * that change leaves a target as the group's only enabled origin: from then on Front Door routes every request to
     * it whether or not its probes have marked it healthy, so the target's wait is the earlier of the two. Undefined
     * when it does not apply.
     */
    readonly propagationSeconds?: number;
    /**
     * Spare nodes the failover asked for on a pool (by the same key as `poolsOf`): its slowest that many nodes are not
     * waited for (a perfect controller given the same nodes needs only the others). Default none.
     */
    readonly spareOf?: (pool: string) => number;
  },
): number | null {
  const fault = waits.faults.find((f) => f.at >= options.faultAt - 1) ?? waits.faults[0];
  if (fault === undefined) return null;
  const detect = Math.max(0, ((options.detectedAt ?? fault.detectableAt ?? fault.at) - fault.at) / 1000);
  const perPool = new Map<string, number[]>();
  for (const n of waits.nodeProvisioning) {
    if (n.requestedAt < fault.at || options.poolsOf(n.pool) !== options.workload) continue;
    const seconds = perPool.get(n.pool) ?? [];
    seconds.push(n.seconds);
    perPool.set(n.pool, seconds);
  }
  const provisioning = [...perPool].flatMap(([pool, seconds]) => {
    const sorted = [...seconds].sort((a, b) => a - b);
    const spare = Math.min(Math.max(0, options.spareOf?.(pool) ?? 0), sorted.length - 1);
    return sorted.slice(0, sorted.length - spare);
  });
  const loads = waits.modelLoads
    .filter((l) => l.workload === options.workload && l.startedAt >= fault.at)
    .map((l) => l.seconds);
  // Front Door's exclusion of the failed origin, per POP: its first probe window after the fault. A window that opened
  // with the fault (Front Door's probes see the fault itself) counts from the fault. One that opened later (a fault
  // Front Door cannot see, e.g. a stale model behind a status-only health check, excluded only once Cutover drained
  // the origin at its gate) counts from the detection, where a perfect controller would have drained it, plus the time
  // the origin took to see the drain through its gate cache.
  const firstPerPop = new Map<string, SampledWaits["probeWindows"][number]>();
  for (const p of waits.probeWindows) {
    if (!options.origins.includes(p.origin) || p.failingSince < fault.at - SAME_INSTANT_MS) continue;
    const key = `${p.frontDoor}/${p.origin}/${p.pop}`;
    const seen = firstPerPop.get(key);
    if (seen === undefined || p.failingSince < seen.failingSince) firstPerPop.set(key, p);
  }
  const probes = [...firstPerPop.values()].map((p) =>
    p.failingSince <= fault.at + SAME_INSTANT_MS
      ? (p.unhealthyAt - fault.at) / 1000
      : detect + (options.drainSeenSeconds ?? 0) + p.seconds,
  );
  const ready =
    detect + (provisioning.length > 0 ? Math.max(...provisioning) : 0) + (loads.length > 0 ? Math.max(...loads) : 0);
  // The target serves once Front Door routes to it: its probes mark it healthy, or (a lone enabled origin) the drain
  // has propagated, a change a perfect controller makes at the detection.
  const healthy = ready + (options.targetHealthySeconds ?? 0);
  const capacity =
    options.propagationSeconds === undefined
      ? healthy
      : Math.min(healthy, Math.max(ready, detect + options.propagationSeconds));
  const traffic = probes.length > 0 ? Math.max(...probes) : 0;
  const bound = Math.max(detect, capacity, traffic);
  return Math.round(bound * 10) / 10;
}

/**
 * When the world itself was whole again: the first sample after the fault from which the workload's traffic stays
 * served by healthy, warm capacity inside the SLO (at least `threshold`) until the end of the run. Null if never.
 */
export function worldRecoverySeconds(
  samples: ReadonlyArray<GroundTruthSample>,
  workload: string,
  faultAt: number,
  threshold = 0.99,
): number | null {
  const after = samples.filter((s) => s.at >= faultAt && s.served[workload] !== undefined);
  if (after.length === 0) return null;
  let recovered: number | null = null;
  for (const s of after) {
    const ok = (s.served[workload] ?? 0) >= threshold;
    if (ok && recovered === null) recovered = s.at;
    if (!ok) recovered = null;
  }
  return recovered === null ? null : Math.round((recovered - faultAt) / 100) / 10;
}

/** The lowest served fraction after the fault (how bad it got). */
export function worstServed(
  samples: ReadonlyArray<GroundTruthSample>,
  workload: string,
  faultAt: number,
): number | null {
  const values = samples
    .filter((s) => s.at >= faultAt)
    .map((s) => s.served[workload])
    .filter((v): v is number => v !== undefined);
  return values.length === 0 ? null : Math.min(...values);
}

/**
 * From the world timeline: for each target region whose endpoint became healthy after the fault, how long Front Door's
 * POPs took to mark its origin healthy (the slowest POP). Returns the largest such delay, 0 when none applies.
 */
export function targetHealthyDelaySeconds(
  events: ReadonlyArray<{
    readonly at: number;
    readonly kind: string;
    readonly detail: Readonly<Record<string, unknown>>;
  }>,
  options: {
    readonly workload: string;
    readonly targets: ReadonlyArray<{ readonly region: string; readonly origin: string }>;
    readonly faultAt: number;
  },
): number {
  let worst = 0;
  for (const target of options.targets) {
    const ok = events.find(
      (e) =>
        e.kind === "endpoint-health-changed" &&
        e.at >= options.faultAt &&
        e.detail["workload"] === options.workload &&
        e.detail["region"] === target.region &&
        e.detail["to"] === "ok",
    );
    if (ok === undefined) continue;
    const healthy = events.filter(
      (e) => e.kind === "origin-healthy" && e.at >= ok.at && e.detail["origin"] === target.origin,
    );
    if (healthy.length === 0) continue;
    worst = Math.max(worst, (Math.max(...healthy.map((e) => e.at)) - ok.at) / 1000);
  }
  return worst;
}
