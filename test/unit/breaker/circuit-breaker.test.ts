import { describe, expect, it } from "vitest";
import {
  breakDurationAt,
  breakerStep,
  breakerTick,
  createBreaker,
  DEFAULT_BREAKER_CONFIG,
  describeBreaker,
  maxOpeningsWithin,
  parseBreakerConfig,
  parseBreakerState,
  type BreakerConfig,
  type BreakerState,
} from "../../../src/domain/circuit-breaker";
import { classifyGpuReadiness, type ProbeOutcome } from "../../../src/domain/probe-evidence";
import { ev, fired, merge, probe, resolved, run, series, tick, type Event } from "./helpers";

const C = DEFAULT_BREAKER_CONFIG;
const S = 1000;
const MIN = 60 * S;

/** Probes from one vantage, 10 s apart starting at `from`, with the given outcomes. */
function probes(outcomes: string, vantage = "a", from = 0, interval = 10 * S): Event[] {
  const map: Record<string, ProbeOutcome> = { S: "success", F: "failure", L: "slow", X: "stale" };
  return [...outcomes].map((c, i) => ev(probe(from + i * interval, vantage, map[c] as ProbeOutcome)));
}

/** A breaker opened at `at` by three failures (default config), for tests of what follows. */
function openedAt(at: number, config: BreakerConfig = C): BreakerState {
  const r = run(probes("FFF", "a", at, 0), config, createBreaker(at, config));
  expect(r.state.state).toBe("open");
  return r.state;
}

describe("defaults", () => {
  it("are the documented ones", () => {
    expect(C).toMatchObject({
      window: { durationMs: 180_000, maxEntries: 60 },
      minimumCalls: 5,
      failureRatio: 0.5,
      consecutiveFailures: 3,
      slowCallRatio: 0.8,
      staleConsecutive: 2,
      alert: { corroboratingFailures: 1, ttlMs: 1_800_000, maxActive: 8 },
      breakMs: 120_000,
      backoff: { multiplier: 2, maxBreakMs: 1_800_000, resetAfterMs: 1_800_000 },
      halfOpen: { successesToClose: 3, toleratedFailures: 1, minDurationMs: 120_000 },
      minDwellMs: 60_000,
      quorum: { required: 1, vantages: [] },
      historyLimit: 20,
    });
  });

  it("reject inconsistent settings, reporting every problem at once", () => {
    expect(() =>
      parseBreakerConfig({
        breakMs: 2000,
        minDwellMs: 5000,
        halfOpen: { minDurationMs: 10 },
        backoff: { maxBreakMs: 1000 },
        consecutiveFailures: 99,
        quorum: { required: 3, vantages: ["a", "a"] },
      }),
    ).toThrow(
      /^\[INVALID_CONFIG\] breaker config: breakMs: must be at least minDwellMs \(5000\); backoff\.maxBreakMs: .*; halfOpen\.minDurationMs: .*; consecutiveFailures: must not exceed window\.maxEntries .*; quorum\.vantages: must not repeat a vantage; quorum\.required: must not exceed the 2 listed vantages$/,
    );
    expect(() => parseBreakerConfig({ failureRatio: 0 })).toThrow(/failureRatio/);
  });
});

