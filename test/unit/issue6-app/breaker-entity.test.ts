/** The breaker entity's operations as pure functions: evidence in time order, the outbox of openings, acknowledgements, GPU deduplication, bounded memory and the failback gate. */
import { describe, expect, it } from "vitest";
import {
  applyAcknowledge,
  applyGate,
  applyRecord,
  RECENT_LIMIT,
  RECENT_MS,
} from "../../../src/runbooks/breaker-entity";
import { classifyGpuReadiness, classifyProbe, type Evidence } from "../../../src/domain/probe-evidence";
import type { BreakerConfigInput } from "../../../src/domain/circuit-breaker";
import type { BreakerEntityState } from "../../../src/runbooks/health-contracts";

const T0 = Date.UTC(2030, 0, 1);
const CONFIG: BreakerConfigInput = { quorum: { required: 1, vantages: ["a", "b"] } };
const EXPECT = { latencySloMs: 1000, modelVersion: "v2" };

function probe(at: number, vantage: string, status: number, modelVersion = "v2"): Evidence {
  return classifyProbe({ at, vantage, status, latencyMs: 100, modelVersion }, EXPECT);
}

function record(state: BreakerEntityState | undefined, now: number, evidence: Evidence[], extra = {}) {
  return applyRecord(state, "chat", { region: "westus3" }, { now, config: CONFIG, evidence, ...extra });
}

/** Feeds `n` rounds of one failure per vantage, 10 s apart, from `start`. */
function failRounds(state: BreakerEntityState | undefined, start: number, n: number, vantages = ["a"]) {
  let s = state;
  for (let i = 0; i < n; i++)
    s = record(
      s,
      start + i * 10_000,
      vantages.map((v) => probe(start + i * 10_000, v, 503)),
    ).state;
  return s as BreakerEntityState;
}

/** GPU evidence for one westus3 zone, and a `record` on its breaker (opening after `failures` in a row). */
function zoneFeed(z: "1" | "2" | "3", failures: number) {
  const config = { consecutiveFailures: failures, quorum: { required: 1, vantages: [] } };
  return {
    gpu: (at: number, ready: number, expected: number) =>
      classifyGpuReadiness({ at, region: "westus3", zone: z, readyNodes: ready, expectedNodes: expected }),
    zone: (state: BreakerEntityState | undefined, now: number, input: Record<string, unknown>) =>
      applyRecord(state, "chat", { region: "westus3", zone: z }, { now, config, evidence: [], ...input }).state,
  };
}

