/**
 * `npm run bench:alerts` — issue #5's alert benchmark (prints figures; asserts nothing). The app runs in the in-process
 * local host exactly as `npm run simulate` runs it (Azurite for its state, the Azure simulator behind it, the virtual
 * clock following wall time as under `func start`), and alerts reach its real `POST /api/alerts` over HTTP on loopback
 * from a separate load-generator process:
 *
 * (a) open loop: Common Alert Schema posts at a fixed rate (default 200/s for 30 s) — Fired and Resolved alerts for
 *     several workload scopes, and alerts about resources the topology does not know — measuring webhook latency
 *     p50/p99 from the moment each post was due, errors, the rate actually completed, and where the time went (CPU
 *     of the app's process, Azurite and the generator; the app's outbound calls per alert);
 * (b) storm: 5,000 Fired alerts for ONE incident (one workload + scope, several rules, a new alert id each) with
 *     bounded concurrency → failover orchestrations started (exactly 1 expected) and alert records in the table
 *     (5,000 expected).
 *
 *   npm run bench:alerts -- [--rate 200] [--seconds 30] [--storm 5000] [--concurrency 100] [--skip-load]
 *                           [--skip-storm] [--profile <file.cpuprofile>]
 */
import { fork } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { TableClient } from "@azure/data-tables";
import { stringify } from "yaml";
import type * as EnvironmentModule from "../../local/simulate/environment";
import type { Simulation } from "../../local/simulate/environment";
import { REPO_ROOT } from "../rto/scenarios";
import { percentile } from "../rto/summary";
import type { AlertKind, LoadPlan, LoadResult, Sample } from "./load";
import type { AlertScope } from "./payloads";

const FROM_SRC = process.env["CUTOVER_BENCH_FROM"] === "src";
const ALERT_TABLE = "CutoverAlerts";
const FAILOVER_ORCHESTRATION = "failoverWorkload";

interface Options {
  readonly rate: number;
  readonly seconds: number;
  readonly storm: number;
  readonly concurrency: number;
  readonly load: boolean;
  readonly stormEnabled: boolean;
  readonly profile: string | undefined;
}

