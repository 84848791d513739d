/**
 * Small builders for breaker tests: evidence of a given outcome, and a driver that feeds a sequence of evidence and
 * ticks through the real step/tick functions, collecting every transition.
 */
import {
  breakerStep,
  breakerTick,
  createBreaker,
  type BreakerConfig,
  type BreakerResult,
  type BreakerState,
  type BreakerTransition,
} from "../../../src/domain/circuit-breaker";
import {
  alertEvidence,
  type Evidence,
  type ProbeEvidence,
  type ProbeOutcome,
} from "../../../src/domain/probe-evidence";

export function probe(at: number, vantage: string, outcome: ProbeOutcome): ProbeEvidence {
  return {
    source: "probe",
    at,
    vantage,
    outcome,
    status: outcome === "failure" ? 503 : 200,
    latencyMs: outcome === "failure" ? null : outcome === "slow" ? 5000 : 100,
    modelVersion: outcome === "stale" ? "old" : "v1",
    reason: outcome,
  };
}

export function fired(at: number, alertId = "alert-1"): Evidence {
  return alertEvidence({ at, alertId, condition: "Fired", rule: "origin-health" });
}

export function resolved(at: number, alertId = "alert-1"): Evidence {
  return alertEvidence({ at, alertId, condition: "Resolved", rule: "origin-health" });
}

export type Event =
  { readonly kind: "evidence"; readonly evidence: Evidence } | { readonly kind: "tick"; readonly at: number };

export const ev = (evidence: Evidence): Event => ({ kind: "evidence", evidence });
export const tick = (at: number): Event => ({ kind: "tick", at });

export interface Run {
  readonly state: BreakerState;
  readonly transitions: BreakerTransition[];
  readonly results: BreakerResult[];
}

export function run(events: ReadonlyArray<Event>, config: BreakerConfig, start?: BreakerState): Run {
  let state = start ?? createBreaker(0, config);
  const transitions: BreakerTransition[] = [];
  const results: BreakerResult[] = [];
  for (const e of events) {
    const r = e.kind === "evidence" ? breakerStep(state, e.evidence, config) : breakerTick(state, e.at, config);
    results.push(r);
    if (r.transition !== undefined) transitions.push(r.transition);
    state = r.state;
  }
  return { state, transitions, results };
}

/** Probes from `vantage` every `intervalMs` from `from` (inclusive) to `to` (exclusive), outcome chosen per time. */
export function series(
  from: number,
  to: number,
  intervalMs: number,
  vantage: string,
  outcome: (at: number) => ProbeOutcome,
): Event[] {
  const out: Event[] = [];
  for (let at = from; at < to; at += intervalMs) out.push(ev(probe(at, vantage, outcome(at))));
  return out;
}

/** Merges event lists by time (ticks and evidence), stable. */
export function merge(...lists: ReadonlyArray<Event>[]): Event[] {
  const time = (e: Event): number => (e.kind === "tick" ? e.at : e.evidence.at);
  return lists
    .flat()
    .map((e, i) => ({ e, i }))
    .sort((a, b) => time(a.e) - time(b.e) || a.i - b.i)
    .map((x) => x.e);
}
