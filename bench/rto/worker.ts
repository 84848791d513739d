/**
 * A `bench/rto` worker process: runs the scenario runs its parent sends over IPC, one at a time, and answers each with
 * a {@link RunRow}. Every run is a whole `runScenario` — its own Azurite, simulator, clock and a freshly loaded app —
 * exactly as `npm run simulate` runs it; only the process is reused.
 *
 * The simulation stack and the app come from the compiled `dist/` (what `npm run simulate` runs; `npm run bench:rto`
 * builds first), or from the TypeScript sources through tsx when `CUTOVER_BENCH_FROM=src`. The worker keeps one
 * Azurite for all its runs, emptied before each (local/simulate/azurite-pool.ts), unless
 * `CUTOVER_BENCH_FRESH_AZURITE=1`.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type * as AzuritePoolModule from "../../local/simulate/azurite-pool";
import type * as RunScenarioModule from "../../local/simulate/run-scenario";
import type { SimulateReport } from "../../local/simulate/run-scenario";
import { REPO_ROOT } from "./scenarios";
import { errorRow, type RunRow } from "./summary";

export type WorkerRequest =
  | { readonly kind: "run"; readonly scenario: string; readonly file: string; readonly seed: number }
  | { readonly kind: "exit" };

export type WorkerReply = { readonly kind: "ready" } | { readonly kind: "row"; readonly row: RunRow };

const FROM_SRC = process.env["CUTOVER_BENCH_FROM"] === "src";

function load<T>(module: string): T {
  const path = FROM_SRC
    ? join(REPO_ROOT, "local", "simulate", module)
    : join(REPO_ROOT, "dist", "local", "simulate", `${module}.js`);
  return createRequire(__filename)(path) as T;
}

/** One Azurite for every run of this worker, emptied before each (CUTOVER_BENCH_FRESH_AZURITE=1: a new one per run). */
const FRESH_AZURITE = process.env["CUTOVER_BENCH_FRESH_AZURITE"] === "1";

const ENTRY = FROM_SRC ? join(REPO_ROOT, "src", "index.ts") : join(REPO_ROOT, "dist", "src", "index.js");

/** Seconds from the fault of the first Fired alert webhook the world delivered (from the run's world timeline). */
function firstAlertDelivered(report: SimulateReport): number | null {
  for (const e of report.timeline) {
    if (e.source !== "world" || e.t < 0 || !e.event.startsWith("alert-delivered ")) continue;
    if (e.event.includes('"condition":"Fired"')) return e.t;
  }
  return null;
}

/**
 * Detection: from the fault to the first signal, and its source. Reports that carry a detection record (issue #6:
 * the earliest of an alert reaching `/api/alerts` and a breaker opening on Cutover's own probes) give it directly;
 * otherwise it is the failover's start and its trigger kind.
 */
function detectionOf(report: SimulateReport): RunRow["detection"] {
  const firstAlert = firstAlertDelivered(report);
  const extra = (report as unknown as { detection?: Record<string, unknown> }).detection;
  const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
  if (extra !== undefined && (typeof extra["source"] === "string" || extra["source"] === null))
    return {
      seconds: num(extra["delaySeconds"] ?? extra["seconds"]),
      source: extra["source"] ?? null,
      alertSeconds: num(extra["alertSeconds"]),
      probeSeconds: num(extra["probeSeconds"]),
      firstAlertDeliveredSeconds: firstAlert,
    };
  const primary = report.reports[0];
  const firstAppEvent = report.timeline.find((e) => e.source === "app");
  return {
    seconds: primary === undefined || firstAppEvent === undefined ? null : firstAppEvent.t,
    source: primary?.trigger.kind ?? null,
    alertSeconds: null,
    probeSeconds: null,
    firstAlertDeliveredSeconds: firstAlert,
  };
}

/** The most failovers started for one workload + scope (0 when none started). */
function perScopeMax(report: SimulateReport): number {
  const counts = new Map<string, number>();
  for (const f of report.failoverList) {
    const key = `${f.workload}|${f.scope.region}|${f.scope.zone ?? ""}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Math.max(0, ...counts.values());
}

/** `scenario` is the name the runner asked for (a file's `name:` may differ from its file name). */
function rowOf(scenario: string, report: SimulateReport, wallSeconds: number, cpuSeconds: number): RunRow {
  return {
    scenario,
    seed: report.seed,
    outcome: report.outcome,
    workload: report.workload,
    scope: report.scope,
    rtoSeconds: report.rtoSeconds,
    worldRecoverySeconds: report.worldRecoverySeconds,
    lowerBoundSeconds: report.lowerBoundSeconds,
    rtoOverLowerBound: report.rtoOverLowerBound,
    predictedRtoSeconds: report.predictedRtoSeconds,
    phases: report.phases,
    failovers: report.failovers,
    failoversPerScopeMax: perScopeMax(report),
    armWrites: report.armWrites,
    alerts: report.alerts,
    detection: detectionOf(report),
    ...(report.checkpointStep === undefined
      ? {}
      : {
          training: { checkpointStep: report.checkpointStep ?? null, workLostSeconds: report.workLostSeconds ?? null },
        }),
    wallSeconds: round1(wallSeconds),
    cpuSeconds: round1(cpuSeconds),
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

async function runOne(
  runner: typeof RunScenarioModule,
  pool: AzuritePoolModule.AzuritePool | undefined,
  request: Extract<WorkerRequest, { kind: "run" }>,
): Promise<RunRow> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const elapsed = (): [number, number] => {
    const used = process.cpuUsage(cpu);
    return [(performance.now() - started) / 1000, (used.user + used.system) / 1e6];
  };
  try {
    const report = await runner.runScenario({
      scenario: request.file,
      seed: request.seed,
      entry: ENTRY,
      ...(pool === undefined ? {} : { azurite: pool.acquire }),
    });
    const [wall, cpuSeconds] = elapsed();
    return rowOf(request.scenario, report, wall, cpuSeconds);
  } catch (error) {
    const [wall, cpuSeconds] = elapsed();
    return errorRow(
      request.scenario,
      request.seed,
      error instanceof Error ? (error.stack ?? error.message).split("\n").slice(0, 3).join(" | ") : String(error),
      round1(wall),
      round1(cpuSeconds),
    );
  }
}

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error("bench/rto/worker.ts runs as a child of bench/rto/run.ts (no IPC channel)");
  const runner = load<typeof RunScenarioModule>("run-scenario");
  const pool = FRESH_AZURITE ? undefined : new (load<typeof AzuritePoolModule>("azurite-pool").AzuritePool)();
  const exit = (): void => {
    void (pool?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  // The parent went away: stop the pooled Azurite with us.
  process.on("disconnect", exit);
  let queue = Promise.resolve();
  process.on("message", (message: WorkerRequest) => {
    queue = queue.then(async () => {
      if (message.kind === "exit") return exit();
      const row = await runOne(runner, pool, message);
      send({ kind: "row", row } satisfies WorkerReply);
    });
  });
  send({ kind: "ready" } satisfies WorkerReply);
}

main();