function parseArgs(argv: ReadonlyArray<string>): Options {
  let rate = 200;
  let seconds = 30;
  let storm = 5000;
  let concurrency = 100;
  let load = true;
  let stormEnabled = true;
  let profile: string | undefined;
  const num = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min)
      throw new Error(`${flag} needs a number ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case "--rate":
        rate = num(flag, value, 1);
        i++;
        break;
      case "--seconds":
        seconds = num(flag, value, 1);
        i++;
        break;
      case "--storm":
        storm = Math.round(num(flag, value, 1));
        i++;
        break;
      case "--concurrency":
        concurrency = Math.round(num(flag, value, 1));
        i++;
        break;
      case "--skip-load":
        load = false;
        break;
      case "--skip-storm":
        stormEnabled = false;
        break;
      case "--profile":
        if (value === undefined) throw new Error("--profile needs a file name");
        profile = value;
        i++;
        break;
      default:
        throw new Error(
          `unknown argument ${JSON.stringify(flag)} (use --rate, --seconds, --storm, --concurrency, --skip-load, --skip-storm, --profile <file>)`,
        );
    }
  }
  return { rate, seconds, storm, concurrency, load, stormEnabled, profile };
}

function loadEnvironment(): typeof EnvironmentModule {
  const path = FROM_SRC
    ? join(REPO_ROOT, "local", "simulate", "environment")
    : join(REPO_ROOT, "dist", "local", "simulate", "environment.js");
  return createRequire(__filename)(path) as typeof EnvironmentModule;
}

const ENTRY = FROM_SRC ? join(REPO_ROOT, "src", "index.ts") : join(REPO_ROOT, "dist", "src", "index.js");

/** A quiet world over the example topology: no faults, no alert rules, every model store seeded. */
function quietScenario(): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-bench-alerts-"));
  const file = join(dir, "quiet.yaml");
  writeFileSync(
    file,
    stringify({
      version: 1,
      name: "bench-alerts-quiet",
      description: "bench/alerts: a quiet world (no faults, no alert rules)",
      topology: join(REPO_ROOT, "examples", "topology.yaml"),
      seed: 7,
      modelStores: {
        chat: { eastus2: ["2026.10.2"], westus3: ["2026.10.2"] },
        "chat-lite": { centralus: ["2026.11.0"], swedencentral: ["2026.11.0"], francecentral: ["2026.11.0"] },
      },
    }),
  );
  return file;
}

// ---------------------------------------------------------------------------------------------- measurement helpers

/** CPU ms (user + system) of a process from /proc (Linux); undefined elsewhere. */
function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 (1-based) of the whole line, i.e. 11 and 12 after the command.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** The Azurite child this process started (the simulation does not expose its pid). */
function azuritePid(): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("azurite")) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Counts this process's outbound HTTP requests by destination (node:http clients and undici's fetch). */
class OutboundCounter {
  readonly counts = new Map<string, number>();
  readonly #labels: Map<string, string>;
  readonly #onHttp = (message: unknown): void => {
    const request = (message as { request?: { getHeader?: (name: string) => unknown } }).request;
    const host = request?.getHeader?.("host");
    this.#add(typeof host === "string" ? host : "?");
  };
  readonly #onUndici = (message: unknown): void => {
    const origin = (message as { request?: { origin?: unknown } }).request?.origin;
    this.#add(typeof origin === "string" ? new URL(origin).host : "?");
  };

  constructor(labels: Map<string, string>) {
    this.#labels = labels;
    subscribe("http.client.request.start", this.#onHttp);
    subscribe("undici:request:create", this.#onUndici);
  }

  #add(host: string): void {
    const label = this.#labels.get(host) ?? host;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  stop(): void {
    unsubscribe("http.client.request.start", this.#onHttp);
    unsubscribe("undici:request:create", this.#onUndici);
  }
}

function destinations(simulation: Simulation): Map<string, string> {
  const labels = new Map<string, string>();
  const host = (url: string): string => new URL(url).host;
  labels.set(host(simulation.azurite.blobEndpoint), "Azurite blob");
  labels.set(host(simulation.azurite.tableEndpoint), "Azurite table");
  labels.set(host(simulation.azurite.queueEndpoint), "Azurite queue");
  labels.set(host(simulation.sim.armEndpoint), "simulator ARM/Monitor");
  labels.set(host(simulation.sim.endpointsOrigin), "simulator endpoints");
  labels.set(host(simulation.host.baseUrl), "the app's host (durable API, gates)");
  return labels;
}

/** Host request log entries (by target) from `fromSeq` on. */
function hostRequests(simulation: Simulation, fromSeq: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of simulation.host.requestLog) {
    if (e.seq <= fromSeq) continue;
    const key = e.target ?? "other";
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

/** Distinct host warnings and app errors logged after event `fromSeq` (at most 5, each cut to 300 characters). */
function hostTroubles(simulation: Simulation, fromSeq: number): string[] {
  const seen = new Map<string, number>();
  for (const e of simulation.host.eventLog) {
    if (e.seq <= fromSeq) continue;
    const message = e.message ?? "";
    if (e.kind !== "warning" && !/^\[error\]/i.test(message)) continue;
    const key = `${e.name ?? ""} ${message}`.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<id>").slice(0, 300);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.entries()].slice(0, 5).map(([k, n]) => `${k} ×${n}`);
}

function lastSeq(simulation: Simulation): number {
  return simulation.host.requestLog[simulation.host.requestLog.length - 1]?.seq ?? 0;
}

async function startProfile(): Promise<Session> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error === null ? resolve(result) : reject(error))),
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 500 });
  await post("Profiler.start");
  return session;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: number[];
}

async function stopProfile(session: Session, file: string): Promise<string[]> {
  const profile = await new Promise<{ nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }>(
    (resolve, reject) =>
      session.post("Profiler.stop", (error, result) =>
        error === null
          ? resolve(result.profile as unknown as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] })
          : reject(error),
      ),
  );
  session.disconnect();
  writeFileSync(file, JSON.stringify(profile));
  // Self time by where the code lives: a package, or a folder of this repo.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const buckets = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const url = byId.get(id)?.callFrame.url ?? "";
    const name = byId.get(id)?.callFrame.functionName ?? "";
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const repo = /\/(src|local)\/([^/]+)\//.exec(url);
    const bucket =
      pkg ??
      (repo !== null
        ? `${repo[1]}/${repo[2]}`
        : url.startsWith("node:")
          ? "node core"
          : name.startsWith("(")
            ? name
            : "V8/native");
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + dt);
  });
  return [...buckets.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 14)
    .map(([k, v]) => `${k.padEnd(34)} ${((100 * v) / Math.max(1, total)).toFixed(1).padStart(5)}%`);
}

function runLoad(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, "load.ts"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.once("message", (result: LoadResult) => resolve(result));
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`load generator exited with code ${String(code)}`));
    });
    child.send(plan);
  });
}

/** Held: at least 95% of the offered posts answered 2xx at the offered pace, and p99 (from due) under 2 s. */
function held(samples: ReadonlyArray<Sample>, seconds: number): boolean {
  const ok = samples.filter((x) => x.status >= 200 && x.status < 300);
  const lastDone = Math.max(...samples.map((x) => x.dueAt + x.lateMs + x.serviceMs));
  const completedRate = (ok.length * 1000) / Math.max(1, lastDone);
  const p99 = percentile(
    samples.map((x) => x.lateMs + x.serviceMs),
    99,
  );
  return completedRate >= (0.95 * samples.length) / seconds && (p99 ?? Number.POSITIVE_INFINITY) < 2000;
}

function ms(v: number | undefined): string {
  return v === undefined ? "—" : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
}

function countBy<T>(items: ReadonlyArray<T>, key: (t: T) => string): string {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ×${v}`)
    .join(", ");
}