describe("breaker entity: record", () => {
  it("creates the breaker on first use and puts each closed → open transition in the outbox, once", () => {
    const first = record(undefined, T0, [probe(T0, "a", 200)]);
    expect(first.state).toMatchObject({ workload: "chat", scope: { region: "westus3" }, outbox: [], handled: [] });
    expect(first.state.breaker.state).toBe("closed");
    const opened = failRounds(first.state, T0 + 10_000, 3);
    expect(opened.breaker.state).toBe("open");
    expect(opened.outbox).toEqual([
      expect.objectContaining({ id: "chat:westus3#1", at: T0 + 30_000, reason: "consecutive-failures", attempts: 0 }),
    ]);
    // More failures while open add nothing to the outbox.
    const later = failRounds(opened, T0 + 40_000, 3);
    expect(later.outbox.map((o) => o.id)).toEqual(["chat:westus3#1"]);
  });

  it("opens on late-arriving evidence and keeps its recent evidence in time order", () => {
    const base = record(undefined, T0, []).state;
    const shuffled = [probe(T0 + 30_000, "a", 503), probe(T0 + 10_000, "a", 503), probe(T0 + 20_000, "a", 503)];
    const r = record(base, T0 + 30_000, shuffled);
    expect(r.transitions.map((t) => `${t.from}→${t.to}@${t.at - T0}`)).toEqual(["closed→open@30000"]);
    expect(r.state.recent.map((e) => e.at - T0)).toEqual([10_000, 20_000, 30_000]);
  });

  it("ticks: an open breaker turns half-open when its break has elapsed, with no evidence at all", () => {
    const opened = failRounds(undefined, T0, 3);
    const r = record(opened, T0 + 20_000 + 120_000, []);
    expect(r.transitions.map((t) => t.to)).toEqual(["half-open"]);
  });

  it("a breaker that closes again drops the openings nobody acted on", () => {
    const opened = failRounds(undefined, T0, 3);
    let s = record(opened, T0 + 140_000, []).state; // half-open
    for (let t = T0 + 150_000; t <= T0 + 300_000; t += 10_000) s = record(s, t, [probe(t, "a", 200)]).state;
    expect(s.breaker.state).toBe("closed");
    expect(s.outbox).toEqual([]);
    expect(s.handled).toEqual([expect.objectContaining({ id: "chat:westus3#1", outcome: "dropped" })]);
  });

  it("counts GPU evidence once per metric point", () => {
    const gpu = (at: number) =>
      classifyGpuReadiness({ at, region: "westus3", zone: "1", readyNodes: 0, expectedNodes: 4 });
    const zone = (state: BreakerEntityState | undefined, now: number, metricAt: number) =>
      applyRecord(
        state,
        "chat",
        { region: "westus3", zone: "1" },
        {
          now,
          config: { consecutiveFailures: 2, quorum: { required: 1, vantages: [] } },
          evidence: [gpu(now)],
          gpuMetricAt: metricAt,
        },
      ).state;
    let s = zone(undefined, T0, T0 - 60_000);
    s = zone(s, T0 + 10_000, T0 - 60_000); // the same point read again: ignored
    expect(s.breaker.state).toBe("closed");
    expect(s.breaker.window).toHaveLength(1);
    s = zone(s, T0 + 60_000, T0); // the next point
    expect(s.breaker.state).toBe("open");
    expect(s.lastGpuMetricAt).toBe(T0);
  });

  it("judges a zone whose pools just changed only on metric points that start after the change", () => {
    // A pool of zone 3 scaled from 0 to 2 nodes (another scope's failover): AKS says Succeeded at once, Monitor's
    // points lag a minute or more and still count 0 ready nodes. Those must not open the zone's breaker.
    const { gpu, zone } = zoneFeed("3", 2);
    // Nothing expected in zone 3 yet: success.
    let s = zone(undefined, T0, { evidence: [gpu(T0, 0, 0)], gpuMetricAt: T0 - 120_000 });
    // A round sees the pool scaling (no evidence: the zone is not judged while it scales).
    s = zone(s, T0 + 60_000, { gpuUnsettledAt: T0 + 60_000 });
    expect(s.gpuChangedAt).toBe(T0 + 60_000);
    // Settled at 2 nodes; the points Monitor serves for the next two rounds began before it settled: dropped.
    s = zone(s, T0 + 420_000, { evidence: [gpu(T0 + 420_000, 0, 2)], gpuMetricAt: T0 + 0 });
    s = zone(s, T0 + 480_000, { evidence: [gpu(T0 + 480_000, 0, 2)], gpuMetricAt: T0 + 30_000 });
    expect(s.breaker.state).toBe("closed");
    expect(s.lastGpuMetricAt).toBe(T0 - 120_000);
    // The expected count moved 0 → 2 when the round at 420 s saw the pool settled: that round is the change.
    expect(s.gpuChangedAt).toBe(T0 + 420_000);
    // Points that began after it count (a real outage of the new nodes still opens the breaker).
    s = zone(s, T0 + 540_000, { evidence: [gpu(T0 + 540_000, 0, 2)], gpuMetricAt: T0 + 420_000 });
    s = zone(s, T0 + 600_000, { evidence: [gpu(T0 + 600_000, 0, 2)], gpuMetricAt: T0 + 480_000 });
    expect(s.breaker.state).toBe("open");
  });

  it("treats a new expected node count as a change, even when no round saw the pool scaling", () => {
    const { gpu, zone } = zoneFeed("1", 1);
    let s = zone(undefined, T0, { evidence: [gpu(T0, 2, 2)], gpuMetricAt: T0 - 120_000 });
    // Expected went 2 → 4 between two rounds; the point is from before: dropped, not a failure.
    s = zone(s, T0 + 60_000, { evidence: [gpu(T0 + 60_000, 2, 4)], gpuMetricAt: T0 - 60_000 });
    expect(s.breaker.state).toBe("closed");
    expect(s).toMatchObject({ gpuExpectedNodes: 4, gpuChangedAt: T0 + 60_000 });
    s = zone(s, T0 + 180_000, { evidence: [gpu(T0 + 180_000, 2, 4)], gpuMetricAt: T0 + 60_000 });
    expect(s.breaker.state).toBe("open");
  });

  it("keeps recent evidence bounded by count and age", () => {
    let s: BreakerEntityState | undefined;
    for (let i = 0; i < 150; i++) {
      const at = T0 + i * 10_000;
      s = record(s, at, [probe(at, "a", 200), probe(at, "b", 200)]).state;
    }
    expect(s!.recent.length).toBeLessThanOrEqual(RECENT_LIMIT);
    expect(Math.min(...s!.recent.map((e) => e.at))).toBeGreaterThan(T0 + 149 * 10_000 - RECENT_MS);
  });

  it("refuses malformed input with every problem named", () => {
    expect(() =>
      applyRecord(undefined, "chat", { region: "westus3" }, { now: -1, config: CONFIG, evidence: [{}] }),
    ).toThrow(/\[INVALID_INPUT\] record: now: .*evidence\[0\]/);
    expect(() =>
      applyRecord(undefined, "chat", { region: "westus3" }, { now: T0, config: { breakMs: 1 }, evidence: [] }),
    ).toThrow(/INVALID_CONFIG/);
  });
});

