/**
 * `cutover validate <topology>`: checks a topology file (YAML syntax, schema, cross-references) and prints a summary,
 * or every problem found, each with its path, what was expected and its line and column.
 *
 * Exit codes (see EXIT in main.ts): 0 valid, 1 invalid or unreadable file.
 */
import type { Command } from "commander";
import { formatProblem, loadTopologyFile } from "../config/topology-loader";
import type { Topology } from "../domain/topology";

export function registerValidateCommand(program: Command): Command {
  return program
    .command("validate")
    .description("check a topology file and list every problem with its path, line and column")
    .argument("<topology>", "path of the topology YAML file")
    .action(async (path: string) => {
      process.exitCode = await runValidate(path);
    });
}

/** Validates the file and writes the outcome; returns the exit code. */
export async function runValidate(path: string): Promise<number> {
  const result = await loadTopologyFile(path);
  if (!result.ok) {
    const n = result.problems.length;
    process.stderr.write(`${path}: invalid topology, ${n} problem${n === 1 ? "" : "s"}:\n`);
    for (const problem of result.problems) process.stderr.write(`  - ${formatProblem(problem)}\n`);
    return 1;
  }
  process.stdout.write(summarize(path, result.topology));
  return 0;
}

/** A few lines a new user can check against what they meant to write. */
export function summarize(path: string, topology: Topology): string {
  const byGeo = new Map<string, string[]>();
  for (const [name, region] of Object.entries(topology.regions))
    byGeo.set(region.geography, [...(byGeo.get(region.geography) ?? []), `${name} (${region.class})`]);
  const lines = [`${path}: valid topology`];
  const regionCount = Object.keys(topology.regions).length;
  lines.push(
    `  regions:     ${regionCount} — ${[...byGeo].map(([geo, names]) => `${geo}: ${names.join(", ")}`).join("; ")}`,
  );
  const frontDoors = Object.entries(topology.frontDoors);
  lines.push(
    `  front doors: ${frontDoors.length}${frontDoors.length === 0 ? "" : ` — ${frontDoors.map(([n, f]) => `${n} (${f.kind})`).join(", ")}`}`,
  );
  const matrix = topology.capabilityMatrix;
  lines.push(
    `  matrix:      ${Object.keys(matrix.skus).length} GPU SKUs, availability for ${Object.keys(matrix.availability).length} regions, quotas for ${Object.keys(matrix.quotas).length}`,
  );
  lines.push(`  workloads:   ${topology.workloads.length}`);
  for (const w of topology.workloads) {
    const regions = Object.keys(w.regions);
    const pools = Object.values(w.regions).reduce((n, r) => n + r.gpuPools.length, 0);
    const where =
      w.training === undefined
        ? `regions ${regions.join(", ")}, ${pools} GPU pool${pools === 1 ? "" : "s"}`
        : `hub ${w.training.hub}, secondary ${w.training.secondary}`;
    lines.push(
      `    - ${w.name}: ${w.kind}, ${w.tier}, residency [${w.residency.join(", ")}], ${w.capacity.gpus} GPUs, ${where}, RTO SLO ${w.slo.rtoSeconds} s, approval ${w.approval.mode}`,
    );
  }
  return lines.join("\n") + "\n";
}
