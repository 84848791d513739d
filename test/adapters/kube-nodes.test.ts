/**
 * Cutover's Kubernetes node-readiness adapter (production code): the real ContainerServiceClient through
 * AzureClients for the kubeconfig, `node:https` with the kubeconfig's CA for the node list. Against the simulator:
 * counts while a scale-up is half done, the credential cache and its refresh after a 401, unknown cluster, region
 * outage. Against a tiny local https server playing ARM and one API server: the counting rules, paging, the path
 * prefix, and the mapping of 403/429/5xx/timeouts/TLS failures to CutoverErrors.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { AksPoolsAdapter } from "../../src/adapters/aks-pools";
import { AzureClients } from "../../src/adapters/azure-clients";
import { AKS_SERVER_SCOPE, KubeNodesAdapter, parseQuantity } from "../../src/adapters/kube-nodes";
import type { PoolRef } from "../../src/activities/ports";
import { CutoverError } from "../../src/domain/errors";
import { createCertificate, type SimCertificate } from "../../local/sim/certs";
import type { Simulator } from "../../local/sim/simulator";
import { CHAT_WUS3, startInline } from "../sim/helpers";
import { clientsFor } from "./sim-clients";

let sim: Simulator | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
});

async function failure(p: Promise<unknown>): Promise<CutoverError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(CutoverError);
  return e as CutoverError;
}

function wus3(s: Simulator, pool: string): PoolRef {
  return { subscriptionId: s.subscriptionId, resourceGroup: CHAT_WUS3.rg, cluster: CHAT_WUS3.cluster, pool };
}

describe("KubeNodesAdapter against the simulator", () => {
  it("counts registered and Ready nodes while a scale-up is half done (ARM still InProgress)", async () => {
    sim = await startInline({});
    const clients = clientsFor(sim);
    const pools = new AksPoolsAdapter(clients, 1);
    const nodes = new KubeNodesAdapter(clients);
    const r = wus3(sim, "a100z1");
    expect(await nodes.poolNodes(r)).toEqual({ registered: 2, ready: 2 });

    const begin = await pools.beginScale(r, 5);
    if (begin.kind !== "accepted") throw new Error(`scale not accepted: ${JSON.stringify(begin)}`);
    const adding = [...sim.world.pool(CHAT_WUS3.rg, CHAT_WUS3.cluster, "a100z1")!.operation!.adding].sort(
      (a, b) => a.readyAt - b.readyAt,
    );
    expect(adding).toHaveLength(3);
    // Just after the second new node is Ready: 4 of 5 Ready, the last still provisioning.
    await sim.advance(adding[1]!.readyAt - sim.clock.now() + 1, { stepMs: 10_000 });
    const expectedRegistered = 2 + adding.filter((n) => n.readyAt - 30_000 <= sim!.clock.now()).length;
    expect(await nodes.poolNodes(r)).toEqual({ registered: expectedRegistered, ready: 4 });
    expect(await pools.operationStatus(r, begin.operation)).toEqual({ status: "InProgress" });

    await sim.advance(adding[2]!.readyAt - sim.clock.now() + 1, { stepMs: 10_000 });
    expect(await nodes.poolNodes(r)).toEqual({ registered: 5, ready: 5 });
    // Another pool of the same cluster is untouched: the label selector is per pool.
    expect(await nodes.poolNodes(wus3(sim, "a100z2"))).toEqual({ registered: 2, ready: 2 });

    const lists = sim.requestLog.find({ service: "kubernetes" });
    expect(lists.every((e) => e.path === `/k8s/${CHAT_WUS3.rg}/${CHAT_WUS3.cluster}/api/v1/nodes`)).toBe(true);
    expect(lists[0]!.query["labelselector"]).toBe("kubernetes.azure.com/agentpool=a100z1");
    expect(lists[0]!.query["limit"]).toBe("500");
    // One cluster, one credential fetch: the server address and CA are cached.
    expect(sim.requestLog.find({ method: "POST", path: "/listClusterUserCredential" })).toHaveLength(1);
  });

  it("asks for a token for the AKS server application; after a 401 drops the cached kubeconfig and refetches", async () => {
    sim = await startInline({});
    const scopes: string[] = [];
    let aksTokens = 0;
    const real = sim.credential;
    const credential: TokenCredential = {
      async getToken(scope, options): Promise<AccessToken | null> {
        const list = Array.isArray(scope) ? scope : [scope];
        scopes.push(...list);
        const t = await real.getToken(scope, options);
        // The first token for the Kubernetes API is one the API server does not accept.
        if (list.includes(AKS_SERVER_SCOPE) && aksTokens++ === 0) return { ...t!, token: "expired-token" };
        return t;
      },
    };
    const clients = new AzureClients({
      credential,
      armEndpoint: sim.armEndpoint,
      caPem: sim.caPem,
      retryOptions: { maxRetries: 0 },
    });
    const nodes = new KubeNodesAdapter(clients);
    const r = wus3(sim, "a100z2");
    const e = await failure(nodes.poolNodes(r));
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.message).toContain("401");
    expect(e.message).toContain(`${CHAT_WUS3.rg}/${CHAT_WUS3.cluster}, pool a100z2`);
    expect(scopes).toContain(AKS_SERVER_SCOPE);
    const credentialPosts = () => sim!.requestLog.find({ method: "POST", path: "/listClusterUserCredential" }).length;
    expect(credentialPosts()).toBe(1);

    expect(await nodes.poolNodes(r)).toEqual({ registered: 2, ready: 2 });
    expect(credentialPosts()).toBe(2);
    expect(aksTokens).toBe(2);
    // Cached again: a third call neither refetches the kubeconfig nor asks for another token.
    expect(await nodes.poolNodes(r)).toEqual({ registered: 2, ready: 2 });
    expect(credentialPosts()).toBe(2);
    expect(aksTokens).toBe(2);
  });

  it("refetches the kubeconfig once the cache entry is older than cacheTtlMs (virtual time)", async () => {
    sim = await startInline({});
    const nodes = new KubeNodesAdapter(clientsFor(sim), { cacheTtlMs: 60_000, now: () => sim!.clock.now() });
    const r = wus3(sim, "a100z1");
    await nodes.poolNodes(r);
    await sim.advance(59_000);
    await nodes.poolNodes(r);
    expect(sim.requestLog.find({ method: "POST", path: "/listClusterUserCredential" })).toHaveLength(1);
    await sim.advance(2_000);
    await nodes.poolNodes(r);
    expect(sim.requestLog.find({ method: "POST", path: "/listClusterUserCredential" })).toHaveLength(2);
  });

  it("maps an unknown cluster to NOT_FOUND and a region outage (API server unreachable) to a retryable error", async () => {
    sim = await startInline({});
    const nodes = new KubeNodesAdapter(clientsFor(sim));
    const missing = await failure(nodes.poolNodes({ ...wus3(sim, "a100z1"), cluster: "aks-nope" }));
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.retryable).toBe(false);
    expect(missing.message).toContain("aks-nope");

    sim.faults.inject({ kind: "region-down", region: "westus3" });
    const down = await failure(nodes.poolNodes(wus3(sim, "a100z1")));
    expect(down.code).toBe("TRANSIENT");
    expect(down.retryable).toBe(true);
  });
});

// ------------------------------------------------------------------ a tiny ARM + API server

interface FakeReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

interface Fake {
  readonly origin: string;
  readonly cert: SimCertificate;
  /** Requests seen: `METHOD path?query`. */
  readonly seen: string[];
  /** The CA the next kubeconfig carries (default: the server's own). */
  kubeconfigCa: string;
  credential: () => FakeReply;
  nodes: (url: URL) => FakeReply | "hang";
}

