/**
 * Property-based tests of the circuit breaker: for any configuration and any sequence of evidence and ticks (random
 * outcomes, vantages, alerts, non-decreasing timestamps), the hysteresis holds, openings are bounded, every opening is
 * justified by the evidence actually fed in (checked by an oracle written independently of the implementation),
 * quorum is respected, and a breaker fed only successes never opens while one fed only failures always does.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  maxOpeningsWithin,
  parseBreakerConfig,
  type BreakerConfig,
  type BreakerTransition,
  type VantageSummary,
} from "../../../src/domain/circuit-breaker";
import type { ProbeOutcome } from "../../../src/domain/probe-evidence";
import { ev, fired, probe, resolved, run, tick, type Event } from "./helpers";

const VANTAGES = ["a", "b", "c", "d"] as const;
const OUTCOMES: ProbeOutcome[] = ["success", "failure", "slow", "stale"];
const S = 1000;

/** Configurations from twitchy to calm; always valid (dependent bounds are derived, not filtered). */
const configArb = (options: { quorum?: fc.Arbitrary<number>; listVantages?: fc.Arbitrary<boolean> } = {}) =>
  fc
    .record({
      minDwellS: fc.integer({ min: 1, max: 90 }),
      breakExtraS: fc.integer({ min: 0, max: 120 }),
      halfExtraS: fc.integer({ min: 0, max: 120 }),
      windowS: fc.integer({ min: 5, max: 300 }),
      maxEntries: fc.integer({ min: 8, max: 80 }),
      minimumCalls: fc.integer({ min: 1, max: 8 }),
      failureRatio: fc.double({ min: 0.1, max: 1, noNaN: true }),
      slowCallRatio: fc.double({ min: 0.1, max: 1, noNaN: true }),
      consecutiveFailures: fc.integer({ min: 1, max: 6 }),
      staleConsecutive: fc.integer({ min: 1, max: 4 }),
      corroboratingFailures: fc.integer({ min: 1, max: 3 }),
      ttlS: fc.integer({ min: 1, max: 3600 }),
      multiplier: fc.double({ min: 1, max: 3, noNaN: true }),
      maxBreakFactor: fc.integer({ min: 1, max: 20 }),
      resetAfterS: fc.integer({ min: 1, max: 3600 }),
      successesToClose: fc.integer({ min: 1, max: 5 }),
      toleratedFailures: fc.integer({ min: 0, max: 3 }),
      quorum: options.quorum ?? fc.integer({ min: 1, max: 3 }),
      listVantages: options.listVantages ?? fc.boolean(),
      historyLimit: fc.integer({ min: 1, max: 5 }),
    })
    .map((r) => {
      const breakMs = (r.minDwellS + r.breakExtraS) * S;
      return parseBreakerConfig({
        window: { durationMs: r.windowS * S, maxEntries: r.maxEntries },
        minimumCalls: r.minimumCalls,
        failureRatio: r.failureRatio,
        slowCallRatio: r.slowCallRatio,
        consecutiveFailures: r.consecutiveFailures,
        staleConsecutive: r.staleConsecutive,
        alert: { corroboratingFailures: r.corroboratingFailures, ttlMs: r.ttlS * S },
        breakMs,
        backoff: { multiplier: r.multiplier, maxBreakMs: breakMs * r.maxBreakFactor, resetAfterMs: r.resetAfterS * S },
        halfOpen: {
          successesToClose: r.successesToClose,
          toleratedFailures: r.toleratedFailures,
          minDurationMs: (r.minDwellS + r.halfExtraS) * S,
        },
        minDwellMs: r.minDwellS * S,
        quorum: r.listVantages
          ? { required: Math.min(r.quorum, VANTAGES.length), vantages: [...VANTAGES] }
          : { required: r.quorum },
        historyLimit: r.historyLimit,
      });
    });

type Step =
  | { readonly kind: "probe"; readonly dt: number; readonly vantage: string; readonly outcome: ProbeOutcome }
  | { readonly kind: "alert"; readonly dt: number; readonly id: string; readonly fire: boolean }
  | { readonly kind: "tick"; readonly dt: number };

