/**
 * `npm run bench:rto` — issue #5's RTO benchmark (prints figures; asserts nothing):
 * every scenario in `examples/scenarios/` × N seeds, run end to end (Azurite + Azure simulator + the app in the local
 * host on one virtual clock) in K worker processes, then per scenario: outcomes, p50/p95 RTO and world recovery,
 * RTO / lower bound, p50 of each phase, detection delay and its source, failovers per run, ARM writes, the aims with
 * PASS/MISS, and the wall time. The raw per-run rows go to a JSON file named in the output.
 *
 *   npm run bench:rto -- [--seeds 50] [--first-seed 1] [--scenario <name>]… [--workers 2] [--out <file.json>]
 *                        [--runs-per-worker 25] [--fresh-azurite]
 *   npm run bench:rto -- --summarize <rows.json | rows.json.partial.jsonl>   (figures again from saved rows)
 *
 * Seeds are `first-seed … first-seed + seeds - 1` (the scenario file's own seed is replaced). Percentiles are
 * nearest-rank (see ./summary.ts). Each worker keeps one Azurite for all its runs, emptied before each run
 * (`--fresh-azurite`: a new Azurite per run, as `npm run simulate` does).
 */
import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { listScenarios, scenarioFile } from "./scenarios";
import { errorRow, formatSummary, summarise, type RunRow, type ScenarioSummary } from "./summary";
import type { WorkerReply, WorkerRequest } from "./worker";

interface Options {
  readonly seeds: number;
  readonly firstSeed: number;
  readonly scenarios: string[];
  readonly workers: number;
  readonly out: string;
  readonly runsPerWorker: number;
  readonly freshAzurite: boolean;
}

class UsageError extends Error {
  override readonly name = "UsageError" as const;
}

