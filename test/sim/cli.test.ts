/** `cutover sim`: a separate process whose first JSON line lets a real SDK client connect; stops on SIGTERM. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { describe, expect, it } from "vitest";
import { ROOT, SCENARIOS } from "./helpers";

const RUNNER = path.join(ROOT, "test/sim/run-cli.ts");

function runCli(args: string[]): {
  child: ReturnType<typeof spawn>;
  firstLine: Promise<string>;
  exit: Promise<number | null>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ["--import", "tsx", RUNNER, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const lines = createInterface({ input: child.stdout });
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", () => reject(new Error(`exited before printing: ${err}`)));
  });
  firstLine.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, firstLine, exit, stderr: () => err };
}

describe("cutover sim", () => {
  it("prints armEndpoint and caFile first, serves real SDK clients, and exits 0 on SIGTERM", async () => {
    const cli = runCli(["sim", "--scenario", path.join(SCENARIOS, "zone-outage.yaml"), "--json"]);
    try {
      const info = JSON.parse(await cli.firstLine) as {
        armEndpoint: string;
        caFile: string;
        subscriptionId: string;
        endpointsOrigin: string;
      };
      expect(info.armEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = readFileSync(info.caFile, "utf8");
      expect(ca).toContain("BEGIN CERTIFICATE");
      expect(ca).not.toContain("PRIVATE KEY");
      const aks = new ContainerServiceClient(
        { getToken: () => Promise.resolve({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }) },
        info.subscriptionId,
        {
          endpoint: info.armEndpoint,
          tlsOptions: { ca },
        },
      );
      const pool = await aks.agentPools.get("rg-chat-eastus2", "aks-chat-eastus2", "a100z1");
      expect(pool.vmSize).toBe("Standard_NC24ads_A100_v4");
      expect((await fetch(`${info.endpointsOrigin}/chat/westus3/health`)).status).toBe(200);
    } finally {
      cli.child.kill("SIGTERM");
    }
    expect(await cli.exit).toBe(0);
  });

  it("exits 1 and lists every problem for an invalid scenario", async () => {
    const cli = runCli(["sim", "--scenario", path.join(ROOT, "test/sim/fixtures/bad-scenario.yaml")]);
    expect(await cli.exit).toBe(1);
    expect(cli.stderr()).toContain("faults[0].zone");
    expect(cli.stderr()).toContain("seed");
  });
});
