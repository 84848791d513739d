/**
 * `cutover sim --scenario <file> [--port N] [--endpoints-port N] [--speed X] [--json]`: runs the Azure simulator
 * alone until SIGINT/SIGTERM. With `--json` the first stdout line is one JSON object (`armEndpoint`, `caFile`,
 * `metricsEndpoint`, `logsEndpoint`, `endpointsOrigin`, `subscriptionId`, …) so any process can point real SDK
 * clients at it. The simulator module is imported only when the command runs.
 */
import type { Command } from "commander";

export interface SimCommandOptions {
  readonly scenario: string;
  readonly port?: string;
  readonly endpointsPort?: string;
  readonly speed: string;
  readonly json?: boolean;
}

function parsePort(value: string | undefined, flag: string): number | string {
  if (value === undefined) return 0;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n <= 65535
    ? n
    : `${flag} must be a port number (0–65535), got ${JSON.stringify(value)}`;
}

export function registerSimCommand(program: Command): void {
  program
    .command("sim")
    .description("run the Azure simulator for a scenario until interrupted (SIGINT/SIGTERM)")
    .requiredOption("--scenario <file>", "scenario YAML (examples/scenarios/*.yaml)")
    .option("--port <n>", "port of the https ARM/Monitor listener (default: any free port)")
    .option("--endpoints-port <n>", "port of the http inference-endpoint listener (default: any free port)")
    .option("--speed <x>", "virtual seconds per wall second", "1")
    .option("--json", "print one JSON line with the endpoints first")
    .action(async (opts: SimCommandOptions) => {
      const port = parsePort(opts.port, "--port");
      const endpointsPort = parsePort(opts.endpointsPort, "--endpoints-port");
      const speed = Number(opts.speed);
      const problems = [port, endpointsPort].filter((x): x is string => typeof x === "string");
      if (!Number.isFinite(speed) || speed <= 0)
        problems.push(`--speed must be a positive number, got ${JSON.stringify(opts.speed)}`);
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`cutover sim: ${p}\n`);
        process.exitCode = 2;
        return;
      }
      const { loadScenarioFile, formatScenarioProblem } = await import("../sim/scenario.js");
      const loaded = await loadScenarioFile(opts.scenario);
      if (!loaded.ok) {
        process.stderr.write(`cutover sim: invalid scenario ${opts.scenario}:\n`);
        for (const p of loaded.problems) process.stderr.write(`  ${formatScenarioProblem(p)}\n`);
        process.exitCode = 1;
        return;
      }
      const { startSimulator } = await import("../sim/simulator.js");
      const sim = await startSimulator({
        scenario: loaded.loaded,
        port: port as number,
        endpointsPort: endpointsPort as number,
        realtime: { speed },
      });
      const info = {
        armEndpoint: sim.armEndpoint,
        metricsEndpoint: sim.metricsEndpoint,
        logsEndpoint: sim.logsEndpoint,
        endpointsOrigin: sim.endpointsOrigin,
        caFile: sim.caFile,
        subscriptionId: sim.subscriptionId,
        scenario: loaded.loaded.scenario.name,
        seed: loaded.loaded.scenario.seed,
        startedAt: new Date(sim.world.startedAt).toISOString(),
        speed,
        control: `${sim.armEndpoint}/_sim/`,
      };
      if (opts.json === true) process.stdout.write(`${JSON.stringify(info)}\n`);
      else {
        process.stdout.write(`Azure simulator for scenario ${info.scenario} (seed ${info.seed}), ${speed}x time\n`);
        process.stdout.write(`  ARM / metrics:  ${info.armEndpoint}   (trust ${info.caFile})\n`);
        process.stdout.write(`  Log Analytics:  ${info.logsEndpoint}\n`);
        process.stdout.write(`  endpoints:      ${info.endpointsOrigin}/{workload}/{region}/health|warmup\n`);
        process.stdout.write(`  control:        ${info.control}snapshot | timeline | waits | requests | faults\n`);
        process.stdout.write("Press Ctrl+C to stop.\n");
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          process.off("SIGINT", done);
          process.off("SIGTERM", done);
          resolve();
        };
        process.on("SIGINT", done);
        process.on("SIGTERM", done);
      });
      await sim.stop();
    });
}
