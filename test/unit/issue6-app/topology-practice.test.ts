/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit untyped YAML data on purpose. */
/** The topology's per-workload `practice` section: parsed with the practice schema, cross-checked against the workload. */
import { describe, expect, it } from "vitest";
import { parseTopology } from "../../../src/config/topology-loader";
import { decidePracticeRun } from "../../../src/domain/practice";
import { exampleTopology, mutatedExample } from "../support/topology-fixtures";

function problems(mutate: (raw: Record<string, any>) => void): string[] {
  const result = parseTopology(mutatedExample(mutate));
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe("topology practice section", () => {
  it("the example's schedule parses with its defaults and drives decidePracticeRun", () => {
    const chat = exampleTopology().workloads.find((w) => w.name === "chat");
    expect(chat?.practice).toMatchObject({
      schedule: "0 0 3 * * 2",
      mode: "dry-run",
      enabled: true,
      maxLatenessMs: 900_000,
    });
    // Tuesday 2030-01-01 03:00:10 UTC is inside the allowed window and outside the blocked one.
    const decision = decidePracticeRun(Date.parse("2030-01-01T03:00:10Z"), { workload: "chat", ...chat!.practice! });
    expect(decision).toMatchObject({ decision: "run", scope: { region: "eastus2" }, mode: "dry-run" });
  });

  it("reports a bad schedule, a bad window and a scope outside the workload, all at once", () => {
    const found = problems((raw) => {
      const chat = raw.workloads[0];
      chat.practice = {
        schedule: "every tuesday",
        scope: { region: "centralus" },
        allowed: [{ days: ["tue"], start: "25:00", end: "06:00" }],
      };
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^workloads\[0\]\.practice\.schedule: .*NCRONTAB/),
        expect.stringMatching(/^workloads\[0\]\.practice\.allowed\[0\]\.start: /),
      ]),
    );
    // Structural problems come first; the cross-check runs once the structure is valid.
    const scoped = problems((raw) => {
      raw.workloads[0].practice = { schedule: "0 0 3 * * 2", scope: { region: "centralus" } };
    });
    expect(scoped).toEqual([
      expect.stringMatching(/^workloads\[0\]\.practice\.scope\.region: workload chat has no region "centralus"/),
    ]);
    const zoned = problems((raw) => {
      raw.regions.eastus2.zones = ["1", "2"];
      raw.capabilityMatrix.availability.eastus2 = {
        "1": ["Standard_NC24ads_A100_v4"],
        "2": ["Standard_NC24ads_A100_v4"],
      };
      raw.workloads[0].regions.eastus2.gpuPools = raw.workloads[0].regions.eastus2.gpuPools.filter(
        (p: any) => p.zone !== "3",
      );
      raw.workloads[0].practice = { schedule: "0 0 3 * * 2", scope: { region: "eastus2", zone: "3" } };
    });
    expect(zoned).toEqual([expect.stringMatching(/practice\.scope\.zone: zone 3 is not a zone of eastus2/)]);
  });

  it("rejects unknown keys (the workload name is implied)", () => {
    const found = problems((raw) => {
      raw.workloads[0].practice = { workload: "chat", schedule: "0 0 3 * * 2", scope: { region: "eastus2" } };
    });
    expect(found).toEqual([expect.stringMatching(/^workloads\[0\]\.practice/)]);
  });
});
