/**
 * The measures `simulate` and `bench/rto` report: the run's lower bound (what a perfect controller would reach with
 * the waits the world sampled) and the world's own recovery time. Pure functions over hand-built waits and samples.
 */
import { describe, expect, it } from "vitest";
import { lowerBoundSeconds, worldRecoverySeconds } from "../../local/simulate/measure";
import type { SampledWaits } from "../../local/sim/world";
import { hurtsServing } from "../../local/simulate/run-scenario";

const T0 = 1_893_456_000_000;
const s = (seconds: number): number => T0 + seconds * 1000;

function waits(partial: Partial<SampledWaits>): SampledWaits {
  return {
    faults: [{ id: "f", kind: "region-down", at: s(60), detectableAt: s(60), clearedAt: null }],
    nodeProvisioning: [],
    allocationFailures: [],
    modelLoads: [],
    probeWindows: [],
    propagations: [],
    alertNotifications: [],
    ...partial,
  };
}

function window(pop: string, failingSince: number, unhealthyAt: number, origin = "chat-eastus2") {
  return {
    frontDoor: "afd-chat",
    origin,
    pop,
    failingSince: s(failingSince),
    unhealthyAt: s(unhealthyAt),
    seconds: unhealthyAt - failingSince,
  };
}

const base = {
  workload: "chat",
  origins: ["chat-eastus2"],
  faultAt: s(60),
  poolsOf: (pool: string) => (pool.startsWith("chat/") ? "chat" : "other"),
};

describe("lowerBoundSeconds", () => {
  it("is null without a fault", () => {
    expect(lowerBoundSeconds(waits({ faults: [] }), base)).toBeNull();
  });

  it("a fault Front Door sees: the slowest POP's first exclusion, counted from the fault", () => {
    const w = waits({
      probeWindows: [
        window("iad", 60, 95),
        window("ams", 60, 110),
        // A later flap at the same POP is not on the failover's path.
        window("ams", 400, 700),
        // Another origin never counts.
        window("iad", 60, 300, "chat-westus3"),
      ],
    });
    expect(lowerBoundSeconds(w, { ...base, detectedAt: s(80) })).toBe(50);
  });

  it("a fault Front Door cannot see: the exclusion after the drain, counted from the detection", () => {
    // A stale model behind a status-only health check: Front Door only sees the origin fail once it is drained
    // (at 85 s here); a perfect controller would have drained it at the detection (70 s).
    const w = waits({
      faults: [{ id: "stale", kind: "stale-model", at: s(60), detectableAt: null, clearedAt: null }],
      probeWindows: [window("iad", 85, 116), window("fra", 85, 141)],
    });
    expect(lowerBoundSeconds(w, { ...base, detectedAt: s(70) })).toBe(10 + 56);
    // The origin saw the drain 3 s after the gate write (its gate cache): a perfect controller waits for that too.
    expect(lowerBoundSeconds(w, { ...base, detectedAt: s(70), drainSeenSeconds: 3 })).toBe(10 + 3 + 56);
  });

  it("a cold target: detection, then the slowest node of this workload, the model load and Front Door marking it healthy", () => {
    const w = waits({
      nodeProvisioning: [
        { pool: "chat/a100z1", node: "n1", requestedAt: s(90), readyAt: s(490), seconds: 400 },
        { pool: "chat/a100z2", node: "n2", requestedAt: s(90), readyAt: s(610), seconds: 520 },
        // Another workload's pool, and a node asked for before the fault, are not this failover's waits.
        { pool: "other/gpu", node: "n3", requestedAt: s(90), readyAt: s(1090), seconds: 1000 },
        { pool: "chat/a100z1", node: "n0", requestedAt: s(0), readyAt: s(900), seconds: 900 },
      ],
      modelLoads: [
        { workload: "chat", region: "westus3", version: "v2", startedAt: s(610), loadedAt: s(840), seconds: 230 },
      ],
      probeWindows: [window("iad", 60, 100)],
    });
    expect(lowerBoundSeconds(w, { ...base, detectedAt: s(80), targetHealthySeconds: 35 })).toBe(20 + 520 + 230 + 35);
    // The target left as the group's only enabled origin: Front Door routes to it once the drain has propagated.
    // Propagated before the target was ready: no wait for its probes at all.
    expect(
      lowerBoundSeconds(w, { ...base, detectedAt: s(80), targetHealthySeconds: 35, propagationSeconds: 600 }),
    ).toBe(20 + 520 + 230);
    // Propagated 15 s after the target was ready (detection + 785 s): that is the wait.
    expect(
      lowerBoundSeconds(w, { ...base, detectedAt: s(80), targetHealthySeconds: 35, propagationSeconds: 785 }),
    ).toBe(20 + 785);
    // Propagated later than the probes mark the target healthy: the probes decide.
    expect(
      lowerBoundSeconds(w, { ...base, detectedAt: s(80), targetHealthySeconds: 35, propagationSeconds: 1200 }),
    ).toBe(20 + 520 + 230 + 35);
  });

  it("does not wait for a pool's slowest spare nodes (the plan's spare count per pool)", () => {
    const node = (pool: string, name: string, seconds: number) => ({
      pool,
      node: name,
      requestedAt: s(90),
      readyAt: s(90 + seconds),
      seconds,
    });
    const w = waits({
      nodeProvisioning: [
        node("chat/a100z1", "a", 400),
        node("chat/a100z1", "b", 640),
        node("chat/a100z1", "c", 450),
        node("chat/a100z2", "d", 500),
        node("chat/a100z2", "e", 380),
      ],
    });
    const at = { ...base, detectedAt: s(80) };
    // Without spares every node counts: the slowest is 640 s.
    expect(lowerBoundSeconds(w, at)).toBe(20 + 640);
    // One spare on a100z1: its slowest (640 s) is not needed; a100z2's slowest (500 s) now is the wait.
    expect(lowerBoundSeconds(w, { ...at, spareOf: (p) => (p === "chat/a100z1" ? 1 : 0) })).toBe(20 + 500);
    // One spare on each: 450 s (a100z1) and 380 s (a100z2).
    expect(lowerBoundSeconds(w, { ...at, spareOf: () => 1 })).toBe(20 + 450);
    // A spare count as large as the pool still leaves its fastest node to wait for.
    expect(lowerBoundSeconds(w, { ...at, spareOf: () => 5 })).toBe(20 + 400);
  });

  it("without a signal, detection is when the world made the fault detectable", () => {
    const w = waits({
      faults: [{ id: "f", kind: "region-down", at: s(60), detectableAt: s(75), clearedAt: null }],
    });
    expect(lowerBoundSeconds(w, base)).toBe(15);
  });
});

