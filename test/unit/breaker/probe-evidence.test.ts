import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAlertBody } from "../../../src/domain/alerts";
import { CutoverError } from "../../../src/domain/errors";
import {
  alertEvidence,
  alertEvidenceFromCommonAlert,
  classifyGpuReadiness,
  classifyProbe,
  GPU_VANTAGE,
  MAX_REASON_LENGTH,
  parseEvidence,
} from "../../../src/domain/probe-evidence";

const EXPECT = { latencySloMs: 1200, modelVersion: "2026.10.2" };

describe("classifyProbe", () => {
  it("calls a fresh, fast 200 a success and keeps what it saw", () => {
    const e = classifyProbe(
      { at: 1000, vantage: "eastus2", status: 200, latencyMs: 340, modelVersion: "2026.10.2" },
      EXPECT,
    );
    expect(e).toEqual({
      source: "probe",
      at: 1000,
      vantage: "eastus2",
      outcome: "success",
      status: 200,
      latencyMs: 340,
      modelVersion: "2026.10.2",
      reason: "HTTP 200 in 340 ms",
    });
  });

  it("calls an unreachable endpoint a failure, with the adapter's detail and no latency", () => {
    const e = classifyProbe(
      { at: 1, vantage: "v", status: 0, latencyMs: 5000, detail: "TimeoutError: aborted" },
      EXPECT,
    );
    expect(e.outcome).toBe("failure");
    expect(e.latencyMs).toBeNull();
    expect(e.reason).toBe("unreachable: TimeoutError: aborted");
  });

  it.each([503, 500, 429, 404, 204, 301])(
    "calls HTTP %i a failure (only 200 is healthy, as for Front Door)",
    (status) => {
      const e = classifyProbe({ at: 1, vantage: "v", status, latencyMs: 10, modelVersion: "2026.10.2" }, EXPECT);
      expect(e.outcome).toBe("failure");
      expect(e.reason).toBe(`HTTP ${status}`);
    },
  );

  it("calls a 200 serving another model version stale", () => {
    const e = classifyProbe({ at: 1, vantage: "v", status: 200, latencyMs: 10, modelVersion: "2026.09.1" }, EXPECT);
    expect(e.outcome).toBe("stale");
    expect(e.reason).toBe("serves model version 2026.09.1, expected 2026.10.2");
  });

  it("calls a 200 slower than the SLO slow, but one exactly at the SLO a success", () => {
    expect(
      classifyProbe({ at: 1, vantage: "v", status: 200, latencyMs: 1201, modelVersion: "2026.10.2" }, EXPECT).outcome,
    ).toBe("slow");
    expect(
      classifyProbe({ at: 1, vantage: "v", status: 200, latencyMs: 1200, modelVersion: "2026.10.2" }, EXPECT).outcome,
    ).toBe("success");
  });

  it("ranks stale above slow: the wrong model is wrong for every request", () => {
    const e = classifyProbe({ at: 1, vantage: "v", status: 200, latencyMs: 9000, modelVersion: "old" }, EXPECT);
    expect(e.outcome).toBe("stale");
  });

  it("does not call a 200 without a reported version stale unless freshness must be proven", () => {
    const loose = classifyProbe({ at: 1, vantage: "v", status: 200, latencyMs: 10 }, EXPECT);
    expect(loose.outcome).toBe("success");
    expect(loose.reason).toContain("model version not reported");
    const strict = classifyProbe(
      { at: 1, vantage: "v", status: 200, latencyMs: 10 },
      { ...EXPECT, requireModelVersion: true },
    );
    expect(strict.outcome).toBe("stale");
  });

  it("rejects malformed observations naming every bad field", () => {
    const bad = (): unknown =>
      classifyProbe(
        { at: -1, vantage: "", status: 700, latencyMs: -3 },
        {
          latencySloMs: 0,
          modelVersion: "",
        },
      );
    expect(bad).toThrow(CutoverError);
    expect(bad).toThrow(/^\[INVALID_INPUT\] probe observation: at: .*; vantage: .*; status: .*; latencyMs: /);
    expect(() => classifyProbe({ at: 1, vantage: "v", status: 200 }, { latencySloMs: 0, modelVersion: "" })).toThrow(
      /probe expectations: latencySloMs: .*modelVersion/,
    );
  });

  it("keeps reasons short so that entity state stays small", () => {
    const e = classifyProbe({ at: 1, vantage: "v", status: 500, detail: "x".repeat(5000) }, EXPECT);
    expect(e.reason.length).toBe(MAX_REASON_LENGTH);
    expect(parseEvidence(JSON.parse(JSON.stringify(e)))).toEqual(e);
  });
});

describe("alert evidence", () => {
  it("comes from a Common Alert Schema payload, timed by arrival and keeping the fired time", () => {
    const body = readFileSync(join(__dirname, "..", "..", "fixtures", "alerts", "metric-origin-health.json"), "utf8");
    const parsed = parseAlertBody(body);
    if (!parsed.ok) throw new Error(parsed.reason);
    const e = alertEvidenceFromCommonAlert(parsed.alert, 1_893_456_200_000);
    expect(e).toMatchObject({
      source: "alert",
      at: 1_893_456_200_000,
      condition: "Fired",
      rule: "afd-origin-health-chat",
      severity: "Sev1",
      firedAt: Date.parse("2030-01-01T00:02:10.000Z"),
    });
    expect(e.alertId).toContain("b9569717");
  });

  it("can be built from parts and rejects a missing id", () => {
    expect(alertEvidence({ at: 5, alertId: "a1", condition: "Resolved" })).toMatchObject({
      condition: "Resolved",
      firedAt: null,
      reason: "alert a1 resolved",
    });
    expect(() => alertEvidence({ at: 5, alertId: "", condition: "Fired" })).toThrow(/alertId/);
  });
});

describe("classifyGpuReadiness", () => {
  it("fails a zone below the ready ratio and passes one at it", () => {
    const base = { at: 1, region: "eastus2", zone: "1" as const, expectedNodes: 4 };
    expect(classifyGpuReadiness({ ...base, readyNodes: 3 })).toMatchObject({
      source: "gpu",
      vantage: GPU_VANTAGE,
      outcome: "success",
    });
    const down = classifyGpuReadiness({ ...base, readyNodes: 2 });
    expect(down.outcome).toBe("failure");
    expect(down.reason).toBe("2/4 GPU nodes ready in eastus2 zone 1 (below 3 needed)");
    expect(classifyGpuReadiness({ ...base, readyNodes: 3, minReadyRatio: 1 }).outcome).toBe("failure");
  });

  it("passes a zone where no nodes are expected", () => {
    expect(classifyGpuReadiness({ at: 1, region: "r", zone: "2", readyNodes: 0, expectedNodes: 0 }).outcome).toBe(
      "success",
    );
  });

  it("rejects a bad zone or ratio", () => {
    expect(() =>
      classifyGpuReadiness({
        at: 1,
        region: "r",
        zone: "4" as never,
        readyNodes: 0,
        expectedNodes: 1,
        minReadyRatio: 0,
      }),
    ).toThrow(/zone: .*minReadyRatio/);
  });
});
