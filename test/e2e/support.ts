/** Runs shipped or ad-hoc scenarios end to end for the e2e tests, keeping the world open for assertions. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { drive, type SimulateOptions, type SimulateReport } from "../../local/simulate/run-scenario";
import { startSimulation, type Simulation } from "../../local/simulate/environment";
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
    await inspect(report, simulation);
    return report;
  } finally {
    await simulation.stop();
  }
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
