/**
 * `cutover plan --topology <file> --fail <region>[/<zone>] [--json]`: what Cutover would do if that scope failed now.
 *
 * Prints a readable report by default, or exactly one JSON object on stdout with `--json` (see plan-report.ts for its
 * shape). Exit codes (EXIT in main.ts): 0 a plan, 1 an invalid topology or a refused plan, 2 a usage error such as a
 * malformed `--fail` or a region, zone or workload the topology does not have.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { formatProblem, loadTopologyFile } from "../config/topology-loader";
import { latencyModelFor, type LatencyProfile } from "../domain/latency-model";
import type { FailedScope, PlanInput } from "../domain/plan";
import { checkPlanInput, planFailover } from "../domain/planner";
import { formatPlanText, planToJson } from "../domain/plan-report";
import type { Zone } from "../domain/topology";

const SCOPE = /^([a-z][a-z0-9]+)(?:\/([123]))?$/;

/** Parses `eastus2` or `eastus2/1`; commander turns the thrown error into a usage error. */
export function parseScope(value: string): FailedScope {
  const match = SCOPE.exec(value.trim());
  if (match === null || match[1] === undefined)
    throw new InvalidArgumentError(
      "expected <region> or <region>/<zone> with zone 1, 2 or 3, e.g. eastus2 or eastus2/1",
    );
  return match[2] === undefined ? { region: match[1] } : { region: match[1], zone: match[2] as Zone };
}

function collectScope(value: string, previous: FailedScope[]): FailedScope[] {
  return [...previous, parseScope(value)];
}

interface Unavailable {
  readonly region: string;
  readonly zone: Zone;
  readonly vmSize: string;
}

function collectUnavailable(value: string, previous: Unavailable[]): Unavailable[] {
  const match = /^([a-z][a-z0-9]+)\/([123])\/(Standard_[A-Za-z0-9_]+)$/.exec(value.trim());
  if (match === null || match[1] === undefined || match[3] === undefined)
    throw new InvalidArgumentError("expected <region>/<zone>/<vmSize>, e.g. westus3/3/Standard_NC40ads_H100_v5");
  return [...previous, { region: match[1], zone: match[2] as Zone, vmSize: match[3] }];
}

function collectModelMissing(value: string, previous: Array<{ workload: string; region: string }> | undefined) {
  const match = /^([a-z][a-z0-9-]*)\/([a-z][a-z0-9]+)$/.exec(value.trim());
  if (match === null || match[1] === undefined || match[2] === undefined)
    throw new InvalidArgumentError("expected <workload>/<region>, e.g. chat/westus3");
  return [...(previous ?? []), { workload: match[1], region: match[2] }];
}

interface PlanOptions {
  readonly topology: string;
  readonly fail: FailedScope;
  readonly workload?: string;
  readonly impaired: FailedScope[];
  readonly unavailable: Unavailable[];
  readonly modelMissing?: Array<{ workload: string; region: string }>;
  readonly detection: "alert" | "probe" | "none";
  readonly latencyProfile: LatencyProfile;
  readonly json?: boolean;
}

export function registerPlanCommand(program: Command): Command {
  return program
    .command("plan")
    .description("plan the failover of a failed region or zone: targets, pool counts, traffic, steps, predicted RTO")
    .requiredOption("-t, --topology <file>", "path of the topology YAML file")
    .requiredOption("-f, --fail <region[/zone]>", "the failed scope, e.g. eastus2 or eastus2/1", parseScope)
    .option("-w, --workload <name>", "plan only this workload")
    .option("--impaired <region[/zone]>", "a region or zone already impaired (repeatable)", collectScope, [])
    .option(
      "--unavailable <region/zone/vmSize>",
      "a VM size that failed to allocate in a zone (repeatable)",
      collectUnavailable,
      [],
    )
    .option(
      "--model-missing <workload/region>",
      "a region whose model store lacks the workload's model version (repeatable); without any, the plan assumes every store has it",
      collectModelMissing,
    )
    .addOption(
      new Option("--detection <how>", "how the failure is detected")
        .choices(["alert", "probe", "none"])
        .default("alert"),
    )
    .addOption(
      new Option("--latency-profile <profile>", "latency model for step durations")
        .choices(["typical", "fast", "slow"])
        .default("typical"),
    )
    .option("--json", "print one JSON object instead of the report")
    .action(async (options: PlanOptions) => {
      process.exitCode = await runPlan(options);
    });
}

async function runPlan(options: PlanOptions): Promise<number> {
  const loaded = await loadTopologyFile(options.topology);
  if (!loaded.ok) {
    const n = loaded.problems.length;
    process.stderr.write(`${options.topology}: invalid topology, ${n} problem${n === 1 ? "" : "s"}:\n`);
    for (const problem of loaded.problems) process.stderr.write(`  - ${formatProblem(problem)}\n`);
    return 1;
  }
  const input: PlanInput = {
    topology: loaded.topology,
    scope: options.fail,
    workload: options.workload,
    health: {
      impairedRegions: options.impaired.filter((s) => s.zone === undefined).map((s) => s.region),
      impairedZones: options.impaired.flatMap((s) =>
        s.zone === undefined ? [] : [{ region: s.region, zone: s.zone }],
      ),
    },
    capacity: {
      pools: {},
      unavailable: options.unavailable.map((u) => ({ ...u, reason: "reported unavailable (--unavailable)" })),
    },
    modelStores: options.modelMissing === undefined ? undefined : { missing: options.modelMissing },
    detection: options.detection,
    latency: latencyModelFor(options.latencyProfile),
  };
  const problems = checkPlanInput(input);
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`cutover plan: ${problem}\n`);
    return 2;
  }
  const result = planFailover(input);
  process.stdout.write(
    options.json === true ? `${JSON.stringify(planToJson(result), null, 2)}\n` : formatPlanText(result),
  );
  return result.status === "ok" ? 0 : 1;
}
