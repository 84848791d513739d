import { readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadScenarioFile, parseScenario, resolveScenario } from "../../local/sim/scenario";
import { exampleTopology, SCENARIOS } from "./helpers";

describe("scenario files", () => {
  it("ships the six required scenarios and every example validates", async () => {
    const names = readdirSync(SCENARIOS)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => f.replace(/\.yaml$/, ""));
    expect(names).toEqual(
      expect.arrayContaining([
        "zone-outage",
        "region-outage-warm-standby",
        "region-outage-cold-target",
        "stale-model",
        "capacity-crunch",
        "training-hub-outage",
      ]),
    );
    for (const n of names) {
      const r = await loadScenarioFile(path.join(SCENARIOS, `${n}.yaml`));
      expect({ scenario: n, problems: r.ok ? [] : r.problems }).toEqual({ scenario: n, problems: [] });
    }
  });

  it("applies overrides to the topology (cold target has no nodes in westus3)", async () => {
    const r = await loadScenarioFile(path.join(SCENARIOS, "region-outage-cold-target.yaml"));
    if (!r.ok) throw new Error("invalid");
    const pools = r.loaded.topology.workloads.find((w) => w.name === "chat")!.regions["westus3"]!.gpuPools;
    expect(pools.map((p) => p.current)).toEqual([0, 0, 0]);
  });

  it("reports every problem at once, with file, path and line", async () => {
    const text = [
      "version: 1",
      "name: Bad_Name",
      "seed: -1",
      "faults:",
      "  - { kind: zone-down, region: eastus2, zone: '7' }",
      "  - { kind: region-down, region: atlantis }",
      "  - { kind: vantage-partition, region: westus3, vantagePoints: [nowhere] }",
      "alerts:",
      "  - { name: a, target: { frontDoor: nope }, metric: { name: X }, operator: LessThan, threshold: 1 }",
    ].join("\n");
    const r = await parseScenario(text, "inline", () => Promise.resolve("version: 1\n"));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["name", "seed", "faults[0].zone"]));
    expect(r.problems.every((p) => p.file === "scenario")).toBe(true);
    expect(r.problems.find((p) => p.path === "seed")?.line).toBe(3);

    // Structurally valid, but wrong against the topology: all cross-check problems together.
    const cross = resolveScenario(
      {
        version: 1,
        name: "cross",
        faults: [
          { kind: "region-down", region: "atlantis" },
          { kind: "vantage-partition", region: "westus3", vantagePoints: ["nowhere"] },
          { kind: "stale-model", workload: "chat", region: "centralus", version: "x" },
        ],
        alerts: [
          { name: "a", target: { frontDoor: "nope" }, metric: { name: "X" }, operator: "LessThan", threshold: 1 },
        ],
        overrides: { pools: [{ workload: "chat", region: "westus3", pool: "nopool", current: 1 }] },
      },
      exampleTopology(),
    );
    expect(cross.ok).toBe(false);
    if (cross.ok) return;
    expect(cross.problems.map((p) => p.path).sort()).toEqual(
      [
        "alerts[0].target.frontDoor",
        "faults[0].region",
        "faults[1].vantagePoints[0]",
        "faults[2].region",
        "overrides.pools[0]",
      ].sort(),
    );
  });
});
