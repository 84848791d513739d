/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- these tests edit untyped YAML data on purpose, to produce invalid topologies. */
import { describe, expect, it } from "vitest";
import {
  formatProblem,
  loadTopologyFile,
  parseTopology,
  type LocatedProblem,
} from "../../../src/config/topology-loader";
import { crossCheckTopology, topologySchema } from "../../../src/domain/topology";
import { exampleRaw, exampleText, mutatedExample } from "../support/topology-fixtures";

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function problemsOf(text: string): LocatedProblem[] {
  const result = parseTopology(text, "test.yaml");
  if (result.ok) throw new Error("expected the topology to be invalid");
  return [...result.problems];
}

describe("the example topology", () => {
  it("is valid", () => {
    const result = parseTopology(exampleText(), "example");
    expect(result.ok).toBe(true);
  });
});

/** One broken thing each: the mutation, the path it must be reported at, and a fragment of the message. */
const crossChecks: Array<[string, (raw: Record<string, any>) => void, string, string]> = [
  [
    "availability names an undeclared region",
    (r) => (r.capabilityMatrix.availability.northeurope = { "1": ["Standard_NC24ads_A100_v4"] }),
    "capabilityMatrix.availability.northeurope",
    'region "northeurope" is not declared under regions',
  ],
  [
    "availability names a zone the region lacks",
    (r) => {
      r.regions.francecentral.zones = ["1", "2"];
      r.workloads[1].regions.francecentral.gpuPools = [r.workloads[1].regions.francecentral.gpuPools[0]];
    },
    "capabilityMatrix.availability.francecentral.3",
    "zone 3 is not a zone of francecentral",
  ],
  [
    "availability lists a SKU the matrix does not describe",
    (r) => r.capabilityMatrix.availability.eastus2["1"].push("Standard_ND96asr_v4"),
    "capabilityMatrix.availability.eastus2.1[4]",
    "SKU Standard_ND96asr_v4 is not described under capabilityMatrix.skus",
  ],
  [
    "a fallbacks key is not described",
    (r) => (r.capabilityMatrix.fallbacks.Standard_ND96asr_v4 = ["Standard_NC24ads_A100_v4"]),
    "capabilityMatrix.fallbacks.Standard_ND96asr_v4",
    "SKU Standard_ND96asr_v4 is not described under capabilityMatrix.skus",
  ],
  [
    "a fallback SKU is not in the matrix",
    (r) => r.capabilityMatrix.fallbacks.Standard_NC24ads_A100_v4.push("Standard_ND96asr_v4"),
    "capabilityMatrix.fallbacks.Standard_NC24ads_A100_v4[3]",
    "fallback SKU Standard_ND96asr_v4 is not in the capability matrix",
  ],
  [
    "a SKU is its own fallback",
    (r) => r.capabilityMatrix.fallbacks.Standard_NC40ads_H100_v5.push("Standard_NC40ads_H100_v5"),
    "capabilityMatrix.fallbacks.Standard_NC40ads_H100_v5[1]",
    "a SKU cannot be its own fallback",
  ],
  [
    "quotas name an undeclared region",
    (r) => (r.capabilityMatrix.quotas.uksouth = { standardNCADSA100v4Family: 10 }),
    "capabilityMatrix.quotas.uksouth",
    'region "uksouth" is not declared under regions',
  ],
  [
    "two workloads share a name",
    (r) => (r.workloads[1].name = "chat"),
    "workloads[1].name",
    'duplicate workload name "chat" (also workloads[0])',
  ],
  [
    "residency names a geography no region has",
    (r) => r.workloads[1].residency.push("apac"),
    "workloads[1].residency[2]",
    'geography "apac" is not used by any region (known: eu, us)',
  ],
  [
    "a workload has no regions",
    (r) => (r.workloads[1].regions = {}),
    "workloads[1].regions",
    "a workload needs at least one region",
  ],
  [
    "an inference workload has no Front Door",
    (r) => delete r.workloads[0].frontDoor,
    "workloads[0].frontDoor",
    "required for an inference workload",
  ],
  [
    "an inference workload names an undeclared Front Door",
    (r) => (r.workloads[0].frontDoor = "afd-missing"),
    "workloads[0].frontDoor",
    'Front Door "afd-missing" is not declared under frontDoors',
  ],
  [
    "an inference workload has a training section",
    (r) => (r.workloads[0].training = r.workloads[2].training),
    "workloads[0].training",
    "only training workloads have a training section",
  ],
  [
    "a training workload has no training section",
    (r) => delete r.workloads[2].training,
    "workloads[2].training",
    "required for a training workload",
  ],
  [
    "a workload region is not declared",
    (r) => (r.workloads[2].regions.uksouth = { checkpoints: r.workloads[2].regions.eastus2.checkpoints }),
    "workloads[2].regions.uksouth",
    'region "uksouth" is not declared under regions',
  ],
  [
    "a heavy inference workload runs in an edge region",
    (r) => (r.workloads[0].regions.centralus = { ...r.workloads[1].regions.centralus, origin: "chat-centralus" }),
    "workloads[0].regions.centralus",
    "heavy workloads run only in core regions; centralus is edge",
  ],
  [
    "an inference region has no origin",
    (r) => delete r.workloads[0].regions.westus3.origin,
    "workloads[0].regions.westus3.origin",
    "required for an inference workload region",
  ],
  [
    "two regions share an origin",
    (r) => (r.workloads[0].regions.westus3.origin = "chat-eastus2"),
    "workloads[0].regions.westus3.origin",
    'origin "chat-eastus2" is already used by workloads[0].regions.eastus2',
  ],
  [
    "an inference region has no cluster",
    (r) => {
      delete r.workloads[0].regions.westus3.cluster;
      r.workloads[0].regions.westus3.gpuPools = [];
    },
    "workloads[0].regions.westus3.cluster",
    "required for an inference workload region",
  ],
  [
    "an inference region has no endpoint",
    (r) => delete r.workloads[0].regions.westus3.endpoint,
    "workloads[0].regions.westus3.endpoint",
    "required for an inference workload region",
  ],
  [
    "an inference region has no model store",
    (r) => delete r.workloads[0].regions.westus3.modelStore,
    "workloads[0].regions.westus3.modelStore",
    "required for an inference workload region",
  ],
  [
    "GPU pools without a cluster",
    (r) =>
      (r.workloads[2].regions.eastus2.gpuPools = [
        { name: "train", zone: "1", vmSize: "Standard_NC24ads_A100_v4", min: 0, max: 2 },
      ]),
    "workloads[2].regions.eastus2.cluster",
    "required: GPU pools need the AKS cluster that hosts them",
  ],
  [
    "two pools of one cluster share a name",
    (r) => (r.workloads[0].regions.eastus2.gpuPools[1].name = "a100z1"),
    "workloads[0].regions.eastus2.gpuPools[1].name",
    'duplicate pool "a100z1" in cluster aks-chat-eastus2 (also workloads[0].regions.eastus2.gpuPools[0])',
  ],
  [
    "a pool's zone is not a zone of its region",
    (r) => {
      r.regions.westus3.zones = ["1", "2"];
      delete r.capabilityMatrix.availability.westus3["3"];
    },
    "workloads[0].regions.westus3.gpuPools[2].zone",
    "zone 3 is not a zone of westus3 (zones: 1, 2)",
  ],
  [
    "a pool's VM size is not in the matrix",
    (r) => (r.workloads[0].regions.westus3.gpuPools[0].vmSize = "Standard_ND96asr_v4"),
    "workloads[0].regions.westus3.gpuPools[0].vmSize",
    "VM size Standard_ND96asr_v4 is not described under capabilityMatrix.skus",
  ],
  [
    "a training secondary equals its hub",
    (r) => (r.workloads[2].training.secondary = "eastus2"),
    "workloads[2].training.secondary",
    "the secondary must differ from the hub (eastus2)",
  ],
  [
    "a training hub is not one of the workload's regions",
    (r) => (r.workloads[2].training.hub = "centralus"),
    "workloads[2].training.hub",
    'hub region "centralus" is not one of this workload\'s regions',
  ],
  [
    "a training region has no checkpoint location",
    (r) => delete r.workloads[2].regions.westus3.checkpoints,
    "workloads[2].regions.westus3.checkpoints",
    "required: the training secondary needs a checkpoint location",
  ],
  [
    "a training region has no Azure ML workspace",
    (r) => delete r.workloads[2].training.job.workspaces.westus3,
    "workloads[2].training.job.workspaces.westus3",
    "required: no Azure ML workspace for the secondary",
  ],
  [
    "a training region has no compute target",
    (r) => delete r.workloads[2].training.job.compute.eastus2,
    "workloads[2].training.job.compute.eastus2",
    "required: no compute target for the hub",
  ],
  [
    "a training secondary is outside residency",
    (r) => {
      r.workloads[2].regions.swedencentral = { checkpoints: r.workloads[2].regions.westus3.checkpoints };
      r.workloads[2].training.secondary = "swedencentral";
      r.workloads[2].training.job.workspaces.swedencentral = { resourceGroup: "rg", name: "mlw" };
      r.workloads[2].training.job.compute.swedencentral = "gpu";
    },
    "workloads[2].training.secondary",
    'the secondary swedencentral (geography eu) is outside residency ["us"]',
  ],
  [
    "a heavy training secondary is an edge region",
    (r) => {
      r.workloads[2].regions.centralus = { checkpoints: r.workloads[2].regions.westus3.checkpoints };
      r.workloads[2].training.secondary = "centralus";
      r.workloads[2].training.job.workspaces.centralus = { resourceGroup: "rg", name: "mlw" };
      r.workloads[2].training.job.compute.centralus = "gpu";
    },
    "workloads[2].training.secondary",
    "heavy workloads run only in core regions; centralus is edge",
  ],
  [
    "residency leaves fewer than two eligible regions",
    (r) => {
      r.workloads[1].residency = ["eu"];
      delete r.workloads[1].regions.francecentral;
    },
    "workloads[1].residency",
    'residency ["eu"] and tier light leave 1 eligible region(s); a failover needs at least 2',
  ],
  [
    "residency and tier leave a heavy workload one core region",
    (r) => {
      r.regions.westus3.class = "edge";
      r.workloads[0].regions.westus3.gpuPools = [];
    },
    "workloads[0].residency",
    'residency ["us"] and tier heavy leave 1 eligible region(s); a failover needs at least 2',
  ],
];

