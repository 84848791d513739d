/** One probe round with fake ports: classification (drained and idle answers), vantages, bounded fan-out, the deadline, GPU readiness per zone. */
import { describe, expect, it } from "vitest";
import { mapBounded, probeRound, type ProbePorts } from "../../../src/activities/probes";
import type { EndpointHealth, EndpointPort, PoolObservation, PoolRef } from "../../../src/activities/ports";
import { breakerScopes } from "../../../src/health/breaker-scopes";
import type { Evidence } from "../../../src/domain/probe-evidence";
import { exampleTopology } from "../support/topology-fixtures";

const topology = exampleTopology();
const NOW = Date.UTC(2030, 0, 1);

function ports(
  health: (url: string, vantage: string) => EndpointHealth | Promise<EndpointHealth>,
  extra: Partial<ProbePorts> = {},
): ProbePorts {
  return {
    endpoint: (vantage): EndpointPort => ({
      health: (url) => Promise.resolve(health(url, vantage)),
      warmup: () => Promise.reject(new Error("not used")),
    }),
    gpuReadiness: () => Promise.resolve(undefined),
    pools: {
      get: () => Promise.reject(new Error("not used")),
      beginScale: () => Promise.reject(new Error("not used")),
      operationStatus: () => Promise.reject(new Error("not used")),
      abortOperation: () => Promise.reject(new Error("not used")),
    },
    now: () => NOW,
    ...extra,
  };
}

/** [vantage, outcome] of the probe evidence for one breaker. */
function outcomes(round: { evidence: ReadonlyMap<string, Evidence[]> }, key: string): Array<[string, string]> {
  return (round.evidence.get(key) ?? []).map((e): [string, string] =>
    e.source === "alert" ? ["alert", e.condition] : [e.vantage, e.outcome],
  );
}

const chatOnly = breakerScopes(topology).filter((b) => b.workload.name === "chat");
const regions = chatOnly.filter((b) => b.kind === "region");

describe("probe round", () => {
  it("probes every region from every vantage and classifies the answers", async () => {
    const seen: string[] = [];
    const round = await probeRound(
      ports((url, vantage) => {
        seen.push(`${vantage} ${url}`);
        if (url.includes("westus3")) return { status: 200, modelVersion: "2026.10.1", latencyMs: 300 };
        return vantage === "v2"
          ? { status: 0, detail: "connection reset" }
          : { status: 200, modelVersion: "2026.10.2", latencyMs: 300 };
      }),
      topology,
      regions,
      { vantages: ["v1", "v2"], concurrency: 4, deadlineMs: 10_000, gpu: false },
    );
    expect(seen).toHaveLength(4);
    expect(outcomes(round, "chat:westus3")).toEqual([
      ["v1", "stale"],
      ["v2", "stale"],
    ]);
    expect(outcomes(round, "chat:eastus2")).toEqual([
      ["v1", "success"],
      ["v2", "failure"],
    ]);
    expect(round.evidence.get("chat:eastus2")?.every((e) => e.at === NOW)).toBe(true);
  });

  it("judges a gate-drained endpoint on its version and latency, and counts cold or empty ones as no evidence", async () => {
    const round = await probeRound(
      ports((url) =>
        url.includes("eastus2")
          ? { status: 503, state: "drained", modelVersion: "2026.10.2", latencyMs: 300 }
          : { status: 503, state: "no-capacity" },
      ),
      topology,
      regions,
      { vantages: ["v1"], concurrency: 4, deadlineMs: 10_000, gpu: false },
    );
    expect(outcomes(round, "chat:eastus2")).toEqual([["v1", "success"]]);
    expect(round.evidence.has("chat:westus3")).toBe(false);
    expect(round).toMatchObject({ probes: 1, idle: 1, skipped: 0 });
  });

  it("keeps at most `concurrency` probes in flight and skips what the deadline leaves unstarted", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let clock = 0;
    const all = breakerScopes(topology).filter((b) => b.kind === "region"); // 5 endpoints
    const round = await probeRound(
      ports(
        async () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 5));
          clock += 1000; // each probe "takes" a second of the round's budget
          inFlight--;
          return { status: 200, latencyMs: 10 };
        },
        { elapsed: () => clock },
      ),
      topology,
      all,
      { vantages: ["v1", "v2"], concurrency: 2, deadlineMs: 3500, gpu: false },
    );
    expect(maxInFlight).toBe(2);
    expect(round.probes + round.skipped).toBe(10);
    expect(round.skipped).toBeGreaterThan(0);
    expect(round.probes).toBeLessThan(10);
  });

  it("reads GPU readiness per zone against the pools' counts, and leaves a scaling zone unjudged", async () => {
    const counts: Record<string, PoolObservation> = {
      a100z1: { count: 4, provisioningState: "Succeeded", vmSize: "x", zones: ["1"] },
      a100z2: { count: 4, provisioningState: "Scaling", vmSize: "x", zones: ["2"] },
      a100x4z3: { count: 0, provisioningState: "Succeeded", vmSize: "x", zones: ["3"] },
    };
    const round = await probeRound(
      ports(() => ({ status: 200, latencyMs: 10 }), {
        gpuReadiness: (_s, cluster) =>
          Promise.resolve(
            cluster.name === "aks-chat-eastus2"
              ? { at: NOW - 60_000, pools: { a100z1: 1, a100z2: 0, a100x4z3: 0 } }
              : undefined,
          ),
        pools: {
          get: (ref: PoolRef) =>
            ref.cluster === "aks-chat-eastus2"
              ? Promise.resolve(counts[ref.pool]!)
              : Promise.reject(new Error("unreachable")),
          beginScale: () => Promise.reject(new Error("not used")),
          operationStatus: () => Promise.reject(new Error("not used")),
          abortOperation: () => Promise.reject(new Error("not used")),
        },
      }),
      topology,
      chatOnly,
      { vantages: ["v1"], concurrency: 4, deadlineMs: 10_000, gpu: true },
    );
    expect(round.evidence.get("chat:eastus2:1")).toEqual([
      expect.objectContaining({ source: "gpu", outcome: "failure", readyNodes: 1, expectedNodes: 4 }),
    ]);
    expect(round.evidence.has("chat:eastus2:2")).toBe(false); // scaling: not judged
    // …and marked unsettled, so that its breaker drops metric points from before it settles.
    expect([...round.gpuUnsettled]).toEqual(["chat:eastus2:2"]);
    expect(round.evidence.get("chat:eastus2:3")).toEqual([
      expect.objectContaining({ outcome: "success", expectedNodes: 0 }),
    ]);
    expect(round.gpuMetricAt.get("chat:eastus2:1")).toBe(NOW - 60_000);
    expect(round.evidence.has("chat:westus3:1")).toBe(false);
    expect(round.problems.join("\n")).toMatch(/chat\/westus3: no gpu_ready_nodes/);
  });

  it("mapBounded runs everything in order of the input when nothing expires", async () => {
    expect(await mapBounded([3, 1, 2], 2, (x) => Promise.resolve(x * 10))).toEqual([30, 10, 20]);
  });
});
