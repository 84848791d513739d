/**
 * The tier rule is enforced when the topology loads, before any alert or drill: a topology that would run a heavy
 * model in an edge region never loads, the app says why on /api/health, and every failover entry point refuses with
 * the same reasons instead of acting on a topology it cannot trust. (The planner's own tier check, reachable only
 * with validation bypassed, is covered in test/unit/planner.)
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { runDev } from "../../local/cli/dev-command";
import { REPO } from "../support/topology";

function workdirWithTopology(edit: (topology: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-tier-"));
  const topology = parse(readFileSync(join(REPO, "examples", "topology.yaml"), "utf8")) as Record<string, unknown>;
  edit(topology);
  writeFileSync(join(dir, "topology.yaml"), stringify(topology));
  copyFileSync(join(REPO, "host.json"), join(dir, "host.json"));
  writeFileSync(
    join(dir, "local.settings.json"),
    JSON.stringify({
      IsEncrypted: false,
      Values: {
        FUNCTIONS_WORKER_RUNTIME: "node",
        CUTOVER_TOPOLOGY_PATH: join(dir, "topology.yaml"),
        CUTOVER_TASK_HUB: "CutoverTier",
        CUTOVER_PROBE_SCHEDULE: "*/10 * * * * *",
      },
    }),
  );
  return dir;
}

/** A Fired metric alert in the Common Alert Schema, mapped to chat eastus2 through its custom properties. */
function commonAlert(): unknown {
  return {
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.AlertsManagement/alerts/a1",
        alertRule: "chat-5xx",
        severity: "Sev1",
        signalType: "Metric",
        monitorCondition: "Fired",
        monitoringService: "Platform",
        alertTargetIDs: [],
        configurationItems: [],
        originAlertId: "a1",
        firedDateTime: "2026-11-24T02:00:00.000Z",
        description: "",
        essentialsVersion: "1.0",
        alertContextVersion: "1.0",
      },
      alertContext: {},
      customProperties: { workload: "chat", region: "eastus2" },
    },
  };
}

describe("a topology that breaks the tier rule", () => {
  it("never loads: /api/health names the region, and drills, plans and alerts are refused with that reason", async () => {
    const cwd = workdirWithTopology((t) => {
      // Move chat's westus3 deployment to centralus, an edge region: chat is heavy.
      const chat = (t["workloads"] as Array<Record<string, unknown>>).find((w) => w["name"] === "chat")!;
      const regions = chat["regions"] as Record<string, unknown>;
      regions["centralus"] = regions["westus3"];
      delete regions["westus3"];
    });
    const host = await runDev(
      { port: 0, json: true, speed: 1, entry: join(REPO, "src", "index.ts"), cwd },
      { out: () => undefined, err: () => undefined },
    );
    const call = async (method: string, path: string, body?: unknown) => {
      const sep = path.includes("?") ? "&" : "?";
      const r = await fetch(`${host.baseUrl}/api/${path}${sep}code=${host.functionKey}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      });
      return { status: r.status, text: await r.text() };
    };
    try {
      const rule = "heavy workloads run only in core regions; centralus is edge";
      const health = await call("GET", "health");
      expect(health.status).toBe(503);
      const body = JSON.parse(health.text) as { topology: { loaded: boolean; problems?: unknown } };
      expect(body.topology.loaded).toBe(false);
      expect(health.text).toContain(rule);
      expect(health.text).toContain("regions.centralus");

      const drill = await call("POST", "drills", { workload: "chat", scope: { region: "eastus2" }, mode: "live" });
      // A configuration Cutover cannot trust is its own fault, not the caller's: 500 with every problem.
      expect(drill).toMatchObject({ status: 500 });
      expect(drill.text).toContain(rule);

      const plan = await call("GET", "plan?workload=chat&region=eastus2");
      expect(plan).toMatchObject({ status: 500 });
      expect(plan.text).toContain(rule);

      const alert = await call("POST", "alerts", commonAlert());
      expect(alert).toMatchObject({ status: 500 });
      expect(alert.text).toContain(rule);

      const instances = await host.store.load();
      expect(instances.instances.filter((i) => i.name === "failoverWorkload")).toEqual([]);
    } finally {
      await host.stop();
    }
  }, 120_000);
});