describe("opening rules", () => {
  it("consecutive failures: the third failure in a row opens, a success in between resets the run", () => {
    const noRatio = { ...C, failureRatio: 1 };
    const r = run(probes("SFFSFFF"), noRatio);
    expect(r.transitions).toHaveLength(1);
    const t = r.transitions[0]!;
    expect(t).toMatchObject({ at: 60 * S, from: "closed", to: "open", reason: "consecutive-failures" });
    expect(t.evidence.vantages).toEqual([
      {
        vantage: "a",
        calls: 7,
        failures: 5,
        slow: 0,
        stale: 0,
        consecutiveFailures: 3,
        consecutiveStale: 0,
        rule: "consecutive-failures",
      },
    ]);
    expect(t.evidence.trigger).toEqual({ source: "probe", at: 60 * S, vantage: "a", outcome: "failure" });
    expect(run(probes("FFSFFSFFS"), { ...C, failureRatio: 0.9 }).transitions).toHaveLength(0);
  });

  it("failure ratio: counts only once the vantage has the minimum number of calls", () => {
    expect(run(probes("FSFS"), C).transitions).toHaveLength(0);
    const r = run(probes("FSFSF"), C);
    expect(r.transitions.map((t) => [t.at, t.reason])).toEqual([[40 * S, "failure-ratio"]]);
    expect(r.transitions[0]!.detail).toContain("3/5 failed (≥ 0.5)");
    // Below the ratio it never opens, however long it runs.
    expect(run(probes("SSF".repeat(40)), C).transitions).toHaveLength(0);
  });

  it("slow calls: a mostly slow vantage opens, a partly slow one does not", () => {
    expect(run(probes("SLLLL"), C).transitions.map((t) => t.reason)).toEqual(["slow-calls"]);
    expect(run(probes("SSLLL".repeat(10)), C).transitions).toHaveLength(0);
  });

  it("stale model: two stale answers in a row open; one between successes does not", () => {
    expect(run(probes("SXX"), C).transitions.map((t) => [t.at, t.reason])).toEqual([[20 * S, "stale-model"]]);
    expect(run(probes("XSXSXS".repeat(3), "a"), { ...C, failureRatio: 0.7 }).transitions).toHaveLength(0);
  });

  it("stale answers count as failures for the ratio and the failure run", () => {
    expect(run(probes("FXF"), C).transitions.map((t) => t.reason)).toEqual(["consecutive-failures"]);
  });

  it("alerts: a firing alert lets one failed probe open, but never opens alone", () => {
    const alone = run([ev(fired(0)), tick(10 * MIN)], C);
    expect(alone.transitions).toHaveLength(0);
    const corroborated = run([ev(fired(0)), ...probes("SF", "a", 10 * S)], C);
    expect(corroborated.transitions.map((t) => [t.at, t.reason])).toEqual([[20 * S, "alert-corroborated"]]);
    expect(corroborated.transitions[0]!.evidence.alerts).toEqual(["alert-1"]);
    // Without the alert the same probes do nothing.
    expect(run(probes("SF", "a", 10 * S), C).transitions).toHaveLength(0);
  });

  it("alerts: Resolved withdraws the alert, and an unresolved one lapses after its time to live", () => {
    expect(run([ev(fired(0)), ev(resolved(5 * S)), ...probes("F", "a", 10 * S)], C).transitions).toHaveLength(0);
    expect(run([ev(fired(0)), ...probes("F", "a", 30 * MIN)], C).transitions).toHaveLength(0);
    expect(run([ev(fired(0)), ...probes("F", "a", 30 * MIN - 1)], C).transitions).toHaveLength(1);
  });

  it("alerts outlive transitions: a late Resolved still withdraws one, a Fired older than its TTL is ignored", () => {
    const open = run([ev(fired(0)), ...probes("F", "a", 10 * S)], C);
    expect(open.state).toMatchObject({ state: "open", since: 10 * S });
    expect(breakerStep(open.state, resolved(5 * S), C).state.alerts).toEqual([]);
    const one = breakerStep(createBreaker(0), fired(0), C);
    expect(breakerStep(one.state, fired(1, "old"), C).state.alerts.map((a) => a.alertId)).toEqual(["alert-1", "old"]);
    const late = breakerStep(breakerTick(createBreaker(0), 40 * MIN, C).state, fired(5 * MIN, "late"), C);
    expect(late.ignored).toBe(`alert late fired at ${5 * MIN}, longer ago than its 1800000 ms time to live`);
    expect(late.state.alerts).toEqual([]);
  });

  it("keeps at most alert.maxActive alerts, dropping the oldest", () => {
    const config = parseBreakerConfig({ alert: { maxActive: 2 } });
    const r = run([ev(fired(0, "x")), ev(fired(1, "y")), ev(fired(2, "z"))], config);
    expect(r.state.alerts.map((a) => a.alertId)).toEqual(["y", "z"]);
  });

  it("forgets evidence older than the window", () => {
    // Failures 100 s apart: with a 180 s window, never three inside it...
    const spread = run([...probes("FFFFF", "a", 0, 100 * S)], C);
    expect(spread.transitions).toHaveLength(0);
    // ...but 80 s apart, three fit.
    expect(run([...probes("FFF", "a", 0, 80 * S)], C).transitions).toHaveLength(1);
  });

  it("bounds the window by count, dropping the oldest entries", () => {
    const config = parseBreakerConfig({ window: { maxEntries: 5 }, minimumCalls: 5 });
    const r = run(probes("S".repeat(12), "a", 0, S), config);
    expect(r.state.window.map((e) => e.at)).toEqual([7, 8, 9, 10, 11].map((x) => x * S));
  });

  it("orders late evidence by time, so a late success still breaks a failure run", () => {
    // Arrival order F@30, F@20, S@10, F@40: by time that is S F F F → opens at the 4th arrival, not before.
    const r = run(
      [ev(probe(30 * S, "a", "failure")), ev(probe(20 * S, "a", "failure")), ev(probe(10 * S, "a", "success"))],
      C,
    );
    expect(r.transitions).toHaveLength(0);
    expect(r.state.window.map((e) => e.outcome)).toEqual(["success", "failure", "failure"]);
    expect(r.state.clock).toBe(30 * S);
    const late = run(
      [ev(probe(30 * S, "a", "failure")), ev(probe(20 * S, "a", "failure")), ev(probe(40 * S, "a", "success"))],
      C,
    );
    expect(late.transitions).toHaveLength(0);
  });

  it("opens a zone breaker from GPU-readiness evidence", () => {
    const evidence = [0, 30, 60].map((t) =>
      ev(classifyGpuReadiness({ at: t * S, region: "eastus2", zone: "2", readyNodes: 1, expectedNodes: 4 })),
    );
    const r = run(evidence, C);
    expect(r.transitions.map((t) => [t.reason, t.evidence.vantages[0]?.vantage])).toEqual([
      ["consecutive-failures", "azure-monitor"],
    ]);
  });
});