function latencyLine(label: string, samples: ReadonlyArray<Sample>, from: "due" | "sent"): string {
  const values = samples.map((s) => (from === "due" ? s.lateMs + s.serviceMs : s.serviceMs));
  return `  ${label.padEnd(28)} n ${String(samples.length).padStart(5)}   p50 ${ms(percentile(values, 50)).padStart(9)}   p90 ${ms(percentile(values, 90)).padStart(9)}   p99 ${ms(percentile(values, 99)).padStart(9)}   max ${ms(percentile(values, 100)).padStart(9)}`;
}

async function startWorld(env: typeof EnvironmentModule, scenario: string): Promise<Simulation> {
  const simulation = await env.startSimulation({ scenario, entry: ENTRY });
  simulation.host.startRealTime(1);
  return simulation;
}

function alertsUrl(simulation: Simulation): string {
  return `${simulation.host.baseUrl}/api/alerts?code=${encodeURIComponent(simulation.host.functionKey)}`;
}

// ------------------------------------------------------------------------------------------------------------ phases

async function openLoopPhase(env: typeof EnvironmentModule, scenario: string, options: Options): Promise<string[]> {
  const out: string[] = [];
  const simulation = await startWorld(env, scenario);
  try {
    const url = alertsUrl(simulation);
    const firedAt = new Date(simulation.clock.now()).toISOString();
    const scopes: AlertScope[] = [
      { workload: "chat", region: "eastus2", zone: "1" },
      { workload: "chat-lite", region: "centralus" },
      { workload: "chat", region: "westus3", zone: "2" },
      { workload: "chat-lite", region: "francecentral" },
    ];
    // Warm-up (JIT, first claims, table and container creation), not measured.
    await runLoad({ kind: "open-loop", url, ratePerSecond: 20, seconds: 2, scopes, firedAt });

    const azurite = azuritePid();
    const counter = new OutboundCounter(destinations(simulation));
    const seq = lastSeq(simulation);
    const eventSeq = simulation.host.eventLog[simulation.host.eventLog.length - 1]?.seq ?? 0;
    const cpu = process.cpuUsage();
    const azuriteCpu = azurite === undefined ? undefined : procCpuMs(azurite);
    const session = options.profile === undefined ? undefined : await startProfile();
    const started = performance.now();
    const result = await runLoad({
      kind: "open-loop",
      url,
      ratePerSecond: options.rate,
      seconds: options.seconds,
      scopes,
      firedAt,
    });
    const wall = performance.now() - started;
    const where =
      session === undefined || options.profile === undefined ? [] : await stopProfile(session, options.profile);
    const used = process.cpuUsage(cpu);
    const azuriteUsed =
      azurite === undefined || azuriteCpu === undefined ? undefined : (procCpuMs(azurite) ?? 0) - azuriteCpu;
    counter.stop();
    const requests = hostRequests(simulation, seq);

    const samples = result.samples;
    const ok = samples.filter((s) => s.status >= 200 && s.status < 300);
    const errors = samples.filter((s) => !(s.status >= 200 && s.status < 300));
    const lastDone = Math.max(...samples.map((s) => s.dueAt + s.lateMs + s.serviceMs));
    const offered = samples.length / options.seconds;
    const completedRate = (ok.length * 1000) / Math.max(1, lastDone);
    const kinds: AlertKind[] = ["fired", "resolved", "unmapped"];
    const lateP99 = percentile(
      samples.map((s) => s.lateMs),
      99,
    );
    out.push(
      `(a) open loop: ${samples.length} alerts offered at ${options.rate}/s for ${options.seconds} s (${countBy(samples, (s) => s.kind)})`,
    );
    out.push(
      `  completed ${ok.length} with 2xx, ${errors.length} errors${errors.length > 0 ? ` (${countBy(errors, (s) => `${s.status} ${s.outcome}`.slice(0, 240))})` : ""}`,
    );
    out.push(`  answers: ${countBy(ok, (s) => s.outcome)}`);
    const troubles = hostTroubles(simulation, eventSeq);
    if (troubles.length > 0) out.push(`  the host logged: ${troubles.join(" | ")}`);
    out.push(
      `  offered ${offered.toFixed(0)}/s; completed ${completedRate.toFixed(1)}/s (last answer ${(lastDone / 1000).toFixed(1)} s after the first post was due; generator sent p99 ${ms(lateP99)} late)`,
    );
    out.push("  webhook latency, from when each post was due (queueing included):");
    out.push(latencyLine("all", samples, "due"));
    for (const k of kinds) {
      const of = samples.filter((s) => s.kind === k);
      if (of.length > 0) out.push(latencyLine(k, of, "due"));
    }
    out.push("  webhook latency, from when each post was sent:");
    out.push(latencyLine("all", samples, "sent"));
    const sustained = held(samples, options.seconds);
    out.push(
      `  ${sustained ? "SUSTAINED" : "NOT SUSTAINED"}: ${options.rate}/s ${sustained ? "held (≥ 95% completed at the offered rate, p99 < 2 s)" : `not held on this machine; the app completed ${completedRate.toFixed(1)}/s`}`,
    );
    out.push("  where the time went during the load:");
    out.push(
      `    CPU: app host process ${((100 * (used.user + used.system)) / 1000 / wall).toFixed(0)}% of one core, Azurite ${azuriteUsed === undefined ? "?" : `${((100 * azuriteUsed) / wall).toFixed(0)}%`}, load generator ${((100 * result.cpuMs) / wall).toFixed(0)}% (2 cores = 200%)`,
    );
    // Per answered alert: an alert the app never got to (a connection that timed out) cost it nothing, so dividing by
    // the offered count would make an overloaded run look cheaper per alert than it is.
    const appMs = (used.user + used.system) / 1000;
    const answered = Math.max(1, ok.length);
    out.push(
      `    CPU per answered alert: app host process ${(appMs / answered).toFixed(1)} ms (one event loop: at most ≈ ${(1000 / Math.max(0.001, appMs / answered)).toFixed(0)} alerts/s if it had a core to itself), Azurite ${azuriteUsed === undefined ? "?" : `${(azuriteUsed / answered).toFixed(1)} ms`}; per offered alert: app ${(appMs / samples.length).toFixed(1)} ms`,
    );
    const perAlert = (n: number): string => (n / answered).toFixed(2);
    out.push(
      `    the app's outbound calls per answered alert: ${[...counter.counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${perAlert(v)}`)
        .join(", ")}`,
    );
    out.push(
      `    requests the host served per answered alert: ${[...requests.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${perAlert(v)}`)
        .join(", ")}`,
    );
    if (where.length > 0) {
      out.push(`    CPU profile of the app's process (self time; saved to ${options.profile ?? ""}):`);
      for (const w of where) out.push(`      ${w}`);
    }
    if (!sustained) {
      // Step down until a rate holds, so the output says what this machine does sustain.
      out.push("  lower rates, 10 s each on the same world (after the backlog drained):");
      for (const rate of [150, 100, 75, 50, 25].filter((r) => r < options.rate)) {
        const step = await runLoad({ kind: "open-loop", url, ratePerSecond: rate, seconds: 10, scopes, firedAt });
        const all = step.samples.map((x) => x.lateMs + x.serviceMs);
        const good = step.samples.filter((x) => x.status >= 200 && x.status < 300).length;
        const ok = held(step.samples, 10);
        out.push(
          `    ${String(rate).padStart(4)}/s: ${ok ? "held    " : "not held"}  p50 ${ms(percentile(all, 50))}  p99 ${ms(percentile(all, 99))}  ${good}/${step.samples.length} answered 2xx`,
        );
        if (ok) break;
      }
    }
  } finally {
    simulation.host.stopRealTime();
    await simulation.stop();
  }
  return out;
}

