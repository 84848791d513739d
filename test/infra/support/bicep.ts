/**
 * Test harness for the Bicep templates: gets the Bicep CLI through the same script CI uses (.ci/bicep/find-bicep.sh),
 * copies infra/ into a temporary directory (optionally mutated), and evaluates a `.bicepparam` with
 * `bicep snapshot`, which resolves parameters, variables, loops, conditions and nested modules offline into the
 * resources a deployment would send to ARM. Only runtime values (`reference()`, `listKeys()`) stay expressions.
 */
import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const REPO_ROOT = resolve(__dirname, "..", "..", "..");
export const INFRA_DIR = join(REPO_ROOT, "infra");
/** The example topology's subscription; the snapshot needs one. */
export const SUBSCRIPTION_ID = "6f1c2b7e-9a55-4c1e-8d2a-3e0f4b5a6c7d";
export const CONTROL_PLANE_RG = "rg-cutover";

let cachedBicep: string | undefined;

/** Path of the Bicep CLI (restored from NuGet on first use when none is installed). */
export function bicepPath(): string {
  cachedBicep ??= execFileSync("bash", [join(REPO_ROOT, ".ci", "bicep", "find-bicep.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return cachedBicep;
}

/** A text replacement applied to one file of the copied infra/ tree. */
export interface Mutation {
  /** Path relative to infra/. */
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

/**
 * Copies infra/ (without build output) into a fresh temporary directory and applies the mutations. A mutation whose
 * `from` text is absent throws, so a mutation test can never pass because the template changed under it.
 */
export function copyInfra(mutations: readonly Mutation[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-infra-"));
  cpSync(INFRA_DIR, dir, { recursive: true, filter: (src) => !src.startsWith(join(INFRA_DIR, "out")) });
  for (const m of mutations) {
    const path = join(dir, m.file);
    const text = readFileSync(path, "utf8");
    if (!text.includes(m.from)) throw new Error(`mutation does not apply: ${JSON.stringify(m.from)} not in ${m.file}`);
    writeFileSync(path, text.split(m.from).join(m.to));
  }
  return dir;
}

export function removeCopy(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface PredictedResource {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly location?: string;
  readonly kind?: string;
  readonly tags?: Record<string, string>;
  readonly properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface Snapshot {
  readonly predictedResources: PredictedResource[];
  readonly outputs: Record<string, unknown>;
  readonly diagnostics: unknown[];
}

export type SnapshotResult =
  { readonly ok: true; readonly snapshot: Snapshot } | { readonly ok: false; readonly message: string };

export interface SnapshotOptions {
  readonly resourceGroup?: string;
  readonly location?: string;
}

/**
 * Evaluates `<dir>/<paramFile>` with `bicep snapshot`. The azd variables the parameter files read are removed from
 * the environment so that results do not depend on the machine.
 */
export async function snapshot(dir: string, paramFile: string, options: SnapshotOptions = {}): Promise<SnapshotResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["AZURE_SUBSCRIPTION_ID", "AZURE_ENV_NAME", "AZURE_LOCATION", "CUTOVER_STANDBY_LOCATION"]) {
    delete env[name];
  }
  const path = join(dir, paramFile);
  const out = path.replace(/\.bicepparam$/, ".snapshot.json");
  rmSync(out, { force: true });
  try {
    await execFileAsync(
      bicepPath(),
      [
        "snapshot",
        path,
        "--mode",
        "overwrite",
        "--subscription-id",
        SUBSCRIPTION_ID,
        "--resource-group",
        options.resourceGroup ?? CONTROL_PLANE_RG,
        "--location",
        options.location ?? "northcentralus",
      ],
      { env, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, message: `${e.stdout ?? ""}${e.stderr ?? ""}` || e.message };
  }
  if (!existsSync(out)) return { ok: false, message: `bicep snapshot wrote no ${out}` };
  return { ok: true, snapshot: JSON.parse(readFileSync(out, "utf8")) as Snapshot };
}

/** Snapshot that must succeed. */
export async function snapshotOrThrow(dir: string, paramFile: string, options?: SnapshotOptions): Promise<Snapshot> {
  const result = await snapshot(dir, paramFile, options);
  if (!result.ok) throw new Error(`bicep snapshot of ${paramFile} failed: ${result.message}`);
  return result.snapshot;
}
