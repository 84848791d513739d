import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { devSettings, OFFLINE_DEFAULTS, runDev } from "../../local/cli/dev-command";

describe("cutover dev", () => {
  it("serves the foundation app: /api/health answers with the key and 401s without it; --json line first", async () => {
    const out: string[] = [];
    const host = await runDev(
      { port: 0, json: true, speed: 1, entry: "src/index.ts" },
      { out: (l) => out.push(l), err: () => undefined },
    );
    try {
      const info = JSON.parse(out[0]!) as {
        url: string;
        functionKey: string;
        hubName: string;
        functions: Array<{ name: string }>;
      };
      expect(info.url).toBe(host.baseUrl);
      expect(info.hubName).toBe("CutoverLocal");
      expect(info.functions.map((f) => f.name)).toContain("health");
      expect((await fetch(`${info.url}/api/health`)).status).toBe(401);
      const ok = await fetch(`${info.url}/api/health?code=${info.functionKey}`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ name: "cutover", topology: { loaded: true } });
      // Dev mode: the virtual clock follows wall-clock time.
      const t0 = host.clock.now();
      await new Promise((r) => setTimeout(r, 120));
      expect(host.clock.now()).toBeGreaterThan(t0);
    } finally {
      await host.stop();
    }
  });

  it("applies local.settings.json Values (the environment wins) or the offline defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), "lh-dev-"));
    expect(devSettings(dir, {})).toEqual(OFFLINE_DEFAULTS);
    writeFileSync(join(dir, "local.settings.json"), JSON.stringify({ IsEncrypted: false, Values: { A: "1", B: 2 } }));
    expect(devSettings(dir, { A: "from-env" })).toEqual({ B: "2" });
  });
});
