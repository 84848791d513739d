import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSettings, SETTINGS } from "../../src/config/settings";
import { REPO } from "../support/topology";

describe("settings", () => {
  it("parses present settings and leaves absent ones undefined", () => {
    const r = readSettings({
      CUTOVER_TOPOLOGY_PATH: "t.yaml",
      CUTOVER_ALERT_CONFIRM: "true",
      CUTOVER_AUTO_COOLDOWN_SECONDS: "60",
    });
    expect(r).toEqual({
      ok: true,
      values: { CUTOVER_TOPOLOGY_PATH: "t.yaml", CUTOVER_ALERT_CONFIRM: true, CUTOVER_AUTO_COOLDOWN_SECONDS: 60 },
    });
  });

  it("reports every bad setting at once and never echoes a secret", () => {
    const r = readSettings({
      CUTOVER_CREDENTIAL: "password",
      CUTOVER_AUTO_COOLDOWN_SECONDS: "-5",
      CUTOVER_STATE_CONNECTION_STRING: "",
      CUTOVER_TASK_HUB: "x",
      AZURE_CLIENT_ID: "not-a-guid",
    });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems.map((p) => p.name).sort()).toEqual([
      "AZURE_CLIENT_ID",
      "CUTOVER_AUTO_COOLDOWN_SECONDS",
      "CUTOVER_CREDENTIAL",
      "CUTOVER_TASK_HUB",
    ]);
    expect(problems.find((p) => p.name === "CUTOVER_CREDENTIAL")?.message).toContain('(got "password")');
  });

  it("hides the value of a secret setting in its problem", () => {
    expect(SETTINGS.CUTOVER_STATE_CONNECTION_STRING.secret).toBe(true);
    const r = readSettings({
      CUTOVER_STATE_CONNECTION_STRING: "AccountKey=sup3rsecret;DefaultEndpointsProtocol=https",
    });
    expect(r.ok).toBe(false);
    const text = JSON.stringify(r);
    expect(text).toContain("CUTOVER_STATE_CONNECTION_STRING");
    expect(text).not.toContain("sup3rsecret");
  });

  it("documents every setting in the README", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const missing = Object.keys(SETTINGS).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("uses only known settings in local.settings.sample.json", () => {
    const sample = JSON.parse(readFileSync(join(REPO, "local.settings.sample.json"), "utf8")) as {
      Values: Record<string, string>;
    };
    const host = new Set(["AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME"]);
    const unknown = Object.keys(sample.Values).filter((k) => !host.has(k) && !(k in SETTINGS));
    expect(unknown).toEqual([]);
    expect(readSettings(sample.Values).ok).toBe(true);
  });
});
