/**
 * The failback check's retry rule (`retryOf`, src/health/failback-check.ts): only a finished failback refused for a
 * reason time can cure is tried again, after a back-off that doubles per attempt, at most FAILBACK_MAX_ATTEMPTS times,
 * and the new attempt carries every earlier refusal.
 */
import type * as df from "durable-functions";
import { describe, expect, it } from "vitest";
import { MAX_RETRY_GAP_MS, RETRY_GAP_MS, retryOf } from "../../../src/health/failback-check";
import {
  FAILBACK_MAX_ATTEMPTS,
  type FailbackAttempt,
  type FailbackReport,
} from "../../../src/runbooks/health-contracts";

const T0 = Date.parse("2030-01-01T12:00:00Z");
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
    startedAt: iso(T0 - (n - i) * 3_600_000),
    endedAt: iso(T0 - (n - i) * 3_600_000 + 1000),
    reasons: [`attempt ${i + 1}`],
  }));

describe("retryOf (failback check)", () => {
  it("tries a retryable refusal again once the gap has passed, carrying the refusal", () => {
    expect(retryOf(finished(report()), T0 + RETRY_GAP_MS - 1)).toEqual({ kind: "no" });
    expect(retryOf(finished(report()), T0 + RETRY_GAP_MS)).toEqual({
      kind: "retry",
      attempts: [{ startedAt: iso(T0 - 1000), endedAt: iso(T0), reasons: report().reasons }],
    });
  });

  it("doubles the gap per attempt, capped", () => {
    const third = report({ earlierAttempts: earlier(2) });
    expect(retryOf(finished(third), T0 + 4 * RETRY_GAP_MS - 1).kind).toBe("no");
    const again = retryOf(finished(third), T0 + 4 * RETRY_GAP_MS);
    expect(again.kind).toBe("retry");
    expect(again.kind === "retry" ? again.attempts.map((a) => a.reasons[0]) : []).toEqual([
      "attempt 1",
      "attempt 2",
      report().reasons[0],
    ]);
    const late = report({ earlierAttempts: earlier(FAILBACK_MAX_ATTEMPTS - 2) });
    expect(retryOf(finished(late), T0 + MAX_RETRY_GAP_MS - 1).kind).toBe("no");
    expect(retryOf(finished(late), T0 + MAX_RETRY_GAP_MS).kind).toBe("retry");
  });

  it("gives up after the last attempt, saying why", () => {
    const last = report({ earlierAttempts: earlier(FAILBACK_MAX_ATTEMPTS - 1) });
    expect(retryOf(finished(last), T0 + 10 * MAX_RETRY_GAP_MS)).toEqual({ kind: "gave-up", reasons: last.reasons });
  });

  it("leaves every other end alone: structural refusals, other outcomes, runs still going", () => {
    const later = T0 + 10 * MAX_RETRY_GAP_MS;
    expect(retryOf(finished(report({ retryable: false })), later).kind).toBe("no");
    const { retryable: _dropped, ...older } = report();
    expect(retryOf(finished(older), later).kind).toBe("no");
    for (const outcome of ["succeeded", "relapsed", "aborted", "failed"] as const)
      expect(retryOf(finished(report({ outcome })), later).kind).toBe("no");
    expect(retryOf(finished(report(), "Running"), later).kind).toBe("no");
    expect(retryOf(finished(report(), "Failed"), later).kind).toBe("no");
  });
});
