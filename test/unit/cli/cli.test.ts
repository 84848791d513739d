/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- tests edit untyped YAML data and read untyped JSON output. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main";
import { planFailover } from "../../../src/domain/planner";
import { formatSeconds } from "../../../src/domain/plan-report";
import { EXAMPLE_PATH, exampleTopology, mutatedExample } from "../support/topology-fixtures";

const REPO = join(__dirname, "..", "..", "..");
const dir = mkdtempSync(join(tmpdir(), "cutover-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cutover <args>` in this process, capturing what it writes. */
async function run(...args: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(["node", "cutover", ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

function json(r: Run): any {
  return JSON.parse(r.stdout);
}

describe("cutover validate", () => {
  it("exits 0 with a summary for a valid topology", async () => {
    const r = await run("validate", EXAMPLE_PATH);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(`${EXAMPLE_PATH}: valid topology`);
    expect(r.stdout).toContain(
      "  regions:     5 — us: eastus2 (core), westus3 (core), centralus (edge); eu: swedencentral (core), francecentral (edge)",
    );
    expect(r.stdout).toContain("  workloads:   3");
    expect(r.stdout).toContain(
      "    - chat: inference, heavy, residency [us], 8 GPUs, regions eastus2, westus3, 6 GPU pools, RTO SLO 900 s, approval auto",
    );
    expect(r.stdout).toContain(
      "    - pretrain: training, heavy, residency [us], 8 GPUs, hub eastus2, secondary westus3",
    );
  });

  it("exits 1 listing every problem with its path, line and column", async () => {
    const path = file(
      "invalid.yaml",
      mutatedExample((raw: any) => {
        raw.workloads[0].regions.eastus2.gpuPools[0].zone = "7";
        raw.workloads[1].name = "chat";
        raw.workloads[2].training.secondary = "eastus2";
      }),
    );
    const r = await run("validate", path);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    // Schema problems come first; cross-checks run once the schema passes.
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(`${path}: invalid topology, 1 problem:`);
    expect(lines[1]).toMatch(
      /^ {2}- workloads\[0\]\.regions\.eastus2\.gpuPools\[0\]\.zone: expected "1" \| "2" \| "3", got "7" \(line \d+, column \d+\)$/,
    );
    const fixed = file(
      "cross.yaml",
      mutatedExample((raw: any) => {
        raw.workloads[1].name = "chat";
        raw.workloads[2].training.secondary = "eastus2";
      }),
    );
    const cross = await run("validate", fixed);
    expect(cross.code).toBe(1);
    expect(cross.stderr.split("\n").slice(1, 3)).toEqual([
      expect.stringMatching(
        /^ {2}- workloads\[1\]\.name: duplicate workload name "chat" \(also workloads\[0\]\) \(line \d+, column \d+\)$/,
      ),
      expect.stringMatching(
        /^ {2}- workloads\[2\]\.training\.secondary: the secondary must differ from the hub \(eastus2\) \(line \d+/,
      ),
    ]);
    expect(cross.stderr.split("\n")[0]).toBe(`${fixed}: invalid topology, 2 problems:`);
  });

  it("exits 1 with the line and column of a YAML syntax error", async () => {
    const path = file("syntax.yaml", "version: 1\nregions:\n  eastus2: { geography: us\nworkloads: []\n");
    const r = await run("validate", path);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ {2}- \(yaml\): .+ \(line \d+, column \d+\)$/m);
  });

  it("exits 1 for a missing file", async () => {
    const r = await run("validate", join(dir, "nope.yaml"));
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toContain(`  - (file): no such file: ${join(dir, "nope.yaml")}`);
  });

  it("exits 2 without a topology argument", async () => {
    const r = await run("validate");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'topology'");
  });
});

describe("cutover plan", () => {
  it("prints a readable report by default", async () => {
    const r = await run("plan", "--topology", EXAMPLE_PATH, "--fail", "eastus2");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const expected = planFailover({ topology: exampleTopology(), scope: { region: "eastus2" } });
    expect(r.stdout.split("\n")[0]).toBe(
      `Failover plan for a failure of eastus2: OK, predicted RTO ${formatSeconds(expected.predictedRtoSeconds)}`,
    );
    expect(r.stdout).toMatch(/^ {4}REGION {3}POOL {4}ZONE {2}VM SIZE {19}FROM {2}TO {11}FALLBACKS \(set-to\)$/m);
    // The example asks for one spare node on each pool it scales (capacity.spareNodes: 1).
    expect(r.stdout).toMatch(
      /^ {4}westus3 {2}h100z3 {2}3 {5}Standard_NC40ads_H100_v5 {2}0 {5}3 \(1 spare\) {2}westus3\/a100z1→5, westus3\/a100z2→5$/m,
    );
    expect(r.stdout).toMatch(/^ {4}drain {3}chat-eastus2 {2}eastus2 {2}- {7}- {9}0$/m);
    expect(r.stdout).toContain(
      "  Critical path: detect → decide → approve → scale:westus3/h100z3 → warm:westus3 → verify",
    );
    expect(r.stdout).toMatch(/^ {2}~ {2}propagate:afd-chat /m);
    expect(r.stdout).toContain("  - chat-lite: not affected: it does not run in eastus2");
  });

  it("prints exactly one JSON object with --json", async () => {
    const r = await run("plan", "-t", EXAMPLE_PATH, "-f", "eastus2", "--json");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const out = json(r);
    const expected = planFailover({ topology: exampleTopology(), scope: { region: "eastus2" } });
    expect(out.status).toBe("ok");
    expect(out.reasons).toEqual([]);
    expect(out.predictedRtoSeconds).toBe(expected.predictedRtoSeconds);
    expect(out.workloads.map((w: any): string => w.workload)).toEqual(["chat", "pretrain"]);
    const chat = out.workloads[0];
    expect(chat.target).toEqual({ region: "westus3", zones: ["1", "2", "3"] });
    expect(chat.pools[0]).toMatchObject({
      region: "westus3",
      pool: "a100z1",
      zone: "1",
      vmSize: "Standard_NC24ads_A100_v4",
      from: 2,
      to: 4,
      spare: 1,
    });
    // Each fallback says the count the plan leaves it at (a100z2 is itself planned 2 → 3, plus a spare) and whether it
    // may be asked for as a hedge.
    expect(chat.pools[0].fallbacks[0]).toMatchObject({ pool: "a100z2", from: 4, to: 5, hedgeable: true });
    for (const s of chat.steps) {
      expect(Object.keys(s)).toEqual(expect.arrayContaining(["id", "kind", "after", "expectedSeconds"]));
      expect(typeof s.expectedSeconds).toBe("number");
    }
    expect(chat.predictedRtoSeconds).toBe(
      (expected.workloads[0] as { predictedRtoSeconds: number }).predictedRtoSeconds,
    );
    expect(out.workloads[1]).toMatchObject({
      workload: "pretrain",
      target: { region: "westus3", zones: [] },
      pools: [],
    });
    expect(r.stdout.endsWith("}\n")).toBe(true);
  });

  it("gives a plan for every region and zone of the example", async () => {
    const topology = exampleTopology();
    for (const [region, r] of Object.entries(topology.regions))
      for (const scope of [region, ...r.zones.map((z) => `${region}/${z}`)]) {
        const out = await run("plan", "-t", EXAMPLE_PATH, "-f", scope, "--json");
        expect({ scope, code: out.code, status: json(out).status, stderr: out.stderr }).toEqual({
          scope,
          code: 0,
          status: "ok",
          stderr: "",
        });
      }
  });

  it("exits 1 with the reasons when the plan is refused (JSON)", async () => {
    const r = await run("plan", "-t", EXAMPLE_PATH, "-f", "eastus2", "--impaired", "westus3", "--json");
    expect(r).toMatchObject({ code: 1, stderr: "" });
    const out = json(r);
    expect(out.status).toBe("refused");
    expect(out.reasons).toEqual([
      "chat: refusing to drain chat-eastus2: it is the last healthy origin of chat (Front Door fails open when every origin is unhealthy)",
      "chat: westus3 is impaired",
      "pretrain: no eligible target: the secondary westus3 is impaired",
    ]);
    expect(out.workloads[0]).toMatchObject({
      workload: "chat",
      status: "refused",
      target: null,
      pools: [],
      steps: [],
      predictedRtoSeconds: null,
    });
  });

  it("exits 1 with the reasons when the plan is refused (report)", async () => {
    const r = await run(
      "plan",
      "-t",
      EXAMPLE_PATH,
      "-f",
      "eastus2",
      "-w",
      "chat",
      "--impaired",
      "westus3/1",
      "--impaired",
      "westus3/2",
    );
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n").slice(0, 3)).toEqual([
      "Failover plan for a failure of eastus2: REFUSED",
      "Refused:",
      "  - chat: not enough capacity: targets can hold 4 of 8 GPUs after fallback (westus3/a100z1: zone 1 of westus3 is impaired; westus3/a100z2: zone 2 of westus3 is impaired; westus3/h100z3: at its max 4)",
    ]);
  });

  it.each([["eastus2/9"], ["EastUS2"], ["eastus2/1/2"], [""]])("exits 2 for a malformed --fail %j", async (value) => {
    const r = await run("plan", "-t", EXAMPLE_PATH, "--fail", value);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`argument '${value}' is invalid. expected <region> or <region>/<zone>`);
  });

  it.each([
    [
      ["-f", "eastus9"],
      'cutover plan: scope: unknown region "eastus9" (known: centralus, eastus2, francecentral, swedencentral, westus3)',
    ],
    [
      ["-f", "eastus2", "-w", "nope"],
      'cutover plan: workload: unknown workload "nope" (known: chat, chat-lite, pretrain)',
    ],
    [["-f", "eastus2", "--impaired", "mars"], 'cutover plan: impaired region: unknown region "mars"'],
    [
      ["-f", "eastus2", "--unavailable", "westus3/3/Standard_ND96asr_v4"],
      "cutover plan: unavailable: VM size Standard_ND96asr_v4 is not in the capability matrix",
    ],
  ])("exits 2 when %j names what the topology lacks", async (args, message) => {
    const r = await run("plan", "-t", EXAMPLE_PATH, ...args);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toContain(message);
  });

  it("exits 2 for a zone the region does not have", async () => {
    const path = file(
      "two-zones.yaml",
      mutatedExample((raw: any) => {
        raw.regions.francecentral.zones = ["1", "2"];
        delete raw.capabilityMatrix.availability.francecentral["3"];
      }),
    );
    const r = await run("plan", "-t", path, "-f", "francecentral/3");
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe("cutover plan: scope: zone 3 is not a zone of francecentral (zones: 1, 2)\n");
  });

  it.each([
    [["-f", "eastus2"], "required option '-t, --topology <file>' not specified"],
    [["-t", EXAMPLE_PATH], "required option '-f, --fail <region[/zone]>' not specified"],
    [
      ["-t", EXAMPLE_PATH, "-f", "eastus2", "--detection", "psychic"],
      "argument 'psychic' is invalid. Allowed choices are alert, probe, none.",
    ],
    [["-t", EXAMPLE_PATH, "-f", "eastus2", "--unavailable", "westus3/H100"], "expected <region>/<zone>/<vmSize>"],
    [["-t", EXAMPLE_PATH, "-f", "eastus2", "--model-missing", "westus3"], "expected <workload>/<region>"],
  ])("exits 2 on usage errors: %j", async (args, message) => {
    const r = await run("plan", ...args);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toContain(message);
  });

  it("exits 1 listing the problems of an invalid topology, with nothing on stdout even with --json", async () => {
    const path = file(
      "bad-plan.yaml",
      mutatedExample((raw: any) => (raw.workloads[0].frontDoor = "afd-missing")),
    );
    const r = await run("plan", "-t", path, "-f", "eastus2", "--json");
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toMatch(
      /^ {2}- workloads\[0\]\.frontDoor: Front Door "afd-missing" is not declared under frontDoors \(line \d+/m,
    );
  });

  it("passes --unavailable, --model-missing, --detection and --latency-profile to the planner", async () => {
    const unavailable = json(
      await run(
        "plan",
        "-t",
        EXAMPLE_PATH,
        "-f",
        "eastus2",
        "-w",
        "chat",
        "--unavailable",
        "westus3/3/Standard_NC40ads_H100_v5",
        "--json",
      ),
    );
    expect(unavailable.workloads[0].pools.map((p: any) => `${p.pool}->${p.to}`)).toEqual(["a100z1->5", "a100z2->5"]);
    const missing = await run(
      "plan",
      "-t",
      EXAMPLE_PATH,
      "-f",
      "eastus2",
      "-w",
      "chat",
      "--model-missing",
      "chat/westus3",
      "--json",
    );
    expect(missing.code).toBe(1);
    expect(json(missing).reasons).toEqual([
      "chat: model llama-70b-chat 2026.10.2 is missing in westus3 and no healthy region's store holds it",
    ]);
    const typical = json(await run("plan", "-t", EXAMPLE_PATH, "-f", "eastus2", "-w", "chat", "--json"));
    const fast = json(
      await run(
        "plan",
        "-t",
        EXAMPLE_PATH,
        "-f",
        "eastus2",
        "-w",
        "chat",
        "--json",
        "--detection",
        "none",
        "--latency-profile",
        "fast",
      ),
    );
    const stepOf = (out: any, id: string): number =>
      out.workloads[0].steps.find((s: any) => s.id === id).expectedSeconds;
    expect(stepOf(fast, "detect")).toBe(0);
    expect(stepOf(typical, "detect")).toBeGreaterThan(0);
    expect(stepOf(fast, "scale:westus3/a100z1")).toBe(Math.round(stepOf(typical, "scale:westus3/a100z1") / 2));
  });
});

describe("the cutover process", () => {
  /** Runs the CLI from sources in a child process, to see real exit codes and streams. */
  function spawnCli(...args: string[]) {
    const script =
      "require('./src/cli/main').main(['node', 'cutover', ...process.argv.slice(1)]).then((c) => process.exit(c))";
    return spawnSync(process.execPath, ["--import", "tsx", "-e", script, "--", ...args], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 60_000,
    });
  }

  it("exits with 0, 1 and 2 and keeps --json output clean", () => {
    const okRun = spawnCli("plan", "-t", EXAMPLE_PATH, "-f", "westus3", "--json");
    expect(okRun.status).toBe(0);
    expect(JSON.parse(okRun.stdout).status).toBe("ok");
    const refusedRun = spawnCli("plan", "-t", EXAMPLE_PATH, "-f", "westus3", "--impaired", "eastus2", "--json");
    expect(refusedRun.status).toBe(1);
    expect(JSON.parse(refusedRun.stdout).status).toBe("refused");
    const usage = spawnCli("plan", "-t", EXAMPLE_PATH, "-f", "west us");
    expect(usage.status).toBe(2);
    expect(usage.stdout).toBe("");
    const valid = spawnCli("validate", EXAMPLE_PATH);
    expect(valid.status).toBe(0);
  });
});