describe("cross-checks", () => {
  it.each(crossChecks)("%s", (_name, mutate, path, fragment) => {
    const problems = problemsOf(mutatedExample(mutate));
    expect(problems.map(formatProblem)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${escape(path)}: .*${escape(fragment)}.* \\(line \\d+`)),
      ]),
    );
  });

  it("the residency-leaves-a-target check counts two allowed regions as enough", () => {
    // chat-lite in us+eu has three allowed regions; limited to eu it has swedencentral and francecentral: still 2.
    const problems = problemsOf(
      mutatedExample((r) => {
        r.workloads[1].residency = ["eu"];
        r.workloads[0].name = "Bad"; // keeps the file invalid so problemsOf has something to return
      }),
    );
    expect(problems.some((p) => p.path === "workloads[1].residency")).toBe(false);
  });

  it("reports every cross-check problem at once, in one pass", () => {
    const problems = problemsOf(
      mutatedExample((r) => {
        r.workloads[1].name = "chat";
        r.capabilityMatrix.fallbacks.Standard_NC40ads_H100_v5.push("Standard_NC40ads_H100_v5");
        r.workloads[2].training.secondary = "eastus2";
        r.workloads[0].regions.westus3.origin = "chat-eastus2";
      }),
    );
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        "workloads[1].name",
        "capabilityMatrix.fallbacks.Standard_NC40ads_H100_v5[1]",
        "workloads[2].training.secondary",
        "workloads[0].regions.westus3.origin",
      ]),
    );
  });

  it("crossCheckTopology returns nothing for a consistent topology", () => {
    const parsed = topologySchema.parse(exampleRaw());
    expect(crossCheckTopology(parsed)).toEqual([]);
  });
});

describe("schema problems", () => {
  const cases: Array<[string, (raw: Record<string, any>) => void, string, string]> = [
    ["wrong version", (r) => (r.version = 2), "version", "expected 1, got 2"],
    ["subscription id not a GUID", (r) => (r.subscriptionId = "abc"), "subscriptionId", 'expected a GUID, got "abc"'],
    ["unknown field", (r) => (r.regions.eastus2.colour = "blue"), "regions.eastus2.colour", "unknown field"],
    [
      "bad discriminator",
      (r) => (r.frontDoors["afd-chat"].kind = "premium"),
      "frontDoors.afd-chat.kind",
      'expected "standard" | "classic", got "premium"',
    ],
    [
      "missing discriminator",
      (r) => (r.workloads[0].approval = {}),
      "workloads[0].approval.mode",
      'expected "auto" | "manual" | "auto-after-timeout", got nothing',
    ],
    [
      "bad enum value",
      (r) => (r.workloads[0].kind = "batch"),
      "workloads[0].kind",
      'expected "inference" | "training", got "batch"',
    ],
    [
      "zone out of range",
      (r) => (r.workloads[0].regions.eastus2.gpuPools[0].zone = "7"),
      "workloads[0].regions.eastus2.gpuPools[0].zone",
      'expected "1" | "2" | "3", got "7"',
    ],
    [
      "wrong type",
      (r) => (r.workloads[0].regions.eastus2.weight = "heavy"),
      "workloads[0].regions.eastus2.weight",
      'expected number, got "heavy"',
    ],
    [
      "weight out of range",
      (r) => (r.workloads[0].regions.eastus2.weight = 1001),
      "workloads[0].regions.eastus2.weight",
      "got 1001",
    ],
    [
      "bad VM size",
      (r) => (r.workloads[0].regions.eastus2.gpuPools[0].vmSize = "NC24"),
      "workloads[0].regions.eastus2.gpuPools[0].vmSize",
      "expected an Azure VM size",
    ],
    [
      "bad pool name",
      (r) => (r.workloads[0].regions.eastus2.gpuPools[0].name = "A100-zone1"),
      "workloads[0].regions.eastus2.gpuPools[0].name",
      "expected an AKS pool name",
    ],
    [
      "min above max",
      (r) => (r.workloads[0].regions.eastus2.gpuPools[1].min = 9),
      "workloads[0].regions.eastus2.gpuPools[1].min",
      "must not exceed max, got 9",
    ],
    [
      "current above max",
      (r) => (r.workloads[0].regions.eastus2.gpuPools[2].current = 5),
      "workloads[0].regions.eastus2.gpuPools[2].current",
      "must not exceed max, got 5",
    ],
    ["missing required object", (r) => delete r.workloads[1].slo, "workloads[1].slo", "required (expected object)"],
    [
      "number below minimum",
      (r) => (r.workloads[1].approval = { mode: "manual", timeoutSeconds: 5 }),
      "workloads[1].approval.timeoutSeconds",
      "got 5",
    ],
    ["no workloads", (r) => (r.workloads = []), "workloads", "got a list"],
    [
      "bad URL",
      (r) => (r.workloads[0].regions.eastus2.endpoint.healthUrl = "ftp://x"),
      "workloads[0].regions.eastus2.endpoint.healthUrl",
      'got "ftp://x"',
    ],
  ];
  it.each(cases)("%s", (_name, mutate, path, fragment) => {
    const problems = problemsOf(mutatedExample(mutate));
    expect(problems.map(formatProblem)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^${escape(path)}: .*${escape(fragment)}`))]),
    );
  });

  it("reports every schema problem at once, including refinements next to invalid siblings", () => {
    const problems = problemsOf(
      mutatedExample((r) => {
        r.version = 2;
        r.workloads[0].regions.eastus2.gpuPools[0].zone = "7";
        r.workloads[0].regions.eastus2.gpuPools[0].min = 9; // refinement runs although zone is invalid
        r.workloads[1].kind = "batch";
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      "version",
      "workloads[0].regions.eastus2.gpuPools[0].zone",
      "workloads[0].regions.eastus2.gpuPools[0].min",
      "workloads[1].kind",
    ]);
  });

  it("locates schema problems on the line and column of the offending value", () => {
    const text = [
      "version: 1",
      "subscriptionId: 6f1c2b7e-9a55-4c1e-8d2a-3e0f4b5a6c7d",
      "regions:",
      "  eastus2: { geography: us, class: core }",
      "  westus3: { geography: us, class: middle }",
      "capabilityMatrix: { skus: {}, availability: {} }",
      "workloads: []",
    ].join("\n");
    const problems = problemsOf(text);
    const cls = problems.find((p) => p.path === "regions.westus3.class");
    expect(cls).toMatchObject({ line: 5, column: 36 });
    expect(cls?.message).toBe('expected "core" | "edge", got "middle"');
    expect(problems.find((p) => p.path === "workloads")).toMatchObject({ line: 7, column: 12 });
  });

  it("locates a missing field at its parent", () => {
    const problems = problemsOf(mutatedExample((r) => delete r.workloads[1].slo));
    const slo = problems.find((p) => p.path === "workloads[1].slo");
    expect(slo?.line).toBeGreaterThan(1);
    const text = mutatedExample((r) => delete r.workloads[1].slo);
    const line = text.split("\n")[(slo?.line ?? 1) - 1] ?? "";
    expect(line).toContain("name: chat-lite");
  });
});