async function stormPhase(env: typeof EnvironmentModule, scenario: string, options: Options): Promise<string[]> {
  const out: string[] = [];
  const simulation = await startWorld(env, scenario);
  try {
    const scope: AlertScope = { workload: "chat", region: "eastus2", zone: "1" };
    const rules = ["storm-gpu-ready-nodes", "storm-origin-health", "storm-5xx", "storm-latency", "storm-node-notready"];
    const started = performance.now();
    const result = await runLoad({
      kind: "storm",
      url: alertsUrl(simulation),
      count: options.storm,
      concurrency: options.concurrency,
      scope,
      rules,
      firedAt: new Date(simulation.clock.now()).toISOString(),
    });
    const wall = performance.now() - started;
    const snapshot = await simulation.store.load();
    const failovers = snapshot.instances.filter((i) => i.name === FAILOVER_ORCHESTRATION && i.parent === null);
    const table = TableClient.fromConnectionString(simulation.azurite.connectionString, ALERT_TABLE, {
      allowInsecureConnection: true,
    });
    let records = 0;
    const recordOutcomes = new Map<string, number>();
    for await (const e of table.listEntities<{ rule?: string; outcome?: string }>()) {
      if (typeof e.rule !== "string" || !e.rule.startsWith("storm-")) continue;
      records++;
      const o = e.outcome ?? "?";
      recordOutcomes.set(o, (recordOutcomes.get(o) ?? 0) + 1);
    }
    const ok = result.samples.filter((s) => s.status >= 200 && s.status < 300);
    out.push(
      `(b) storm: ${options.storm} Fired alerts for one incident (${scope.workload} ${scope.region} zone ${scope.zone ?? "-"}, ${rules.length} rules, a new alert id each), ${options.concurrency} in flight`,
    );
    out.push(
      `  ${ok.length} answered 2xx in ${(wall / 1000).toFixed(1)} s (${((ok.length * 1000) / wall).toFixed(1)}/s); answers: ${countBy(result.samples, (s) => `${s.status} ${s.outcome}`)}`,
    );
    out.push(latencyLine("latency (from send)", result.samples, "sent"));
    out.push(
      `  failover orchestrations started: ${failovers.length} (${failovers.map((f) => `${f.instanceId} ${f.runtimeStatus}`).join(", ")}) — ${failovers.length === 1 ? "PASS exactly 1" : "MISS: expected exactly 1"}`,
    );
    out.push(
      `  alert records in the ${ALERT_TABLE} table: ${records} (${[...recordOutcomes.entries()].map(([k, v]) => `${k} ×${v}`).join(", ")}) — ${records === options.storm ? `PASS every alert recorded` : `MISS: expected ${options.storm}`}`,
    );
  } finally {
    simulation.host.stopRealTime();
    await simulation.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const loadBefore = loadavg();
  const env = loadEnvironment();
  const scenario = quietScenario();
  const lines: string[] = [
    `Alert benchmark: the app's POST /api/alerts in the local host (Azurite + Azure simulator, clock following wall time), load from a separate process; ${process.version}`,
    "Percentiles are nearest-rank.",
    "",
  ];
  if (options.load) lines.push(...(await openLoopPhase(env, scenario, options)), "");
  if (options.stormEnabled) lines.push(...(await stormPhase(env, scenario, options)));
  const [one, five] = loadavg();
  lines.push(
    "",
    `Machine: ${cpus().length} CPUs, load average ${loadBefore[0]?.toFixed(2) ?? "?"} before and ${one?.toFixed(2) ?? "?"} (1 min) / ${five?.toFixed(2) ?? "?"} (5 min) after — other processes compete for the same cores.`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