describe("quorum", () => {
  const Q = parseBreakerConfig({ quorum: { required: 2, vantages: ["a", "b", "c"] } });

  it("does not open on one vantage's failures, and opens when a second agrees", () => {
    const one = run(probes("FFFFFF", "a"), Q);
    expect(one.transitions).toHaveLength(0);
    const two = run(merge(probes("FFFFFF", "a"), probes("SSFFF", "b", 5 * S)), Q);
    expect(two.transitions).toHaveLength(1);
    const t = two.transitions[0]!;
    expect(t.at).toBe(45 * S);
    expect(t.detail).toMatch(/^2 of 3 vantage\(s\) agree \(quorum 2\): a .*; b /);
    expect(t.evidence.vantages.filter((v) => v.rule !== undefined).map((v) => v.vantage)).toEqual(["a", "b"]);
  });

  it("ignores evidence from vantages it does not know, and says so", () => {
    const r = run(merge(probes("FFFF", "a"), probes("FFFF", "z", 1)), Q);
    expect(r.transitions).toHaveLength(0);
    expect(r.results[1]!.ignored).toBe("vantage z is not one of the configured vantages (a, b, c)");
    expect(r.state.window.every((e) => e.vantage === "a")).toBe(true);
  });

  it("an alert does not count as a vantage", () => {
    expect(run([ev(fired(0)), ...probes("FFFF", "a", S)], Q).transitions).toHaveLength(0);
  });
});

