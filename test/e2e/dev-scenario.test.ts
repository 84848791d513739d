/** `cutover dev --scenario`: the app wired to Azurite and the Azure simulator, following real time. */
import { describe, expect, it } from "vitest";
import { runDevScenario } from "../../local/cli/dev-command";
import { entry } from "./support";

describe("cutover dev --scenario", () => {
  it("serves the app with its key, wired to the simulated Azure of the scenario", async () => {
    const lines: string[] = [];
    const dev = await runDevScenario({ port: "0", speed: "1", scenario: "zone-outage", entry, json: true }, 0, 1, {
      out: (l) => lines.push(l),
      err: () => undefined,
    });
    try {
      const info = JSON.parse(lines[0]!) as { url: string; functionKey: string; scenario: string; armEndpoint: string };
      expect(info.scenario).toBe("zone-outage");
      expect(info.armEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${info.url}/api/health`)).status).toBe(401);
      const health = await fetch(`${info.url}/api/health?code=${info.functionKey}`);
      expect(health.status).toBe(200);
      // The readiness plan reads live pool counts from the simulator through the real SDK clients.
      const plan = (await (
        await fetch(`${info.url}/api/plan?workload=chat&region=eastus2&code=${info.functionKey}`)
      ).json()) as {
        snapshot: { pools: Array<{ region: string; pool: string; count: number }> };
      };
      expect(plan.snapshot.pools.find((p) => p.region === "westus3" && p.pool === "a100z1")?.count).toBe(2);
    } finally {
      await dev.stop();
    }
  }, 120_000);
});
