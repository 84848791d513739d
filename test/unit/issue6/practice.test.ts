import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decidePracticeRun,
  gradePracticeRun,
  latestPracticeRun,
  nextPracticeRun,
  parsePracticeSchedule,
  practiceChecksFromReadiness,
  recordPracticeResult,
  WEEKDAYS,
  type PracticeReport,
  type PracticeResult,
  type PracticeScheduleInput,
  type WeeklyWindow,
} from "../../../src/domain/practice";

const MIN = 60_000;
const at = (iso: string): number => Date.parse(iso);
// 2030-01-01 is a Tuesday.
const TUE_3AM = at("2030-01-01T03:00:00Z");

const schedule = (overrides: Partial<PracticeScheduleInput> = {}): PracticeScheduleInput => ({
  workload: "chat",
  schedule: "0 0 3 * * 2",
  scope: { region: "eastus2" },
  ...overrides,
});

describe("decidePracticeRun: schedule", () => {
  it("runs the occurrence that is due, with its scope, mode and expected end", () => {
    expect(decidePracticeRun(TUE_3AM + 30_000, schedule({ mode: "live" }))).toEqual({
      decision: "run",
      occurrence: TUE_3AM,
      workload: "chat",
      scope: { region: "eastus2" },
      mode: "live",
      expectedEndAt: TUE_3AM + 30_000 + 60 * MIN,
    });
  });

  it("is idle before the occurrence, and after it has been decided once", () => {
    expect(decidePracticeRun(TUE_3AM - 1, schedule(), { lastOccurrenceAt: TUE_3AM - 7 * 24 * 60 * MIN })).toEqual({
      decision: "idle",
      next: TUE_3AM,
    });
    expect(decidePracticeRun(TUE_3AM + MIN, schedule(), { lastOccurrenceAt: TUE_3AM })).toEqual({
      decision: "idle",
      next: at("2030-01-08T03:00:00Z"),
    });
  });

  it("skips an occurrence noticed too late instead of running it late", () => {
    const d = decidePracticeRun(TUE_3AM + 20 * MIN, schedule());
    expect(d).toMatchObject({ decision: "skip", occurrence: TUE_3AM });
    expect(d.decision === "skip" ? d.reasons : []).toEqual([
      { code: "MISSED", detail: "the 2030-01-01T03:00:00.000Z occurrence was noticed 1200 s late (at most 900 s)" },
    ]);
  });

  it("skips a disabled schedule", () => {
    const d = decidePracticeRun(TUE_3AM, schedule({ enabled: false }));
    expect(d.decision === "skip" ? d.reasons.map((r) => r.code) : d.decision).toEqual(["DISABLED"]);
  });

  it("finds occurrences with NCRONTAB seconds and weekday fields", () => {
    const s = parsePracticeSchedule(schedule({ schedule: "30 15 */6 * * 1-5" }));
    expect(latestPracticeRun(s, at("2030-01-01T13:00:00Z"))).toBe(at("2030-01-01T12:15:30Z"));
    expect(nextPracticeRun(s, at("2030-01-04T19:00:00Z"))).toBe(at("2030-01-07T00:15:30Z"));
  });
});