describe("YAML syntax", () => {
  it("gives the line and column of a syntax error", () => {
    const problems = problemsOf("version: 1\nregions:\n  eastus2: { geography: us\nworkloads: []\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: "(yaml)" });
    expect(problems[0]?.line).toBeTypeOf("number");
    expect(problems[0]?.column).toBeTypeOf("number");
    expect(problems[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it("reports a bad indentation with its exact position", () => {
    const problems = problemsOf("version: 1\nregions:\n  eastus2: {}\n   westus3: {}\n");
    expect(problems[0]?.path).toBe("(yaml)");
    expect(problems[0]).toMatchObject({ line: 4 });
  });

  it("rejects duplicate keys at the duplicate", () => {
    const problems = problemsOf("version: 1\nversion: 1\n");
    expect(problems[0]?.path).toBe("(yaml)");
    expect(problems[0]?.line).toBe(2);
    expect(problems[0]?.message.toLowerCase()).toContain("unique");
  });

  it("formats a located problem with its line and column", () => {
    expect(formatProblem({ path: "a.b", message: "bad", line: 3, column: 7 })).toBe("a.b: bad (line 3, column 7)");
    expect(formatProblem({ path: "a.b", message: "bad" })).toBe("a.b: bad");
  });
});

describe("files", () => {
  it("reports a missing file as a problem, not a throw", async () => {
    const result = await loadTopologyFile("/nonexistent/topology.yaml");
    expect(result).toMatchObject({
      ok: false,
      problems: [{ path: "(file)", message: "no such file: /nonexistent/topology.yaml" }],
    });
  });
});
