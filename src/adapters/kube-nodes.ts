/**
 * Per-pool node readiness from the cluster's own Kubernetes API server: ARM cannot give it (the agent-pool PUT stays
 * `Scaling` until every node is Ready, and ARM has no per-pool Ready count), the API server can.
 *
 * How: ARM `managedClusters.listClusterUserCredentials` gives a kubeconfig; from its first cluster we take only the
 * API server address (`server`, path prefix kept) and its CA (`certificate-authority-data`), cached per cluster for
 * `cacheTtlMs` and dropped on a TLS failure, a 401 or an unknown host so the next call refetches them. The caller's
 * own Entra identity authenticates: a token for the AKS Microsoft Entra server application
 * `6dae42f8-4368-4678-94ff-3960e28e3630` (the same audience kubelogin asks for; see
 * https://learn.microsoft.com/azure/aks/kubelogin-authentication and
 * https://learn.microsoft.com/azure/aks/enable-authentication-microsoft-entra-id). The kubeconfig's user section
 * (exec plugin or client certificate) is ignored. Then one read-only call, followed over `metadata.continue`:
 * `GET <server>/api/v1/nodes?labelSelector=kubernetes.azure.com/agentpool=<pool>&limit=500`.
 *
 * Why hand-written and not `@kubernetes/client-node`: for one read-only list call it would pull a large tree, and its
 * current major cannot run here. `npm view @kubernetes/client-node@2.0.1` (checked 2026-11) declares no `engines`,
 * but depends on `undici ^8.7.0` (whose releases declare `node >=22.19.0`; we run on Node 20), plus `ws`,
 * `isomorphic-ws`, `openid-client ^6`, `js-yaml`, `jsonpath-plus`, `socks`, `hpagent`, `tar-fs` and `form-data`.
 * `node:https` with the kubeconfig's CA, the repo's `yaml` and `zod` do the job in one small file.
 *
 * Permissions (infra/modules/aks-pool-operator): action
 * `Microsoft.ContainerService/managedClusters/listClusterUserCredential/action`, and on clusters that use Azure RBAC
 * for Kubernetes authorization the data action `Microsoft.ContainerService/managedClusters/nodes/read` (clusters that
 * use Kubernetes RBAC need a ClusterRoleBinding granting `list` on `nodes` to the identity instead).
 */
import { request as httpsRequest } from "node:https";
import type { AccessToken } from "@azure/core-auth";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { ClusterNodesPort, PoolNodes, PoolRef } from "../activities/ports";
import { CutoverError, type CutoverErrorCode } from "../domain/errors";
import type { AzureClients } from "./azure-clients";
import { serviceError, toCutoverError } from "./rest-errors";

/** Scope of the AKS Microsoft Entra server application (kubelogin's `--server-id`); fixed for every AKS cluster. */
export const AKS_SERVER_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";

/** The label AKS puts on every node of an agent pool. */
export const AGENT_POOL_LABEL = "kubernetes.azure.com/agentpool";

const GPU_RESOURCE = "nvidia.com/gpu";
const LIST_CREDENTIAL_ACTION = "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action";
const NODES_READ_DATA_ACTION = "Microsoft.ContainerService/managedClusters/nodes/read";

export interface KubeNodesOptions {
  /** Deadline of each Kubernetes API request (ms), connection included. Default 5000. */
  readonly timeoutMs?: number;
  /** How long a cluster's server address and CA are reused (ms). Default 30 minutes. */
  readonly cacheTtlMs?: number;
  /** Page size (`limit`) of the node list; pages are followed over `metadata.continue`. Default 500. */
  readonly pageSize?: number;
  /** Clock of the cache (epoch ms). Default the clients' `now`, else `Date.now`. */
  readonly now?: () => number;
}

/** The part of a kubeconfig we read (https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/). */
const kubeconfigSchema = z.object({
  clusters: z
    .array(
      z.object({
        name: z.string().optional(),
        cluster: z.object({
          server: z.url(),
          "certificate-authority-data": z.string().min(1).optional(),
        }),
      }),
    )
    .min(1),
});

/** The part of a v1 Node we read. */
const nodeSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ unschedulable: z.boolean().optional() }).optional(),
  status: z
    .object({
      conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
      allocatable: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});
