/**
 * Issue #6 end to end: practice runs (scheduled drills) in the running app. Two workloads rehearse every five minutes
 * (dry runs); eastus2 then fails for real. The drills run, are graded against each workload's RTO objective (with
 * reason codes), change nothing in the world, and the chat drill due during the real incident is skipped with its
 * reasons — while chat-lite, untouched by the incident, keeps rehearsing. Results are read through the API.
 */
import { describe, expect, it } from "vitest";
import { adHocScenario, runAndInspect } from "./support";

interface PracticeView {
  readonly schedule: { schedule: string } | null;
  readonly next: string | null;
  readonly results: Array<{
    occurrence: string;
    decision: "run" | "skip";
    result: "pending" | "pass" | "fail" | "skipped";
    reasons: Array<{ code: string; detail: string }>;
    runId?: string;
    statusUrl?: string;
    predictedRtoSeconds?: number;
  }>;
}

const EVERY_5_MIN = { schedule: "0 */5 * * * *", mode: "dry-run", expectedDurationMs: 240_000 };

describe("issue #6: practice runs, end to end", () => {
  it("drills run on schedule, are graded with reasons, change nothing, and are skipped during a real incident", async () => {
    const scenario = adHocScenario(
      {
        seed: 11,
        faults: [{ id: "eus2-down", kind: "region-down", region: "eastus2", at: 560 }],
        modelStores: {
          chat: { eastus2: ["2026.10.2"], westus3: ["2026.10.2"] },
          "chat-lite": { centralus: ["2026.11.0"], swedencentral: ["2026.11.0"], francecentral: ["2026.11.0"] },
        },
      },
      (topology) => {
        const workloads = topology["workloads"] as Array<Record<string, unknown>>;
        const chat = workloads.find((w) => w["name"] === "chat")!;
        chat["practice"] = { ...EVERY_5_MIN, scope: { region: "eastus2" } };
        const lite = workloads.find((w) => w["name"] === "chat-lite")!;
        lite["practice"] = { ...EVERY_5_MIN, scope: { region: "centralus" } };
        // An objective no failover can meet: chat-lite's drills must fail with RTO_OVER_OBJECTIVE.
        (lite["slo"] as Record<string, unknown>)["rtoSeconds"] = 60;
      },
    );
    await runAndInspect(
      scenario,
      async (report, s) => {
        // The real incident was handled (and only it changed the world).
        expect(report.failovers).toBe(1);
        expect(report.reports[0]).toMatchObject({
          workload: "chat",
          scope: { region: "eastus2" },
          outcome: "succeeded",
        });
        const faultAt = s.startedAt + 560_000;
        const writesBefore = s.sim.requestLog
          .find({ service: "arm" })
          .filter((e) => e.method !== "GET" && !e.path.startsWith("/_sim") && e.at < faultAt);
        expect(writesBefore).toEqual([]);
        expect(s.sim.timeline.ofKind("gate-changed").filter((e) => e.at < faultAt)).toEqual([]);

        const chat = (await s.call("GET", "/api/practice/chat")).json as PracticeView;
        expect(chat.schedule?.schedule).toBe("0 */5 * * * *");
        const byTime = new Map(chat.results.map((r) => [r.occurrence.slice(11, 16), r]));
        // 00:00 and 00:05: run as dry runs and passed (readiness ok, predicted RTO inside the 900 s objective).
        for (const at of ["00:00", "00:05"]) {
          expect(byTime.get(at)).toMatchObject({ decision: "run", result: "pass", reasons: [] });
          expect(byTime.get(at)?.predictedRtoSeconds).toBeLessThanOrEqual(900);
        }
        // 00:10: eastus2 had failed at 00:09:20 and its failover was running: skipped, with every reason.
        const skipped = byTime.get("00:10");
        expect(skipped).toMatchObject({ decision: "skip", result: "skipped" });
        expect(skipped?.reasons.map((r) => r.code)).toEqual(
          expect.arrayContaining(["ACTIVE_INCIDENT", "SHIFT_HELD", "BREAKER_NOT_CLOSED"]),
        );
        // Each run's report is reachable through the API and is a dry run with readiness checks.
        const run = byTime.get("00:05")!;
        expect(run.statusUrl).toBe(`/api/failovers/${run.runId}`);
        const view = (await s.call("GET", run.statusUrl!)).json as {
          report: { mode: string; outcome: string; readiness: Array<{ ok: boolean }> };
        };
        expect(view.report).toMatchObject({ mode: "dry-run", outcome: "dry-run" });
        expect(view.report.readiness.length).toBeGreaterThan(0);

        // chat-lite is not part of the incident: it kept rehearsing, and every drill failed its 60 s objective.
        const lite = (await s.call("GET", "/api/practice/chat-lite")).json as PracticeView;
        const liteRuns = lite.results.filter((r) => r.decision === "run");
        expect(liteRuns.map((r) => r.occurrence.slice(11, 16))).toEqual(
          expect.arrayContaining(["00:00", "00:05", "00:10"]),
        );
        for (const r of liteRuns.filter((x) => x.result !== "pending")) {
          expect(r.result).toBe("fail");
          expect(r.reasons.map((x) => x.code)).toContain("RTO_OVER_OBJECTIVE");
        }
        expect(liteRuns.filter((x) => x.result === "fail").length).toBeGreaterThanOrEqual(2);
        expect((await s.call("GET", "/api/practice/nope")).status).toBe(404);
      },
      { horizonSeconds: 900 },
    );
  }, 600_000);
});
