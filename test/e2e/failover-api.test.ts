/**
 * The HTTP surface of the app in the local host, wired to the simulator and Azurite: alert webhook validation, gates,
 * readiness plans, dry-run and live drills, approval, abort with compensation, and refusals — each checked against
 * the world as well as the app's answer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulation, type Simulation } from "../../local/simulate/environment";
import { entry, failover, quietScenario, untilFinished } from "./support";
import { fixture } from "../support/topology";

describe("HTTP API in a quiet world", () => {
  let s: Simulation;
  beforeAll(async () => {
    s = await startSimulation({ scenario: quietScenario(), entry });
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
  });

  it("validates alert webhooks: 400 with the reason, 413 over 256 KB, 401 without a key, 202 ignored when unmapped", async () => {
    const post = (body: string, key = true): Promise<Response> =>
      fetch(`${s.host.baseUrl}/api/alerts${key ? `?code=${s.host.functionKey}` : ""}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
    let r = await post("{ nope");
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^malformed JSON/);
    r = await post(JSON.stringify({ schemaId: "AzureMonitorMetricAlert", data: {} }));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(
      /^schemaId: expected "azureMonitorCommonAlertSchema"/,
    );
    r = await post(JSON.stringify({ schemaId: "azureMonitorCommonAlertSchema", data: { essentials: {} } }));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain("data.essentials.alertId");
    r = await post("x".repeat(300 * 1024));
    expect(r.status).toBe(413);
    r = await post(fixture("alerts/metric-origin-health.json"), false);
    expect(r.status).toBe(401);
    const unmapped = JSON.parse(fixture("alerts/log-search-v2.json"));
    unmapped.data.essentials.configurationItems = [];
    r = await post(JSON.stringify(unmapped));
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({
      outcome: "ignored",
      reason: expect.stringContaining("no topology resource matches"),
    });
  });

  it("serves health gates anonymously: 200 open, 404 for an unknown workload region", async () => {
    const open = await fetch(`${s.host.baseUrl}/api/gates/chat/eastus2`);
    expect(open.status).toBe(200);
    expect(await open.json()).toMatchObject({ state: "open" });
    expect((await fetch(`${s.host.baseUrl}/api/gates/chat/swedencentral`)).status).toBe(404);
  });

  it("answers readiness plans from live state, and rejects bad queries", async () => {
    const r = await s.call("GET", "/api/plan?workload=chat&region=eastus2");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      status: "ok",
      workloads: [{ workload: "chat", status: "ok", target: { region: "westus3" } }],
    });
    const readiness = (r.json as { readiness: Array<{ check: string; ok: boolean }> }).readiness;
    expect(readiness.find((c) => c.check === "model in westus3")).toMatchObject({ ok: true });
    expect((await s.call("GET", "/api/plan?workload=chat")).status).toBe(400);
    expect((await s.call("GET", "/api/plan?workload=chat&region=eastus2&zone=9")).json).toEqual({
      error: 'zone: expected "1" | "2" | "3", got "9"',
    });
    expect((await s.call("GET", "/api/plan?workload=nope&region=eastus2")).status).toBe(400);
  });

  it("runs a dry-run drill: plan and readiness, no ARM writes, nothing drained", async () => {
    const writesBefore = s.sim.requestLog.find({ service: "arm" }).filter((e) => e.method !== "GET").length;
    const r = await s.call("POST", "/api/drills", { workload: "chat", scope: { region: "eastus2" }, mode: "dry-run" });
    expect(r.status).toBe(202);
    const body = r.json as { instanceId: string; statusUrl: string; statusQueryGetUri: string };
    expect(body.statusUrl).toBe(`/api/failovers/${body.instanceId}`);
    expect(typeof body.statusQueryGetUri).toBe("string");
    const view = await untilFinished(s, body.instanceId);
    expect(view.report).toMatchObject({ outcome: "dry-run", reasons: [] });
    expect(view.report?.readiness?.every((c) => c.ok)).toBe(true);
    expect(s.sim.requestLog.find({ service: "arm" }).filter((e) => e.method !== "GET").length).toBe(writesBefore);
    expect(s.sim.world.gateState("chat", "eastus2")).toBe("open");
  });

  it("rejects malformed drills with the field, and 404s unknown failovers", async () => {
    expect(
      await s.call("POST", "/api/drills", { workload: "chat", scope: { region: "eastus2" }, mode: "sometimes" }),
    ).toMatchObject({
      status: 400,
      json: { error: expect.stringContaining("mode") },
    });
    expect(
      await s.call("POST", "/api/drills", { workload: "chat", scope: { region: "swedencentral" }, mode: "live" }),
    ).toMatchObject({
      status: 400,
      json: { error: expect.stringContaining('scope.region: workload chat has no region "swedencentral"') },
    });
    expect((await s.call("GET", "/api/failovers/failover-nope-1")).status).toBe(404);
    expect((await s.call("POST", "/api/failovers/failover-nope-1/abort", {})).status).toBe(404);
  });
});

describe("live drills: approval and abort", () => {
  it("waits for approval, and a denial aborts with nothing changed", async () => {
    const s = await startSimulation({ scenario: quietScenario(), entry });
    try {
      const r = await s.call("POST", "/api/drills", {
        workload: "chat-lite",
        scope: { region: "centralus" },
        mode: "live",
      });
      const id = (r.json as { instanceId: string }).instanceId;
      await s.runUntil(async () => (await failover(s, id)).status?.phase === "approval", {
        maxVirtualMs: 60_000,
        chunkMs: 1_000,
      });
      expect(
        (await s.call("POST", `/api/failovers/${id}/approve`, { approved: false, by: "sre-on-call" })).status,
      ).toBe(202);
      const view = await untilFinished(s, id);
      expect(view.report).toMatchObject({ outcome: "aborted", reasons: ["approval denied by sre-on-call"] });
      expect(s.sim.world.gateState("chat-lite", "centralus")).toBe("open");
      expect(s.sim.requestLog.find({ service: "arm" }).filter((e) => e.method !== "GET")).toEqual([]);
    } finally {
      await s.stop();
    }
  }, 300_000);

  it("aborts a running failover and compensates: gate reopened, Front Door restored, traffic back", async () => {
    const s = await startSimulation({ scenario: quietScenario(), entry });
    try {
      const r = await s.call("POST", "/api/drills", { workload: "chat", scope: { region: "eastus2" }, mode: "live" });
      const id = (r.json as { instanceId: string }).instanceId;
      await s.runUntil(() => s.sim.world.gateState("chat", "eastus2") === "drained", {
        maxVirtualMs: 5 * 60_000,
        chunkMs: 5_000,
      });
      expect(s.sim.world.gateState("chat", "eastus2")).toBe("drained");
      expect(
        (await s.call("POST", `/api/failovers/${id}/abort`, { by: "sre-on-call", reason: "drill over" })).status,
      ).toBe(202);
      const view = await untilFinished(s, id);
      expect(view.report?.outcome).toBe("aborted");
      expect(view.report?.reasons).toEqual(["aborted: drill over (by sre-on-call)"]);
      expect(view.report?.compensation.map((c) => `${c.action}: ${c.outcome}`)).toEqual([
        "reopen health gate chat/eastus2: done",
        "restore Front Door origins chat-eastus2, chat-westus3: accepted",
        "GPU capacity added during the failover is left in place (scale down with failback or by hand): kept",
      ]);
      // The world: the gate is open again and, once Front Door applied the restore, eastus2 serves again.
      await s.runUntil(() => (s.sim.world.groundTruth("chat").regions["eastus2"]?.trafficShare ?? 0) > 0.4, {
        maxVirtualMs: 30 * 60_000,
      });
      expect(s.sim.world.gateState("chat", "eastus2")).toBe("open");
      expect(s.sim.world.groundTruth("chat").regions["eastus2"]?.trafficShare).toBeGreaterThan(0.4);
      expect((await s.call("POST", `/api/failovers/${id}/abort`, {})).status).toBe(409);
    } finally {
      await s.stop();
    }
  }, 300_000);
});

function alertFor(workload: string, region: string, condition: "Fired" | "Resolved", id: string): string {
  const body = JSON.parse(fixture("alerts/metric-custom-properties.json"));
  body.data.essentials.alertId = `/subscriptions/6f1c2b7e-9a55-4c1e-8d2a-3e0f4b5a6c7d/providers/Microsoft.AlertsManagement/alerts/${id}`;
  body.data.essentials.monitorCondition = condition;
  body.data.essentials.firedDateTime = "2030-01-01T00:00:30.000Z";
  body.data.customProperties = { workload, region };
  return JSON.stringify(body);
}

describe("alerts: confirmation, resolution and the record", () => {
  it("does not act on an alert that Azure Monitor metrics do not confirm (CUTOVER_ALERT_CONFIRM)", async () => {
    const s = await startSimulation({ scenario: quietScenario(), entry, env: { CUTOVER_ALERT_CONFIRM: "true" } });
    try {
      await s.runUntil(() => false, { maxVirtualMs: 6 * 60_000 }); // metrics history: chat-eastus2 healthy
      const r = await s.call("POST", "/api/alerts", JSON.parse(alertFor("chat", "eastus2", "Fired", "a-1")));
      expect(r.status).toBe(202);
      const id = (r.json as { failovers: Array<{ instanceId: string }> }).failovers[0]!.instanceId;
      const view = await untilFinished(s, id);
      expect(view.report?.outcome).toBe("not-confirmed");
      expect(view.report?.reasons[0]).toMatch(/^origin chat-eastus2 health 100\.0% ≥ 50%: not confirmed$/);
      expect(s.sim.requestLog.find({ service: "arm" }).filter((e) => e.method !== "GET")).toEqual([]);
      expect(s.sim.world.gateState("chat", "eastus2")).toBe("open");
    } finally {
      await s.stop();
    }
  }, 300_000);

  it("passes a Resolved alert to a failover still waiting for approval, which stands down; every alert is recorded", async () => {
    const s = await startSimulation({ scenario: quietScenario(), entry });
    try {
      const fired = await s.call("POST", "/api/alerts", JSON.parse(alertFor("chat-lite", "centralus", "Fired", "b-1")));
      expect(fired.json).toMatchObject({ outcome: "started" });
      const id = (fired.json as { failovers: Array<{ instanceId: string }> }).failovers[0]!.instanceId;
      await s.runUntil(async () => (await failover(s, id)).status?.phase === "approval", {
        maxVirtualMs: 60_000,
        chunkMs: 1_000,
      });
      const again = await s.call("POST", "/api/alerts", JSON.parse(alertFor("chat-lite", "centralus", "Fired", "b-1")));
      expect(again.json).toMatchObject({ outcome: "joined", failovers: [{ instanceId: id, outcome: "joined" }] });
      const resolved = await s.call(
        "POST",
        "/api/alerts",
        JSON.parse(alertFor("chat-lite", "centralus", "Resolved", "b-1")),
      );
      expect(resolved.json).toMatchObject({ outcome: "resolved", notified: [id] });
      const view = await untilFinished(s, id);
      expect(view.report).toMatchObject({ outcome: "aborted", reasons: ["the alert resolved before approval"] });
      const records = await s.call("GET", "/api/alerts?day=2030-01-01");
      expect((records.json as { alerts: Array<{ outcome: string }> }).alerts.map((a) => a.outcome).sort()).toEqual([
        "joined",
        "resolved",
        "started",
      ]);
      expect((await s.call("GET", "/api/alerts?day=yesterday")).status).toBe(400);
    } finally {
      await s.stop();
    }
  }, 300_000);
});
