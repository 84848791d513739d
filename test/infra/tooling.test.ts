/** azure.yaml and the Bicep linter policy. */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { bicepPath, copyInfra, REPO_ROOT, removeCopy } from "./support/bicep";

const execFileAsync = promisify(execFile);
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) removeCopy(dir);
});

describe("azure.yaml", () => {
  const doc = parse(readFileSync(join(REPO_ROOT, "azure.yaml"), "utf8")) as {
    name: string;
    infra: { provider: string; path: string; module: string };
    services: Record<string, { project: string; language: string; host: string }>;
    hooks: Record<string, { shell: string; run: string }>;
  };

  it("provisions infra/main.bicep with Bicep and deploys the app as the `cutover` function service", () => {
    expect(doc.infra).toEqual({ provider: "bicep", path: "infra", module: "main" });
    expect(existsSync(join(REPO_ROOT, doc.infra.path, `${doc.infra.module}.bicepparam`))).toBe(true);
    expect(doc.services.cutover).toMatchObject({ project: ".", language: "ts", host: "function" });
    // The template tags the primary app with the service name azd looks for.
    expect(readFileSync(join(REPO_ROOT, "infra", "main.bicep"), "utf8")).toContain(
      "appTags: { 'azd-service-name': 'cutover' }",
    );
  });

  it("publishes to the standby through a hook script that exists", () => {
    const hook = doc.hooks.postdeploy!;
    expect(hook.shell).toBe("sh");
    const script = /infra\/scripts\/[\w-]+\.sh/.exec(hook.run)?.[0];
    expect(script).toBeDefined();
    expect(existsSync(join(REPO_ROOT, script!))).toBe(true);
  });
});

describe("bicepconfig.json", () => {
  it("makes linter findings errors, so `bicep lint` fails on them", async () => {
    const dir = copyInfra([
      { file: "modules/action-group/main.bicep", from: "resource site ", to: "var unusedProbe = 1\n\nresource site " },
    ]);
    copies.push(dir);
    const failure = await execFileAsync(bicepPath(), ["lint", join(dir, "modules", "action-group", "main.bicep")]).then(
      () => undefined,
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(failure?.code).not.toBe(0);
    expect(`${failure?.stdout}${failure?.stderr}`).toMatch(/Error no-unused-vars: Variable "unusedProbe"/);
  });
});