const SUB = "00000000-0000-0000-0000-000000000001";
const FAKE_REF: PoolRef = { subscriptionId: SUB, resourceGroup: "rg-x", cluster: "aks-x", pool: "gpu1" };
const PREFIX = "/some/prefix";

function kubeconfigFor(origin: string, ca: string): string {
  return Buffer.from(
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "aks-x",
          cluster: { server: `${origin}${PREFIX}`, "certificate-authority-data": Buffer.from(ca).toString("base64") },
        },
      ],
      users: [{ name: "u", user: { token: "ignored" } }],
    }),
  ).toString("base64");
}

async function fake(): Promise<Fake> {
  const cert = await createCertificate();
  const state = {
    seen: [] as string[],
    kubeconfigCa: cert.certPem,
    credential: (): FakeReply => ({
      status: 200,
      body: { kubeconfigs: [{ name: "clusterUser", value: kubeconfigFor(origin, state.kubeconfigCa) }] },
    }),
    nodes: (): FakeReply | "hang" => ({ status: 200, body: { kind: "NodeList", metadata: {}, items: [] } }),
  } as Omit<Fake, "origin" | "cert">;
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://fake.invalid");
    state.seen.push(`${req.method ?? ""} ${url.pathname}${url.search}`);
    let reply: FakeReply | "hang";
    if (req.method === "POST" && url.pathname.endsWith("/listClusterUserCredential")) reply = state.credential();
    else if (req.method === "GET" && url.pathname === `${PREFIX}/api/v1/nodes`) reply = state.nodes(url);
    else reply = { status: 404, body: { error: { code: "NotFound", message: "fake: no such route" } } };
    if (reply === "hang") return; // never answers
    res.writeHead(reply.status, { "content-type": "application/json", ...(reply.headers ?? {}) });
    res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, { origin, cert });
}