describe("breaker entity: acknowledge", () => {
  const opened = failRounds(undefined, T0, 3);

  it("started, joined and observed retire the opening into the handled list", () => {
    const s = applyAcknowledge(opened, {
      openingId: "chat:westus3#1",
      at: T0 + 40_000,
      outcome: "started",
      instanceId: "failover-chat-westus3-all-1",
      detail: "started",
    });
    expect(s.outbox).toEqual([]);
    expect(s.handled).toEqual([
      expect.objectContaining({ id: "chat:westus3#1", outcome: "started", instanceId: "failover-chat-westus3-all-1" }),
    ]);
    // A repeated acknowledgement is ignored.
    expect(applyAcknowledge(s, { openingId: "chat:westus3#1", at: T0 + 50_000, outcome: "joined", detail: "x" })).toBe(
      s,
    );
  });

  it("refused keeps the opening for a retry, counting the attempt", () => {
    const s = applyAcknowledge(opened, {
      openingId: "chat:westus3#1",
      at: T0 + 40_000,
      outcome: "refused",
      detail: "manual drill-1 holds the workload",
    });
    expect(s.outbox).toEqual([
      expect.objectContaining({
        attempts: 1,
        lastAttemptAt: T0 + 40_000,
        lastOutcome: expect.stringMatching(/^refused: manual/),
      }),
    ]);
    expect(s.handled).toEqual([]);
  });
});

describe("breaker entity: failback gate", () => {
  const check = {
    region: "westus3",
    holdMs: 60_000,
    minProbes: 3,
    maxFailureRatio: 0.2,
    maxSlowRatio: 0.2,
    modelVersion: "v2",
    latencySloMs: 1000,
  };

  function healthy(until: number): BreakerEntityState {
    let s: BreakerEntityState | undefined;
    for (let t = T0; t <= until; t += 10_000) s = record(s, t, [probe(t, "a", 200)]).state;
    return s!;
  }

  it("waits through the hold, then passes on enough healthy probes", () => {
    const s = healthy(T0 + 120_000);
    expect(applyGate(s, { check, stepStartedAt: T0 + 100_000, now: T0 + 120_000 }).verdict.verdict).toBe("wait");
    const pass = applyGate(s, { check, stepStartedAt: T0 + 50_000, now: T0 + 120_000 });
    expect(pass).toMatchObject({ verdict: { verdict: "pass" }, breaker: "closed", probes: 8 });
  });

  it("calls a stale answer since the step began a relapse", () => {
    const s = record(healthy(T0 + 120_000), T0 + 130_000, [probe(T0 + 130_000, "a", 200, "v1")]).state;
    const r = applyGate(s, { check, stepStartedAt: T0 + 100_000, now: T0 + 130_000 });
    expect(r.verdict).toMatchObject({
      verdict: "relapse",
      reasons: [expect.stringMatching(/model version other than v2/)],
    });
  });

  it("waits when the breaker has no state yet", () => {
    expect(applyGate(undefined, { check, stepStartedAt: T0, now: T0 })).toMatchObject({
      breaker: "missing",
      probes: 0,
    });
  });
});
