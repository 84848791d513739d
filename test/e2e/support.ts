/** Runs shipped or ad-hoc scenarios end to end for the e2e tests, keeping the world open for assertions. */
import { expect } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { drive, type SimulateOptions, type SimulateReport } from "../../local/simulate/run-scenario";
import { startSimulation, type Simulation } from "../../local/simulate/environment";
import { formatReportText } from "../../local/simulate/text-report";
import type { Scenario } from "../../local/sim/scenario";
import { REPO } from "../support/topology";

/** The app entry as a TypeScript file: the local host loads it fresh (through tsx) for every host it starts. */
export const entry = join(REPO, "src", "index.ts");

export function shipped(name: string): string {
  return join(REPO, "examples", "scenarios", `${name}.yaml`);
}

/**
 * Runs a scenario to its end and hands the still-running world to `inspect` (ground truth, request log, pools)
 * before everything stops.
 */
export async function runAndInspect(
  scenario: string,
  inspect: (report: SimulateReport, simulation: Simulation) => Promise<void> | void,
  options: Partial<Omit<SimulateOptions, "scenario" | "entry">> = {},
): Promise<SimulateReport> {
  const simulation = await startSimulation({
    scenario,
    entry,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  try {
    const report = await drive(simulation, options);
    try {
      await inspect(report, simulation);
      expectNotVerifiedEarly(report);
      expectNoFailoverOutsideTheFaults(report, simulation.loaded.scenario);
    } catch (error) {
      // The whole run (timeline, failbacks, breakers) beside the failed assertion: a run that fails only on another
      // machine can then be read from its CI log.
      process.stderr.write(`\n${formatReportText(report)}\n`);
      throw error;
    }
    return report;
  } finally {
    await simulation.stop();
  }
}

/** Fault kinds that do not stop a region serving (capacity refusals, slow Front Door changes): no failover there. */
const NOT_SERVICE_FAULTS = new Set(["allocation-failure", "quota-exceeded", "slow-propagation"]);

/**
 * Checked in every end-to-end run: a failover the app started (from an alert, its probes or a live drill) is for a
 * region a fault of the scenario hit. A failover anywhere else is a false alarm (e.g. a zone judged down on metrics
 * that lagged behind a scale-up). Dry-run drills (`drill-…` instances) change nothing and are not counted.
 */
export function expectNoFailoverOutsideTheFaults(report: SimulateReport, scenario: Scenario): void {
  const hit = new Set(
    scenario.faults
      .filter((f) => !NOT_SERVICE_FAULTS.has(f.kind))
      .map((f) => ("region" in f ? f.region : "match" in f ? f.match?.region : undefined))
      .filter((r): r is string => r !== undefined),
  );
  const outside = report.failoverList
    .filter((f) => f.instanceId.startsWith("failover-") && !hit.has(f.scope.region))
    .map((f) => `${f.instanceId} (${f.scope.region}${f.scope.zone === undefined ? "" : ` zone ${f.scope.zone}`})`);
  expect(outside, `failovers outside the regions the faults hit (${[...hit].join(", ")})`).toEqual([]);
}

/**
 * The claim every RTO rests on, checked in every end-to-end run: at the first ground-truth sample at or after the time
 * Cutover called its cutover verified, the world already served the workload whole (≥ 99% by healthy, warm capacity
 * inside the SLO). Training workloads have no served fraction and are not checked here.
 */
export function expectNotVerifiedEarly(report: SimulateReport): void {
  if (report.rtoSeconds === null || report.workload === null) return;
  const rto = report.rtoSeconds;
  const sample = report.groundTruth.find((x) => x.t >= rto);
  const served = sample?.served[report.workload];
  if (served === undefined) return;
  expect(
    served,
    `served at ${sample?.t} s, the first sample after the verified cutover at ${rto} s`,
  ).toBeGreaterThanOrEqual(0.99);
}

/**
 * Writes a scenario (and optionally a modified copy of the example topology) to a temp folder and returns its path.
 * `editTopology` receives the parsed example topology and changes it in place.
 */
export function adHocScenario(
  scenario: Record<string, unknown>,
  editTopology?: (topology: Record<string, unknown>) => void,
): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-e2e-"));
  let topologyPath = join(REPO, "examples", "topology.yaml");
  if (editTopology !== undefined) {
    const topology = parse(readFileSync(topologyPath, "utf8")) as Record<string, unknown>;
    editTopology(topology);
    topologyPath = join(dir, "topology.yaml");
    writeFileSync(topologyPath, stringify(topology));
  }
  const file = join(dir, "scenario.yaml");
  writeFileSync(file, stringify({ version: 1, name: "ad-hoc", topology: topologyPath, ...scenario }));
  return file;
}

export interface FailoverView {
  readonly runtimeStatus: string;
  readonly status: { phase?: string; current?: string[]; steps?: Array<{ id: string; status: string }> } | null;
  readonly report: {
    outcome: string;
    reasons: string[];
    compensation: Array<{ action: string; outcome: string }>;
    readiness?: Array<{ check: string; ok: boolean; detail: string }>;
    steps: Array<{ id: string; status: string; detail?: string }>;
  } | null;
}

/** GET /api/failovers/{id} through the app. */
export async function failover(simulation: Simulation, id: string): Promise<FailoverView> {
  const r = await simulation.call("GET", `/api/failovers/${encodeURIComponent(id)}`);
  if (r.status !== 200) throw new Error(`GET /api/failovers/${id}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json as FailoverView;
}

const TERMINAL = new Set(["Completed", "Failed", "Terminated"]);

/** Runs the world until the failover finishes (or `maxVirtualMs`), then returns its view. */
export async function untilFinished(
  simulation: Simulation,
  id: string,
  maxVirtualMs = 45 * 60_000,
): Promise<FailoverView> {
  await simulation.runUntil(async () => TERMINAL.has((await failover(simulation, id)).runtimeStatus), {
    maxVirtualMs,
    chunkMs: 5_000,
  });
  return failover(simulation, id);
}

/** A quiet world (no faults, no alerts) over the example topology, with model stores seeded for every workload. */
export function quietScenario(
  extra: Record<string, unknown> = {},
  editTopology?: (topology: Record<string, unknown>) => void,
): string {
  return adHocScenario(
    {
      seed: 7,
      modelStores: {
        chat: { eastus2: ["2026.10.2"], westus3: ["2026.10.2"] },
        "chat-lite": { centralus: ["2026.11.0"], swedencentral: ["2026.11.0"], francecentral: ["2026.11.0"] },
      },
      ...extra,
    },
    editTopology,
  );
}
