/**
 * `cutover dev [--port N] [--json] [--speed X] [--entry FILE] [--store DIR] [--function-key KEY]`: runs the app in
 * the in-process local host, like `func start`, until SIGINT/SIGTERM. The virtual clock follows wall-clock time
 * (times `--speed`), so durable timers and timer triggers fire as under `func start`.
 *
 * With `--json` the first stdout line is one JSON object: `url` (base URL), `functionKey`, `masterKey`, `hubName`
 * and `functions`. Logs go to stderr. The local host is imported only when the command runs.
 *
 * Settings: `local.settings.json` `Values` are applied when the file exists (a variable already set in the
 * environment wins, as with Core Tools); otherwise the offline defaults below.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { LocalHost, LocalHostOptions, Registration } from "../host";

/** Settings that let the app run with no Azure account when there is no local.settings.json. */
export const OFFLINE_DEFAULTS: Readonly<Record<string, string>> = {
  FUNCTIONS_WORKER_RUNTIME: "node",
  CUTOVER_TOPOLOGY_PATH: "examples/topology.yaml",
  CUTOVER_TASK_HUB: "CutoverLocal",
  CUTOVER_PROBE_SCHEDULE: "*/10 * * * * *",
};

export interface DevOptions {
  readonly port: number;
  readonly json: boolean;
  readonly speed: number;
  /** App entry; defaults to package.json `main` (the compiled app). */
  readonly entry?: string;
  /** A directory for a file history store; in memory when omitted. */
  readonly storeDir?: string;
  readonly functionKey?: string;
  /** Working directory holding package.json, host.json and local.settings.json. */
  readonly cwd?: string;
  /**
   * Hook run after the host started and before the clock follows real time: the place where `--scenario` will
   * start the Azure simulator on `host.clock`.
   */
  readonly afterStart?: (host: LocalHost) => Promise<void> | void;
}

