/**
 * Exactly once under an alert storm (issue #5; the 5,000-alert figure is in `npm run bench:alerts`): 200 copies of the
 * same Fired alert posted at the same time to the app's real `POST /api/alerts` in the local host start exactly one
 * failover, every copy is answered 202, and every copy is recorded in the alert table.
 */
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulation, type Simulation } from "../../local/simulate/environment";
import { ALERT_TABLE } from "../../src/adapters/state-store";
import { ORCHESTRATIONS } from "../../src/runbooks/contracts";
import { entry, quietScenario } from "./support";

const COPIES = 200;
const SUBSCRIPTION = "6f1c2b7e-9a55-4c1e-8d2a-3e0f4b5a6c7d";
const ALERT_ID = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.AlertsManagement/alerts/7e0c2f4a-5b1d-4c3e-9a8f-storm0000001`;

function firedAlert(firedAt: string): string {
  return JSON.stringify({
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId: ALERT_ID,
        alertRule: "storm-gpu-ready-nodes",
        severity: "Sev0",
        signalType: "Metric",
        monitorCondition: "Fired",
        monitoringService: "Platform",
        alertTargetIDs: [
          `/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-chat-eastus2/providers/microsoft.containerservice/managedclusters/aks-chat-eastus2`,
        ],
        firedDateTime: firedAt,
        essentialsVersion: "1.0",
        alertContextVersion: "1.0",
      },
      alertContext: {
        conditionType: "SingleResourceMultipleMetricCriteria",
        condition: { windowSize: "PT1M", allOf: [] },
      },
      customProperties: { workload: "chat", region: "eastus2", zone: "1" },
    },
  });
}

describe("alert storm: one incident, many copies", () => {
  let s: Simulation;
  beforeAll(async () => {
    s = await startSimulation({ scenario: quietScenario(), entry });
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
  });

  it(`${COPIES} concurrent copies of one Fired alert start exactly one failover and are all recorded`, async () => {
    const body = firedAlert(new Date(s.clock.now()).toISOString());
    const url = `${s.host.baseUrl}/api/alerts?code=${encodeURIComponent(s.host.functionKey)}`;
    const answers = await Promise.all(
      Array.from({ length: COPIES }, async () => {
        const r = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
        return {
          status: r.status,
          json: (await r.json()) as { outcome: string; failovers: Array<{ instanceId: string }> },
        };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array<number>(COPIES).fill(202));
    const outcomes = answers.map((a) => a.json.outcome);
    expect(outcomes.filter((o) => o === "started")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "joined")).toHaveLength(COPIES - 1);
    // Every answer names the same failover instance.
    const ids = new Set(answers.flatMap((a) => a.json.failovers.map((f) => f.instanceId)));
    expect(ids.size).toBe(1);

    await s.host.settle();
    const failovers = (await s.store.load()).instances.filter(
      (i) => i.name === ORCHESTRATIONS.failoverWorkload && i.parent === null,
    );
    expect(failovers.map((f) => f.instanceId)).toEqual([...ids]);

    const table = TableClient.fromConnectionString(s.azurite.connectionString, ALERT_TABLE, {
      allowInsecureConnection: true,
    });
    const records: Array<{ alertId: string; outcome: string; instanceIds: string }> = [];
    for await (const e of table.listEntities<{ alertId: string; outcome: string; instanceIds: string }>())
      if (e.alertId === ALERT_ID) records.push(e);
    expect(records).toHaveLength(COPIES);
    expect(records.filter((r) => r.outcome === "started")).toHaveLength(1);
    expect(new Set(records.map((r) => r.instanceIds))).toEqual(ids);
  }, 120_000);
});
