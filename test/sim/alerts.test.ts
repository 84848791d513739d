/** Metric alert rules: Common Alert Schema payloads fired and resolved to a webhook on the virtual clock. */
import { afterEach, describe, expect, it } from "vitest";
import type { Simulator } from "../../local/sim/simulator";
import { startInline } from "./helpers";
import { startWebhook } from "./webhook";

let sim: Simulator | undefined;
let hook: Awaited<ReturnType<typeof startWebhook>> | undefined;
afterEach(async () => {
  await sim?.stop();
  await hook?.close();
  sim = undefined;
  hook = undefined;
});

const originHealthRule = {
  name: "chat-origin-health",
  description: "origin health of chat",
  severity: 0,
  target: { frontDoor: "afd-chat" },
  metric: {
    name: "OriginHealthPercentage",
    aggregation: "Average" as const,
    dimensions: [{ name: "Origin", values: ["*"] }],
  },
  operator: "LessThan" as const,
  threshold: 50,
  evaluationFrequency: "PT1M" as const,
  windowSize: "PT5M" as const,
  customProperties: { workload: "chat", scope: "region" },
};

describe("metric alerts", () => {
  it("fires once for the failing origin and resolves after three clean evaluations, with customProperties", async () => {
    hook = await startWebhook();
    sim = await startInline({
      faults: [{ id: "eus2", kind: "region-down", region: "eastus2", at: 120, durationSeconds: 600 }],
      alerts: [originHealthRule],
    });
    sim.setAlertWebhook(hook.url);
    await sim.advance(3600_000, { stepMs: 5_000 });

    const payloads = hook.bodies as Array<{
      schemaId: string;
      data: {
        essentials: Record<string, unknown>;
        alertContext: { condition: { allOf: Array<Record<string, unknown>> } };
        customProperties: unknown;
      };
    }>;
    expect(payloads.map((p) => p.data.essentials["monitorCondition"])).toEqual(["Fired", "Resolved"]);
    const [fired, resolved] = payloads;
    expect(fired!.schemaId).toBe("azureMonitorCommonAlertSchema");
    expect(fired!.data.essentials).toMatchObject({
      alertRule: "chat-origin-health",
      severity: "Sev0",
      signalType: "Metric",
      monitoringService: "Platform",
      alertTargetIDs: [sim.world.frontDoor("afd-chat")!.resourceId.toLowerCase()],
      essentialsVersion: "1.0",
    });
    expect(fired!.data.customProperties).toEqual({ workload: "chat", scope: "region" });
    expect(fired!.data.alertContext.condition.allOf[0]).toMatchObject({
      metricName: "OriginHealthPercentage",
      operator: "LessThan",
      threshold: "50",
      timeAggregation: "Average",
      dimensions: [{ name: "Origin", value: "chat-eastus2" }],
    });
    expect(resolved!.data.essentials["alertId"]).toBe(fired!.data.essentials["alertId"]);
    expect(typeof resolved!.data.essentials["resolvedDateTime"]).toBe("string");

    const firedAt = sim.timeline.ofKind("alert-fired")[0]!.t;
    const resolvedAt = sim.timeline.ofKind("alert-resolved")[0]!.t;
    // Detection needs most of the 5-minute window to breach; resolution three clean evaluations after recovery.
    expect(firedAt).toBeGreaterThan(120 + 120);
    expect(firedAt).toBeLessThanOrEqual(120 + 6 * 60);
    expect(resolvedAt).toBeGreaterThan(720 + 3 * 60);
    const delivered = sim.timeline.ofKind("alert-delivered");
    expect(delivered.map((d) => d.detail["condition"])).toEqual(["Fired", "Resolved"]);
    expect(delivered[0]!.t - firedAt).toBeGreaterThanOrEqual(2);
    expect(delivered[0]!.t - firedAt).toBeLessThanOrEqual(30);
    expect(sim.world.sampledWaits().alertNotifications).toHaveLength(2);
  });

  it("retries the webhook on 503 after 5 virtual seconds, like action groups", async () => {
    hook = await startWebhook([503]);
    sim = await startInline({
      faults: [{ kind: "region-down", region: "eastus2", at: 60 }],
      alerts: [originHealthRule],
    });
    sim.setAlertWebhook(hook.url);
    await sim.advance(900_000, { stepMs: 1_000 });
    expect(hook.statuses).toEqual([503, 200]);
    const [failedTry, retry] = hook.bodies;
    expect(retry).toEqual(failedTry);
    const delivered = sim.timeline.ofKind("alert-delivered")[0]!;
    expect(delivered.detail["attempt"]).toBe(2);
    const n = sim.alertNotifications()[0]!;
    expect(n.deliveredAt).not.toBeNull();
  });

  it("never fires when the condition is not met", async () => {
    hook = await startWebhook();
    sim = await startInline({ alerts: [originHealthRule] });
    sim.setAlertWebhook(hook.url);
    await sim.advance(1200_000, { stepMs: 10_000 });
    expect(hook.bodies).toEqual([]);
    expect(sim.timeline.ofKind("alert-fired")).toEqual([]);
  });
});
