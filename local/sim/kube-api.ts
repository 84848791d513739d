/**
 * The Kubernetes API servers of the simulated AKS clusters, one per cluster under the https listener's path prefix
 * `/k8s/<resourceGroup>/<cluster>` (the `server` of the kubeconfig that `listClusterUserCredential` returns). It
 * serves what Cutover reads, `GET …/api/v1/nodes` with `labelSelector` (equality terms), `limit` and `continue`,
 * as a v1 `NodeList` built from the world's pools at `clock.now()`.
 *
 * Modelling choices (docs/simulator.md):
 * - A node (`SimNode`) registers with the API server 30 s before its `readyAt` (listed, Ready=False, no
 *   `nvidia.com/gpu` allocatable yet: kubelet up, driver and device plugin not) and is Ready=True with
 *   `allocatable["nvidia.com/gpu"]` = the VM size's GPUs from `readyAt`. Nodes the world removes (scale-down,
 *   abort) disappear from the list when they leave `pool.nodes`.
 * - A zone outage leaves the nodes in `pool.nodes` (the world keeps them, unreachable): they stay listed with
 *   Ready=Unknown (`NodeStatusUnknown`, as the node lifecycle controller marks nodes whose kubelet stopped posting
 *   status; immediately here, after a ~40 s grace period in a real cluster).
 * - A region outage takes the (regional) control plane with it: the request's connection is dropped, as for an
 *   unreachable API server.
 * - Authentication: `Authorization: Bearer <the simulator token>`, else 401 `Status` (the real server validates an
 *   Entra token for the AKS server application; the simulator's credential hands out one fixed token).
 */
import type { SimNode, SimPool } from "./aks";
import type { World } from "./world";

/** Seconds between a node's registration with the API server and its Ready (kubelet up → driver, device plugin). */
export const NODE_REGISTERS_BEFORE_READY_MS = 30_000;

