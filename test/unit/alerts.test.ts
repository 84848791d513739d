import { describe, expect, it } from "vitest";
import { mapAlert, MAX_ALERT_BYTES, normalizeRegion, parseAlertBody, type CommonAlert } from "../../src/domain/alerts";
import { exampleTopology, fixture } from "../support/topology";

const topology = exampleTopology();

function alert(name: string): CommonAlert {
  const parsed = parseAlertBody(fixture(`alerts/${name}.json`));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.alert;
}

describe("parseAlertBody", () => {
  it("accepts every shipped Common Alert Schema sample", () => {
    for (const name of [
      "metric-origin-health",
      "metric-custom-properties",
      "log-search-v2",
      "service-health",
      "resource-health",
    ]) {
      expect({ name, ok: parseAlertBody(fixture(`alerts/${name}.json`)).ok }).toEqual({ name, ok: true });
    }
  });

  it("rejects malformed JSON with a 400 and the parser's reason", () => {
    const r = parseAlertBody("{ not json");
    expect(r).toMatchObject({ ok: false, status: 400 });
    expect(!r.ok && r.reason).toMatch(/^malformed JSON/);
  });

  it("rejects a payload that is not the common schema, naming schemaId", () => {
    const r = parseAlertBody(JSON.stringify({ schemaId: "Microsoft.Insights/activityLogs", data: {} }));
    expect(!r.ok && r.reason).toMatch(
      /^schemaId: expected "azureMonitorCommonAlertSchema", got "Microsoft.Insights\/activityLogs"/,
    );
  });

  it("names each missing essential field", () => {
    const body = JSON.parse(fixture("alerts/metric-origin-health.json"));
    delete body.data.essentials.monitorCondition;
    body.data.essentials.severity = "Critical";
    const r = parseAlertBody(JSON.stringify(body));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain("data.essentials.monitorCondition");
    expect(!r.ok && r.reason).toContain("data.essentials.severity");
  });

  it("refuses bodies over Azure Monitor's 256 KB limit with 413", () => {
    const r = parseAlertBody("x".repeat(MAX_ALERT_BYTES + 1));
    expect(r).toMatchObject({ ok: false, status: 413 });
    expect(parseAlertBody("x".repeat(MAX_ALERT_BYTES)).ok).toBe(false); // still parsed (and malformed), not 413
    expect((parseAlertBody("x".repeat(MAX_ALERT_BYTES)) as { status: number }).status).toBe(400);
  });

  it("rejects non-object JSON", () => {
    expect(parseAlertBody("[1,2]")).toMatchObject({ ok: false, status: 400 });
    expect(parseAlertBody("null")).toMatchObject({ ok: false, status: 400 });
  });
});

describe("mapAlert", () => {
  it("maps customProperties to workload, region and zone", () => {
    expect(mapAlert(alert("metric-custom-properties"), topology)).toEqual({
      mapped: true,
      targets: [{ workload: "chat", scope: { region: "eastus2", zone: "1" }, via: "customProperties" }],
    });
  });

  it("narrows a Front Door profile alert to the origin named in the Origin dimension", () => {
    expect(mapAlert(alert("metric-origin-health"), topology)).toMatchObject({
      mapped: true,
      targets: [{ workload: "chat", scope: { region: "eastus2" } }],
    });
    const other = alert("metric-origin-health");
    const dims = (
      other.data.alertContext as { condition: { allOf: Array<{ dimensions: Array<{ name: string; value: string }> }> } }
    ).condition.allOf[0]!.dimensions;
    dims[0]!.value = "chat-westus3";
    expect(mapAlert(other, topology)).toMatchObject({
      mapped: true,
      targets: [{ workload: "chat", scope: { region: "westus3" } }],
    });
  });

  it("maps a log alert through configurationItems (the workspace target alone maps to nothing)", () => {
    expect(mapAlert(alert("log-search-v2"), topology)).toMatchObject({
      mapped: true,
      targets: [{ workload: "chat", scope: { region: "westus3" } }],
    });
  });

  it("maps a resource health alert on an agent pool to that pool's zone", () => {
    expect(mapAlert(alert("resource-health"), topology)).toMatchObject({
      mapped: true,
      targets: [{ workload: "chat", scope: { region: "eastus2", zone: "2" } }],
    });
  });

  it("maps a service health incident to every workload in the impacted region", () => {
    const result = mapAlert(alert("service-health"), topology);
    expect(result.mapped).toBe(true);
    const targets = result.mapped ? result.targets.map((t) => `${t.workload}/${t.scope.region}`).sort() : [];
    expect(targets).toEqual(["chat/westus3", "pretrain/westus3"]);
  });

  it("says why an alert maps to nothing", () => {
    const a = alert("log-search-v2");
    a.data.essentials.configurationItems = [];
    const r = mapAlert(a, topology);
    expect(r.mapped).toBe(false);
    expect(!r.mapped && r.reason).toMatch(/no topology resource matches .*workspaces\/law-cutover/);
  });

  it("reports customProperties that name unknown workloads, regions or zones", () => {
    const a = alert("metric-custom-properties");
    a.data.customProperties = { workload: "chat", region: "swedencentral", zone: null };
    expect(mapAlert(a, topology)).toEqual({
      mapped: false,
      reason: 'customProperties: workload "chat" has no region "swedencentral"',
    });
    a.data.customProperties = { workload: "nope", region: "eastus2" };
    expect(mapAlert(a, topology)).toEqual({
      mapped: false,
      reason: 'customProperties: workload "nope" is not in the topology',
    });
    a.data.customProperties = { workload: "chat", region: "eastus2", zone: "9" };
    expect(mapAlert(a, topology)).toEqual({
      mapped: false,
      reason: 'customProperties: zone "9" is not one of 1, 2, 3',
    });
  });

  it("normalizes display region names", () => {
    expect(normalizeRegion("East US 2")).toBe("eastus2");
    expect(normalizeRegion("westus3")).toBe("westus3");
  });
});