describe("decidePracticeRun: windows", () => {
  const run = (overrides: Partial<PracticeScheduleInput>) =>
    decidePracticeRun(TUE_3AM, schedule({ expectedDurationMs: 60 * MIN, ...overrides }));
  const codes = (d: ReturnType<typeof decidePracticeRun>) =>
    d.decision === "skip" ? d.reasons.map((r) => r.code) : d.decision;

  it("needs the whole run inside an allowed window", () => {
    expect(codes(run({ allowed: [{ days: ["tue"], start: "02:00", end: "03:59" }] }))).toEqual([
      "OUTSIDE_ALLOWED_WINDOW",
    ]);
    expect(codes(run({ allowed: [{ days: ["tue"], start: "02:00", end: "04:00" }] }))).toBe("run");
    expect(codes(run({ allowed: [{ days: ["wed"], start: "02:00", end: "05:00" }] }))).toEqual([
      "OUTSIDE_ALLOWED_WINDOW",
    ]);
  });

  it("joins touching windows and follows windows across midnight", () => {
    const touching: WeeklyWindow[] = [
      { days: ["tue"], start: "01:00", end: "03:30" },
      { days: ["tue"], start: "03:30", end: "05:00" },
    ];
    expect(codes(run({ allowed: touching }))).toBe("run");
    expect(codes(run({ allowed: [{ days: ["mon"], start: "22:00", end: "04:30" }] }))).toBe("run");
    expect(codes(run({ allowed: [{ days: ["tue"], start: "22:00", end: "04:30" }] }))).toEqual([
      "OUTSIDE_ALLOWED_WINDOW",
    ]);
  });

  it("refuses a run that touches a blocked window or a blackout", () => {
    expect(codes(run({ blocked: [{ days: ["tue"], start: "03:59", end: "09:00" }] }))).toEqual(["IN_BLOCKED_WINDOW"]);
    expect(codes(run({ blocked: [{ days: ["tue"], start: "04:00", end: "09:00" }] }))).toBe("run");
    expect(codes(run({ blocked: [{ days: ["mon"], start: "23:00", end: "03:01" }] }))).toEqual(["IN_BLOCKED_WINDOW"]);
    const d = run({
      blackouts: [{ from: "2030-01-01T00:00:00Z", to: "2030-01-02T00:00:00Z", reason: "year-end freeze" }],
    });
    expect(d.decision === "skip" ? d.reasons[0]!.detail : "").toContain("year-end freeze");
  });

  it("matches a brute-force minute-by-minute check of random windows", () => {
    const windowArb = fc
      .record({
        days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
        start: fc.integer({ min: 0, max: 23 * 60 + 59 }),
        end: fc.integer({ min: 1, max: 24 * 60 }),
      })
      .filter((w) => w.start !== w.end)
      .map((w) => ({ days: w.days, start: hhmm(w.start), end: hhmm(w.end) }));
    fc.assert(
      fc.property(
        fc.array(windowArb, { maxLength: 3 }),
        fc.array(windowArb, { maxLength: 2 }),
        fc.integer({ min: 0, max: 14 * 24 * 60 }),
        fc.integer({ min: 1, max: 24 * 60 }),
        (allowed, blocked, offsetMin, durationMin) => {
          // Every-minute schedule: the occurrence is `now` itself.
          const now = TUE_3AM + offsetMin * MIN;
          const d = decidePracticeRun(now, {
            workload: "chat",
            schedule: "0 * * * * *",
            scope: { region: "eastus2" },
            allowed,
            blocked,
            expectedDurationMs: durationMin * MIN,
          });
          const minutes = Array.from({ length: durationMin }, (_, i) => now + i * MIN);
          const inside = allowed.length === 0 || minutes.every((t) => allowed.some((w) => contains(w, t)));
          const touches = minutes.some((t) => blocked.some((w) => contains(w, t)));
          const expected = [...(inside ? [] : ["OUTSIDE_ALLOWED_WINDOW"]), ...(touches ? ["IN_BLOCKED_WINDOW"] : [])];
          expect(codes(d)).toEqual(expected.length === 0 ? "run" : expected);
        },
      ),
      { numRuns: 400 },
    );
  });
});

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** Independent membership: is the minute starting at `t` inside weekly window `w`? */
function contains(w: WeeklyWindow, t: number): boolean {
  const date = new Date(t);
  const day = WEEKDAYS[date.getUTCDay()]!;
  const previous = WEEKDAYS[(date.getUTCDay() + 6) % 7]!;
  const m = date.getUTCHours() * 60 + date.getUTCMinutes();
  const [sh, sm] = w.start.split(":").map(Number);
  const [eh, em] = w.end.split(":").map(Number);
  const start = sh! * 60 + sm!;
  const end = eh! * 60 + em!;
  if (end > start) return w.days.includes(day) && m >= start && m < end;
  return (w.days.includes(day) && m >= start) || (w.days.includes(previous) && m < end);
}

describe("decidePracticeRun: blocking conditions", () => {
  it("skips for every blocking condition at once, naming each", () => {
    const d = decidePracticeRun(TUE_3AM, schedule(), {
      activeIncidents: [{ id: "failover-chat-westus3-all-1" }],
      firingAlerts: [{ id: "a1" }, { id: "a2" }],
      activeShift: { id: "op-7", kind: "manual" },
      breakers: [
        { region: "eastus2", state: "closed" },
        { region: "westus3", zone: "2", state: "half-open" },
      ],
    });
    expect(d.decision === "skip" ? d.reasons : []).toEqual([
      { code: "ACTIVE_INCIDENT", detail: "incident failover-chat-westus3-all-1 is active" },
      { code: "FIRING_ALERT", detail: "alert(s) firing: a1, a2" },
      {
        code: "SHIFT_HELD",
        detail: "manual shift op-7 holds the workload (practice has the lowest precedence and does not join)",
      },
      { code: "BREAKER_NOT_CLOSED", detail: "the westus3 zone 2 breaker is half-open" },
    ]);
  });

  it("runs when the breakers are all closed and nothing else is going on", () => {
    expect(
      decidePracticeRun(TUE_3AM, schedule(), { breakers: [{ region: "eastus2", state: "closed" }] }).decision,
    ).toBe("run");
  });
});