describe("open, half-open and back", () => {
  it("turns half-open exactly when the break has elapsed", () => {
    const s = openedAt(0);
    expect(breakerTick(s, 120 * S - 1, C).transition).toBeUndefined();
    const r = breakerTick(s, 120 * S, C);
    expect(r.transition).toMatchObject({ from: "open", to: "half-open", reason: "break-elapsed", at: 120 * S });
    expect(r.transition?.evidence.trigger).toBeUndefined();
  });

  it("a probe arriving after the break is the first trial (the time-driven move comes first)", () => {
    const s = openedAt(0);
    const r = breakerStep(s, probe(130 * S, "a", "success"), C);
    expect(r.transition).toMatchObject({ to: "half-open", at: 130 * S });
    expect(r.state.trialSuccesses).toBe(1);
  });

  it("closes after enough successful trials, but not before half-open's minimum duration", () => {
    const s = breakerTick(openedAt(0), 120 * S, C).state;
    const r = run([...probes("SSS", "a", 130 * S), tick(239 * S), tick(240 * S)], C, s);
    expect(r.transitions.map((t) => [t.at, t.to, t.reason])).toEqual([[240 * S, "closed", "trials-succeeded"]]);
    expect(r.state.window).toEqual([]);
  });

  it("tolerates one failed trial, not two", () => {
    const s = breakerTick(openedAt(0), 120 * S, C).state;
    expect(run([...probes("SFSS", "a", 130 * S), tick(240 * S)], C, s).state.state).toBe("closed");
    const r = run([...probes("FF", "a", 130 * S), tick(179 * S), tick(180 * S)], C, s);
    // Two failures by 140 s, but half-open was entered at 120 s: the dwell holds the reopening until 180 s.
    expect(r.transitions.map((t) => [t.at, t.to, t.reason])).toEqual([[180 * S, "open", "trial-failed"]]);
    expect(r.state.level).toBe(1);
    expect(r.state.breakMs).toBe(240 * S);
  });

  it("a firing alert holds it half-open until the alert resolves", () => {
    const s = breakerTick(openedAt(0), 120 * S, C).state;
    const r = run([ev(fired(125 * S)), ...probes("SSSS", "a", 130 * S), tick(300 * S)], C, s);
    expect(r.state.state).toBe("half-open");
    const after = run([ev(resolved(310 * S)), tick(311 * S)], C, r.state);
    expect(after.transitions.map((t) => t.to)).toEqual(["closed"]);
  });

  it("backs off when it relapses soon after closing, and forgets after resetAfterMs closed", () => {
    // open@0 → half-open@120 → closed@240 → failures → open again (level 1, 240 s break).
    let s = breakerTick(openedAt(0), 120 * S, C).state;
    s = run([...probes("SSS", "a", 130 * S), tick(240 * S)], C, s).state;
    expect(s.state).toBe("closed");
    const relapse = run(probes("FFF", "a", 300 * S), C, s);
    expect(relapse.transitions[0]).toMatchObject({ at: 320 * S, to: "open" });
    expect(relapse.state).toMatchObject({ level: 1, breakMs: 240 * S, openings: 2 });
    // Closed for 30 min before failing again: back to level 0.
    const calm = run(probes("FFF", "a", 240 * S + 30 * MIN), C, s);
    expect(calm.state).toMatchObject({ state: "open", level: 0, breakMs: 120 * S });
  });

  it("caps the break at maxBreakMs", () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((l) => breakDurationAt(l, C) / S)).toEqual([
      120, 240, 480, 960, 1800, 1800, 1800,
    ]);
  });

  it("holds an opening back until the dwell time since the last transition has passed", () => {
    let s = breakerTick(openedAt(0), 120 * S, C).state;
    s = run([...probes("SSS", "a", 130 * S), tick(240 * S)], C, s).state;
    const r = run([...probes("FFF", "a", 241 * S, S), tick(299 * S), tick(300 * S)], C, s);
    expect(r.transitions.map((t) => [t.at, t.to])).toEqual([[300 * S, "open"]]);
    expect(r.transitions[0]!.evidence.trigger).toBeUndefined();
  });

  it("ignores evidence that predates the current state", () => {
    const s = openedAt(100 * S);
    const r = breakerStep(s, probe(50 * S, "a", "failure"), C);
    expect(r.ignored).toBe(`evidence at ${50 * S} predates the open state entered at ${100 * S}`);
    expect(r.state.window).toEqual([]);
  });

  it("keeps only the last historyLimit transitions", () => {
    const config = parseBreakerConfig({ historyLimit: 2 });
    let s = breakerTick(openedAt(0, config), 120 * S, config).state;
    s = run([...probes("FF", "a", 130 * S), tick(180 * S)], config, s).state;
    expect(s.transitions.map((t) => t.to)).toEqual(["half-open", "open"]);
  });
});

