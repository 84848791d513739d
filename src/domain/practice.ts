/**
 * Practice runs (scheduled drills): when a workload's failover is rehearsed, when it must not be, and whether a
 * rehearsal passed.
 *
 * Why: a failover path that is never exercised rots (quota changes, a model store that stopped replicating, a pool that
 * can no longer allocate). Drills find that before an incident does — but a drill during an incident, a firing alert,
 * a change freeze or business hours is itself an incident. So a drill runs only when its schedule says so, inside an
 * allowed window, outside every blocked window and blackout, and when nothing is wrong with the workload; otherwise
 * the occurrence is skipped with every reason recorded.
 *
 * Invariants:
 * - Pure: `now` is a parameter (epoch ms); schedules are six-field NCRONTAB in UTC (`{second} {minute} {hour} {day}
 *   {month} {day-of-week}`, the timer trigger's format, day and weekday combined with AND), parsed by croner.
 * - One decision per occurrence: the caller passes the last occurrence it decided, and an occurrence at or before it
 *   is never decided again (a timer that fires twice, or a host restart, does not run a drill twice). Only the latest
 *   due occurrence is considered; one older than `maxLatenessMs` is skipped as `MISSED`.
 * - The whole run, `[now, now + expectedDurationMs)`, must fit inside one allowed window (when any are listed) and
 *   must touch no blocked window or blackout.
 * - Practice has the lowest precedence (./shift): any active shift, incident, firing alert or breaker that is not
 *   closed skips the run.
 */
import { Cron } from "croner";
import { z } from "zod";
import { CutoverError } from "./errors";
import { formatPath, zoneSchema } from "./schema-common";

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const DAY_MS = 86_400_000;
const hhmm = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

function minutesOf(text: string): number {
  const [h, m] = text.split(":").map(Number);
  return (h as number) * 60 + (m as number);
}

/** A weekly window in UTC. `end` before `start` crosses midnight into the next day; `24:00` is the end of the day. */
export const weeklyWindowSchema = z
  .strictObject({
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .default([...WEEKDAYS]),
    start: z.string().regex(hhmm, "expected HH:MM (UTC)"),
    end: z.string().regex(hhmm, "expected HH:MM (UTC) or 24:00"),
  })
  .refine((w) => !hhmm.test(w.start) || !hhmm.test(w.end) || w.start !== w.end, {
    path: ["end"],
    message: "must differ from start (use 00:00 to 24:00 for a whole day)",
  })
  .refine((w) => w.start !== "24:00", { path: ["start"], message: "24:00 is only allowed as an end" });
export type WeeklyWindow = z.infer<typeof weeklyWindowSchema>;

export const blackoutSchema = z
  .strictObject({ from: z.iso.datetime(), to: z.iso.datetime(), reason: z.string().min(1) })
  .refine((b) => Date.parse(b.to) > Date.parse(b.from), { path: ["to"], message: "must be after from" });
export type Blackout = z.infer<typeof blackoutSchema>;

function validCron(expression: string): boolean {
  try {
    new Cron(expression, { timezone: "Etc/UTC", mode: "6-part", domAndDow: true });
    return true;
  } catch {
    return false;
  }
}

export const practiceScheduleSchema = z.strictObject({
  workload: z.string().min(1),
  /** Six-field NCRONTAB in UTC, e.g. `0 0 3 * * 2` (Tuesdays 03:00). */
  schedule: z.string().refine(validCron, {
    message: "expected six-field NCRONTAB ({second} {minute} {hour} {day} {month} {day-of-week}), e.g. 0 0 3 * * 2",
  }),
  /** The scope the drill fails away from. */
  scope: z.strictObject({ region: z.string().min(1), zone: zoneSchema.optional() }),
  mode: z.enum(["dry-run", "live"]).default("dry-run"),
  enabled: z.boolean().default(true),
  /**
   * How long a run takes, for the window checks. 1 h: a live drill's failover (RTO objective ≤ 15 min, Front Door
   * propagation up to 20 min) plus verification; shorten it for dry runs, which take minutes.
   */
  expectedDurationMs: z.number().int().min(1).max(DAY_MS).default(3_600_000),
  /** The run must fit inside one of these; empty: any time. */
  allowed: z.array(weeklyWindowSchema).default([]),
  /** The run must not touch any of these. */
  blocked: z.array(weeklyWindowSchema).default([]),
  /** One-off periods (change freezes, launches) the run must not touch. */
  blackouts: z.array(blackoutSchema).default([]),
  /** An occurrence noticed later than this is skipped as missed, not run late. 15 min. */
  maxLatenessMs: z.number().int().min(0).default(900_000),
});
export type PracticeSchedule = z.infer<typeof practiceScheduleSchema>;
export type PracticeScheduleInput = z.input<typeof practiceScheduleSchema>;

