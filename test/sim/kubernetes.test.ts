/**
 * The simulated clusters' Kubernetes API: ARM `listClusterUserCredential` hands out a kubeconfig whose server is the
 * simulator's https listener under `/k8s/<rg>/<cluster>` with its CA, and `GET …/api/v1/nodes` lists the world's
 * nodes of that cluster: registered 30 s before Ready, Ready with GPUs from `readyAt`, Unknown in a zone outage,
 * unreachable in a region outage.
 */
import { request } from "node:https";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { NODE_REGISTERS_BEFORE_READY_MS } from "../../local/sim/kube-api";
import type { Simulator } from "../../local/sim/simulator";
import { CHAT_WUS3, startInline } from "./helpers";

const TOKEN = "cutover-simulator-token";
const PREFIX = `/k8s/${CHAT_WUS3.rg}/${CHAT_WUS3.cluster}`;

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

interface Node {
  metadata: { name: string; labels: Record<string, string>; creationTimestamp: string };
  status: { conditions: Array<{ type: string; status: string; reason: string }>; allocatable: Record<string, string> };
}
interface NodeList {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string };
  items: Node[];
}

/** A raw GET on the simulator's https listener; rejects when the connection is dropped. */
function get(
  s: Simulator,
  path: string,
  token: string | null = TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${s.armEndpoint}${path}`,
      { ca: s.caPem, headers: token === null ? {} : { authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function nodes(s: Simulator, selector: string): Promise<NodeList> {
  const r = await get(s, `${PREFIX}/api/v1/nodes?labelSelector=${encodeURIComponent(selector)}`);
  expect(r.status).toBe(200);
  return r.body as unknown as NodeList;
}

const readyOf = (n: Node): string | undefined => n.status.conditions.find((c) => c.type === "Ready")?.status;

describe("simulated Kubernetes API of the AKS clusters", () => {
  it("listClusterUserCredential returns a kubeconfig whose server is this listener under /k8s/<rg>/<cluster>", async () => {
    sim = await startInline({});
    const aks = new ContainerServiceClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    const result = await aks.managedClusters.listClusterUserCredentials(CHAT_WUS3.rg, CHAT_WUS3.cluster);
    expect(result.kubeconfigs).toHaveLength(1);
    expect(result.kubeconfigs?.[0]?.name).toBe("clusterUser");
    const kubeconfig = parse(Buffer.from(result.kubeconfigs![0]!.value!).toString("utf8")) as {
      clusters: Array<{ cluster: { server: string; "certificate-authority-data": string } }>;
      users: Array<{ user: { exec: { args: string[] } } }>;
    };
    const cluster = kubeconfig.clusters[0]!.cluster;
    expect(cluster.server).toBe(`${sim.armEndpoint}${PREFIX}`);
    expect(Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8")).toBe(sim.caPem);
    expect(kubeconfig.users[0]!.user.exec.args).toContain("6dae42f8-4368-4678-94ff-3960e28e3630");
    const post = sim.requestLog.find({ service: "arm", method: "POST", path: "/listClusterUserCredential" });
    expect(post).toHaveLength(1);
    expect(post[0]!.status).toBe(200);
  });

  it("answers an unknown cluster with ARM's 404 and an unknown server prefix with a Kubernetes 404", async () => {
    sim = await startInline({});
    const aks = new ContainerServiceClient(sim.credential, sim.subscriptionId, sim.clientOptions);
    const error = (await aks.managedClusters.listClusterUserCredentials(CHAT_WUS3.rg, "aks-nope").then(
      () => undefined,
      (e: unknown) => e,
    )) as { statusCode?: number; code?: string } | undefined;
    expect(error?.statusCode).toBe(404);
    expect(error?.code).toBe("ResourceNotFound");
    const r = await get(sim, `/k8s/${CHAT_WUS3.rg}/aks-nope/api/v1/nodes`);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
  });

  it("refuses a request without the token (or with another) with a 401 Status", async () => {
    sim = await startInline({});
    for (const token of [null, "someone-else"]) {
      const r = await get(sim, `${PREFIX}/api/v1/nodes`, token);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Unauthorized" });
    }
    const logged = sim.requestLog.find({ service: "kubernetes" });
    expect(logged.map((e) => e.status)).toEqual([401, 401]);
  });

  it("lists a pool's nodes NotReady (no GPUs) from 30 s before their readyAt, then Ready with GPUs, as time passes", async () => {
    sim = await startInline({});
    const selector = "kubernetes.azure.com/agentpool=a100z1";
    const before = await nodes(sim, selector);
    expect(before).toMatchObject({ kind: "NodeList", apiVersion: "v1" });
    expect(before.items).toHaveLength(2);
    expect(before.items.every((n) => readyOf(n) === "True" && n.status.allocatable["nvidia.com/gpu"] === "1")).toBe(
      true,
    );

    const put = sim.world.putAgentPool(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1", { count: 4 });
    if (!put.ok) throw new Error(put.error.message);
    const added = [...put.operation.adding].sort((a, b) => a.readyAt - b.readyAt);
    expect(added).toHaveLength(2);
    const first = added[0]!;
    const second = added[1]!;
    const start = sim.clock.now();

    // Just before the first new node registers: still the two old ones.
    await sim.advance(first.readyAt - NODE_REGISTERS_BEFORE_READY_MS - 1 - start, { stepMs: 60_000 });
    expect((await nodes(sim, selector)).items.map((n) => n.metadata.name)).not.toContain(first.name);

    // Registered, not Ready: listed with Ready=False and no nvidia.com/gpu allocatable.
    await sim.advance(1, { stepMs: 1 });
    const registering = (await nodes(sim, selector)).items.find((n) => n.metadata.name === first.name);
    expect(registering).toBeDefined();
    expect(readyOf(registering!)).toBe("False");
    expect(registering!.status.allocatable["nvidia.com/gpu"]).toBeUndefined();
    const registeredAt = Date.parse(registering!.metadata.creationTimestamp);
    expect(Math.abs(registeredAt - (first.readyAt - NODE_REGISTERS_BEFORE_READY_MS))).toBeLessThan(1);

    // At readyAt: Ready=True with the VM size's GPU count, while the pool's operation is still running.
    await sim.advance(first.readyAt - sim.clock.now(), { stepMs: 60_000 });
    const readyNow = (await nodes(sim, selector)).items.find((n) => n.metadata.name === first.name);
    expect(readyOf(readyNow!)).toBe("True");
    expect(readyNow!.status.allocatable["nvidia.com/gpu"]).toBe("1");
    expect(second.readyAt).toBeGreaterThan(first.readyAt);
    expect(sim.world.pool(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1")!.provisioningState).toBe("Scaling");
    const secondNow = (await nodes(sim, selector)).items.find((n) => n.metadata.name === second.name);
    expect(secondNow === undefined || readyOf(secondNow) === "False").toBe(true);

    await sim.advance(second.readyAt - sim.clock.now() + 1000, { stepMs: 60_000 });
    const after = await nodes(sim, selector);
    expect(after.items).toHaveLength(4);
    expect(after.items.filter((n) => readyOf(n) === "True")).toHaveLength(4);
  });

  it("filters by equality label selectors (=, ==, !=, comma = and) and refuses set-based ones with 400", async () => {
    sim = await startInline({});
    const a = await nodes(sim, "agentpool=a100z2,topology.kubernetes.io/zone=westus3-2");
    expect(a.items).toHaveLength(2);
    expect(
      a.items.every(
        (n) =>
          n.metadata.labels["kubernetes.azure.com/agentpool"] === "a100z2" &&
          n.metadata.labels["node.kubernetes.io/instance-type"] === "Standard_NC24ads_A100_v4",
      ),
    ).toBe(true);
    expect((await nodes(sim, "agentpool==a100z2,topology.kubernetes.io/zone=westus3-1")).items).toHaveLength(0);
    const notZ1 = await nodes(sim, "kubernetes.azure.com/agentpool!=a100z1");
    expect(notZ1.items.map((n) => n.metadata.labels["agentpool"])).toEqual(["a100z2", "a100z2"]);
    expect((await nodes(sim, "")).items).toHaveLength(4);
    const bad = await get(sim, `${PREFIX}/api/v1/nodes?labelSelector=${encodeURIComponent("agentpool in (a100z1)")}`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ kind: "Status", reason: "BadRequest" });
  });

  it("pages with limit and continue", async () => {
    sim = await startInline({});
    const first = await get(sim, `${PREFIX}/api/v1/nodes?limit=3`);
    const page1 = first.body as unknown as NodeList;
    expect(page1.items).toHaveLength(3);
    expect(page1.metadata.continue).toBeTypeOf("string");
    const second = await get(
      sim,
      `${PREFIX}/api/v1/nodes?limit=3&continue=${encodeURIComponent(page1.metadata.continue!)}`,
    );
    const page2 = second.body as unknown as NodeList;
    expect(page2.items).toHaveLength(1);
    expect(page2.metadata.continue).toBeUndefined();
    const names = [...page1.items, ...page2.items].map((n) => n.metadata.name);
    expect(new Set(names).size).toBe(4);
  });

  it("shows a downed zone's nodes as Ready=Unknown and drops connections while the region is down", async () => {
    sim = await startInline({});
    const zone = sim.faults.inject({ kind: "zone-down", region: "westus3", zone: "1" });
    const list = await nodes(sim, "");
    const byPool = (p: string) => list.items.filter((n) => n.metadata.labels["agentpool"] === p).map(readyOf);
    expect(byPool("a100z1")).toEqual(["Unknown", "Unknown"]);
    expect(byPool("a100z2")).toEqual(["True", "True"]);
    sim.faults.clear(zone);

    sim.faults.inject({ kind: "region-down", region: "westus3" });
    await expect(get(sim, `${PREFIX}/api/v1/nodes`)).rejects.toThrow();
    expect(sim.requestLog.find({ service: "kubernetes" }).at(-1)?.status).toBe(0);
  });
});
