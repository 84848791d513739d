/**
 * The ESLint determinism override for src/runbooks/** must reject what breaks replay. Lints text as if it were a file
 * of the runbooks folder (an existing path, so the type-aware parser has a project for it).
 */
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/topology";

const eslint = new ESLint({ cwd: REPO });
const RUNBOOK = `${REPO}/src/runbooks/contracts.ts`;
const DOMAIN = `${REPO}/src/domain/errors.ts`;

async function ruleIds(code: string, filePath = RUNBOOK): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? "parse"}: ${m.message}`);
}

const clean = `export function* ok(): Generator<number, number, number> {\n  const x = yield 1;\n  return x + 1;\n}\n`;

describe("runbook determinism lint", () => {
  it("accepts a deterministic generator (control)", async () => {
    expect(await ruleIds(clean)).toEqual([]);
  });

  it("rejects Date.now() in a runbook", async () => {
    const ids = await ruleIds(`export function* bad(): Generator<number, void, unknown> {\n  yield Date.now();\n}\n`);
    expect(ids).toEqual(["no-restricted-syntax: Use context.df.currentUtcDateTime."]);
  });

  it("allows Date.now() outside runbooks", async () => {
    expect(await ruleIds(`export const t = (): number => Date.now();\n`, DOMAIN)).toEqual([]);
  });

  it.each([
    [
      "new Date()",
      "export function* f(): Generator<Date, void, unknown> {\n  yield new Date();\n}\n",
      "Use context.df.currentUtcDateTime.",
    ],
    [
      "Math.random()",
      "export function* f(): Generator<number, void, unknown> {\n  yield Math.random();\n}\n",
      "Do randomness in an activity.",
    ],
    [
      "process.env",
      "export function* f(): Generator<string | undefined, void, unknown> {\n  yield process.env.X;\n}\n",
      "Pass config as orchestration input.",
    ],
    [
      "setTimeout",
      "export function* f(): Generator<unknown, void, unknown> {\n  yield setTimeout(() => 1, 5);\n}\n",
      "Use context.df.createTimer().",
    ],
  ])("rejects %s", async (_name, code, message) => {
    expect(await ruleIds(code)).toContain(`no-restricted-syntax: ${message}`);
  });

  it("rejects await and async functions", async () => {
    const ids = await ruleIds(`export async function f(p: Promise<number>): Promise<number> {\n  return await p;\n}\n`);
    expect(ids).toContain("no-restricted-syntax: Orchestrators yield Durable tasks; never await.");
    expect(ids).toContain("no-restricted-syntax: Orchestrators are synchronous generators.");
  });

  it("rejects Node built-ins, Azure SDKs and adapters", async () => {
    const ids = await ruleIds(
      `import { readFileSync } from "node:fs";\nimport { CdnManagementClient } from "@azure/arm-cdn";\nimport { AksPoolsAdapter } from "../adapters/aks-pools";\nexport const x = [readFileSync, CdnManagementClient, AksPoolsAdapter];\n`,
    );
    expect(ids.filter((i) => i.startsWith("no-restricted-imports")).length).toBe(3);
  });
});