/** Parses a schedule, reporting every problem at once as `CutoverError("INVALID_CONFIG")`. */
export function parsePracticeSchedule(input: unknown): PracticeSchedule {
  const parsed = practiceScheduleSchema.safeParse(input);
  if (!parsed.success)
    throw new CutoverError(
      "INVALID_CONFIG",
      `practice schedule: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

/** What is true of the workload right now, as far as a drill is concerned. */
export interface PracticeConditions {
  /** The latest occurrence already decided (run or skipped), epoch ms. */
  readonly lastOccurrenceAt?: number;
  /** Failovers or incidents in progress for the workload. */
  readonly activeIncidents?: ReadonlyArray<{ readonly id: string }>;
  /** Alerts firing for any of the workload's scopes. */
  readonly firingAlerts?: ReadonlyArray<{ readonly id: string }>;
  /** The workload's active shift, if any (./shift). */
  readonly activeShift?: { readonly id: string; readonly kind: "manual" | "automatic" | "practice" };
  /** The workload's breakers. */
  readonly breakers?: ReadonlyArray<{
    readonly region: string;
    readonly zone?: string;
    readonly state: "closed" | "open" | "half-open";
  }>;
}

export type SkipCode =
  | "DISABLED"
  | "MISSED"
  | "OUTSIDE_ALLOWED_WINDOW"
  | "IN_BLOCKED_WINDOW"
  | "IN_BLACKOUT"
  | "ACTIVE_INCIDENT"
  | "FIRING_ALERT"
  | "SHIFT_HELD"
  | "BREAKER_NOT_CLOSED";

export interface Reason<C extends string> {
  readonly code: C;
  readonly detail: string;
}

export type PracticeDecision =
  | { readonly decision: "idle"; readonly next: number | null }
  | {
      readonly decision: "run";
      readonly occurrence: number;
      readonly workload: string;
      readonly scope: PracticeSchedule["scope"];
      readonly mode: "dry-run" | "live";
      readonly expectedEndAt: number;
    }
  | {
      readonly decision: "skip";
      readonly occurrence: number;
      readonly workload: string;
      readonly reasons: ReadonlyArray<Reason<SkipCode>>;
    };

function cronOf(schedule: PracticeSchedule): Cron {
  return new Cron(schedule.schedule, { timezone: "Etc/UTC", mode: "6-part", domAndDow: true });
}

/** The next occurrence strictly after `after`, or null when the schedule has no more. */
export function nextPracticeRun(schedule: PracticeSchedule, after: number): number | null {
  return cronOf(schedule).nextRun(new Date(after))?.getTime() ?? null;
}

/** The latest occurrence at or before `now`, or null. */
export function latestPracticeRun(schedule: PracticeSchedule, now: number): number | null {
  return (
    cronOf(schedule)
      .previousRuns(1, new Date(now + 1))[0]
      ?.getTime() ?? null
  );
}

/** Concrete UTC intervals `[start, end)` of weekly windows that may touch `[from, to)`. */
export function windowIntervals(
  windows: ReadonlyArray<WeeklyWindow>,
  from: number,
  to: number,
): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  const firstDay = Math.floor(from / DAY_MS) - 1;
  const lastDay = Math.floor(to / DAY_MS);
  for (let day = firstDay; day <= lastDay; day++) {
    const midnight = day * DAY_MS;
    const weekday = WEEKDAYS[new Date(midnight).getUTCDay()] as Weekday;
    for (const w of windows) {
      if (!w.days.includes(weekday)) continue;
      const start = midnight + minutesOf(w.start) * 60_000;
      const endMinutes = minutesOf(w.end);
      const end = midnight + (endMinutes <= minutesOf(w.start) ? DAY_MS : 0) + endMinutes * 60_000;
      if (end > from && start < to) out.push([start, end]);
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Whether `[from, to)` lies inside the union of the intervals (touching intervals join). */
function covered(intervals: ReadonlyArray<readonly [number, number]>, from: number, to: number): boolean {
  let reach = from;
  for (const [start, end] of intervals) {
    if (start > reach) break;
    if (end > reach) reach = end;
    if (reach >= to) return true;
  }
  return reach >= to;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Decides whether the workload's practice run is due now and may run. Throws `CutoverError("INVALID_CONFIG")` for a
 * malformed schedule; every other outcome is returned.
 */
export function decidePracticeRun(
  now: number,
  scheduleInput: PracticeScheduleInput,
  conditions: PracticeConditions = {},
): PracticeDecision {
  if (!Number.isSafeInteger(now) || now < 0)
    throw new CutoverError("INVALID_INPUT", `now: expected epoch milliseconds (a non-negative integer), got ${now}`);
  const schedule = parsePracticeSchedule(scheduleInput);
  const occurrence = latestPracticeRun(schedule, now);
  if (occurrence === null || (conditions.lastOccurrenceAt !== undefined && occurrence <= conditions.lastOccurrenceAt))
    return { decision: "idle", next: nextPracticeRun(schedule, now) };

  const reasons: Array<Reason<SkipCode>> = [];
  const add = (code: SkipCode, detail: string): void => {
    reasons.push({ code, detail });
  };
  if (!schedule.enabled) add("DISABLED", "the practice schedule is disabled");
  if (now - occurrence > schedule.maxLatenessMs)
    add(
      "MISSED",
      `the ${iso(occurrence)} occurrence was noticed ${Math.round((now - occurrence) / 1000)} s late (at most ${Math.round(schedule.maxLatenessMs / 1000)} s)`,
    );

  const end = now + schedule.expectedDurationMs;
  const span = `${iso(now)} to ${iso(end)}`;
  if (schedule.allowed.length > 0 && !covered(windowIntervals(schedule.allowed, now, end), now, end))
    add("OUTSIDE_ALLOWED_WINDOW", `the run (${span}) does not fit inside an allowed window`);
  const blocked = windowIntervals(schedule.blocked, now, end).find(([s, e]) => s < end && e > now);
  if (blocked !== undefined)
    add("IN_BLOCKED_WINDOW", `the run (${span}) touches the blocked window ${iso(blocked[0])} to ${iso(blocked[1])}`);
  for (const b of schedule.blackouts) {
    if (Date.parse(b.from) < end && Date.parse(b.to) > now)
      add("IN_BLACKOUT", `the run (${span}) touches the blackout ${b.from} to ${b.to}: ${b.reason}`);
  }

  for (const incident of conditions.activeIncidents ?? []) add("ACTIVE_INCIDENT", `incident ${incident.id} is active`);
  const alerts = conditions.firingAlerts ?? [];
  if (alerts.length > 0) add("FIRING_ALERT", `alert(s) firing: ${alerts.map((a) => a.id).join(", ")}`);
  const shift = conditions.activeShift;
  if (shift !== undefined)
    add(
      "SHIFT_HELD",
      `${shift.kind} shift ${shift.id} holds the workload (practice has the lowest precedence and does not join)`,
    );
  for (const b of conditions.breakers ?? []) {
    if (b.state !== "closed")
      add(
        "BREAKER_NOT_CLOSED",
        `the ${b.region}${b.zone === undefined ? "" : ` zone ${b.zone}`} breaker is ${b.state}`,
      );
  }

  if (reasons.length > 0) return { decision: "skip", occurrence, workload: schedule.workload, reasons };
  return {
    decision: "run",
    occurrence,
    workload: schedule.workload,
    scope: schedule.scope,
    mode: schedule.mode,
    expectedEndAt: end,
  };
}

// ------------------------------------------------------------------------------------------------------------------
// Grading.

export type GradeCode =
  | "RUN_FAILED"
  | "CAPACITY_CHECK_FAILED"
  | "MODEL_MISSING"
  | "READINESS_FAILED"
  | "RTO_OVER_OBJECTIVE"
  | "RTO_NOT_MEASURED";

export type PracticeCheckKind = "capacity" | "model" | "endpoint" | "access" | "training" | "other";

export interface PracticeCheck {
  readonly kind: PracticeCheckKind;
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** What a drill produced: the failover report's outcome, RTO figures and readiness checks. */
export interface PracticeReport {
  readonly mode: "dry-run" | "live";
  /** The failover runbook's outcome (`succeeded`, `failed`, `aborted`, `refused`, `not-confirmed`, `dry-run`). */
  readonly outcome: string;
  /** Measured RTO of a live run. */
  readonly rtoSeconds?: number;
  /** The plan's predicted RTO (what a dry run is graded on). */
  readonly predictedRtoSeconds?: number;
  readonly checks: ReadonlyArray<PracticeCheck>;
  /** The runbook's own reasons (refusals, failures). */
  readonly reasons?: ReadonlyArray<string>;
}

export interface PracticeObjectives {
  /** The workload's RTO objective (`slo.rtoSeconds`). */
  readonly rtoSeconds: number;
}

export interface PracticeGrade {
  readonly result: "pass" | "fail";
  readonly reasons: ReadonlyArray<Reason<GradeCode>>;
}

/**
 * Maps the failover runbook's dry-run readiness checks (named `read access`, `model in <region>`,
 * `endpoint in <region>`, `capacity <region>/<pool>`, `training checkpoint`) onto check kinds.
 */
export function practiceChecksFromReadiness(
  readiness: ReadonlyArray<{ readonly check: string; readonly ok: boolean; readonly detail: string }>,
): PracticeCheck[] {
  return readiness.map((r) => {
    const kind: PracticeCheckKind = r.check.startsWith("capacity ")
      ? "capacity"
      : r.check.startsWith("model in ")
        ? "model"
        : r.check.startsWith("endpoint in ")
          ? "endpoint"
          : r.check === "read access"
            ? "access"
            : r.check.startsWith("training")
              ? "training"
              : "other";
    return { kind, name: r.check, ok: r.ok, detail: r.detail };
  });
}

const FAILED_OUTCOMES = new Set(["failed", "aborted", "refused", "not-confirmed"]);

/** Grades a drill against the workload's objectives: pass only when every check passed and the RTO is inside. */
export function gradePracticeRun(report: PracticeReport, objectives: PracticeObjectives): PracticeGrade {
  const reasons: Array<Reason<GradeCode>> = [];
  const add = (code: GradeCode, detail: string): void => {
    reasons.push({ code, detail });
  };
  if (FAILED_OUTCOMES.has(report.outcome) || (report.mode === "live" && report.outcome === "dry-run"))
    add(
      "RUN_FAILED",
      `the ${report.mode} run ended ${report.outcome}${report.reasons === undefined || report.reasons.length === 0 ? "" : `: ${report.reasons.join("; ")}`}`,
    );
  for (const c of report.checks) {
    if (c.ok) continue;
    const code: GradeCode =
      c.kind === "capacity" ? "CAPACITY_CHECK_FAILED" : c.kind === "model" ? "MODEL_MISSING" : "READINESS_FAILED";
    add(code, `${c.name}: ${c.detail}`);
  }
  if (report.mode === "live") {
    if (report.rtoSeconds === undefined) {
      if (report.outcome === "succeeded") add("RTO_NOT_MEASURED", "the live run succeeded without a measured RTO");
    } else if (report.rtoSeconds > objectives.rtoSeconds)
      add("RTO_OVER_OBJECTIVE", `measured RTO ${report.rtoSeconds} s exceeds the ${objectives.rtoSeconds} s objective`);
  } else if (report.predictedRtoSeconds !== undefined && report.predictedRtoSeconds > objectives.rtoSeconds) {
    add(
      "RTO_OVER_OBJECTIVE",
      `predicted RTO ${report.predictedRtoSeconds} s exceeds the ${objectives.rtoSeconds} s objective`,
    );
  }
  return { result: reasons.length === 0 ? "pass" : "fail", reasons };
}

// ------------------------------------------------------------------------------------------------------------------
// Results kept for the API.

export const practiceResultSchema = z.strictObject({
  workload: z.string().min(1),
  occurrence: z.number().int().min(0),
  decidedAt: z.number().int().min(0),
  decision: z.enum(["run", "skip"]),
  mode: z.enum(["dry-run", "live"]),
  /** Skip reasons, or the grade's reasons once the run is graded. */
  reasons: z.array(z.strictObject({ code: z.string(), detail: z.string() })),
  result: z.enum(["pending", "pass", "fail", "skipped"]),
  /** The failover instance that ran the drill, when it ran. */
  runId: z.string().optional(),
  /** When the run was graded (epoch ms). */
  gradedAt: z.number().int().min(0).optional(),
  /** The run's RTO figures, once graded: measured (live) and predicted (both modes). */
  rtoSeconds: z.number().min(0).optional(),
  predictedRtoSeconds: z.number().min(0).optional(),
});
export type PracticeResult = z.infer<typeof practiceResultSchema>;

/** Appends (or replaces, by workload and occurrence) a result, keeping the newest `limit`, oldest first. */
export function recordPracticeResult(
  log: ReadonlyArray<PracticeResult>,
  result: PracticeResult,
  limit = 100,
): PracticeResult[] {
  const parsed = practiceResultSchema.safeParse(result);
  if (!parsed.success)
    throw new CutoverError(
      "INVALID_INPUT",
      `practice result: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")}`,
    );
  const rest = log.filter((r) => !(r.workload === result.workload && r.occurrence === result.occurrence));
  const next = [...rest, parsed.data].sort((a, b) => a.occurrence - b.occurrence || a.decidedAt - b.decidedAt);
  return next.slice(Math.max(0, next.length - limit));
}