/** Time steps biased small (bursts) with occasional long gaps, in ms. `minDt` 1 makes timestamps strictly increase. */
const dtArb = (minDt: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: minDt, max: 15 * S }) },
    { weight: 2, arbitrary: fc.integer({ min: Math.max(minDt, 15 * S), max: 120 * S }) },
    { weight: 1, arbitrary: fc.integer({ min: Math.max(minDt, 120 * S), max: 3600 * S }) },
  );

const stepArb = (options: {
  minDt: number;
  vantages: ReadonlyArray<string>;
  outcomes: ReadonlyArray<ProbeOutcome>;
  alerts: boolean;
}): fc.Arbitrary<Step> => {
  const probeArb = fc.record({
    kind: fc.constant("probe" as const),
    dt: dtArb(options.minDt),
    vantage: fc.constantFrom(...options.vantages),
    outcome: fc.constantFrom(...options.outcomes),
  });
  const tickArb = fc.record({ kind: fc.constant("tick" as const), dt: dtArb(options.minDt) });
  const alertArb = fc.record({
    kind: fc.constant("alert" as const),
    dt: dtArb(options.minDt),
    id: fc.constantFrom("x", "y"),
    fire: fc.boolean(),
  });
  return options.alerts
    ? fc.oneof(
        { weight: 12, arbitrary: probeArb },
        { weight: 4, arbitrary: tickArb },
        { weight: 1, arbitrary: alertArb },
      )
    : fc.oneof({ weight: 12, arbitrary: probeArb }, { weight: 4, arbitrary: tickArb });
};

function toEvents(steps: ReadonlyArray<Step>): Event[] {
  let at = 0;
  return steps.map((s) => {
    at += s.dt;
    switch (s.kind) {
      case "probe":
        return ev(probe(at, s.vantage, s.outcome));
      case "alert":
        return ev(s.fire ? fired(at, s.id) : resolved(at, s.id));
      case "tick":
        return tick(at);
    }
  });
}

const openings = (transitions: ReadonlyArray<BreakerTransition>) =>
  transitions.filter((t) => t.from === "closed" && t.to === "open");

/**
 * Any sequence, built from phases in which the scope is mostly failing, mostly healthy, or mixed: random outcomes
 * alone almost never string together the successes half-open needs, so without phases nothing would flap.
 */
const anySteps = (minDt: number) =>
  fc
    .array(
      fc
        .constantFrom<ReadonlyArray<ProbeOutcome>>(
          ["failure", "failure", "stale", "slow", "success"],
          ["success", "success", "success", "success", "failure"],
          OUTCOMES,
        )
        .chain((outcomes) =>
          fc.array(stepArb({ minDt, vantages: VANTAGES, outcomes, alerts: true }), {
            minLength: 1,
            maxLength: 40,
            size: "max",
          }),
        ),
      { maxLength: 25, size: "max" },
    )
    .map((phases) => phases.flat());

/**
 * An adversarial flapper for the bound: dense probes (0–2 s apart) from every vantage, alternating failing and
 * healthy phases of random length, so that relapses come as fast as the hysteresis lets them.
 */
const flapSteps = fc
  .array(fc.record({ bad: fc.boolean(), length: fc.integer({ min: 1, max: 150 }) }), {
    minLength: 2,
    maxLength: 40,
    size: "max",
  })
  .chain((phases) =>
    fc.tuple(
      ...phases.map((phase) =>
        fc.array(
          fc.oneof(
            {
              weight: 5,
              arbitrary: fc.record({
                kind: fc.constant("probe" as const),
                dt: fc.integer({ min: 0, max: 2 * S }),
                vantage: fc.constantFrom(...VANTAGES),
                outcome: fc.constant<ProbeOutcome>(phase.bad ? "failure" : "success"),
              }),
            },
            {
              weight: 1,
              arbitrary: fc.record({ kind: fc.constant("tick" as const), dt: fc.integer({ min: 0, max: 2 * S }) }),
            },
          ),
          { minLength: phase.length, maxLength: phase.length },
        ),
      ),
    ),
  )
  .map((phases): Step[] => phases.flat());