describe("worldRecoverySeconds", () => {
  const sample = (at: number, served: number) => ({ at: s(at), served: { chat: served } });

  it("is the first sample from which the workload stays served, a relapse resetting it", () => {
    const samples = [
      sample(55, 1),
      sample(65, 0.2),
      sample(100, 0.995),
      sample(110, 0.5),
      sample(120, 0.99),
      sample(130, 1),
    ];
    expect(worldRecoverySeconds(samples, "chat", s(60))).toBe(60);
  });

  it("is null when the workload never recovered, and 0 when it never dropped", () => {
    expect(worldRecoverySeconds([sample(65, 0.1), sample(70, 0.5)], "chat", s(60))).toBeNull();
    expect(worldRecoverySeconds([sample(60, 1), sample(70, 1)], "chat", s(60))).toBe(0);
  });
});

describe("the incident's start", () => {
  it("is the first fault that hurts serving, not a control-plane condition set up before it", () => {
    const f = (fault: Record<string, unknown>) => hurtsServing(fault as Parameters<typeof hurtsServing>[0]);
    expect(f({ kind: "zone-down", region: "eastus2", zone: "1", at: 120 })).toBe(true);
    expect(f({ kind: "region-down", region: "eastus2", at: 0 })).toBe(true);
    expect(f({ kind: "stale-model", workload: "chat", region: "westus3", version: "1", at: 60 })).toBe(true);
    expect(f({ kind: "http-error", target: "endpoint", status: 503, rate: 1, at: 0 })).toBe(true);
    expect(f({ kind: "http-error", target: "arm", status: 429, rate: 1, at: 0 })).toBe(false);
    expect(f({ kind: "allocation-failure", region: "eastus2", zone: "3", at: 0 })).toBe(false);
    expect(f({ kind: "quota-exceeded", region: "westus3", family: "x", remainingVcpus: 0, at: 0 })).toBe(false);
  });
});