type KubeNode = z.output<typeof nodeSchema>;

const nodeListSchema = z.object({
  kind: z.literal("NodeList"),
  metadata: z.object({ continue: z.string().optional() }).optional(),
  items: z.array(nodeSchema),
});

/** The `Status` object the API server answers errors with (only the fields we repeat). */
const statusSchema = z.object({
  kind: z.literal("Status"),
  message: z.string().optional(),
  reason: z.string().optional(),
});

interface ClusterAccess {
  readonly server: URL;
  /** PEM; undefined when the kubeconfig carries no CA (then the system trust store applies, as with kubectl). */
  readonly caPem: string | undefined;
}

interface CacheEntry {
  readonly fetchedAt: number;
  readonly access: Promise<ClusterAccess>;
}

const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A Kubernetes resource quantity as a number (`"4"`, `"8k"`, `"500m"`, `"1e3"`), or undefined when it is not one
 * (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/).
 */
export function parseQuantity(text: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(text.trim());
  if (m === null) return undefined;
  const base = Number(m[1]);
  if (m[2] !== undefined) return base * 10 ** Number(m[2].slice(1));
  return base * (SUFFIX[m[3] ?? ""] ?? 1);
}

/**
 * Whether a node is capacity Cutover can count: condition Ready=True, schedulable, and at least one
 * `nvidia.com/gpu` allocatable (the device plugin has advertised the GPUs). A quantity that does not parse counts
 * as no GPU: the node is not counted rather than guessed at.
 */
export function isReadyGpuNode(node: KubeNode): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  if (!ready || node.spec?.unschedulable === true) return false;
  const gpus = node.status?.allocatable?.[GPU_RESOURCE];
  const n = gpus === undefined ? undefined : parseQuantity(gpus);
  return n !== undefined && n >= 1;
}

interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

class KubeRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** TLS verification failures (node's OpenSSL codes): the cached CA or server is stale, or the server is not AKS. */
function isTlsFailure(code: string | undefined): boolean {
  return code !== undefined && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_|ERR_TLS/i.test(code);
}

export class KubeNodesAdapter implements ClusterNodesPort {
  private readonly cache = new Map<string, CacheEntry>();
  private token: AccessToken | undefined;
  private readonly timeoutMs: number;
  private readonly cacheTtlMs: number;
  private readonly pageSize: number;
  private readonly now: () => number;

  constructor(
    private readonly clients: AzureClients,
    options: KubeNodesOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.cacheTtlMs = options.cacheTtlMs ?? 30 * 60_000;
    this.pageSize = options.pageSize ?? 500;
    this.now = options.now ?? clients.options.now ?? Date.now;
    if (!(this.timeoutMs > 0) || !(this.cacheTtlMs >= 0) || !Number.isInteger(this.pageSize) || this.pageSize < 1)
      throw new CutoverError(
        "INVALID_CONFIG",
        `KubeNodesAdapter: timeoutMs must be > 0 (got ${this.timeoutMs}), cacheTtlMs >= 0 (got ${this.cacheTtlMs}), pageSize a positive integer (got ${this.pageSize})`,
      );
  }

  async poolNodes(ref: PoolRef): Promise<PoolNodes> {
    const where = `cluster ${ref.resourceGroup}/${ref.cluster}, pool ${ref.pool}`;
    const key = `${ref.subscriptionId}/${ref.resourceGroup}/${ref.cluster}`.toLowerCase();
    const access = await this.access(ref, key, where);
    const token = await this.bearer(where);
    let registered = 0;
    let ready = 0;
    let next: string | undefined;
    do {
      const page = await this.listPage(access, token, ref, next, key, where);
      for (const node of page.items) {
        registered++;
        if (isReadyGpuNode(node)) ready++;
      }
      next = page.metadata?.continue === "" ? undefined : page.metadata?.continue;
    } while (next !== undefined);
    return { registered, ready };
  }

  /** Forgets a cluster's cached server address and CA (the next call refetches them). */
  forget(ref: Pick<PoolRef, "subscriptionId" | "resourceGroup" | "cluster">): void {
    this.cache.delete(`${ref.subscriptionId}/${ref.resourceGroup}/${ref.cluster}`.toLowerCase());
  }

  private access(ref: PoolRef, key: string, where: string): Promise<ClusterAccess> {
    const hit = this.cache.get(key);
    if (hit !== undefined && this.now() - hit.fetchedAt < this.cacheTtlMs) return hit.access;
    const access = this.fetchAccess(ref, where);
    const entry: CacheEntry = { fetchedAt: this.now(), access };
    this.cache.set(key, entry);
    access.catch(() => {
      if (this.cache.get(key) === entry) this.cache.delete(key);
    });
    return access;
  }

  private async fetchAccess(ref: PoolRef, where: string): Promise<ClusterAccess> {
    let value: Uint8Array | undefined;
    try {
      const result = await this.clients
        .aks(ref.subscriptionId)
        .managedClusters.listClusterUserCredentials(ref.resourceGroup, ref.cluster);
      value = result.kubeconfigs?.[0]?.value;
    } catch (error) {
      const info = serviceError(error);
      if (info.status === 403)
        throw new CutoverError(
          "UNAUTHORIZED",
          `list user credentials of ${where}: 403 ${info.code ?? "Forbidden"}: the identity lacks ${LIST_CREDENTIAL_ACTION} on the cluster: ${info.message}`,
          { cause: error },
        );
      if (info.status === 404)
        throw new CutoverError(
          "NOT_FOUND",
          `list user credentials of ${where}: the managed cluster was not found (404 ${info.code ?? ""}): ${info.message}`,
          { cause: error },
        );
      throw toCutoverError(error, `list user credentials of ${where}`);
    }
    if (value === undefined || value.length === 0)
      throw new CutoverError("INTERNAL", `list user credentials of ${where}: ARM returned no kubeconfig`);
    let parsed: unknown;
    try {
      parsed = parseYaml(Buffer.from(value).toString("utf8"));
    } catch (error) {
      throw new CutoverError("INTERNAL", `kubeconfig of ${where} is not YAML`, { cause: error });
    }
    const kubeconfig = kubeconfigSchema.safeParse(parsed);
    if (!kubeconfig.success)
      throw new CutoverError(
        "INTERNAL",
        `kubeconfig of ${where} has no usable cluster: ${kubeconfig.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    const cluster = kubeconfig.data.clusters[0]!.cluster;
    const server = new URL(cluster.server);
    if (server.protocol !== "https:")
      throw new CutoverError("INTERNAL", `kubeconfig of ${where}: server ${server.origin} is not https`);
    const ca = cluster["certificate-authority-data"];
    return { server, caPem: ca === undefined ? undefined : Buffer.from(ca, "base64").toString("utf8") };
  }

  private async bearer(where: string): Promise<string> {
    // Reuse the token until five minutes before it expires (real time: Entra's clock, not the simulation's).
    if (this.token !== undefined && this.token.expiresOnTimestamp - 300_000 > Date.now()) return this.token.token;
    let token: AccessToken | null;
    try {
      token = await this.clients.options.credential.getToken(AKS_SERVER_SCOPE);
    } catch (error) {
      throw new CutoverError(
        "UNAUTHORIZED",
        `get a Microsoft Entra token for the AKS server application (${AKS_SERVER_SCOPE}) to read ${where}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (token === null)
      throw new CutoverError(
        "UNAUTHORIZED",
        `the credential returned no token for the AKS server application (${AKS_SERVER_SCOPE}) to read ${where}`,
      );
    this.token = token;
    return token.token;
  }

  private async listPage(
    access: ClusterAccess,
    token: string,
    ref: PoolRef,
    next: string | undefined,
    key: string,
    where: string,
  ): Promise<z.output<typeof nodeListSchema>> {
    const url = new URL(access.server.href);
    const prefix = url.pathname.replace(/\/+$/, "");
    url.pathname = `${prefix}/api/v1/nodes`;
    url.search = "";
    url.searchParams.set("labelSelector", `${AGENT_POOL_LABEL}=${ref.pool}`);
    url.searchParams.set("limit", String(this.pageSize));
    if (next !== undefined) url.searchParams.set("continue", next);
    const what = `list nodes of ${where} (${access.server.origin})`;
    let answer: HttpAnswer;
    try {
      answer = await this.get(url, access.caPem, token);
    } catch (error) {
      const code = error instanceof KubeRequestError ? error.code : undefined;
      const message = error instanceof Error ? error.message : String(error);
      if (code === "TIMEOUT")
        throw new CutoverError("TIMEOUT", `${what}: no answer within ${this.timeoutMs} ms`, { cause: error });
      if (isTlsFailure(code) || code === "ENOTFOUND") {
        this.cache.delete(key);
        throw new CutoverError(
          "TRANSIENT",
          `${what}: ${code}: ${message} (cached server address and CA dropped; the next call refetches the kubeconfig)`,
          { cause: error },
        );
      }
      throw new CutoverError("TRANSIENT", `${what}: API server unreachable: ${code ?? ""} ${message}`.trim(), {
        cause: error,
      });
    }
    if (answer.status === 200) {
      let json: unknown;
      try {
        json = JSON.parse(answer.body);
      } catch (error) {
        throw new CutoverError("TRANSIENT", `${what}: 200 with a body that is not JSON`, { cause: error });
      }
      const list = nodeListSchema.safeParse(json);
      if (!list.success)
        throw new CutoverError(
          "INTERNAL",
          `${what}: not a NodeList: ${list.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      return list.data;
    }
    throw this.statusError(answer, what, key);
  }

  private statusError(answer: HttpAnswer, what: string, key: string): CutoverError {
    let detail = "";
    try {
      const s = statusSchema.safeParse(JSON.parse(answer.body));
      if (s.success) detail = [s.data.reason, s.data.message].filter((x) => x !== undefined).join(": ");
    } catch {
      // Not a Status object (e.g. a proxy's HTML page): the HTTP status alone says enough.
    }
    const tail = detail === "" ? "" : `: ${detail}`;
    const status = answer.status;
    if (status === 401) {
      this.cache.delete(key);
      this.token = undefined;
      return new CutoverError(
        "UNAUTHORIZED",
        `${what}: 401 Unauthorized${tail}. The API server refused the Microsoft Entra token for ${AKS_SERVER_SCOPE}: the cluster needs Microsoft Entra ID integration (cached server address and token dropped; the next call refetches them)`,
      );
    }
    if (status === 403)
      return new CutoverError(
        "UNAUTHORIZED",
        `${what}: 403 Forbidden${tail}. The identity may not list nodes: grant the data action ${NODES_READ_DATA_ACTION} on the cluster (Azure RBAC for Kubernetes authorization), or a ClusterRoleBinding with list on nodes (Kubernetes RBAC)`,
      );
    const header = answer.headers["retry-after"];
    const retryAfter = Number(Array.isArray(header) ? header[0] : header);
    const opts = Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {};
    const code: CutoverErrorCode =
      status === 404
        ? "NOT_FOUND"
        : status === 429
          ? "THROTTLED"
          : status === 408 || status === 504
            ? "TIMEOUT"
            : status >= 500 || status === 410
              ? "TRANSIENT"
              : "INVALID_INPUT";
    return new CutoverError(code, `${what}: HTTP ${status}${tail}`, {
      ...opts,
      ...(code === "INVALID_INPUT" ? { retryable: false } : {}),
    });
  }

  private get(url: URL, caPem: string | undefined, token: string): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const req = httpsRequest(
        url,
        {
          method: "GET",
          headers: { authorization: `Bearer ${token}`, accept: "application/json" },
          ...(caPem === undefined ? {} : { ca: caPem }),
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (e: Error & { code?: string }) =>
            finish(() => reject(new KubeRequestError(e.message, e.code, { cause: e }))),
          );
          res.on("end", () =>
            finish(() =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString("utf8"),
              }),
            ),
          );
        },
      );
      const timer = setTimeout(() => {
        finish(() => reject(new KubeRequestError(`no answer within ${this.timeoutMs} ms`, "TIMEOUT")));
        req.destroy();
      }, this.timeoutMs);
      req.on("error", (e: Error & { code?: string }) =>
        finish(() => reject(new KubeRequestError(e.message, e.code, { cause: e }))),
      );
      req.end();
    });
  }
}