function parseArgs(argv: ReadonlyArray<string>): Options {
  const scenarios: string[] = [];
  let seeds = 50;
  let firstSeed = 1;
  let workers = 2;
  let runsPerWorker = 25;
  let out: string | undefined;
  let freshAzurite = false;
  const int = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < min)
      throw new UsageError(`${flag} needs an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case "--seeds":
        seeds = int(flag, value, 1);
        i++;
        break;
      case "--first-seed":
        firstSeed = int(flag, value, 0);
        i++;
        break;
      case "--workers":
        workers = int(flag, value, 1);
        i++;
        break;
      case "--runs-per-worker":
        runsPerWorker = int(flag, value, 1);
        i++;
        break;
      case "--fresh-azurite":
        freshAzurite = true;
        break;
      case "--scenario":
        if (value === undefined) throw new UsageError("--scenario needs a name");
        scenarios.push(value);
        i++;
        break;
      case "--out":
        if (value === undefined) throw new UsageError("--out needs a file name");
        out = resolve(value);
        i++;
        break;
      default:
        throw new UsageError(
          `unknown argument ${JSON.stringify(flag)} (use --seeds N, --first-seed N, --scenario <name>, --workers K, --runs-per-worker N, --out <file>, --fresh-azurite)`,
        );
    }
  }
  const known = listScenarios();
  for (const s of scenarios)
    if (!known.includes(s) && !/[/\\]|\.ya?ml$/.test(s))
      throw new UsageError(`no scenario ${JSON.stringify(s)} in examples/scenarios (have: ${known.join(", ")})`);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return {
    seeds,
    firstSeed,
    scenarios: scenarios.length > 0 ? scenarios : known,
    workers,
    runsPerWorker,
    freshAzurite,
    out: out ?? join(tmpdir(), `cutover-bench-rto-${stamp}.json`),
  };
}

interface Job {
  readonly scenario: string;
  readonly file: string;
  readonly seed: number;
}

/** Runs every job in `workers` child processes (each reused for up to `runsPerWorker` runs), in any order. */
async function runJobs(
  jobs: ReadonlyArray<Job>,
  options: Options,
  onRow: (row: RunRow, done: number) => void,
): Promise<RunRow[]> {
  const rows: RunRow[] = [];
  const pending = [...jobs];
  const workerPath = join(__dirname, "worker.ts");

  const drive = (): Promise<void> =>
    new Promise<void>((finish) => {
      let child: ChildProcess | undefined;
      let runs = 0;
      let current: Job | undefined;
      const spawnWorker = (): void => {
        runs = 0;
        // Inherit tsx's loader flags (process.execArgv) so the worker runs TypeScript too.
        const c = fork(workerPath, [], {
          stdio: ["ignore", "inherit", "inherit", "ipc"],
          env: { ...process.env, ...(options.freshAzurite ? { CUTOVER_BENCH_FRESH_AZURITE: "1" } : {}) },
        });
        child = c;
        c.on("message", (reply: WorkerReply) => {
          if (reply.kind === "row") {
            rows.push(reply.row);
            current = undefined;
            onRow(reply.row, rows.length);
          }
          next(c);
        });
        c.on("exit", (code, signal) => {
          if (child !== c) return;
          if (current !== undefined) {
            // The worker died in the middle of a run: record it as an error and carry on with a new worker.
            const row = crashedRow(current, `worker exited (code ${String(code)}, signal ${String(signal)})`);
            current = undefined;
            rows.push(row);
            onRow(row, rows.length);
          }
          if (pending.length > 0) spawnWorker();
          else finish();
        });
      };
      const next = (c: ChildProcess): void => {
        if (child !== c) return;
        const job = pending.shift();
        if (job === undefined) {
          child = undefined;
          c.send({ kind: "exit" } satisfies WorkerRequest);
          finish();
          return;
        }
        if (runs >= options.runsPerWorker) {
          // Recycle: a fresh process bounds whatever a long series of runs leaves behind.
          pending.unshift(job);
          child = undefined;
          c.send({ kind: "exit" } satisfies WorkerRequest);
          spawnWorker();
          return;
        }
        runs++;
        current = job;
        c.send({ kind: "run", scenario: job.scenario, file: job.file, seed: job.seed } satisfies WorkerRequest);
      };
      spawnWorker();
    });

  const drivers = Array.from({ length: Math.min(options.workers, jobs.length) }, () => drive());
  await Promise.all(drivers);
  return rows;
}

function crashedRow(job: Job, error: string): RunRow {
  return errorRow(job.scenario, job.seed, error);
}

async function main(): Promise<void> {
  const at = process.argv.indexOf("--summarize");
  if (at >= 0) {
    const file = process.argv[at + 1];
    if (file === undefined) throw new UsageError("--summarize needs a rows file (.json or .jsonl)");
    summariseFile(file);
    return;
  }
  const options = parseArgs(process.argv.slice(2));
  const jobs: Job[] = [];
  // Seed-major order: every scenario gets runs early, and long and short runs interleave across the workers.
  for (let i = 0; i < options.seeds; i++)
    for (const scenario of options.scenarios)
      jobs.push({ scenario, file: scenarioFile(scenario), seed: options.firstSeed + i });
  const started = performance.now();
  const startedAt = new Date().toISOString();
  process.stderr.write(
    `bench/rto: ${options.scenarios.length} scenario(s) × ${options.seeds} seed(s) = ${jobs.length} runs on ${options.workers} worker(s) (${cpus().length} CPUs)\n`,
  );
  // Rows also go to a JSON-lines file as they arrive, so a long run that is interrupted keeps what it measured.
  const partial = `${options.out}.partial.jsonl`;
  writeFileSync(partial, "");
  const rows = await runJobs(jobs, options, (row, done) => {
    appendFileSync(partial, `${JSON.stringify(row)}\n`);
    const elapsed = (performance.now() - started) / 1000;
    process.stderr.write(
      `  [${done}/${jobs.length} ${elapsed.toFixed(0)} s] ${row.scenario} seed ${row.seed}: ${row.outcome}` +
        `${row.rtoSeconds === null ? "" : `, RTO ${row.rtoSeconds} s`}${row.rtoOverLowerBound === null ? "" : ` (×${row.rtoOverLowerBound} of bound)`}` +
        `, ${row.wallSeconds} s wall${row.error === undefined ? "" : ` — ${row.error}`}\n`,
    );
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const summaries = summariseAll(options.scenarios, rows);
  writeFileSync(
    options.out,
    `${JSON.stringify(
      {
        startedAt,
        wallSeconds: Math.round(wallSeconds),
        machine: { cpus: cpus().length, node: process.version },
        options,
        percentiles: "nearest-rank; a run without a verified cutover counts as an infinite RTO",
        summaries,
        rows: [...rows].sort((a, b) => a.scenario.localeCompare(b.scenario) || a.seed - b.seed),
      },
      null,
      1,
    )}\n`,
  );
  rmSync(partial, { force: true });
  const seeds = `${options.seeds} seeds ${options.firstSeed}…${options.firstSeed + options.seeds - 1}`;
  const load = loadavg()[2] ?? 0;
  printReport(
    `RTO benchmark: ${rows.length} runs (${options.scenarios.length} scenarios × ${seeds}), ${options.workers} workers, ${wallSeconds.toFixed(0)} s wall (${cpus().length} CPUs, load average ${load.toFixed(1)} over the last 15 min)`,
    summaries,
    options.out,
  );
}

function summariseAll(scenarios: ReadonlyArray<string>, rows: ReadonlyArray<RunRow>): ScenarioSummary[] {
  return scenarios.map((s) =>
    summarise(
      s,
      rows.filter((r) => r.scenario === s).sort((a, b) => a.seed - b.seed),
    ),
  );
}

function printReport(header: string, summaries: ReadonlyArray<ScenarioSummary>, rowsFile: string): void {
  const out: string[] = ["", header];
  out.push("Percentiles are nearest-rank; a run without a verified cutover counts as an infinite RTO.");
  for (const s of summaries) out.push("", formatSummary(s));
  out.push("", "Aims:");
  for (const s of summaries)
    for (const a of s.aims) out.push(`  ${a.verdict.padEnd(4)}  ${s.scenario.padEnd(28)} ${a.aim.text} — ${a.detail}`);
  const misses = summaries.flatMap((s) => s.aims).filter((a) => a.verdict === "MISS").length;
  out.push("", `${misses === 0 ? "All aims met." : `${misses} aim(s) missed.`} Raw rows: ${rowsFile}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

/** `--summarize <file>`: prints the figures again from saved rows (the JSON output, or an interrupted run's .jsonl). */
function summariseFile(file: string): void {
  const text = readFileSync(file, "utf8");
  const rows: RunRow[] = file.endsWith(".jsonl")
    ? text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as RunRow)
    : (JSON.parse(text) as { rows: RunRow[] }).rows;
  const scenarios = [...new Set(rows.map((r) => r.scenario))].sort();
  const wall = rows.reduce((a, r) => a + r.wallSeconds, 0);
  printReport(
    `RTO benchmark (from ${file}): ${rows.length} runs, ${scenarios.length} scenarios; ${wall.toFixed(0)} s of run wall time in all`,
    summariseAll(scenarios, rows),
    file,
  );
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench/rto: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(3);
});