function adapterFor(f: Fake, options: ConstructorParameters<typeof KubeNodesAdapter>[1] = {}): KubeNodesAdapter {
  const credential: TokenCredential = {
    getToken: () => Promise.resolve({ token: "t", expiresOnTimestamp: Date.now() + 3600_000 }),
  };
  const clients = new AzureClients({
    credential,
    armEndpoint: f.origin,
    caPem: f.cert.certPem,
    retryOptions: { maxRetries: 0 },
  });
  return new KubeNodesAdapter(clients, options);
}

function node(name: string, o: { ready?: string; gpus?: string; unschedulable?: boolean } = {}): unknown {
  return {
    metadata: { name },
    spec: o.unschedulable === undefined ? {} : { unschedulable: o.unschedulable },
    status: {
      conditions: [
        { type: "MemoryPressure", status: "False" },
        { type: "Ready", status: o.ready ?? "True" },
      ],
      allocatable: { cpu: "24", ...(o.gpus === undefined ? {} : { "nvidia.com/gpu": o.gpus }) },
    },
  };
}

describe("KubeNodesAdapter against a tiny local ARM + API server", () => {
  it("counts Ready, schedulable nodes with ≥ 1 nvidia.com/gpu, across pages, under the server's path prefix", async () => {
    const f = await fake();
    const all = [
      node("ok-1", { gpus: "1" }),
      node("ok-4", { gpus: "4" }),
      node("cordoned", { gpus: "1", unschedulable: true }),
      node("no-gpu-yet"),
      node("zero-gpu", { gpus: "0" }),
      node("not-ready", { ready: "False", gpus: "1" }),
      node("unknown", { ready: "Unknown", gpus: "1" }),
    ];
    f.nodes = (url) => {
      const offset = Number(url.searchParams.get("continue") ?? "0");
      const limit = Number(url.searchParams.get("limit"));
      const end = offset + limit;
      return {
        status: 200,
        body: {
          kind: "NodeList",
          apiVersion: "v1",
          metadata: end < all.length ? { continue: String(end) } : { continue: "" },
          items: all.slice(offset, end),
        },
      };
    };
    const nodes = adapterFor(f, { pageSize: 3 });
    expect(await nodes.poolNodes(FAKE_REF)).toEqual({ registered: 7, ready: 2 });
    const gets = f.seen.filter((s) => s.startsWith("GET "));
    expect(gets).toEqual([
      `GET ${PREFIX}/api/v1/nodes?labelSelector=kubernetes.azure.com%2Fagentpool%3Dgpu1&limit=3`,
      `GET ${PREFIX}/api/v1/nodes?labelSelector=kubernetes.azure.com%2Fagentpool%3Dgpu1&limit=3&continue=3`,
      `GET ${PREFIX}/api/v1/nodes?labelSelector=kubernetes.azure.com%2Fagentpool%3Dgpu1&limit=3&continue=6`,
    ]);
  });

  it("maps 403 from the API server to UNAUTHORIZED naming the nodes/read data action, cluster and pool", async () => {
    const f = await fake();
    f.nodes = () => ({
      status: 403,
      body: {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        reason: "Forbidden",
        code: 403,
        message:
          'nodes is forbidden: User "abc" cannot list resource "nodes" in API group "" at the cluster scope: User does not have access to the resource in Azure. Update role assignment to allow access.',
      },
    });
    const e = await failure(adapterFor(f).poolNodes(FAKE_REF));
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.retryable).toBe(false);
    expect(e.message).toContain("Microsoft.ContainerService/managedClusters/nodes/read");
    expect(e.message).toContain("rg-x/aks-x, pool gpu1");
    expect(e.message).toContain("cannot list resource");
  });

  it("maps 403 from ARM's listClusterUserCredential to UNAUTHORIZED naming the missing action", async () => {
    const f = await fake();
    f.credential = () => ({
      status: 403,
      body: {
        error: {
          code: "AuthorizationFailed",
          message:
            "The client 'x' with object id 'y' does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action' over scope '/subscriptions/…'",
        },
      },
    });
    const e = await failure(adapterFor(f).poolNodes(FAKE_REF));
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.message).toContain("lacks Microsoft.ContainerService/managedClusters/listClusterUserCredential/action");
    expect(e.message).toContain("rg-x/aks-x, pool gpu1");
    expect(f.seen.some((s) => s.startsWith("GET "))).toBe(false);
  });

  it("maps 503 to TRANSIENT, 429 to THROTTLED with Retry-After, and no answer to TIMEOUT (all retryable)", async () => {
    const f = await fake();
    const nodes = adapterFor(f, { timeoutMs: 200 });
    f.nodes = () => ({ status: 503, body: { kind: "Status", reason: "ServiceUnavailable", message: "etcd busy" } });
    expect(await failure(nodes.poolNodes(FAKE_REF))).toMatchObject({ code: "TRANSIENT", retryable: true });
    f.nodes = () => ({
      status: 429,
      headers: { "retry-after": "7" },
      body: { kind: "Status", reason: "TooManyRequests" },
    });
    expect(await failure(nodes.poolNodes(FAKE_REF))).toMatchObject({
      code: "THROTTLED",
      retryable: true,
      retryAfterSeconds: 7,
    });
    f.nodes = () => "hang";
    const timeout = await failure(nodes.poolNodes(FAKE_REF));
    expect(timeout).toMatchObject({ code: "TIMEOUT", retryable: true });
    expect(timeout.message).toContain("200 ms");
    // None of these drop the cached kubeconfig: one credential fetch for all three.
    expect(f.seen.filter((s) => s.startsWith("POST "))).toHaveLength(1);
  });

  it("drops the cached server and CA after a TLS failure, so the next call refetches and succeeds", async () => {
    const f = await fake();
    const other = await createCertificate();
    f.kubeconfigCa = other.certPem; // a kubeconfig whose CA did not sign the server's certificate (e.g. rotated)
    f.nodes = () => ({ status: 200, body: { kind: "NodeList", metadata: {}, items: [node("a", { gpus: "2" })] } });
    const nodes = adapterFor(f);
    const e = await failure(nodes.poolNodes(FAKE_REF));
    expect(e.code).toBe("TRANSIENT");
    expect(e.message).toContain("refetches the kubeconfig");
    f.kubeconfigCa = f.cert.certPem;
    expect(await nodes.poolNodes(FAKE_REF)).toEqual({ registered: 1, ready: 1 });
    expect(f.seen.filter((s) => s.startsWith("POST "))).toHaveLength(2);
  });

  it("refuses a 200 that is not a NodeList instead of counting nothing", async () => {
    const f = await fake();
    f.nodes = () => ({ status: 200, body: { kind: "PodList", items: [] } });
    const e = await failure(adapterFor(f).poolNodes(FAKE_REF));
    expect(e.code).toBe("INTERNAL");
    expect(e.message).toContain("not a NodeList");
  });
});

describe("parseQuantity", () => {
  it("reads Kubernetes quantities and refuses what is not one", () => {
    expect(parseQuantity("4")).toBe(4);
    expect(parseQuantity("2k")).toBe(2000);
    expect(parseQuantity("1Ki")).toBe(1024);
    expect(parseQuantity("500m")).toBe(0.5);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity("four")).toBeUndefined();
    expect(parseQuantity("")).toBeUndefined();
  });
});