describe("circuit breaker properties", () => {
  it("(a) never makes two transitions closer than the dwell time, and at most one per call", () => {
    fc.assert(
      fc.property(configArb(), anySteps(0), (config, steps) => {
        const r = run(toEvents(steps), config);
        for (let i = 1; i < r.transitions.length; i++)
          expect(r.transitions[i]!.at - r.transitions[i - 1]!.at).toBeGreaterThanOrEqual(config.minDwellMs);
        // Each result carries at most one transition, and the state's history is its bounded tail.
        expect(r.state.transitions).toEqual(r.transitions.slice(-config.historyLimit));
      }),
      { numRuns: 300 },
    );
  });

  it("(b) closed → open transitions within any horizon never exceed maxOpeningsWithin", () => {
    let exercised = 0;
    fc.assert(
      fc.property(configArb(), fc.oneof(anySteps(0), flapSteps), (config, steps) => {
        const times = openings(run(toEvents(steps), config).transitions).map((t) => t.at);
        if (times.length >= 3) exercised++;
        // Every horizon [o_i, o_j] between two openings: j - i + 1 openings, at most the bound for its length.
        for (let i = 0; i < times.length; i++)
          for (let j = i; j < times.length; j++)
            expect(j - i + 1).toBeLessThanOrEqual(maxOpeningsWithin(times[j]! - times[i]!, config));
      }),
      { numRuns: 400 },
    );
    // The generators must actually produce flapping breakers, or the property says nothing.
    expect(exercised).toBeGreaterThan(40);
  });

  it("(c) every opening is justified: the recorded window matches the evidence fed in and satisfies a rule", () => {
    let checked = 0;
    fc.assert(
      fc.property(configArb(), anySteps(1), (config, steps) => {
        const events = toEvents(steps);
        const r = run(events, config);
        // Index of the call that made each transition.
        const callOf = new Map<BreakerTransition, number>();
        r.results.forEach((res, i) => {
          if (res.transition !== undefined) callOf.set(res.transition, i);
        });
        r.transitions.forEach((t, n) => {
          if (t.from !== "closed" || t.to !== "open") return;
          checked++;
          const k = callOf.get(t)!;
          const j = n === 0 ? -1 : callOf.get(r.transitions[n - 1]!)!;
          // The closed state's window holds evidence from calls j..k; whether call j's and call k's own evidence is
          // in it depends on whether those transitions were time-driven, so any of the four readings may hold.
          const candidates = [
            [j, k],
            [j + 1, k],
            [j, k - 1],
            [j + 1, k - 1],
          ].map(([from, to]) =>
            oracleSummaries(events, Math.max(0, from!), to!, t.at, t.evidence.alerts.length > 0, config),
          );
          expect(candidates).toContainEqual(t.evidence.vantages);
          const voters = t.evidence.vantages.filter((v) => v.rule !== undefined);
          expect(voters.length).toBeGreaterThanOrEqual(config.quorum.required);
          expect(voters.map((v) => v.rule)).toContain(t.reason);
          // Likewise for alerts: a time-driven opening at call k (e.g. the dwell ending at that instant) is decided
          // before call k's own evidence, so a Resolved arriving in call k may follow it.
          for (const id of t.evidence.alerts)
            expect(alertActive(events, k, id, t.at, config) || alertActive(events, k - 1, id, t.at, config)).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  it("(d) with quorum N of M, evidence from fewer than N vantages never opens it", () => {
    fc.assert(
      fc.property(
        configArb({ quorum: fc.integer({ min: 2, max: 4 }), listVantages: fc.constant(true) }).chain((config) =>
          fc.tuple(
            fc.constant(config),
            fc.shuffledSubarray([...VANTAGES], { minLength: 1, maxLength: config.quorum.required - 1 }).chain((few) =>
              fc.array(stepArb({ minDt: 0, vantages: few, outcomes: OUTCOMES, alerts: true }), {
                maxLength: 300,
                size: "max",
              }),
            ),
          ),
        ),
        ([config, steps]) => {
          expect(run(toEvents(steps), config).transitions).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("(e) a stream of only successes never opens it", () => {
    fc.assert(
      fc.property(
        configArb(),
        fc.array(stepArb({ minDt: 0, vantages: VANTAGES, outcomes: ["success"], alerts: false }), {
          maxLength: 300,
          size: "max",
        }),
        (config, steps) => {
          const r = run(toEvents(steps), config);
          expect(r.transitions).toEqual([]);
          expect(r.state.state).toBe("closed");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("(f) a stream of only failures from enough vantages always opens it, by the N-th vantage's k-th failure", () => {
    fc.assert(
      fc.property(
        configArb(),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.constantFrom<ProbeOutcome>("failure", "stale"), { minLength: 64, maxLength: 64 }),
        (base, extraVantages, kinds) => {
          const required = base.quorum.required;
          const voters = VANTAGES.slice(0, Math.min(VANTAGES.length, required + extraVantages));
          const k = base.consecutiveFailures;
          // Room in the window for k failures from every vantage, in time and in count.
          const config: BreakerConfig = {
            ...base,
            window: { ...base.window, maxEntries: Math.max(base.window.maxEntries, k * voters.length) },
          };
          const gap = Math.max(1, Math.floor((config.window.durationMs - 1) / (k * voters.length)));
          const events: Event[] = [];
          for (let i = 0; i < k * voters.length; i++)
            events.push(ev(probe(i * gap, voters[i % voters.length]!, kinds[i % kinds.length]!)));
          const r = run(events, config);
          const deadline = ((k - 1) * voters.length + (required - 1)) * gap;
          const first = openings(r.transitions)[0];
          expect(first).toBeDefined();
          expect(first!.at).toBeLessThanOrEqual(deadline);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------------------------------------------------------------
// The oracle: per-vantage statistics and rules, written from the rules' definitions (docs/breaker.md), not from the
// implementation.

function oracleSummaries(
  events: ReadonlyArray<Event>,
  from: number,
  to: number,
  at: number,
  alertFiring: boolean,
  config: BreakerConfig,
): VantageSummary[] {
  const listed = config.quorum.vantages;
  const entries = events
    .slice(from, to + 1)
    .flatMap((e) => (e.kind === "evidence" && e.evidence.source !== "alert" ? [e.evidence] : []))
    .filter((e) => (listed.length === 0 || listed.includes(e.vantage)) && e.at > at - config.window.durationMs)
    .slice(-config.window.maxEntries);
  const vantages = [...new Set(entries.map((e) => e.vantage))].sort();
  return vantages.map((vantage) => {
    const outcomes = entries.filter((e) => e.vantage === vantage).map((e) => e.outcome);
    const count = (o: ProbeOutcome): number => outcomes.filter((x) => x === o).length;
    const run = (match: (o: ProbeOutcome) => boolean): number => {
      let n = 0;
      while (n < outcomes.length && match(outcomes[outcomes.length - 1 - n]!)) n++;
      return n;
    };
    const v = {
      vantage,
      calls: outcomes.length,
      failures: count("failure"),
      slow: count("slow"),
      stale: count("stale"),
      consecutiveFailures: run((o) => o === "failure" || o === "stale"),
      consecutiveStale: run((o) => o === "stale"),
    };
    const enough = v.calls >= config.minimumCalls;
    const rule =
      v.consecutiveStale >= config.staleConsecutive
        ? ("stale-model" as const)
        : v.consecutiveFailures >= config.consecutiveFailures
          ? ("consecutive-failures" as const)
          : enough && v.failures + v.stale >= config.failureRatio * v.calls - 1e-9
            ? ("failure-ratio" as const)
            : enough && v.slow >= config.slowCallRatio * v.calls - 1e-9
              ? ("slow-calls" as const)
              : alertFiring && v.consecutiveFailures >= config.alert.corroboratingFailures
                ? ("alert-corroborated" as const)
                : undefined;
    return rule === undefined ? v : { ...v, rule };
  });
}

/** Whether alert `id` had been fired within its time to live before `at`, with no later Resolved, by call `k`. */
function alertActive(events: ReadonlyArray<Event>, k: number, id: string, at: number, config: BreakerConfig): boolean {
  let firedAt: number | undefined;
  for (const e of events.slice(0, k + 1)) {
    if (e.kind !== "evidence" || e.evidence.source !== "alert" || e.evidence.alertId !== id) continue;
    firedAt = e.evidence.condition === "Fired" ? e.evidence.at : undefined;
  }
  return firedAt !== undefined && at - firedAt < config.alert.ttlMs;
}
