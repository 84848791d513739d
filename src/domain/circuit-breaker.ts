/**
 * The regional circuit breaker: one per workload-region (and per zone), fed with health evidence
 * (./probe-evidence), deciding when the scope is broken (open), when to try it again (half-open) and when it is
 * trusted again (closed). Opening a breaker is what starts (or joins) a probe-driven failover; a breaker that has
 * stayed closed for the soak time is what allows a failback (./failback).
 *
 * Why a breaker and not a threshold: a threshold on raw probes flaps — a region at the edge of its SLO would start
 * and abort failovers every few probes, and each failover costs minutes of Front Door propagation and GPU
 * provisioning. The breaker adds memory (a sliding window), agreement (quorum of vantage points), and hysteresis
 * (minimum dwell in every state, a break duration that backs off when the scope relapses).
 *
 * Rules (evaluated per vantage point over the window; see docs/breaker.md for the defaults and their reasoning):
 * - `stale-model`: the vantage's last `staleConsecutive` probes all saw a model version other than the expected one.
 * - `consecutive-failures`: its last `consecutiveFailures` probes all failed (a `failure` or `stale` answer).
 * - `failure-ratio`: at least `minimumCalls` probes and (failures + stale) / calls ≥ `failureRatio`.
 * - `slow-calls`: at least `minimumCalls` probes and slow / calls ≥ `slowCallRatio`.
 * - `alert-corroborated`: an Azure Monitor alert for the scope is firing and the vantage's last
 *   `alert.corroboratingFailures` probes failed. An alert alone never opens the breaker: alerts are minutes late and
 *   a stateful metric alert stays fired for three evaluations after recovery (azure-facts §3.1), and the alert path
 *   (`POST /api/alerts`) already starts its own failover under the exactly-once rule.
 * The breaker opens when at least `quorum.required` vantage points each satisfy a rule (N of M).
 *
 * Transitions:
 *   closed ──rule met by quorum, dwell elapsed──▶ open ──break elapsed──▶ half-open
 *   half-open ──`successesToClose` trial successes, at most `toleratedFailures` failures, half-open for
 *              `halfOpen.minDurationMs`, no alert firing──▶ closed
 *   half-open ──more than `toleratedFailures` trial failures, dwell elapsed──▶ open (break backs off)
 * Every probe in half-open is a trial, so a flapping origin whose healthy phases are shorter than
 * `halfOpen.minDurationMs` never closes the breaker: it opens once and backs off.
 *
 * Invariants (property-tested in test/unit/breaker):
 * - Two transitions are never closer than `minDwellMs` (the break duration is at least the dwell).
 * - Each closed → open transition carries an evidence summary whose voting vantages each satisfy the rule they are
 *   recorded under, and there are at least `quorum.required` of them.
 * - Closed → open transitions within any horizon are bounded by {@link maxOpeningsWithin}.
 * - One call makes at most one transition. Functions are pure: time is the evidence's `at` or the tick's `now`
 *   (epoch ms), and the breaker's clock never goes backwards.
 * - State is small plain JSON (window, alerts and history are bounded), so it can be a Durable Entity's state.
 */
import { z } from "zod";
import { CutoverError } from "./errors";
import type { Evidence, ProbeOutcome } from "./probe-evidence";
import { formatPath } from "./topology";

// ------------------------------------------------------------------------------------------------------------------
// Configuration.

const ms = z.number().int().min(0);
const ratio = z.number().gt(0).max(1);

/**
 * Breaker configuration. Every default is a modelling choice tuned to the figures in azure-facts §1 and §3; the
 * reasoning is in docs/breaker.md and repeated briefly here.
 */