export interface KubeRequest {
  readonly method: string;
  readonly resourceGroup: string;
  readonly cluster: string;
  /** Path after the cluster prefix, e.g. `/api/v1/nodes`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
}

export type KubeResponse =
  | { readonly kind: "reply"; readonly status: number; readonly body: unknown }
  /** The API server cannot be reached: the listener drops the connection. */
  | { readonly kind: "unreachable" };

interface Requirement {
  readonly key: string;
  readonly op: "=" | "!=";
  readonly value: string;
}

const KEY = /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(?:[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** `key=value`, `key==value`, `key!=value` terms joined by commas; set-based and existence terms are refused. */
export function parseLabelSelector(text: string): Requirement[] | { error: string } {
  const out: Requirement[] = [];
  if (text.trim() === "") return out;
  for (const raw of text.split(",")) {
    const term = raw.trim();
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*([^!=\s]*)$/.exec(term);
    if (m === null)
      return {
        error: `unable to parse requirement: ${JSON.stringify(term)}: the simulator supports equality terms (key=value, key==value, key!=value) only`,
      };
    const key = m[1]!;
    const value = m[3]!;
    if (!KEY.test(key)) return { error: `unable to parse requirement: invalid label key ${JSON.stringify(key)}` };
    if (!VALUE.test(value))
      return { error: `unable to parse requirement: invalid label value ${JSON.stringify(value)}` };
    out.push({ key, op: m[2] === "!=" ? "!=" : "=", value });
  }
  return out;
}

function matches(labels: Readonly<Record<string, string>>, requirements: ReadonlyArray<Requirement>): boolean {
  return requirements.every((r) => (r.op === "=" ? labels[r.key] === r.value : labels[r.key] !== r.value));
}

function status(code: number, reason: string, message: string): KubeResponse {
  return {
    kind: "reply",
    status: code,
    body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code },
  };
}

export class KubeApi {
  /** Node uids, drawn once per node (a stream continues, so each node keeps the uid it got first). */
  private readonly uids = new Map<string, string>();

  constructor(
    private readonly world: World,
    private readonly token: string,
  ) {}

  handle(req: KubeRequest): KubeResponse {
    const cluster = this.world.cluster(req.resourceGroup, req.cluster);
    if (cluster === undefined)
      return status(
        404,
        "NotFound",
        `the simulator has no Kubernetes API server for cluster ${req.resourceGroup}/${req.cluster}`,
      );
    if (this.world.regionDown(cluster.region)) return { kind: "unreachable" };
    if (req.authorization !== `Bearer ${this.token}`) return status(401, "Unauthorized", "Unauthorized");
    const path = req.path.replace(/\/+$/, "");
    if (path !== "/api/v1/nodes")
      return status(404, "NotFound", `the server could not find the requested resource (${req.method} ${req.path})`);
    if (req.method !== "GET")
      return status(405, "MethodNotAllowed", `the simulator serves only GET on /api/v1/nodes, not ${req.method}`);
    const selector = parseLabelSelector(req.query.get("labelSelector") ?? "");
    if ("error" in selector) return status(400, "BadRequest", selector.error);
    const limitText = req.query.get("limit");
    const limit = limitText === null || limitText === "" ? undefined : Number(limitText);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
      return status(400, "BadRequest", `limit must be a non-negative integer, got ${JSON.stringify(limitText)}`);
    let offset = 0;
    const cont = req.query.get("continue");
    if (cont !== null && cont !== "") {
      const decoded = Number(Buffer.from(cont, "base64url").toString("utf8"));
      if (!Number.isInteger(decoded) || decoded < 0)
        return status(400, "BadRequest", "continue key is not valid: not one this server issued");
      offset = decoded;
    }
    const now = this.world.clock.now();
    const all = this.world
      .poolsOf(cluster.resourceGroup, cluster.name)
      .flatMap((pool) => pool.nodes.map((n) => this.node(pool, n, cluster.region, now)))
      .filter((n): n is NodeObject => n !== undefined && matches(n.metadata.labels, selector))
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
    const end = limit === undefined || limit === 0 ? all.length : Math.min(all.length, offset + limit);
    const items = all.slice(offset, end);
    const more = end < all.length;
    return {
      kind: "reply",
      status: 200,
      body: {
        kind: "NodeList",
        apiVersion: "v1",
        metadata: {
          resourceVersion: String(now),
          ...(more
            ? { continue: Buffer.from(String(end)).toString("base64url"), remainingItemCount: all.length - end }
            : {}),
        },
        items,
      },
    };
  }

  private uid(key: string): string {
    let uid = this.uids.get(key);
    if (uid === undefined) {
      uid = this.world.stream("k8s-node-uid").guid();
      this.uids.set(key, uid);
    }
    return uid;
  }

  private node(pool: SimPool, n: SimNode, region: string, now: number): NodeObject | undefined {
    const registeredAt = n.readyAt - NODE_REGISTERS_BEFORE_READY_MS;
    if (now < registeredAt) return undefined;
    const sku = this.world.topology.capabilityMatrix.skus[pool.vmSize];
    const gpus = sku?.gpus ?? 1;
    const reachable = this.world.nodesReachable(pool);
    const ready = now >= n.readyAt;
    const base: Record<string, string> = {
      cpu: `${sku?.vcpus ?? 8}`,
      pods: "30",
      "ephemeral-storage": "129886128Ki",
    };
    // The device plugin advertises the GPUs once the node is Ready (modelling choice: both at readyAt).
    const resources = ready ? { ...base, "nvidia.com/gpu": String(gpus) } : base;
    const iso = (t: number): string => new Date(t).toISOString();
    const condition = !reachable
      ? {
          type: "Ready",
          status: "Unknown",
          reason: "NodeStatusUnknown",
          message: "Kubelet stopped posting node status.",
          lastHeartbeatTime: iso(Math.min(now, n.readyAt)),
          lastTransitionTime: iso(now),
        }
      : ready
        ? {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "kubelet is posting ready status",
            lastHeartbeatTime: iso(now),
            lastTransitionTime: iso(n.readyAt),
          }
        : {
            type: "Ready",
            status: "False",
            reason: "KubeletNotReady",
            message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady",
            lastHeartbeatTime: iso(now),
            lastTransitionTime: iso(registeredAt),
          };
    const labels: Record<string, string> = {
      "kubernetes.azure.com/agentpool": pool.name,
      agentpool: pool.name,
      "kubernetes.azure.com/mode": pool.mode.toLowerCase(),
      "kubernetes.io/hostname": n.name,
      "kubernetes.io/os": "linux",
      "node.kubernetes.io/instance-type": pool.vmSize,
      "topology.kubernetes.io/region": region,
      // AKS labels zonal nodes `<region>-<zone>`, non-zonal ones with their fault domain ("0").
      "topology.kubernetes.io/zone": pool.zone === undefined ? "0" : `${region}-${pool.zone}`,
      accelerator: "nvidia",
    };
    return {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: n.name,
        uid: this.uid(`${pool.key}/${n.name}`),
        creationTimestamp: iso(registeredAt),
        labels,
      },
      spec: {
        providerID: `azure:///subscriptions/${pool.subscriptionId}/resourceGroups/mc_${pool.resourceGroup}_${pool.cluster}_${region}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-${pool.name}-31415926-vmss/virtualMachines/${n.name.slice(-6)}`,
      },
      status: {
        capacity: resources,
        allocatable: resources,
        conditions: [condition],
        nodeInfo: { kubeletVersion: "v1.33.2", osImage: "Ubuntu 22.04.5 LTS", architecture: "amd64" },
      },
    };
  }
}

interface NodeObject {
  readonly apiVersion: "v1";
  readonly kind: "Node";
  readonly metadata: {
    readonly name: string;
    readonly uid: string;
    readonly creationTimestamp: string;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly spec: { readonly providerID: string };
  readonly status: Record<string, unknown>;
}
