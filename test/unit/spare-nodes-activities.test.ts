/**
 * The failover activities with spare nodes: `getScaleStatus` is done once the needed nodes are Ready in the cluster's
 * Kubernetes API while AKS's operation still runs, and `verifyCutover` counts the Ready nodes of a pool still scaling.
 * Ports are in-memory fakes: the AKS operation and the node list are set by each test.
 */
import type { InvocationContext } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { createFailoverActivities } from "../../src/activities/failover";
import type {
  FailoverPorts,
  OperationObservation,
  PoolNodes,
  PoolObservation,
  PoolRef,
} from "../../src/activities/ports";
import { CutoverError } from "../../src/domain/errors";
import { ACTIVITIES } from "../../src/runbooks/contracts";

interface World {
  operation: OperationObservation["status"];
  pool: PoolObservation;
  nodes: PoolNodes | Error;
  nodeReads: PoolRef[];
}

function activities(world: World) {
  const unused = new Proxy(
    {},
    {
      get: (_t, name) => () => {
        throw new Error(`unexpected call ${String(name)}`);
      },
    },
  );
  const ports = {
    pools: {
      get: () => Promise.resolve(world.pool),
      operationStatus: () => Promise.resolve({ status: world.operation }),
      beginScale: () => Promise.reject(new Error("unexpected beginScale")),
      abortOperation: () => Promise.reject(new Error("unexpected abort")),
    },
    nodes: {
      poolNodes: (ref: PoolRef) => {
        world.nodeReads.push(ref);
        return world.nodes instanceof Error ? Promise.reject(world.nodes) : Promise.resolve(world.nodes);
      },
    },
    endpoints: {
      health: () => Promise.resolve({ status: 200, latencyMs: 300, modelVersion: "v1" }),
      warmup: () => Promise.reject(new Error("unexpected warmup")),
    },
    frontDoor: unused,
    gates: unused,
    models: unused,
    metrics: unused,
    reports: unused,
    now: () => Date.UTC(2030, 0, 1),
  } as unknown as FailoverPorts;
  const handlers = createFailoverActivities(ports);
  const context = {} as InvocationContext;
  return (name: string, input: unknown) => handlers[name]!(input, context);
}

const cluster = { resourceGroup: "rg-w3", name: "aks-w3" };
const target = {
  subscriptionId: "sub",
  region: "westus3",
  pool: "a100z1",
  zone: "1",
  vmSize: "Standard_NC24ads_A100_v4",
  cluster,
  from: 0,
  to: 4,
  operation: "op-1",
};

function world(partial: Partial<World>): World {
  return {
    operation: "InProgress",
    pool: { count: 4, provisioningState: "Scaling", vmSize: target.vmSize, zones: ["1"] },
    nodes: { registered: 4, ready: 3 },
    nodeReads: [],
    ...partial,
  };
}

describe("getScaleStatus with spare nodes", () => {
  it("is done once the needed nodes are Ready while AKS still provisions the spare", async () => {
    const w = world({});
    const call = activities(w);
    expect(await call(ACTIVITIES.getScaleStatus, { ...target, need: 3 })).toEqual({
      kind: "done",
      detail: "westus3/a100z1: 3 of 4 nodes Ready (3 needed; 1 spare still provisioning)",
    });
    expect(w.nodeReads).toEqual([{ subscriptionId: "sub", resourceGroup: "rg-w3", cluster: "aks-w3", pool: "a100z1" }]);
  });

  it("keeps waiting while fewer than the needed nodes are Ready", async () => {
    const call = activities(world({ nodes: { registered: 4, ready: 2 } }));
    expect(await call(ACTIVITIES.getScaleStatus, { ...target, need: 3 })).toMatchObject({
      kind: "pending",
      detail: "scaling westus3/a100z1 to 4 (1 spare): 2 of 3 needed nodes Ready",
    });
  });

  it("without a need (no spare) waits for AKS and never reads the nodes", async () => {
    const w = world({});
    const call = activities(w);
    expect(await call(ACTIVITIES.getScaleStatus, target)).toMatchObject({ kind: "pending" });
    expect(w.nodeReads).toEqual([]);
  });

  it("says why when the node list cannot be read, and waits for AKS's own completion", async () => {
    const w = world({ nodes: new CutoverError("UNAUTHORIZED", "403: nodes is forbidden") });
    const call = activities(w);
    const result = await call(ACTIVITIES.getScaleStatus, { ...target, need: 3 });
    expect(result).toMatchObject({ kind: "pending" });
    expect((result as { detail: string }).detail).toMatch(
      /in progress; node readiness unavailable \(.*403: nodes is forbidden\), waiting for AKS to finish$/,
    );
    w.operation = "Succeeded";
    expect(await call(ACTIVITIES.getScaleStatus, { ...target, need: 3 })).toEqual({
      kind: "done",
      detail: "westus3/a100z1 at 4 nodes",
    });
  });
});

describe("verifyCutover with a pool still scaling", () => {
  const input = {
    subscriptionId: "sub",
    model: { name: "m", version: "v1" },
    latencyMs: 1200,
    targets: [
      {
        region: "westus3",
        endpoint: { healthUrl: "https://w3.example/healthz", warmupUrl: "https://w3.example/warmup" },
        needGpus: 3,
        pools: [{ cluster, pool: "a100z1", gpusPerNode: 1 }],
      },
    ],
  };

  it("counts the Ready nodes of a pool that is still scaling", async () => {
    expect(await activities(world({}))(ACTIVITIES.verifyCutover, input)).toEqual({
      kind: "done",
      detail: "verified: westus3: 3 GPUs",
    });
    expect(await activities(world({ nodes: { registered: 4, ready: 2 } }))(ACTIVITIES.verifyCutover, input)).toEqual({
      kind: "pending",
      detail: "westus3: 2 GPUs ready, 3 needed",
    });
  });

  it("names the pool whose readiness it could not read", async () => {
    const result = await activities(world({ nodes: new Error("connect ECONNREFUSED") }))(
      ACTIVITIES.verifyCutover,
      input,
    );
    expect(result).toEqual({
      kind: "pending",
      detail: "westus3: 0 GPUs ready, 3 needed (a100z1 Scaling, node readiness unavailable: connect ECONNREFUSED)",
    });
  });
});