export const breakerConfigSchema = z
  .strictObject({
    window: z
      .strictObject({
        /**
         * Evidence older than this is forgotten. 3 min holds 6 probes at Front Door's documented default 30 s interval
         * (enough for `minimumCalls`) and 18 at Cutover's fastest 10 s interval.
         */
        durationMs: ms.min(1000).default(180_000),
        /**
         * At most this many entries are kept (all vantages together): the count bound that keeps entity state small.
         * Size it to at least vantages × durationMs / probe interval (3 vantages at 10 s over 3 min = 54).
         */
        maxEntries: z.number().int().min(1).max(1000).default(60),
      })
      .prefault({}),
    /** A vantage's ratio rules apply only once it has this many probes in the window. */
    minimumCalls: z.number().int().min(1).default(5),
    /** (failures + stale) / calls at or above this opens. Half: a coin-flip region is not serving the workload. */
    failureRatio: ratio.default(0.5),
    /**
     * This many failed probes in a row open. 3 is Traffic Manager's default tolerated-failure count and what Front
     * Door's documented 5/3 sample example needs (azure-facts §1.1, §1.6): Cutover should not be more trigger-happy
     * than the platform's own probing.
     */
    consecutiveFailures: z.number().int().min(1).default(3),
    /** slow / calls at or above this opens. 0.8: mostly slow is an SLO breach; a few slow answers under load are not. */
    slowCallRatio: ratio.default(0.8),
    /**
     * This many stale-model answers in a row open. 2, not 1: a stale version is deterministic (not a network blip), so
     * it needs less agreement than failures, but one answer from a pod being replaced mid-rollout must not fail a
     * region over.
     */
    staleConsecutive: z.number().int().min(1).default(2),
    alert: z
      .strictObject({
        /** With an alert firing, this many failed probes in a row from a vantage are enough. */
        corroboratingFailures: z.number().int().min(1).default(1),
        /**
         * A Fired alert with no Resolved counts for this long. Stateless alerts never resolve (azure-facts §3.1); 30 min
         * outlives any stateful metric alert's auto-resolution (3 evaluations at up to PT5M = 15 min).
         */
        ttlMs: ms.min(1000).default(1_800_000),
        /** Active alerts kept (oldest dropped first). */
        maxActive: z.number().int().min(1).max(100).default(8),
      })
      .prefault({}),
    /**
     * Open → half-open after this long (at back-off level 0). 2 min: long enough that Front Door's own probes (30–90 s
     * to mark an origin unhealthy) have acted, short enough that recovery is noticed well inside the soak time.
     */
    breakMs: ms.min(1000).default(120_000),
    backoff: z
      .strictObject({
        /** Each relapse (a failed trial, or reopening soon after closing) multiplies the break by this. */
        multiplier: z.number().min(1).max(10).default(2),
        /** The break never exceeds this (30 min). */
        maxBreakMs: ms.min(1000).default(1_800_000),
        /** Closed for this long forgets past relapses: the next opening starts again at `breakMs`. */
        resetAfterMs: ms.min(1000).default(1_800_000),
      })
      .prefault({}),
    halfOpen: z
      .strictObject({
        /**
         * Every probe in half-open is a trial (probes are read-only; traffic is governed by the health gate and Front
         * Door, not by the breaker). Closing needs this many successful trials. 3 with 1 tolerated failure mirrors the
         * common Front Door 4/3 sample setting (azure-facts §1.1).
         */
        successesToClose: z.number().int().min(1).max(100).default(3),
        /** Failed trials tolerated; one more reopens the breaker with a longer break. */
        toleratedFailures: z.number().int().min(0).max(100).default(1),
        /**
         * The breaker stays half-open at least this long before closing, so that a flapping origin whose healthy phases
         * are shorter than this never closes it. 2 min: two Front Door detection windows.
         */
        minDurationMs: ms.min(1).default(120_000),
      })
      .prefault({}),
    /**
     * No state is left sooner than this after entering it. 1 min: Front Door needs 30–90 s to act on its own probes
     * (azure-facts §1.1); a breaker that changes state faster than that chases noise.
     */
    minDwellMs: ms.min(1).default(60_000),
    quorum: z
      .strictObject({
        /** Open only when at least this many vantage points each satisfy a rule (N of M). */
        required: z.number().int().min(1).default(1),
        /**
         * The M known vantage points. When listed, evidence from any other vantage is ignored (and reported as such).
         * Empty: every vantage counts. GPU-readiness evidence carries the vantage `azure-monitor`.
         */
        vantages: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
    /** Transitions kept in state (oldest dropped first). */
    historyLimit: z.number().int().min(1).max(500).default(20),
  })
  .superRefine((c, ctx) => {
    const add = (path: PropertyKey[], message: string): void => {
      ctx.addIssue({ code: "custom", path, message });
    };
    if (c.breakMs < c.minDwellMs) add(["breakMs"], `must be at least minDwellMs (${c.minDwellMs})`);
    if (c.backoff.maxBreakMs < c.breakMs) add(["backoff", "maxBreakMs"], `must be at least breakMs (${c.breakMs})`);
    if (c.halfOpen.minDurationMs < c.minDwellMs)
      add(["halfOpen", "minDurationMs"], `must be at least minDwellMs (${c.minDwellMs})`);
    for (const [key, value] of [
      ["consecutiveFailures", c.consecutiveFailures],
      ["minimumCalls", c.minimumCalls],
      ["staleConsecutive", c.staleConsecutive],
    ] as const) {
      if (value > c.window.maxEntries)
        add([key], `must not exceed window.maxEntries (${c.window.maxEntries}): the rule could never be met`);
    }
    if (c.alert.corroboratingFailures > c.window.maxEntries)
      add(["alert", "corroboratingFailures"], `must not exceed window.maxEntries (${c.window.maxEntries})`);
    const known = new Set(c.quorum.vantages);
    if (known.size !== c.quorum.vantages.length) add(["quorum", "vantages"], "must not repeat a vantage");
    if (c.quorum.vantages.length > 0 && c.quorum.required > c.quorum.vantages.length)
      add(["quorum", "required"], `must not exceed the ${c.quorum.vantages.length} listed vantages`);
  });
export type BreakerConfig = z.infer<typeof breakerConfigSchema>;
export type BreakerConfigInput = z.input<typeof breakerConfigSchema>;

/** The defaults, parsed. */
export const DEFAULT_BREAKER_CONFIG: BreakerConfig = breakerConfigSchema.parse({});

/** Parses a configuration, reporting every problem at once as `CutoverError("INVALID_CONFIG")`. */
export function parseBreakerConfig(input: BreakerConfigInput = {}): BreakerConfig {
  const parsed = breakerConfigSchema.safeParse(input);
  if (!parsed.success)
    throw new CutoverError(
      "INVALID_CONFIG",
      `breaker config: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

// ------------------------------------------------------------------------------------------------------------------
// State.

export type BreakerPosition = "closed" | "open" | "half-open";

/** Why a vantage voted to open. */
export type OpenRule = "stale-model" | "consecutive-failures" | "failure-ratio" | "slow-calls" | "alert-corroborated";
export const OPEN_RULES: ReadonlyArray<OpenRule> = [
  "stale-model",
  "consecutive-failures",
  "failure-ratio",
  "slow-calls",
  "alert-corroborated",
];

export type TransitionReason = OpenRule | "break-elapsed" | "trial-failed" | "trials-succeeded";

const outcomeSchema = z.enum(["success", "failure", "slow", "stale"]);
const positionSchema = z.enum(["closed", "open", "half-open"]);

const windowEntrySchema = z.strictObject({ at: ms, vantage: z.string().min(1), outcome: outcomeSchema });
export type WindowEntry = z.infer<typeof windowEntrySchema>;

const vantageSummarySchema = z.strictObject({
  vantage: z.string(),
  calls: z.number().int().min(0),
  failures: z.number().int().min(0),
  slow: z.number().int().min(0),
  stale: z.number().int().min(0),
  /** Trailing run of failure-or-stale answers. */
  consecutiveFailures: z.number().int().min(0),
  /** Trailing run of stale answers. */
  consecutiveStale: z.number().int().min(0),
  /** The rule this vantage satisfied, if any. */
  rule: z.enum(["stale-model", "consecutive-failures", "failure-ratio", "slow-calls", "alert-corroborated"]).optional(),
});
export type VantageSummary = z.infer<typeof vantageSummarySchema>;

const evidenceSummarySchema = z.strictObject({
  vantages: z.array(vantageSummarySchema),
  /** Ids of the alerts firing at the time. */
  alerts: z.array(z.string()),
  trials: z.strictObject({ successes: z.number().int(), failures: z.number().int() }),
  /** The evidence that was being processed, or absent for a time-driven (tick) transition. */
  trigger: z
    .strictObject({
      source: z.enum(["probe", "alert", "gpu"]),
      at: ms,
      vantage: z.string().optional(),
      outcome: z.string().optional(),
    })
    .optional(),
});
export type EvidenceSummary = z.infer<typeof evidenceSummarySchema>;

const transitionSchema = z.strictObject({
  at: ms,
  from: positionSchema,
  to: positionSchema,
  reason: z.enum([
    "stale-model",
    "consecutive-failures",
    "failure-ratio",
    "slow-calls",
    "alert-corroborated",
    "break-elapsed",
    "trial-failed",
    "trials-succeeded",
  ]),
  /** One line for people: which vantages, which counts, which thresholds. */
  detail: z.string(),
  evidence: evidenceSummarySchema,
});
export type BreakerTransition = z.infer<typeof transitionSchema>;

export const breakerStateSchema = z.strictObject({
  version: z.literal(1),
  state: positionSchema,
  /** When the current state was entered (or the breaker created). */
  since: ms,
  /** Latest time seen (evidence or tick). Never goes backwards. */
  clock: ms,
  /** When the last transition happened; absent until the first one. */
  lastTransitionAt: ms.optional(),
  /** Recent probe/GPU evidence, oldest first, bounded by the window's duration and entry count. */
  window: z.array(windowEntrySchema),
  /** Alerts currently firing for the scope (latest Fired received), bounded by `alert.maxActive`. */
  alerts: z.array(z.strictObject({ alertId: z.string().min(1), firedAt: ms })),
  trialSuccesses: z.number().int().min(0),
  trialFailures: z.number().int().min(0),
  /** Back-off level of the current (or last) open period: its break is `breakMs × multiplier^level`, capped. */
  level: z.number().int().min(0),
  /** Break duration of the current (or last) open period. */
  breakMs: ms,
  /** Closed → open transitions since the breaker was created. */
  openings: z.number().int().min(0),
  transitions: z.array(transitionSchema),
});
export type BreakerState = z.infer<typeof breakerStateSchema>;

/** Parses stored breaker state (entity state is data written by a previous version). */
export function parseBreakerState(value: unknown): BreakerState {
  const parsed = breakerStateSchema.safeParse(value);
  if (!parsed.success)
    throw new CutoverError(
      "INVALID_INPUT",
      `breaker state: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

/** A new breaker, closed, created at `now` (epoch ms). Its first transition is not held back by the dwell time. */
export function createBreaker(now: number, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): BreakerState {
  assertTime(now, "now");
  return {
    version: 1,
    state: "closed",
    since: now,
    clock: now,
    window: [],
    alerts: [],
    trialSuccesses: 0,
    trialFailures: 0,
    level: 0,
    breakMs: config.breakMs,
    openings: 0,
    transitions: [],
  };
}

export interface BreakerResult {
  readonly state: BreakerState;
  /** The transition this call made, if any (also appended to `state.transitions`). */
  readonly transition?: BreakerTransition;
  /** Why the evidence was not counted (it still advanced the clock). */
  readonly ignored?: string;
}

// ------------------------------------------------------------------------------------------------------------------
// Transitions.

/** Applies one piece of evidence at `max(evidence.at, state.clock)`. */
export function breakerStep(state: BreakerState, evidence: Evidence, config: BreakerConfig): BreakerResult {
  assertTime(evidence.at, "evidence.at");
  const now = Math.max(state.clock, evidence.at);
  const trigger: EvidenceSummary["trigger"] =
    evidence.source === "alert"
      ? { source: "alert", at: evidence.at, outcome: evidence.condition }
      : { source: evidence.source, at: evidence.at, vantage: evidence.vantage, outcome: evidence.outcome };

  // Time-driven moves due at this instant come first (e.g. the break elapsed before this probe arrived); they are
  // recorded as tick transitions because this evidence did not cause them.
  const timed = decide(advance(state, now, config), config, undefined);
  let s = timed.state;
  let ignored: string | undefined;

  if (evidence.source === "alert") {
    // Alerts outlive transitions (an alert is about the scope, not about one state), so a late one still counts.
    if (evidence.condition === "Fired" && now - evidence.at >= config.alert.ttlMs)
      ignored = `alert ${evidence.alertId} fired at ${evidence.at}, longer ago than its ${config.alert.ttlMs} ms time to live`;
    else s = applyAlert(s, evidence.alertId, evidence.condition, evidence.at, config);
  } else if (evidence.at < s.since) {
    ignored = `evidence at ${evidence.at} predates the ${s.state} state entered at ${s.since}`;
  } else if (config.quorum.vantages.length > 0 && !config.quorum.vantages.includes(evidence.vantage)) {
    ignored = `vantage ${evidence.vantage} is not one of the configured vantages (${config.quorum.vantages.join(", ")})`;
  } else if (evidence.at <= now - config.window.durationMs) {
    ignored = `evidence at ${evidence.at} is older than the ${config.window.durationMs} ms window`;
  } else {
    const entry: WindowEntry = { at: evidence.at, vantage: evidence.vantage, outcome: evidence.outcome };
    s = { ...s, window: prune(insertSorted(s.window, entry), now, config) };
    if (s.state === "half-open") {
      if (evidence.outcome === "success") s = { ...s, trialSuccesses: s.trialSuccesses + 1 };
      else s = { ...s, trialFailures: s.trialFailures + 1 };
    }
  }

  if (timed.transition !== undefined) return withIgnored({ state: s, transition: timed.transition }, ignored);
  return withIgnored(decide(s, config, trigger), ignored);
}

/** Time-driven moves: open → half-open once the break has elapsed, and decisions the dwell time held back. */
export function breakerTick(state: BreakerState, now: number, config: BreakerConfig): BreakerResult {
  assertTime(now, "now");
  return decide(advance(state, Math.max(state.clock, now), config), config, undefined);
}

function withIgnored(result: BreakerResult, ignored: string | undefined): BreakerResult {
  return ignored === undefined ? result : { ...result, ignored };
}

function assertTime(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new CutoverError(
      "INVALID_INPUT",
      `${name}: expected epoch milliseconds (a non-negative integer), got ${value}`,
    );
}

/** Moves the clock to `now` and forgets what fell out of the window or expired. */
function advance(state: BreakerState, now: number, config: BreakerConfig): BreakerState {
  const alerts = state.alerts.filter((a) => now - a.firedAt < config.alert.ttlMs);
  return { ...state, clock: now, window: prune(state.window, now, config), alerts };
}

function prune(window: ReadonlyArray<WindowEntry>, now: number, config: BreakerConfig): WindowEntry[] {
  const fresh = window.filter((e) => e.at > now - config.window.durationMs);
  return fresh.length > config.window.maxEntries ? fresh.slice(fresh.length - config.window.maxEntries) : fresh;
}

function insertSorted(window: ReadonlyArray<WindowEntry>, entry: WindowEntry): WindowEntry[] {
  let i = window.length;
  while (i > 0 && (window[i - 1] as WindowEntry).at > entry.at) i--;
  return [...window.slice(0, i), entry, ...window.slice(i)];
}

/** Alerts are applied in arrival order: a Resolved withdraws the alert, a (repeated) Fired refreshes it. */
function applyAlert(
  state: BreakerState,
  alertId: string,
  condition: "Fired" | "Resolved",
  at: number,
  config: BreakerConfig,
): BreakerState {
  const others = state.alerts.filter((a) => a.alertId !== alertId);
  if (condition === "Resolved") return { ...state, alerts: others };
  const previous = state.alerts.find((a) => a.alertId === alertId)?.firedAt ?? at;
  const alerts = [...others, { alertId, firedAt: Math.max(previous, at) }];
  return { ...state, alerts: alerts.slice(Math.max(0, alerts.length - config.alert.maxActive)) };
}

function dwellElapsed(state: BreakerState, config: BreakerConfig): boolean {
  return state.lastTransitionAt === undefined || state.clock - state.lastTransitionAt >= config.minDwellMs;
}

/** The break for an open period at `level`: `breakMs × multiplier^level`, capped at `maxBreakMs`. */
export function breakDurationAt(level: number, config: BreakerConfig): number {
  const raw = config.breakMs * Math.pow(config.backoff.multiplier, level);
  return Math.min(config.backoff.maxBreakMs, Math.round(raw));
}

function decide(state: BreakerState, config: BreakerConfig, trigger: EvidenceSummary["trigger"]): BreakerResult {
  switch (state.state) {
    case "closed": {
      if (!dwellElapsed(state, config)) return { state };
      const evaluation = evaluateOpening(state, config);
      if (!evaluation.open) return { state };
      // A relapse soon after closing backs off; a scope that stayed closed for `resetAfterMs` starts afresh.
      const calm = state.openings === 0 || state.clock - state.since >= config.backoff.resetAfterMs;
      const level = calm ? 0 : state.level + 1;
      const voters = evaluation.summary.vantages.filter((v) => v.rule !== undefined);
      return transition(
        { ...state, level, breakMs: breakDurationAt(level, config), openings: state.openings + 1 },
        "open",
        evaluation.reason,
        `${voters.length} of ${evaluation.considered} vantage(s) agree (quorum ${config.quorum.required}): ` +
          voters.map((v) => `${v.vantage} ${describeRule(v, config)}`).join("; ") +
          `; break ${breakDurationAt(level, config)} ms (level ${level})`,
        { ...evaluation.summary, trigger },
        config,
      );
    }
    case "open": {
      if (state.clock - state.since < state.breakMs) return { state };
      return transition(
        state,
        "half-open",
        "break-elapsed",
        `break of ${state.breakMs} ms elapsed; trying the scope for at least ${config.halfOpen.minDurationMs} ms`,
        { ...summarize(state, config).summary, trigger },
        config,
      );
    }
    case "half-open": {
      if (!dwellElapsed(state, config)) return { state };
      const summary = { ...summarize(state, config).summary, trigger };
      const trials = state.trialSuccesses + state.trialFailures;
      if (state.trialFailures > config.halfOpen.toleratedFailures) {
        const level = state.level + 1;
        const breakMs = breakDurationAt(level, config);
        return transition(
          { ...state, level, breakMs },
          "open",
          "trial-failed",
          `${state.trialFailures} of ${trials} trial(s) failed (${config.halfOpen.toleratedFailures} tolerated); break ${breakMs} ms (level ${level})`,
          summary,
          config,
        );
      }
      if (
        state.trialSuccesses >= config.halfOpen.successesToClose &&
        state.clock - state.since >= config.halfOpen.minDurationMs &&
        state.alerts.length === 0
      ) {
        return transition(
          state,
          "closed",
          "trials-succeeded",
          `${state.trialSuccesses} of ${trials} trial(s) succeeded (${config.halfOpen.successesToClose} needed) over ${state.clock - state.since} ms`,
          summary,
          config,
        );
      }
      return { state };
    }
  }
}

function transition(
  state: BreakerState,
  to: BreakerPosition,
  reason: TransitionReason,
  detail: string,
  evidence: EvidenceSummary,
  config: BreakerConfig,
): BreakerResult {
  const record: BreakerTransition = { at: state.clock, from: state.state, to, reason, detail, evidence };
  const transitions = [...state.transitions, record];
  return {
    state: {
      ...state,
      state: to,
      since: state.clock,
      lastTransitionAt: state.clock,
      // Each state starts with a fresh window and fresh trials: evidence from before a transition never counts twice.
      window: [],
      trialSuccesses: 0,
      trialFailures: 0,
      transitions: transitions.slice(Math.max(0, transitions.length - config.historyLimit)),
    },
    transition: record,
  };
}

// ------------------------------------------------------------------------------------------------------------------
// Rule evaluation.

interface Evaluation {
  readonly open: boolean;
  readonly reason: OpenRule;
  readonly considered: number;
  readonly summary: EvidenceSummary;
}

/** Per-vantage statistics over the window (oldest first) and the first rule each satisfies. */
export function vantageSummaries(
  window: ReadonlyArray<WindowEntry>,
  alertFiring: boolean,
  config: BreakerConfig,
): VantageSummary[] {
  const byVantage = new Map<string, ProbeOutcome[]>();
  for (const e of window) {
    if (config.quorum.vantages.length > 0 && !config.quorum.vantages.includes(e.vantage)) continue;
    const list = byVantage.get(e.vantage) ?? [];
    list.push(e.outcome);
    byVantage.set(e.vantage, list);
  }
  const out: VantageSummary[] = [];
  for (const [vantage, outcomes] of [...byVantage.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const calls = outcomes.length;
    const failures = outcomes.filter((o) => o === "failure").length;
    const slow = outcomes.filter((o) => o === "slow").length;
    const stale = outcomes.filter((o) => o === "stale").length;
    const consecutiveFailures = trailing(outcomes, (o) => o === "failure" || o === "stale");
    const consecutiveStale = trailing(outcomes, (o) => o === "stale");
    const base = { vantage, calls, failures, slow, stale, consecutiveFailures, consecutiveStale };
    const rule = ruleFor(base, alertFiring, config);
    out.push(rule === undefined ? base : { ...base, rule });
  }
  return out;
}

function trailing(outcomes: ReadonlyArray<ProbeOutcome>, match: (o: ProbeOutcome) => boolean): number {
  let n = 0;
  for (let i = outcomes.length - 1; i >= 0 && match(outcomes[i] as ProbeOutcome); i--) n++;
  return n;
}

/** The first opening rule a vantage's statistics satisfy, in {@link OPEN_RULES} order. */
export function ruleFor(
  v: Omit<VantageSummary, "rule" | "vantage">,
  alertFiring: boolean,
  config: BreakerConfig,
): OpenRule | undefined {
  if (v.consecutiveStale >= config.staleConsecutive) return "stale-model";
  if (v.consecutiveFailures >= config.consecutiveFailures) return "consecutive-failures";
  if (v.calls >= config.minimumCalls && (v.failures + v.stale) / v.calls >= config.failureRatio) return "failure-ratio";
  if (v.calls >= config.minimumCalls && v.slow / v.calls >= config.slowCallRatio) return "slow-calls";
  if (alertFiring && v.consecutiveFailures >= config.alert.corroboratingFailures) return "alert-corroborated";
  return undefined;
}

function summarize(state: BreakerState, config: BreakerConfig): { summary: EvidenceSummary } {
  return {
    summary: {
      vantages: vantageSummaries(state.window, state.alerts.length > 0, config),
      alerts: state.alerts.map((a) => a.alertId),
      trials: { successes: state.trialSuccesses, failures: state.trialFailures },
    },
  };
}

function evaluateOpening(state: BreakerState, config: BreakerConfig): Evaluation {
  const { summary } = summarize(state, config);
  const voters = summary.vantages.filter((v) => v.rule !== undefined);
  // The recorded reason is the rule most voters satisfied (ties go to the earlier rule in OPEN_RULES).
  let reason: OpenRule = "consecutive-failures";
  let best = 0;
  for (const rule of OPEN_RULES) {
    const count = voters.filter((v) => v.rule === rule).length;
    if (count > best) {
      best = count;
      reason = rule;
    }
  }
  return {
    open: voters.length >= config.quorum.required,
    reason,
    considered: config.quorum.vantages.length > 0 ? config.quorum.vantages.length : summary.vantages.length,
    summary,
  };
}

function describeRule(v: VantageSummary, config: BreakerConfig): string {
  switch (v.rule) {
    case "stale-model":
      return `stale model ${v.consecutiveStale}× in a row (≥ ${config.staleConsecutive})`;
    case "consecutive-failures":
      return `${v.consecutiveFailures} failures in a row (≥ ${config.consecutiveFailures})`;
    case "failure-ratio":
      return `${v.failures + v.stale}/${v.calls} failed (≥ ${config.failureRatio})`;
    case "slow-calls":
      return `${v.slow}/${v.calls} slow (≥ ${config.slowCallRatio})`;
    case "alert-corroborated":
      return `alert firing and ${v.consecutiveFailures} failure(s) in a row (≥ ${config.alert.corroboratingFailures})`;
    case undefined:
      return "no rule";
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Bounds and views.

/**
 * The most closed → open transitions any horizon of `horizonMs` can hold, given the dwell time and the back-off.
 *
 * Between one opening at back-off level l and the next, the breaker is open for at least `breakDurationAt(l)`,
 * half-open for at least `halfOpen.minDurationMs`, and closed for at least `minDwellMs`; the next opening is at level l + 1, or at
 * level 0 if it stayed closed for `resetAfterMs`. Failed trials only add time. The fastest sequence starts at level 0
 * and picks, cycle by cycle, whichever of "relapse quickly" and "wait for the reset" is cheaper; this computes it
 * exactly by dynamic programming over the (capped) levels.
 */
export function maxOpeningsWithin(horizonMs: number, config: BreakerConfig): number {
  if (horizonMs < 0) return 0;
  const d = config.minDwellMs;
  const half = Math.max(d, config.halfOpen.minDurationMs);
  const reset = Math.max(d, config.backoff.resetAfterMs);
  // Levels beyond the cap all have the maximum break.
  let cap = 0;
  while (breakDurationAt(cap, config) < config.backoff.maxBreakMs && cap < 64) cap++;
  // t[l] = fastest time from an opening at level l to n further openings.
  let t = new Array<number>(cap + 1).fill(0);
  let n = 0;
  for (;;) {
    const prev = t;
    t = prev.map((_, l) => {
      const b = breakDurationAt(l, config);
      const quick = b + half + d + (prev[Math.min(l + 1, cap)] as number);
      const calm = b + half + reset + (prev[0] as number);
      return Math.min(quick, calm);
    });
    if ((t[0] as number) > horizonMs) return n + 1;
    n++;
    if (n > 10_000_000) return n + 1;
  }
}

/** A read-only view for the API: where the breaker stands and what it is waiting for. */
export interface BreakerView {
  readonly state: BreakerPosition;
  readonly since: number;
  /** For an open breaker: when it turns half-open. */
  readonly halfOpenAt?: number;
  /** Earliest time the dwell allows the next transition. */
  readonly earliestTransitionAt: number;
  readonly level: number;
  readonly openings: number;
  readonly vantages: ReadonlyArray<VantageSummary>;
  readonly alerts: ReadonlyArray<string>;
  readonly trials?: { readonly successes: number; readonly failures: number };
  readonly lastTransition?: BreakerTransition;
}

export function describeBreaker(state: BreakerState, config: BreakerConfig): BreakerView {
  const last = state.transitions[state.transitions.length - 1];
  const earliest = state.lastTransitionAt === undefined ? state.since : state.lastTransitionAt + config.minDwellMs;
  return {
    state: state.state,
    since: state.since,
    ...(state.state === "open" ? { halfOpenAt: state.since + state.breakMs } : {}),
    earliestTransitionAt: state.state === "open" ? state.since + state.breakMs : earliest,
    level: state.level,
    openings: state.openings,
    vantages: vantageSummaries(state.window, state.alerts.length > 0, config),
    alerts: state.alerts.map((a) => a.alertId),
    ...(state.state === "half-open"
      ? {
          trials: { successes: state.trialSuccesses, failures: state.trialFailures },
        }
      : {}),
    ...(last === undefined ? {} : { lastTransition: last }),
  };
}
