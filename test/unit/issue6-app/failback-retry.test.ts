/**
 * The failback check's retry rule (`retryOf`, src/health/failback-check.ts): a finished failback refused for a reason
 * time can cure, or that relapsed, is tried again after a back-off that doubles per attempt (a relapse also waits a
 * whole soak since it ended), at most FAILBACK_MAX_ATTEMPTS times, and the new attempt carries every earlier one.
 */
import type * as df from "durable-functions";
import { describe, expect, it } from "vitest";
import { attemptsAfter, MAX_RETRY_GAP_MS, RETRY_GAP_MS, retryOf } from "../../../src/health/failback-check";
import {
  FAILBACK_MAX_ATTEMPTS,
  type FailbackAttempt,
  type FailbackReport,
} from "../../../src/runbooks/health-contracts";

const T0 = Date.parse("2030-01-01T12:00:00Z");
const SOAK = 1_800_000;
const iso = (ms: number): string => new Date(ms).toISOString();

function report(overrides: Partial<FailbackReport> = {}): FailbackReport {
  return {
    kind: "failback",
    workload: "chat",
    scope: { region: "eastus2" },
    failoverInstanceId: "failover-chat-eastus2-all-1",
    outcome: "refused",
    reasons: ["chat: not failing back to eastus2: its breaker is open (since …)"],
    retryable: true,
    steps: [],
    notes: [],
    capacity: [],
    timeline: [],
    startedAt: iso(T0 - 1000),
    endedAt: iso(T0),
    ...overrides,
  };
}

function finished(output: FailbackReport, runtimeStatus = "Completed"): df.DurableOrchestrationStatus {
  return { runtimeStatus, output } as unknown as df.DurableOrchestrationStatus;
}

const earlier = (n: number): FailbackAttempt[] =>
  Array.from({ length: n }, (_, i) => ({
    outcome: "refused" as const,
    startedAt: iso(T0 - (n - i) * 3_600_000),
    endedAt: iso(T0 - (n - i) * 3_600_000 + 1000),
    reasons: [`attempt ${i + 1}`],
  }));

describe("retryOf (failback check)", () => {
  it("tries a retryable refusal again once the gap has passed, carrying the refusal", () => {
    expect(retryOf(finished(report()), T0 + RETRY_GAP_MS - 1, SOAK)).toEqual({ kind: "no" });
    expect(retryOf(finished(report()), T0 + RETRY_GAP_MS, SOAK)).toEqual({
      kind: "retry",
      attempts: [{ outcome: "refused", startedAt: iso(T0 - 1000), endedAt: iso(T0), reasons: report().reasons }],
    });
  });

  it("tries a relapse again only once a whole soak has passed since it ended", () => {
    const relapsed = report({ outcome: "relapsed", reasons: ["relapse at step 2: 3 of 12 probes failed"] });
    delete (relapsed as { retryable?: boolean }).retryable;
    expect(retryOf(finished(relapsed), T0 + SOAK - 1, SOAK)).toEqual({ kind: "no" });
    expect(retryOf(finished(relapsed), T0 + SOAK, SOAK)).toEqual({
      kind: "retry",
      attempts: [{ outcome: "relapsed", startedAt: iso(T0 - 1000), endedAt: iso(T0), reasons: relapsed.reasons }],
    });
    // A short soak does not undercut the back-off.
    expect(retryOf(finished(relapsed), T0 + RETRY_GAP_MS - 1, 1000).kind).toBe("no");
  });

  it("doubles the gap per attempt, capped", () => {
    const third = report({ earlierAttempts: earlier(2) });
    expect(retryOf(finished(third), T0 + 4 * RETRY_GAP_MS - 1, SOAK).kind).toBe("no");
    const again = retryOf(finished(third), T0 + 4 * RETRY_GAP_MS, SOAK);
    expect(again.kind).toBe("retry");
    expect(again.kind === "retry" ? again.attempts.map((a) => a.reasons[0]) : []).toEqual([
      "attempt 1",
      "attempt 2",
      report().reasons[0],
    ]);
    const late = report({ earlierAttempts: earlier(FAILBACK_MAX_ATTEMPTS - 2) });
    expect(retryOf(finished(late), T0 + MAX_RETRY_GAP_MS - 1, SOAK).kind).toBe("no");
    expect(retryOf(finished(late), T0 + MAX_RETRY_GAP_MS, SOAK).kind).toBe("retry");
  });

  it("gives up after the last attempt, saying why", () => {
    const last = report({ earlierAttempts: earlier(FAILBACK_MAX_ATTEMPTS - 1) });
    expect(retryOf(finished(last), T0 + 10 * MAX_RETRY_GAP_MS, SOAK)).toEqual({
      kind: "gave-up",
      reasons: last.reasons,
    });
  });

  it("carries at most 50 attempts (the newest), ending with the one just over, and none after a success", () => {
    const many = attemptsAfter(report({ outcome: "aborted", earlierAttempts: earlier(60) }));
    expect(many).toHaveLength(50);
    expect(many[0]!.reasons).toEqual(["attempt 12"]);
    expect(many.at(-1)).toMatchObject({ outcome: "aborted", endedAt: iso(T0) });
    expect(() => attemptsAfter(report({ outcome: "succeeded" }))).toThrow(/succeeded/);
  });

  it("leaves every other end alone: structural refusals, other outcomes, runs still going", () => {
    const later = T0 + 10 * MAX_RETRY_GAP_MS;
    expect(retryOf(finished(report({ retryable: false })), later, SOAK).kind).toBe("no");
    const { retryable: _dropped, ...older } = report();
    expect(retryOf(finished(older), later, SOAK).kind).toBe("no");
    for (const outcome of ["succeeded", "aborted", "failed"] as const)
      expect(retryOf(finished(report({ outcome })), later, SOAK).kind).toBe("no");
    expect(retryOf(finished(report(), "Running"), later, SOAK).kind).toBe("no");
    expect(retryOf(finished(report(), "Failed"), later, SOAK).kind).toBe("no");
  });
});
