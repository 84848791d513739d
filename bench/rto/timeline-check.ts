/**
 * Timeline fingerprints (prints figures; asserts nothing): runs scenarios end to end and reduces each run to what
 * the simulation modelled — the report (minus wall time), the world's full timeline, every request the simulator
 * answered, the host's event log and the virtual time at the end — so that a speed-up of the simulation stack can be
 * shown to leave every run's timeline unchanged.
 *
 *   npx tsx bench/rto/timeline-check.ts [--scenario <name>]… [--seeds 1,2,3] --out <file.json> [--dump <dir>]
 *                                       [--azurite-pool]   (one Azurite for all runs, emptied between them)
 *   npx tsx bench/rto/timeline-check.ts --compare <before.json> <after.json>
 *
 * Requests that arrive at the same virtual millisecond are sorted, so the fingerprint does not depend on the order in
 * which concurrent I/O happened to land (the simulation itself never lets that order change what it models).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { AzuritePool } from "../../local/simulate/azurite-pool";
import { runScenario } from "../../local/simulate/run-scenario";
import type { Simulation } from "../../local/simulate/environment";
import { APP_ENTRY, listScenarios, scenarioFile } from "./scenarios";

export interface RunFingerprint {
  readonly scenario: string;
  readonly seed: number;
  readonly hash: string;
  readonly parts: Readonly<Record<string, string>>;
  readonly wallSeconds: number;
  /** CPU seconds of this process during the run (Azurite's child process not included). */
  readonly cpuSeconds?: number;
  readonly rtoSeconds: number | null;
}

/**
 * Two values legitimately differ between runs of the same seed: loopback ports (chosen by the OS; they end up in URLs
 * inside histories and bodies), and the latency the app measures in wall time for a health check that answers 503
 * without a body latency (the `snapshotWorkload` result records it; nothing in the simulation acts on it).
 */
function normalise(text: string): string {
  return text.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:*").replace(/(\\*"status\\*":503,\\*"latencyMs\\*":)\d+/g, "$1*");
}

function sha(value: unknown): string {
  return createHash("sha256")
    .update(normalise(JSON.stringify(value)))
    .digest("hex")
    .slice(0, 16);
}

function sortedLines(lines: string[]): string[] {
  return [...lines].sort();
}

/** Runs one scenario and seed and fingerprints what it modelled; `dump` receives each part's raw value. */
export async function fingerprint(
  scenario: string,
  seed: number,
  dump?: (part: string, value: unknown) => void,
  pool?: AzuritePool,
): Promise<RunFingerprint> {
  let simulation: Simulation | undefined;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const report = await runScenario({
    scenario: scenarioFile(scenario),
    seed,
    entry: APP_ENTRY,
    ...(pool === undefined ? {} : { azurite: pool.acquire }),
    during: (s) => {
      simulation = s;
    },
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  if (simulation === undefined) throw new Error("runScenario did not hand over its simulation");
  const s = simulation;
  const snapshot = await s.store.load();
  const raw: Record<string, unknown> = {
    histories: snapshot.instances
      .map((i) => ({ id: i.instanceId, status: i.runtimeStatus, output: i.output, history: i.history }))
      .sort((a, b) => a.id.localeCompare(b.id))
      .flatMap((i) => [`${i.id} ${i.status} ${i.output ?? ""}`, ...i.history.map((e) => JSON.stringify(e))]),
    report,
    worldTimeline: s.sim.timeline.all(),
    simRequests: sortedLines(
      s.sim.requestLog
        .all()
        .map(
          (e) => `${e.at} ${e.service} ${e.method} ${e.path} ${e.status} ${e.fault ?? ""} ${JSON.stringify(e.body)}`,
        ),
    ),
    hostRequests: sortedLines(s.host.requestLog.map((e) => `${e.at} ${e.method} ${e.path} ${e.status}`)),
    hostEvents: sortedLines(
      s.host.eventLog
        .filter((e) => e.kind !== "log")
        .map((e) => `${e.at} ${e.kind} ${e.name ?? ""} ${e.instanceId ?? ""}`),
    ),
    groundTruth: s.samples,
    alerts: s.sim.alertNotifications().map((n) => [n.rule, n.condition, n.decidedAt, n.deliveredAt, n.attempts]),
  };
  const parts: Record<string, string> = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, sha(v)]));
  parts["clockEnd"] = String(s.clock.now());
  if (dump !== undefined) for (const [k, v] of Object.entries(raw)) dump(k, v);
  return {
    scenario,
    seed,
    hash: sha(parts),
    parts,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    cpuSeconds: Math.round(cpuSeconds * 10) / 10,
    rtoSeconds: report.rtoSeconds,
  };
}

