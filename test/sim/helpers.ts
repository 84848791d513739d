import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { VirtualClock } from "../../local/clock";
import { resolveScenario, type LoadedScenario, type ScenarioInput } from "../../local/sim/scenario";
import { startSimulator, type Simulator, type SimulatorOptions } from "../../local/sim/simulator";

export const ROOT = path.resolve(__dirname, "../..");
export const SCENARIOS = path.join(ROOT, "examples/scenarios");

export function exampleTopology(): unknown {
  return parse(readFileSync(path.join(ROOT, "examples/topology.yaml"), "utf8"));
}

/** A scenario built in the test, over the example topology. */
export function inlineScenario(input: Partial<ScenarioInput> & { name?: string }): LoadedScenario {
  const r = resolveScenario({ version: 1, name: "inline", ...input }, exampleTopology());
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join("\n"));
  return r.loaded;
}

export async function startInline(
  input: Partial<ScenarioInput>,
  options: Partial<Omit<SimulatorOptions, "scenario">> = {},
): Promise<Simulator> {
  return startSimulator({ scenario: inlineScenario(input), clock: new VirtualClock(), ...options });
}

export async function startExample(
  name: string,
  options: Partial<Omit<SimulatorOptions, "scenario">> = {},
): Promise<Simulator> {
  return startSimulator({ scenario: path.join(SCENARIOS, `${name}.yaml`), clock: new VirtualClock(), ...options });
}

export const CHAT_EUS2 = { rg: "rg-chat-eastus2", cluster: "aks-chat-eastus2" } as const;
export const CHAT_WUS3 = { rg: "rg-chat-westus3", cluster: "aks-chat-westus3" } as const;

/** Seconds since the scenario started. */
export function elapsed(sim: Simulator): number {
  return (sim.clock.now() - sim.world.startedAt) / 1000;
}