describe("schedule validation", () => {
  it("reports every problem at once", () => {
    expect(() =>
      parsePracticeSchedule({
        workload: "chat",
        schedule: "0 3 * * 2",
        scope: { region: "eastus2", zone: "9" },
        allowed: [
          { start: "25:00", end: "03:00" },
          { start: "03:00", end: "03:00" },
        ],
        blackouts: [{ from: "2030-01-02T00:00:00Z", to: "2030-01-01T00:00:00Z", reason: "x" }],
      }),
    ).toThrow(
      /^\[INVALID_CONFIG\] practice schedule: schedule: expected six-field NCRONTAB .*; scope\.zone: .*; allowed\[0\]\.start: expected HH:MM \(UTC\); allowed\[1\]\.end: must differ from start .*; blackouts\[0\]\.to: must be after from$/,
    );
  });
});

describe("gradePracticeRun", () => {
  const live = (overrides: Partial<PracticeReport> = {}): PracticeReport => ({
    mode: "live",
    outcome: "succeeded",
    rtoSeconds: 640,
    checks: [],
    ...overrides,
  });

  it("passes a live run inside its RTO objective", () => {
    expect(gradePracticeRun(live(), { rtoSeconds: 900 })).toEqual({ result: "pass", reasons: [] });
  });

  it("fails a live run over its RTO objective, or one with no measured RTO", () => {
    expect(gradePracticeRun(live({ rtoSeconds: 901 }), { rtoSeconds: 900 })).toEqual({
      result: "fail",
      reasons: [{ code: "RTO_OVER_OBJECTIVE", detail: "measured RTO 901 s exceeds the 900 s objective" }],
    });
    const { rtoSeconds: _omit, ...noRto } = live();
    expect(gradePracticeRun(noRto, { rtoSeconds: 900 }).reasons.map((r) => r.code)).toEqual(["RTO_NOT_MEASURED"]);
  });

  it("fails a run that failed, with the runbook's reasons", () => {
    const g = gradePracticeRun(live({ outcome: "aborted", reasons: ["aborted by op"] }), { rtoSeconds: 900 });
    expect(g.reasons).toEqual([{ code: "RUN_FAILED", detail: "the live run ended aborted: aborted by op" }]);
  });

  it("grades a dry run on its checks and its predicted RTO, mapping the runbook's readiness names", () => {
    const checks = practiceChecksFromReadiness([
      { check: "read access", ok: true, detail: "ok" },
      { check: "model in westus3", ok: false, detail: "llama absent" },
      { check: "endpoint in westus3", ok: false, detail: "health 503" },
      { check: "capacity westus3/a100z1", ok: false, detail: "pool not found" },
      { check: "training checkpoint", ok: true, detail: "" },
    ]);
    expect(checks.map((c) => c.kind)).toEqual(["access", "model", "endpoint", "capacity", "training"]);
    const g = gradePracticeRun(
      { mode: "dry-run", outcome: "dry-run", predictedRtoSeconds: 1000, checks },
      { rtoSeconds: 900 },
    );
    expect(g).toEqual({
      result: "fail",
      reasons: [
        { code: "MODEL_MISSING", detail: "model in westus3: llama absent" },
        { code: "READINESS_FAILED", detail: "endpoint in westus3: health 503" },
        { code: "CAPACITY_CHECK_FAILED", detail: "capacity westus3/a100z1: pool not found" },
        { code: "RTO_OVER_OBJECTIVE", detail: "predicted RTO 1000 s exceeds the 900 s objective" },
      ],
    });
    expect(
      gradePracticeRun(
        {
          mode: "dry-run",
          outcome: "dry-run",
          predictedRtoSeconds: 700,
          checks: checks.map((c) => ({ ...c, ok: true })),
        },
        { rtoSeconds: 900 },
      ).result,
    ).toBe("pass");
  });
});

describe("recordPracticeResult", () => {
  const result = (occurrence: number, overrides: Partial<PracticeResult> = {}): PracticeResult => ({
    workload: "chat",
    occurrence,
    decidedAt: occurrence + 1,
    decision: "run",
    mode: "dry-run",
    reasons: [],
    result: "pending",
    ...overrides,
  });

  it("keeps one result per occurrence (the latest), newest last, bounded", () => {
    let log: PracticeResult[] = [];
    for (let i = 0; i < 5; i++) log = recordPracticeResult(log, result(i * 1000), 3);
    expect(log.map((r) => r.occurrence)).toEqual([2000, 3000, 4000]);
    log = recordPracticeResult(log, result(3000, { result: "pass", runId: "drill-1" }), 3);
    expect(log.map((r) => [r.occurrence, r.result])).toEqual([
      [2000, "pending"],
      [3000, "pass"],
      [4000, "pending"],
    ]);
    expect(() => recordPracticeResult(log, result(-1, { result: "maybe" as never }))).toThrow(
      /occurrence: .*; result: /,
    );
  });
});
