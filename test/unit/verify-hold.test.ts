/**
 * When may verification stop waiting for Front Door's probes to mark a cold target healthy? Only when the plan's
 * change leaves that target as the origin group's only enabled origin (Front Door then routes every request to it,
 * healthy or not), judged from the snapshot, including origins the topology does not declare.
 */
import { describe, expect, it } from "vitest";
import { onlyTargetEnabledAfter } from "../../src/runbooks/failover-workload";
import type { Snapshot } from "../../src/runbooks/activity-contracts";
import type { WorkloadPlan } from "../../src/domain/plan";

type Origin = Snapshot["origins"][number];
const origin = (region: string, enabledState: Origin["enabledState"] = "Enabled"): Origin => ({
  region,
  origin: `chat-${region}`,
  enabledState,
  weight: 50,
  priority: 1,
});

function snapshot(origins: Origin[], otherOrigins?: Snapshot["otherOrigins"]): Snapshot {
  return {
    takenAt: "2030-01-01T00:00:00Z",
    pools: [],
    origins,
    ...(otherOrigins === undefined ? {} : { otherOrigins }),
    gates: [],
    endpoints: [],
    models: [],
    errors: [],
  };
}

function plan(drain: string[], take: string[], targets = take): WorkloadPlan {
  return {
    status: "ok",
    workload: "chat",
    kind: "inference",
    target: { region: targets[0] ?? "", zones: ["1"] },
    targets: targets.map((region) => ({ region, zones: ["1"] })),
    pools: [],
    traffic: {
      frontDoor: "afd-chat",
      kind: "standard",
      drain: drain.map((region) => ({ region, origin: `chat-${region}` })),
      take: take.map((region) => ({ region, origin: `chat-${region}`, weight: 50, priority: 1 })),
    },
    warmups: [],
    training: undefined,
    steps: [],
    criticalPath: [],
    predictedRtoSeconds: 0,
    notes: [],
  };
}

describe("onlyTargetEnabledAfter", () => {
  const two = [origin("eastus2"), origin("westus3")];

  it("is true when the drain leaves the one target as the group's only enabled origin", () => {
    expect(onlyTargetEnabledAfter(plan(["eastus2"], ["westus3"]), snapshot(two, []))).toBe(true);
    // An origin disabled before the failover stays out of the way.
    const three = [...two, origin("centralus", "Disabled")];
    expect(onlyTargetEnabledAfter(plan(["eastus2"], ["westus3"]), snapshot(three, []))).toBe(true);
  });

  it("is false when another origin stays enabled, declared or not", () => {
    const three = [...two, origin("centralus")];
    expect(onlyTargetEnabledAfter(plan(["eastus2"], ["westus3"]), snapshot(three, []))).toBe(false);
    const stranger = [{ origin: "legacy-origin", enabledState: "Enabled" as const }];
    expect(onlyTargetEnabledAfter(plan(["eastus2"], ["westus3"]), snapshot(two, stranger))).toBe(false);
  });

  it("is false with two targets (Front Door could send everything to the one it already finds healthy)", () => {
    const three = [...two, origin("centralus")];
    expect(onlyTargetEnabledAfter(plan(["eastus2"], ["westus3", "centralus"]), snapshot(three, []))).toBe(false);
  });

  it("is false when the snapshot could not list the group, or the plan changes no traffic", () => {
    expect(onlyTargetEnabledAfter(plan(["eastus2"], ["westus3"]), snapshot(two))).toBe(false);
    expect(onlyTargetEnabledAfter({ ...plan([], []), traffic: undefined }, snapshot(two, []))).toBe(false);
  });

  it("is false when the one enabled origin left is not a target", () => {
    expect(onlyTargetEnabledAfter(plan(["eastus2"], ["westus3"], ["eastus2"]), snapshot(two, []))).toBe(false);
  });
});