export interface DevIO {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Reads `local.settings.json` `Values` (or the offline defaults) without overriding the environment. */
export function devSettings(cwd: string, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const path = resolve(cwd, "local.settings.json");
  let values: Record<string, string> = { ...OFFLINE_DEFAULTS };
  if (existsSync(path)) {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { Values?: Record<string, unknown> };
    values = {};
    for (const [k, v] of Object.entries(parsed.Values ?? {})) values[k] = String(v);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (env[k] === undefined) out[k] = v;
  return out;
}

function entryFromPackage(cwd: string): string {
  const pkgPath = resolve(cwd, "package.json");
  const pkg = existsSync(pkgPath) ? (JSON.parse(readFileSync(pkgPath, "utf8")) as { main?: string }) : {};
  return resolve(cwd, pkg.main ?? "dist/src/index.js");
}

function describeFunction(baseUrl: string, r: Registration): string {
  if (r.kind === "http") return `${r.name}: [${(r.methods ?? []).join(",")}] ${baseUrl}/api/${r.route ?? r.name}`;
  if (r.kind === "timer") return `${r.name}: timerTrigger (${r.schedule ?? ""})`;
  return `${r.name}: ${r.kind}Trigger`;
}

/** Starts the app in a local host following real time; returns the host (stop it to end the session). */
export async function runDev(options: DevOptions, io: DevIO): Promise<LocalHost> {
  const { startLocalHost, FileHistoryStore } = await import("../host/index.js");
  const { VirtualClock } = await import("../clock.js");
  const cwd = options.cwd ?? process.cwd();
  const hostOptions: LocalHostOptions = {
    entry: options.entry === undefined ? entryFromPackage(cwd) : resolve(cwd, options.entry),
    port: options.port,
    env: devSettings(cwd, process.env),
    hostJsonPath: resolve(cwd, "host.json"),
    clock: new VirtualClock(Date.now()),
    ...(options.functionKey === undefined ? {} : { functionKey: options.functionKey }),
    ...(options.storeDir === undefined ? {} : { store: new FileHistoryStore(resolve(cwd, options.storeDir)) }),
    onEvent: (e) => {
      if (e.kind === "episode" || e.kind === "activity-started") return;
      const what = [e.kind, e.name, e.instanceId, e.message].filter((x) => x !== undefined).join(" ");
      io.err(`[${new Date(e.at).toISOString()}] ${what}`);
    },
  };
  const host = await startLocalHost(hostOptions);
  await options.afterStart?.(host);
  host.startRealTime(options.speed);
  const functions = [...host.registrations.values()].map((r) => ({
    name: r.name,
    kind: r.kind,
    ...(r.kind === "http" ? { route: r.route, methods: r.methods, authLevel: r.authLevel } : {}),
    ...(r.kind === "timer" ? { schedule: r.schedule } : {}),
  }));
  if (options.json) {
    io.out(
      JSON.stringify({
        url: host.baseUrl,
        functionKey: host.functionKey,
        masterKey: host.masterKey,
        hubName: host.hubName,
        functions,
      }),
    );
  } else {
    io.out(`Cutover local host (no Functions host needed): ${host.baseUrl}`);
    io.out(`Function key: ${host.functionKey}`);
    io.out("Functions:");
    for (const r of host.registrations.values()) io.out(`  ${describeFunction(host.baseUrl, r)}`);
    io.out("Press Ctrl+C to stop.");
  }
  return host;
}

function parseNumber(value: string, flag: string, check: (n: number) => boolean): number {
  const n = Number(value);
  if (!check(n)) throw new Error(`${flag}: invalid value ${JSON.stringify(value)}`);
  return n;
}

interface DevCommandFlags {
  readonly port: string;
  readonly json?: boolean;
  readonly speed: string;
  readonly entry?: string;
  readonly store?: string;
  readonly functionKey?: string;
  readonly scenario?: string;
}

/**
 * `cutover dev --scenario <name|file>`: the app wired to a simulated Azure — Azurite, the Azure simulator (the
 * scenario's world, faults and alerts) and the app in the local host, all following real time times `speed`.
 */
export async function runDevScenario(
  flags: DevCommandFlags,
  port: number,
  speed: number,
  io: DevIO,
): Promise<{ stop(): Promise<void> }> {
  const { PACKAGE_ROOT } = await import("../../src/version.js");
  const { scenarioPath, startSimulation } = await import("../simulate/environment.js");
  const simulation = await startSimulation({
    scenario: scenarioPath(flags.scenario ?? "", join(PACKAGE_ROOT, "examples")),
    entry: flags.entry === undefined ? entryFromPackage(PACKAGE_ROOT) : resolve(flags.entry),
    port,
    ...(flags.functionKey === undefined ? {} : { functionKey: flags.functionKey }),
  });
  simulation.host.startRealTime(speed);
  const info = {
    url: simulation.host.baseUrl,
    functionKey: simulation.host.functionKey,
    scenario: simulation.loaded.scenario.name,
    armEndpoint: simulation.sim.armEndpoint,
    caFile: simulation.sim.caFile,
    endpointsOrigin: simulation.sim.endpointsOrigin,
    blobEndpoint: simulation.azurite.blobEndpoint,
  };
  if (flags.json === true) io.out(JSON.stringify(info));
  else {
    io.out(`Cutover local host with simulated Azure (scenario ${info.scenario}): ${info.url}`);
    io.out(`Function key: ${info.functionKey}`);
    io.out(`Azure simulator (ARM): ${info.armEndpoint} (trust ${info.caFile}); Azurite: ${info.blobEndpoint}`);
    io.out("Press Ctrl+C to stop.");
  }
  return simulation;
}

export function registerDevCommand(program: Command): void {
  program
    .command("dev")
    .description("run the app in the in-process local host, like `func start`, until interrupted (SIGINT/SIGTERM)")
    .option("--port <n>", "loopback port (0: any free port)", "7071")
    .option("--json", "print one JSON line (url, functionKey, ...) first; logs go to stderr")
    .option("--speed <x>", "virtual seconds per wall second", "1")
    .option("--entry <file>", "app entry (default: package.json main)")
    .option("--store <dir>", "keep orchestration histories in this directory (default: in memory)")
    .option("--function-key <key>", "function key to accept (default: random)")
    .option(
      "--scenario <name|file>",
      "also start Azurite and the Azure simulator for this scenario and wire the app to them",
    )
    .action(async (flags: DevCommandFlags) => {
      let port: number;
      let speed: number;
      try {
        port = parseNumber(flags.port, "--port", (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
        speed = parseNumber(flags.speed, "--speed", (n) => Number.isFinite(n) && n > 0);
      } catch (error) {
        process.stderr.write(`cutover dev: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const io: DevIO = {
        out: (l) => process.stdout.write(`${l}\n`),
        err: (l) => process.stderr.write(`${l}\n`),
      };
      // Listen for signals before starting, so that an early Ctrl+C also stops cleanly.
      let signalled: () => void = () => undefined;
      const interrupted = new Promise<void>((done) => (signalled = done));
      const onSignal = (): void => signalled();
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        if (flags.scenario !== undefined) {
          const simulation = await runDevScenario(flags, port, speed, io);
          await interrupted;
          await simulation.stop();
          return;
        }
        const host = await runDev(
          {
            port,
            speed,
            json: flags.json === true,
            ...(flags.entry === undefined ? {} : { entry: flags.entry }),
            ...(flags.store === undefined ? {} : { storeDir: flags.store }),
            ...(flags.functionKey === undefined ? {} : { functionKey: flags.functionKey }),
          },
          io,
        );
        await interrupted;
        await host.stop();
      } catch (error) {
        process.stderr.write(`cutover dev: ${(error as Error).message}\n`);
        process.exitCode = (error as { name?: string }).name === "LocalHostError" ? 1 : 3;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
