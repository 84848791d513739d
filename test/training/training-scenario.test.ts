/**
 * End to end: the example `training-hub-outage` scenario (hub eastus2 down at t=300 s; the newest replica in
 * westus3 is damaged; the newest hub checkpoint's replica is the damaged one) through real Azurite, the simulator's
 * Azure ML jobs over https, and the runbook in the local host. Run once programmatically and once through the CLI
 * with --json: same seed, same report.
 */
import { resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main";
import { runTrainingScenario, type TrainingScenarioReport } from "../../local/training/training-scenario";

const SCENARIO = resolve(__dirname, "../../examples/scenarios/training-hub-outage.yaml");

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe("training-hub-outage scenario", () => {
  it("resumes pretrain in westus3 from step 1100, reports the work lost, and fences the old trainer", async () => {
    const report = await runTrainingScenario({ scenario: SCENARIO });
    expect(report).toMatchObject({
      status: "resumed",
      workload: "pretrain",
      hub: "eastus2",
      secondary: "westus3",
      checkpointStep: 1100,
      checkpointUri: "https://stckptwestus3.blob.core.windows.net/checkpoints/foundation-13b-run-42/step-000000001100/",
      workLostSteps: 100,
      workLostSeconds: 1800,
      epoch: 2,
      jobState: "Running",
      hubNewest: { step: 1200, source: "mirrored-progress" },
      oldTrainerAfterRecovery: { status: "fenced", fenceEpoch: 2 },
    });
    expect(report.rejected).toEqual([expect.objectContaining({ step: 1200, reason: "hash-mismatch" })]);
    expect(report.jobId).toMatch(/\/workspaces\/mlw-train-westus3\/jobs\/cutover-foundation-13b-run-42-e2$/);
    // The runbook starts after the fault, and the job runs only after its sampled start-up (2–10 min).
    expect(report.runbookStartedAt).toBeGreaterThan(report.hubFailedAt);
    expect(report.runbookFinishedAt - report.runbookStartedAt).toBeGreaterThanOrEqual(120);

    // The CLI prints the same report for the same seed (deterministic world, virtual time).
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const code = await main(["node", "cutover", "simulate-training", "--scenario", SCENARIO, "--json"]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const fromCli = JSON.parse(out.join("").trim()) as TrainingScenarioReport;
    expect(fromCli).toEqual(report);
  });

  it("dry run: same selection and work lost, no fencing step and no job", async () => {
    const report = await runTrainingScenario({ scenario: SCENARIO, mode: "dry-run" });
    expect(report).toMatchObject({
      status: "dry-run",
      checkpointStep: 1100,
      workLostSeconds: 1800,
      epoch: 2,
      jobId: null,
      oldTrainerAfterRecovery: null,
    });
    expect(report.timeline.map((e) => e.event).filter((e) => /fenced the run|job submitted/.test(e))).toEqual([]);
  });

  it("reports a scenario that takes down no training hub as invalid input", async () => {
    await expect(
      runTrainingScenario({ scenario: resolve(__dirname, "../../examples/scenarios/zone-outage.yaml") }),
    ).rejects.toThrow(/^\[INVALID_INPUT\] scenario zone-outage takes down no training hub/);
  });
});
