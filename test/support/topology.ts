/** Loads the shipped example topology once per test file (it is validated like any user's). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseTopology } from "../../src/config/topology-loader";
import type { Topology } from "../../src/domain/topology";

export const REPO = join(__dirname, "..", "..");

export function exampleTopology(): Topology {
  const result = parseTopology(readFileSync(join(REPO, "examples", "topology.yaml"), "utf8"), "examples/topology.yaml");
  if (!result.ok) throw new Error(`example topology invalid: ${JSON.stringify(result.problems)}`);
  return result.topology;
}

export function fixture(name: string): string {
  return readFileSync(join(REPO, "test", "fixtures", name), "utf8");
}
