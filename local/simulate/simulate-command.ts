/**
 * `cutover simulate [--scenario <name|file>] [--seed N] [--json] [--report <file.html>]` (and `npm run simulate`):
 * runs a scenario end to end offline — Azurite, the Azure simulator and the app in the local host on one virtual
 * clock — then prints the timeline and the RTO by phase beside the run's lower bound. Live progress goes to stderr
 * on a TTY. Exit codes: 0 the failover succeeded (or the scenario needed none), 1 it did not, 2 usage, 3 internal.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";

export const DEFAULT_SCENARIO = "region-outage-cold-target";

interface SimulateCliOptions {
  readonly scenario: string;
  readonly seed?: string;
  readonly json?: boolean;
  readonly report?: string;
  readonly approveAfter: string;
  readonly horizon: string;
}

function usage(message: string): void {
  process.stderr.write(`cutover simulate: ${message}\n`);
  process.exitCode = 2;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command("simulate")
    .description("run a failover scenario end to end offline (Azurite + Azure simulator + the app in the local host)")
    .option(
      "--scenario <name|file>",
      "a shipped scenario name (examples/scenarios) or a scenario file",
      DEFAULT_SCENARIO,
    )
    .option("--seed <n>", "override the scenario's seed (0–4294967295)")
    .option("--json", "print one JSON object on stdout")
    .option("--report <file.html>", "write a self-contained HTML report with a Gantt-style timeline")
    .option(
      "--approve-after <seconds>",
      "the simulated operator approves a waiting failover after this many virtual seconds",
      "60",
    )
    .option("--horizon <seconds>", "stop at most this many virtual seconds after the last fault", "2700")
    .action(async (opts: SimulateCliOptions) => {
      const seed = opts.seed === undefined ? undefined : Number(opts.seed);
      if (seed !== undefined && (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff))
        return usage(`--seed must be an integer from 0 to 4294967295, got ${JSON.stringify(opts.seed)}`);
      const approveAfter = Number(opts.approveAfter);
      if (!Number.isFinite(approveAfter) || approveAfter < 0)
        return usage(`--approve-after must be ≥ 0 seconds, got ${JSON.stringify(opts.approveAfter)}`);
      const horizon = Number(opts.horizon);
      if (!Number.isFinite(horizon) || horizon <= 0)
        return usage(`--horizon must be > 0 seconds, got ${JSON.stringify(opts.horizon)}`);

      const { PACKAGE_ROOT } = await import("../../src/version.js");
      const { scenarioPath } = await import("./environment.js");
      const { loadScenarioFile, formatScenarioProblem } = await import("../sim/scenario.js");
      const file = scenarioPath(opts.scenario, join(PACKAGE_ROOT, "examples"));
      const loaded = await loadScenarioFile(file);
      if (!loaded.ok) {
        process.stderr.write(`cutover simulate: invalid scenario ${file}:\n`);
        for (const p of loaded.problems) process.stderr.write(`  ${formatScenarioProblem(p)}\n`);
        process.exitCode = 1;
        return;
      }
      const { runScenario } = await import("./run-scenario.js");
      const tty = process.stderr.isTTY === true && opts.json !== true;
      const started = performance.now();
      const report = await runScenario({
        scenario: loaded.loaded,
        ...(seed === undefined ? {} : { seed }),
        entry: join(PACKAGE_ROOT, "dist", "src", "index.js"),
        approveAfterSeconds: approveAfter,
        horizonSeconds: horizon,
        ...(tty ? { onProgress: (line: string) => process.stderr.write(`  ${line}\n`) } : {}),
      });
      const wallSeconds = (performance.now() - started) / 1000;
      if (opts.report !== undefined) {
        const { renderHtmlReport } = await import("./html-report.js");
        writeFileSync(opts.report, renderHtmlReport(report));
      }
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ ...report, wallSeconds: Math.round(wallSeconds * 10) / 10 })}\n`);
      } else {
        const { formatReportText } = await import("./text-report.js");
        process.stdout.write(formatReportText(report, wallSeconds));
        if (opts.report !== undefined) process.stdout.write(`\nHTML report: ${opts.report}\n`);
      }
      process.exitCode = report.outcome === "succeeded" || report.outcome === "no-failover" ? 0 : 1;
    });
}
