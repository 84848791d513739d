/** The shipped scenarios, discovered from `examples/scenarios/` (other engineers add more: never a fixed list). */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(__dirname, "..", "..");
export const SCENARIO_DIR = join(REPO_ROOT, "examples", "scenarios");
/** The app as TypeScript: the local host loads it through tsx, as the end-to-end tests do. */
export const APP_ENTRY = join(REPO_ROOT, "src", "index.ts");

/** Scenario names (file names without `.yaml`), sorted. */
export function listScenarios(dir: string = SCENARIO_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ""))
    .sort();
}

/** A scenario name, or a path to a scenario file, to its file. */
export function scenarioFile(nameOrPath: string, dir: string = SCENARIO_DIR): string {
  return /[/\\]|\.ya?ml$/.test(nameOrPath) ? resolve(nameOrPath) : join(dir, `${nameOrPath}.yaml`);
}