function arg(name: string): string[] {
  const out: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) if (argv[i] === name && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
  return out;
}

function compare(beforePath: string, afterPath: string): number {
  const read = (p: string): RunFingerprint[] => JSON.parse(readFileSync(p, "utf8")) as RunFingerprint[];
  const before = read(beforePath);
  const after = new Map(read(afterPath).map((f) => [`${f.scenario}#${f.seed}`, f]));
  let differ = 0;
  let wallBefore = 0;
  let wallAfter = 0;
  let cpuBefore = 0;
  let cpuAfter = 0;
  for (const b of before) {
    const a = after.get(`${b.scenario}#${b.seed}`);
    if (a === undefined) {
      process.stdout.write(`${b.scenario} seed ${b.seed}: missing in ${afterPath}\n`);
      differ++;
      continue;
    }
    wallBefore += b.wallSeconds;
    wallAfter += a.wallSeconds;
    cpuBefore += b.cpuSeconds ?? Number.NaN;
    cpuAfter += a.cpuSeconds ?? Number.NaN;
    const changed = Object.keys(b.parts).filter((k) => b.parts[k] !== a.parts[k]);
    if (changed.length > 0) differ++;
    process.stdout.write(
      `${b.scenario.padEnd(30)} seed ${String(b.seed).padEnd(6)} ${changed.length === 0 ? "same timeline" : `DIFFERS in ${changed.join(", ")}`}   wall ${b.wallSeconds.toFixed(1)} s -> ${a.wallSeconds.toFixed(1)} s, cpu ${b.cpuSeconds?.toFixed(1) ?? "?"} s -> ${a.cpuSeconds?.toFixed(1) ?? "?"} s\n`,
    );
  }
  process.stdout.write(
    `\n${before.length - differ}/${before.length} runs identical; wall ${wallBefore.toFixed(1)} s -> ${wallAfter.toFixed(1)} s (${wallAfter > 0 ? (wallBefore / wallAfter).toFixed(2) : "—"}x); cpu ${cpuBefore.toFixed(1)} s -> ${cpuAfter.toFixed(1)} s\n`,
  );
  return differ;
}

async function main(): Promise<void> {
  const cmp = process.argv.indexOf("--compare");
  if (cmp >= 0) {
    const [b, a] = [process.argv[cmp + 1], process.argv[cmp + 2]];
    if (b === undefined || a === undefined) throw new Error("--compare needs two fingerprint files");
    process.exitCode = compare(b, a) === 0 ? 0 : 1;
    return;
  }
  const out = arg("--out")[0];
  if (out === undefined) throw new Error("--out <file.json> is required");
  const dumpDir = arg("--dump")[0];
  const pool = process.argv.includes("--azurite-pool") ? new AzuritePool() : undefined;
  if (dumpDir !== undefined) mkdirSync(dumpDir, { recursive: true });
  const scenarios = arg("--scenario");
  const names = scenarios.length > 0 ? scenarios : listScenarios();
  const seeds = (arg("--seeds")[0] ?? "1,2")
    .split(",")
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n >= 0);
  const results: RunFingerprint[] = [];
  for (const name of names)
    for (const seed of seeds) {
      const f = await fingerprint(
        name,
        seed,
        dumpDir === undefined
          ? undefined
          : (part, value) =>
              writeFileSync(
                join(dumpDir, `${name}-${seed}-${part}.txt`),
                normalise(
                  Array.isArray(value)
                    ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join("\n")
                    : JSON.stringify(value, null, 1),
                ),
              ),
        pool,
      );
      results.push(f);
      process.stdout.write(
        `${name.padEnd(30)} seed ${String(seed).padEnd(6)} ${f.hash}  RTO ${f.rtoSeconds ?? "—"} s  wall ${f.wallSeconds.toFixed(1)} s  cpu ${f.cpuSeconds?.toFixed(1) ?? "?"} s\n`,
      );
    }
  await pool?.close();
  writeFileSync(out, `${JSON.stringify(results, null, 1)}\n`);
  process.stdout.write(`fingerprints written to ${out}\n`);
}

if (require.main === module)
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(3);
  });
