/**
 * `cutover simulate-training --scenario <file> [--workload <name>] [--dry-run] [--json]`: runs a training hub
 * outage end to end with no Azure (Azurite + simulator + local host, see training-scenario.ts) and reports which
 * checkpoint the run resumed from and the work lost. With `--json` stdout is one JSON object (the report, with
 * `checkpointStep` and `workLostSeconds`). Heavy modules load only when the command runs.
 *
 * Exit codes: 0 resumed (or a dry run found a checkpoint), 1 the scenario is invalid or no resume happened,
 * 3 internal failure.
 */
import type { Command } from "commander";

interface Options {
  readonly scenario: string;
  readonly workload?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

export function registerSimulateTrainingCommand(program: Command): void {
  program
    .command("simulate-training")
    .description("simulate a training hub outage: resume from the newest valid checkpoint, fence, resubmit")
    .requiredOption("--scenario <file>", "scenario YAML (e.g. examples/scenarios/training-hub-outage.yaml)")
    .option("--workload <name>", "training workload (default: the one whose hub the scenario takes down)")
    .option("--dry-run", "select the checkpoint and compute the work lost only (no fence, no job)")
    .option("--json", "print the report as one JSON object")
    .action(async (opts: Options) => {
      const { loadScenarioFile, formatScenarioProblem } = await import("../sim/scenario.js");
      const loaded = await loadScenarioFile(opts.scenario);
      if (!loaded.ok) {
        process.stderr.write(`cutover simulate-training: invalid scenario ${opts.scenario}:\n`);
        for (const p of loaded.problems) process.stderr.write(`  ${formatScenarioProblem(p)}\n`);
        process.exitCode = 1;
        return;
      }
      const { runTrainingScenario } = await import("./training-scenario.js");
      let report;
      try {
        report = await runTrainingScenario({
          scenario: loaded.loaded,
          mode: opts.dryRun === true ? "dry-run" : "live",
          ...(opts.workload === undefined ? {} : { workload: opts.workload }),
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`cutover simulate-training: ${message}\n`);
        process.exitCode = message.startsWith("[INVALID_INPUT]") ? 1 : 3;
        return;
      }
      const ok = report.status === "resumed" || report.status === "dry-run";
      if (opts.json === true) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const lines = [
          `${report.scenario} (seed ${report.seed}): ${report.workload} run ${report.runId}, hub ${report.hub} → ${report.secondary}`,
          `status: ${report.status}${report.error === undefined ? "" : ` (${report.error})`}`,
          `checkpoint: ${report.checkpointStep === null ? "none" : `step ${report.checkpointStep} (${report.checkpointUri ?? ""})`}`,
          `work lost: ${report.workLostSteps ?? "?"} steps, ${report.workLostSeconds ?? "?"} s` +
            (report.workLost === null
              ? ""
              : ` (+ up to ${report.workLost.uncheckpointedSecondsUpperBound} s not checkpointed)`),
          ...report.rejected.map((d) => `  passed over step ${d.step}: ${d.reason} — ${d.detail}`),
          `epoch: ${report.epoch ?? "-"}; job: ${report.jobId ?? "-"} ${report.jobState ?? ""}`,
          ...(report.oldTrainerAfterRecovery === null
            ? []
            : [`old trainer after the hub recovered: ${report.oldTrainerAfterRecovery.status}`]),
          "timeline (s from start):",
          ...report.timeline.map((e) => `  ${String(e.t).padStart(6)}  ${e.event}`),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      process.exitCode = ok ? 0 : 1;
    });
}