describe("flapping-origin", () => {
  // The origin fails for 30 s, then answers for 60 s, over and over for two hours; probes every 10 s, ticks every 10 s.
  const flap = (healthyMs: number, failingMs: number) => (at: number) =>
    at % (healthyMs + failingMs) < failingMs ? ("failure" as const) : ("success" as const);
  const HORIZON = 2 * 60 * MIN;
  const ticks: Event[] = [];
  for (let at = 5 * S; at < HORIZON; at += 10 * S) ticks.push(tick(at));
  const events = (healthyMs: number, failingMs: number): Event[] =>
    merge(series(0, HORIZON, 10 * S, "a", flap(healthyMs, failingMs)), ticks);

  it("opens once and never closes while healthy phases are shorter than half-open's minimum", () => {
    const r = run(events(60 * S, 30 * S), C);
    const openings = r.transitions.filter((t) => t.from === "closed" && t.to === "open");
    expect(openings).toHaveLength(1);
    expect(r.transitions.some((t) => t.to === "closed")).toBe(false);
    // Each failed trial doubles the break until the cap: the breaker slows down instead of oscillating.
    const opens = r.transitions.filter((t) => t.to === "open");
    const levels = opens.map((t) => Number(/level (\d+)/.exec(t.detail)?.[1]));
    expect(levels).toEqual(levels.map((_, i) => i));
    const openDurations = r.transitions.flatMap((t, i) =>
      t.to === "half-open" ? [t.at - r.transitions[i - 1]!.at] : [],
    );
    expect(openDurations.length).toBeGreaterThanOrEqual(5);
    openDurations.forEach((duration, i) => expect(duration).toBeGreaterThanOrEqual(breakDurationAt(levels[i]!, C)));
    expect(r.state.breakMs).toBe(C.backoff.maxBreakMs);
    // 2 h of flapping every 90 s: 1 opening, then half-open/open cycles after breaks of 2, 4, 8, 16, 30 and 30 min.
    expect(r.transitions).toHaveLength(13);
  });

  it("with long healthy phases it may close, but reopenings back off and stay within the bound", () => {
    const r = run(events(10 * MIN, 30 * S), C);
    const openings = r.transitions.filter((t) => t.from === "closed" && t.to === "open");
    expect(openings.length).toBeGreaterThan(1);
    expect(openings.length).toBeLessThanOrEqual(maxOpeningsWithin(HORIZON, C));
    const levels = r.transitions.filter((t) => t.to === "open").map((t) => Number(/level (\d+)/.exec(t.detail)?.[1]));
    expect(levels.slice(0, 4)).toEqual([0, 1, 2, 3]);
  });
});

