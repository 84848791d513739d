/**
 * The `cutover` command line. Each command lives in its own module and registers itself here; commands that need
 * the local host or the simulator import them lazily, so the function app never loads them.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "../version";
import { registerDevCommand } from "../../local/cli/dev-command";
import { registerSimCommand } from "../../local/cli/sim-command";
import { registerSimulateCommand } from "../../local/simulate/simulate-command";
import { registerSimulateTrainingCommand } from "../../local/training/simulate-training-command";
import { registerPlanCommand } from "./plan-command";
import { registerValidateCommand } from "./validate-command";

/** Exit codes: 0 success, 1 the input was invalid or a plan was refused, 2 usage error, 3 internal failure. */
export const EXIT = { ok: 0, invalid: 1, usage: 2, internal: 3 } as const;

export function buildProgram(): Command {
  const program = new Command("cutover")
    .description("Cutover: zone and region failover for AI workloads on Azure")
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  // Command registrations (one line each; keep sorted).
  registerDevCommand(program);
  registerPlanCommand(program);
  registerSimCommand(program);
  registerSimulateCommand(program);
  registerSimulateTrainingCommand(program);
  registerValidateCommand(program);
  return program;
}

export async function main(argv: ReadonlyArray<string>): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`cutover: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.internal;
  }
}