describe("maxOpeningsWithin", () => {
  it("follows the fastest cycle: open break, half-open minimum, closed dwell, with back-off", () => {
    // Level 0 cycle: 120 + 120 + 60 = 300 s; level 1: 240 + 120 + 60 = 420 s.
    expect(maxOpeningsWithin(0, C)).toBe(1);
    expect(maxOpeningsWithin(299 * S, C)).toBe(1);
    expect(maxOpeningsWithin(300 * S, C)).toBe(2);
    expect(maxOpeningsWithin(719 * S, C)).toBe(2);
    expect(maxOpeningsWithin(720 * S, C)).toBe(3);
  });

  it("is attained by an adversarial feed (the bound is tight, not just safe)", () => {
    const failNow = (at: number): Event[] => probes("FFF", "a", at, 0);
    const closeFrom = (at: number, halfOpenAt: number): Event[] => [
      tick(halfOpenAt),
      ...probes("SSS", "a", halfOpenAt, 0),
      tick(at),
    ];
    const r = run(
      [
        ...failNow(0),
        ...closeFrom(240 * S, 120 * S),
        ...failNow(300 * S),
        ...closeFrom(660 * S, 540 * S),
        ...failNow(720 * S),
      ],
      C,
    );
    expect(r.transitions.filter((t) => t.to === "open").map((t) => t.at / S)).toEqual([0, 300, 720]);
  });

  it("is never above the no-back-off bound H / (break + half-open + dwell) + 1", () => {
    for (const h of [0, 10 * MIN, 60 * MIN, 24 * 60 * MIN])
      expect(maxOpeningsWithin(h, C)).toBeLessThanOrEqual(Math.floor(h / (300 * S)) + 1);
  });

  it("matches a brute-force search over every relapse/reset choice", () => {
    // Independent of the implementation: enumerate every sequence of "relapse at once" / "wait out the reset" choices.
    const half = C.halfOpen.minDurationMs;
    const d = C.minDwellMs;
    const brk = (l: number): number => Math.min(C.backoff.maxBreakMs, C.breakMs * 2 ** l);
    const most = (budget: number, level: number): number => {
      const quick = brk(level) + half + d;
      const calm = brk(level) + half + C.backoff.resetAfterMs;
      let best = 0;
      if (quick <= budget) best = Math.max(best, 1 + most(budget - quick, level + 1));
      if (calm <= budget) best = Math.max(best, 1 + most(budget - calm, 0));
      return best;
    };
    for (const h of [0, 5 * MIN, 20 * MIN, 45 * MIN, 90 * MIN, 3 * 60 * MIN])
      expect(maxOpeningsWithin(h, C), `horizon ${h / MIN} min`).toBe(1 + most(h, 0));
  });
});

describe("state", () => {
  it("is plain JSON that parses back, and stays small however long it runs", () => {
    const outcomes: ProbeOutcome[] = ["success", "failure", "slow", "stale"];
    // mulberry32: a small seeded PRNG, so the run is reproducible.
    let seed = 7;
    const next = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (t ^ (t >>> 14)) >>> 0;
    };
    const events: Event[] = [];
    for (let i = 0; i < 20_000; i++)
      events.push(ev(probe(i * 5 * S, `v${next() % 4}`, outcomes[next() % 4] as ProbeOutcome)));
    const r = run(events, C);
    const json = JSON.stringify(r.state);
    expect(parseBreakerState(JSON.parse(json))).toEqual(r.state);
    expect(r.transitions.length).toBeGreaterThan(20);
    expect(r.state.transitions).toHaveLength(C.historyLimit);
    expect(json.length).toBeLessThan(32_000);
  });

  it("rejects malformed stored state and times", () => {
    expect(() => parseBreakerState({ version: 1, state: "ajar" })).toThrow(/\[INVALID_INPUT\] breaker state: state: /);
    expect(() => breakerTick(createBreaker(0), -5, C)).toThrow(/now: expected epoch milliseconds/);
    expect(() => createBreaker(1.5)).toThrow(/INVALID_INPUT/);
  });

  it("describes itself for the API", () => {
    const s = openedAt(10 * S);
    expect(describeBreaker(s, C)).toMatchObject({
      state: "open",
      since: 10 * S,
      halfOpenAt: 130 * S,
      earliestTransitionAt: 130 * S,
      level: 0,
      openings: 1,
      lastTransition: { to: "open", reason: "consecutive-failures" },
    });
    const half = breakerStep(breakerTick(s, 130 * S, C).state, probe(131 * S, "a", "failure"), C).state;
    expect(describeBreaker(half, C)).toMatchObject({ state: "half-open", trials: { successes: 0, failures: 1 } });
  });
});
