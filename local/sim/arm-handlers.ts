/**
 * The simulator's ARM, Azure Monitor metrics and Log Analytics protocol: the URLs, api-versions, bodies, LRO
 * headers and error shapes the real SDK clients send and expect (local-testing-feasibility §5.3–5.5). Resource
 * state comes from the world, computed at `clock.now()`.
 */
import type { IncomingMessage } from "node:http";
import { stringify as toYaml } from "yaml";
import type { ArmErrorBody, PoolOperation, SimPool } from "./aks";
import { poolProperties } from "./aks";
import type { FrontDoorModel, OriginConfig, ProbeConfig } from "./front-door";
import { runQuery, KqlError } from "./log-query";
import { parseMetricFilter, type Aggregation } from "./metric-store";
import { isoDurationSeconds } from "./scenario";
import type { World } from "./world";

export interface ArmRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingMessage["headers"];
  readonly body: unknown;
  /** Origin used in absolute URLs (LRO headers). */
  readonly origin: string;
}

/** `If-Match` / `If-None-Match` of a request (the first value when a header repeats). */
function conditionsOf(req: ArmRequest): { ifMatch?: string; ifNoneMatch?: string } {
  const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
  const ifMatch = one(req.headers["if-match"]);
  const ifNoneMatch = one(req.headers["if-none-match"]);
  return { ...(ifMatch === undefined ? {} : { ifMatch }), ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }) };
}

export interface ArmResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A router for more resource providers (e.g. Azure ML jobs): answers the requests it knows, undefined otherwise. */
export type ArmExtension = (req: ArmRequest) => ArmResponse | undefined;

export interface ArmHandlerOptions {
  /** Consulted in order before the built-in routes. */
  readonly extensions?: ReadonlyArray<ArmExtension>;
  /** When set, LRO status responses carry `Retry-After` (seconds); off by default so tests poll fast. */
  readonly lroRetryAfterSeconds?: number;
  /**
   * PEM of the listener's CA: the `certificate-authority-data` of the kubeconfigs `listClusterUserCredential` returns
   * (their `server` is this listener, `/k8s/<rg>/<cluster>`). Without it that route answers 501.
   */
  readonly kubeCaPem?: string;
}

interface FrontDoorOp {
  readonly fd: FrontDoorModel;
  readonly armCompletesAt: number;
}

const err = (status: number, error: ArmErrorBody, headers?: Record<string, string>): ArmResponse => ({
  status,
  body: { error },
  ...(headers === undefined ? {} : { headers }),
});

const notFound = (type: string, name: string, rg: string): ArmResponse =>
  err(404, {
    code: "ResourceNotFound",
    message: `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  });

export class ArmHandlers {
  private readonly fdOps = new Map<string, FrontDoorOp>();
  private fdOpSeq = 0;

  constructor(
    private readonly world: World,
    private readonly options: ArmHandlerOptions = {},
  ) {}

  private get now(): number {
    return this.world.clock.now();
  }

  handle(req: ArmRequest): ArmResponse {
    const p = req.path;
    const s = "/subscriptions/([^/]+)";
    const rg = "/resourceGroups/([^/]+)";
    let m: RegExpExecArray | null;
    const match = (re: string): RegExpExecArray | null => new RegExp(`^${re}/?$`, "i").exec(p);

    if ((m = match(`${s}/metrics:getBatch`))) return this.metricsBatch(req, m[1]!);
    if ((m = match(`(?:/v1)?/workspaces/([^/]+)/query`))) return this.logsQuery(req, m[1]!);

    for (const ext of this.options.extensions ?? []) {
      const r = ext(req);
      if (r !== undefined) return r;
    }
    if (req.query["api-version"] === undefined)
      return err(400, {
        code: "MissingApiVersionParameter",
        message: "The api-version query parameter (?api-version=) is required for all requests.",
      });
    const sub = /^\/subscriptions\/([^/]+)/i.exec(p)?.[1];
    if (sub !== undefined && sub.toLowerCase() !== this.world.subscriptionId.toLowerCase())
      return err(404, { code: "SubscriptionNotFound", message: `The subscription '${sub}' could not be found.` });

    // ---- AKS
    const mc = `${s}${rg}/providers/Microsoft.ContainerService/managedClusters/([^/]+)`;
    if ((m = match(`${s}/providers/Microsoft.ContainerService/locations/([^/]+)/operations/([^/]+)`)))
      return this.aksOperationStatus(m[3]!);
    if ((m = match(`${s}/providers/Microsoft.ContainerService/locations/([^/]+)/operationresults/([^/]+)`)))
      return this.aksOperationResult(req, m[3]!);
    if ((m = match(`${mc}/agentPools/([^/]+)/abort`))) {
      if (req.method !== "POST") return this.methodNotAllowed(req);
      return this.aksAbort(req, m[2]!, m[3]!, m[4]!);
    }
    if ((m = match(`${mc}/agentPools/([^/]+)`))) {
      if (req.method === "GET") return this.aksGetPool(m[2]!, m[3]!, m[4]!);
      if (req.method === "PUT") return this.aksPutPool(req, m[2]!, m[3]!, m[4]!);
      return this.methodNotAllowed(req);
    }
    if ((m = match(`${mc}/listClusterUserCredential`))) {
      if (req.method !== "POST") return this.methodNotAllowed(req);
      return this.aksUserCredential(req, m[2]!, m[3]!);
    }
    if ((m = match(`${mc}/agentPools`))) {
      if (req.method !== "GET") return this.methodNotAllowed(req);
      const cluster = this.world.cluster(m[2]!, m[3]!);
      if (cluster === undefined) return notFound("Microsoft.ContainerService/managedClusters", m[3]!, m[2]!);
      return { status: 200, body: { value: this.world.poolsOf(m[2]!, m[3]!).map((x) => this.poolResource(x)) } };
    }
    if ((m = match(mc))) {
      if (req.method !== "GET") return this.methodNotAllowed(req);
      return this.aksGetCluster(m[2]!, m[3]!);
    }

    // ---- Front Door Standard/Premium (Microsoft.Cdn)
    const prof = `${s}${rg}/providers/Microsoft.Cdn/profiles/([^/]+)`;
    if ((m = match(`${s}${rg}/providers/Microsoft.Cdn/operationresults/([^/]+)`))) return this.fdOperationStatus(m[3]!);
    if ((m = match(`${prof}/originGroups/([^/]+)/origins/([^/]+)`)))
      return this.afdOrigin(req, m[2]!, m[3]!, m[4]!, m[5]!);
    if ((m = match(`${prof}/originGroups/([^/]+)/origins`))) {
      const fd = this.afd(m[2]!, m[3]!, m[4]!);
      if (fd === undefined || req.method !== "GET")
        return fd === undefined
          ? notFound("Microsoft.Cdn/profiles/originGroups", m[4]!, m[2]!)
          : this.methodNotAllowed(req);
      return {
        status: 200,
        body: { value: [...fd.desired().origins.values()].map((o) => this.originResource(fd, o)) },
      };
    }
    if ((m = match(`${prof}/originGroups/([^/]+)`))) return this.afdOriginGroup(req, m[2]!, m[3]!, m[4]!);
    if ((m = match(`${prof}/originGroups`))) {
      const fd = this.world.findFrontDoor("standard", m[2]!, m[3]!);
      if (fd === undefined) return notFound("Microsoft.Cdn/profiles", m[3]!, m[2]!);
      return { status: 200, body: { value: [this.originGroupResource(fd)] } };
    }
    if ((m = match(prof))) {
      const fd = this.world.findFrontDoor("standard", m[2]!, m[3]!);
      if (fd === undefined) return notFound("Microsoft.Cdn/profiles", m[3]!, m[2]!);
      if (req.method !== "GET") return this.methodNotAllowed(req);
      return { status: 200, body: this.profileResource(fd) };
    }

    // ---- Front Door classic (Microsoft.Network/frontDoors)
    if ((m = match(`${s}${rg}/providers/Microsoft.Network/frontdoorOperationResults/([^/]+)`)))
      return this.fdOperationStatus(m[3]!);
    if ((m = match(`${s}${rg}/providers/Microsoft.Network/frontDoors/([^/]+)`))) {
      const fd = this.world.findFrontDoor("classic", m[2]!, m[3]!);
      if (fd === undefined) return notFound("Microsoft.Network/frontDoors", m[3]!, m[2]!);
      if (req.method === "GET") return { status: 200, body: this.classicResource(fd) };
      if (req.method === "PUT") return this.classicPut(req, fd);
      return this.methodNotAllowed(req);
    }

    return err(404, {
      code: "InvalidResourceType",
      message: `The simulator does not serve ${req.method} ${p}. See docs/simulator.md for the routes it knows.`,
    });
  }

  private methodNotAllowed(req: ArmRequest): ArmResponse {
    return err(405, {
      code: "MethodNotAllowed",
      message: `The simulator does not support ${req.method} on ${req.path}.`,
    });
  }

  private asyncHeaders(req: ArmRequest, statusPath: string, location?: string): Record<string, string> {
    const q = `?api-version=${encodeURIComponent(req.query["api-version"] ?? "2026-04-01")}`;
    const h: Record<string, string> = { "Azure-AsyncOperation": `${req.origin}${statusPath}${q}` };
    if (location !== undefined) h["Location"] = `${req.origin}${location}${q}`;
    return h;
  }

  private retryAfter(): Record<string, string> {
    return this.options.lroRetryAfterSeconds === undefined
      ? {}
      : { "Retry-After": String(this.options.lroRetryAfterSeconds) };
  }

  // ------------------------------------------------------------------ AKS

  private poolResource(pool: SimPool): Record<string, unknown> {
    return {
      id: `/subscriptions/${pool.subscriptionId}/resourcegroups/${pool.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${pool.cluster}/agentPools/${pool.name}`,
      name: pool.name,
      type: "Microsoft.ContainerService/managedClusters/agentPools",
      properties: poolProperties(pool),
    };
  }

  private aksGetCluster(rgName: string, name: string): ArmResponse {
    const c = this.world.cluster(rgName, name);
    if (c === undefined) return notFound("Microsoft.ContainerService/managedClusters", name, rgName);
    const pools = this.world.poolsOf(rgName, name);
    const busy = pools.some((x) => x.operation !== undefined && !x.operation.finalized);
    return {
      status: 200,
      body: {
        id: `/subscriptions/${this.world.subscriptionId}/resourcegroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`,
        location: c.region,
        name: c.name,
        type: "Microsoft.ContainerService/ManagedClusters",
        sku: { name: "Base", tier: "Standard" },
        properties: {
          provisioningState: busy ? "Updating" : "Succeeded",
          powerState: { code: "Running" },
          kubernetesVersion: "1.33.2",
          dnsPrefix: c.name,
          fqdn: `${c.name}-dns.hcp.${c.region}.azmk8s.io`,
          agentPoolProfiles: pools.map((x) => ({ name: x.name, ...poolProperties(x) })),
          nodeResourceGroup: `MC_${c.resourceGroup}_${c.name}_${c.region}`,
        },
      },
    };
  }

  /**
   * `POST …/managedClusters/{name}/listClusterUserCredential` → `CredentialResults { kubeconfigs: [{ name, value }] }`
   * (value: the kubeconfig YAML, base64). Shaped like an Entra-integrated cluster's (exec plugin `kubelogin` with the
   * AKS server application id); the server is this listener under `/k8s/<rg>/<cluster>` (local/sim/kube-api.ts).
   */
  private aksUserCredential(req: ArmRequest, rgName: string, name: string): ArmResponse {
    const c = this.world.cluster(rgName, name);
    if (c === undefined) return notFound("Microsoft.ContainerService/managedClusters", name, rgName);
    const ca = this.options.kubeCaPem;
    if (ca === undefined)
      return err(501, { code: "NotImplemented", message: "This simulator was started without a CA for kubeconfigs." });
    const user = `clusterUser_${c.resourceGroup}_${c.name}`;
    const kubeconfig = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: c.name,
          cluster: {
            "certificate-authority-data": Buffer.from(ca, "utf8").toString("base64"),
            server: `${req.origin}/k8s/${encodeURIComponent(c.resourceGroup)}/${encodeURIComponent(c.name)}`,
          },
        },
      ],
      contexts: [{ name: c.name, context: { cluster: c.name, user } }],
      "current-context": c.name,
      preferences: {},
      users: [
        {
          name: user,
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1beta1",
              command: "kubelogin",
              args: ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"],
              env: null,
              interactiveMode: "IfAvailable",
              provideClusterInfo: false,
            },
          },
        },
      ],
    };
    return {
      status: 200,
      body: {
        kubeconfigs: [{ name: "clusterUser", value: Buffer.from(toYaml(kubeconfig), "utf8").toString("base64") }],
      },
    };
  }

  private aksGetPool(rgName: string, cluster: string, name: string): ArmResponse {
    const pool = this.world.pool(rgName, cluster, name);
    if (pool === undefined) {
      if (this.world.cluster(rgName, cluster) === undefined)
        return notFound("Microsoft.ContainerService/managedClusters", cluster, rgName);
      return notFound("Microsoft.ContainerService/managedClusters/agentPools", `${cluster}/${name}`, rgName);
    }
    return { status: 200, body: this.poolResource(pool) };
  }

  private aksPutPool(req: ArmRequest, rgName: string, cluster: string, name: string): ArmResponse {
    const props = (req.body as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (typeof props !== "object" || props === null)
      return err(400, {
        code: "InvalidRequestContent",
        message: "The request content was invalid and could not be deserialized: 'properties' is required.",
      });
    const count = props["count"];
    if (count !== undefined && typeof count !== "number")
      return err(400, {
        code: "InvalidParameter",
        message: `The value of parameter properties.count is invalid: ${JSON.stringify(count)}.`,
      });
    const zones = props["availabilityZones"];
    const result = this.world.putAgentPool(
      rgName,
      cluster,
      name,
      {
        ...(typeof count === "number" ? { count } : {}),
        ...(typeof props["vmSize"] === "string" ? { vmSize: props["vmSize"] } : {}),
        ...(Array.isArray(zones) ? { zones: zones.map(String) } : {}),
        ...(typeof props["mode"] === "string" ? { mode: props["mode"] } : {}),
        ...(typeof props["minCount"] === "number" ? { minCount: props["minCount"] } : {}),
        ...(typeof props["maxCount"] === "number" ? { maxCount: props["maxCount"] } : {}),
      },
      conditionsOf(req),
    );
    if (!result.ok) return err(result.status, result.error);
    const c = this.world.cluster(rgName, cluster);
    const statusPath = `/subscriptions/${this.world.subscriptionId}/providers/Microsoft.ContainerService/locations/${c?.region ?? "unknown"}/operations/${result.operation.id}`;
    return {
      status: result.created ? 201 : 200,
      body: this.poolResource(result.pool),
      headers: this.asyncHeaders(req, statusPath),
    };
  }

  private aksAbort(req: ArmRequest, rgName: string, cluster: string, name: string): ArmResponse {
    const r = this.world.abortAgentPool(rgName, cluster, name);
    if (!r.ok) return err(r.status, r.error);
    const c = this.world.cluster(rgName, cluster);
    const loc = `/subscriptions/${this.world.subscriptionId}/providers/Microsoft.ContainerService/locations/${c?.region ?? "unknown"}/operationresults/${r.abortId}`;
    const q = `?api-version=${encodeURIComponent(req.query["api-version"] ?? "")}`;
    return { status: 202, headers: { Location: `${req.origin}${loc}${q}`, ...this.retryAfter() } };
  }

  private aksOperationStatus(id: string): ArmResponse {
    const op = this.world.operation(id);
    const abort = this.world.abortOperation(id);
    if (op === undefined && abort === undefined)
      return err(404, { code: "NotFound", message: `Operation ${id} was not found.` });
    if (op === undefined && abort !== undefined) {
      const done = this.now >= abort.endsAt;
      return {
        status: 200,
        body: { name: id, status: done ? "Succeeded" : "InProgress" },
        headers: done ? {} : this.retryAfter(),
      };
    }
    const o = op as PoolOperation;
    const status = this.world.operationStatus(o);
    const body: Record<string, unknown> = {
      name: o.id,
      status,
      startTime: new Date(o.startedAt).toISOString(),
      percentComplete: this.percentComplete(o),
    };
    if (status !== "InProgress" && status !== "Canceling")
      body["endTime"] = new Date(o.canceledAt !== undefined ? (o.cancelEndsAt ?? this.now) : o.endsAt).toISOString();
    if (status === "Failed" && o.outcome.status === "Failed") body["error"] = o.outcome.error;
    if (status === "Canceled")
      body["error"] = { code: "OperationCanceled", message: `The operation ${o.id} was canceled by an abort request.` };
    return { status: 200, body, headers: status === "InProgress" || status === "Canceling" ? this.retryAfter() : {} };
  }

  private percentComplete(o: PoolOperation): number {
    if (o.adding.length === 0) return this.now >= o.endsAt ? 100 : 0;
    const ready = o.adding.filter((n) => n.readyAt <= this.now).length;
    return Math.round((100 * ready) / o.adding.length);
  }

  private aksOperationResult(req: ArmRequest, id: string): ArmResponse {
    const abort = this.world.abortOperation(id);
    if (abort === undefined) return err(404, { code: "NotFound", message: `Operation ${id} was not found.` });
    if (this.now < abort.endsAt)
      return {
        status: 202,
        headers: {
          Location: `${req.origin}${req.path}?api-version=${req.query["api-version"] ?? ""}`,
          ...this.retryAfter(),
        },
      };
    return { status: 204 };
  }

  // ------------------------------------------------------------------ Front Door (shared)

  private startFdOp(
    req: ArmRequest,
    fd: FrontDoorModel,
    change: { probe?: ProbeConfig; origins?: ReadonlyMap<string, OriginConfig> },
    statusPath: (id: string) => string,
  ): { id: string; headers: Record<string, string> } {
    const r = fd.change(change);
    const id = `${fd.name}-${++this.fdOpSeq}-v${r.version}`;
    this.fdOps.set(id, { fd, armCompletesAt: r.armCompletesAt });
    return { id, headers: this.asyncHeaders(req, statusPath(id), statusPath(id)) };
  }

  private fdOperationStatus(id: string): ArmResponse {
    const op = this.fdOps.get(id);
    if (op === undefined) return err(404, { code: "NotFound", message: `Operation ${id} was not found.` });
    const done = this.now >= op.armCompletesAt;
    return {
      status: 200,
      body: { name: id, status: done ? "Succeeded" : "InProgress", error: null },
      headers: done ? {} : this.retryAfter(),
    };
  }

  // ------------------------------------------------------------------ Front Door Standard/Premium

  private afd(rgName: string, profile: string, group: string): FrontDoorModel | undefined {
    const fd = this.world.findFrontDoor("standard", rgName, profile);
    return fd !== undefined && fd.groupName.toLowerCase() === group.toLowerCase() ? fd : undefined;
  }

  private profileResource(fd: FrontDoorModel): Record<string, unknown> {
    return {
      id: fd.resourceId,
      type: "Microsoft.Cdn/profiles",
      name: fd.resourceName,
      location: "Global",
      kind: "frontdoor",
      sku: { name: "Standard_AzureFrontDoor" },
      properties: {
        provisioningState: fd.provisioningState(),
        resourceState: "Active",
        frontDoorId: this.world.stream(`frontdoor-id/${fd.name}`).guid(),
        originResponseTimeoutSeconds: 60,
      },
    };
  }

  private originGroupResource(fd: FrontDoorModel): Record<string, unknown> {
    const probe = fd.desired().probe;
    return {
      id: `${fd.resourceId}/origingroups/${fd.groupName}`,
      type: "Microsoft.Cdn/profiles/origingroups",
      name: fd.groupName,
      properties: {
        loadBalancingSettings: {
          sampleSize: probe.sampleSize,
          successfulSamplesRequired: probe.successfulSamplesRequired,
          additionalLatencyInMilliseconds: probe.additionalLatencyMs,
        },
        healthProbeSettings: {
          probePath: probe.path,
          probeRequestType: probe.method,
          probeProtocol: probe.protocol,
          probeIntervalInSeconds: probe.intervalSeconds,
        },
        trafficRestorationTimeToHealedOrNewEndpointsInMinutes: 10,
        sessionAffinityState: "Disabled",
        provisioningState: fd.provisioningState(),
        deploymentStatus: fd.deploymentStatus(),
      },
    };
  }

  private originResource(fd: FrontDoorModel, o: OriginConfig): Record<string, unknown> {
    return {
      id: `${fd.resourceId}/origingroups/${fd.groupName}/origins/${o.name}`,
      type: "Microsoft.Cdn/profiles/origingroups/origins",
      name: o.name,
      properties: {
        hostName: o.hostName,
        httpPort: 80,
        httpsPort: 443,
        originHostHeader: o.hostName,
        priority: o.priority,
        weight: o.weight,
        enabledState: o.enabledState,
        enforceCertificateNameCheck: true,
        provisioningState: fd.provisioningState(),
        deploymentStatus: fd.deploymentStatus(o.name),
      },
    };
  }

  private afdOriginGroup(req: ArmRequest, rgName: string, profile: string, group: string): ArmResponse {
    const fd = this.afd(rgName, profile, group);
    if (fd === undefined) return notFound("Microsoft.Cdn/profiles/originGroups", `${profile}/${group}`, rgName);
    if (req.method === "GET") return { status: 200, body: this.originGroupResource(fd) };
    if (req.method !== "PUT" && req.method !== "PATCH") return this.methodNotAllowed(req);
    const props = ((req.body as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}) as Record<
      string,
      Record<string, unknown> | undefined
    >;
    const lb = props["loadBalancingSettings"] ?? {};
    const hp = props["healthProbeSettings"] ?? {};
    const cur = fd.desired().probe;
    const num = (v: unknown, d: number): number => (typeof v === "number" ? v : d);
    const probe: ProbeConfig = {
      path: typeof hp["probePath"] === "string" ? hp["probePath"] : cur.path,
      method: hp["probeRequestType"] === "GET" ? "GET" : hp["probeRequestType"] === "HEAD" ? "HEAD" : cur.method,
      protocol: hp["probeProtocol"] === "Http" ? "Http" : hp["probeProtocol"] === "Https" ? "Https" : cur.protocol,
      intervalSeconds: num(hp["probeIntervalInSeconds"], cur.intervalSeconds),
      sampleSize: num(lb["sampleSize"], cur.sampleSize),
      successfulSamplesRequired: num(lb["successfulSamplesRequired"], cur.successfulSamplesRequired),
      additionalLatencyMs: num(lb["additionalLatencyInMilliseconds"], cur.additionalLatencyMs),
    };
    const problems: string[] = [];
    if (!Number.isInteger(probe.intervalSeconds) || probe.intervalSeconds < 1 || probe.intervalSeconds > 255)
      problems.push("probeIntervalInSeconds must be between 1 and 255");
    if (probe.successfulSamplesRequired > probe.sampleSize)
      problems.push("successfulSamplesRequired must not exceed sampleSize");
    if (problems.length > 0) return err(400, { code: "BadRequest", message: problems.join("; ") });
    const { headers } = this.startFdOp(
      req,
      fd,
      { probe },
      (id) =>
        `/subscriptions/${this.world.subscriptionId}/resourceGroups/${fd.resourceGroup}/providers/Microsoft.Cdn/operationresults/${id}`,
    );
    return { status: req.method === "PATCH" ? 202 : 200, body: this.originGroupResource(fd), headers };
  }

  private afdOrigin(req: ArmRequest, rgName: string, profile: string, group: string, name: string): ArmResponse {
    const fd = this.afd(rgName, profile, group);
    if (fd === undefined) return notFound("Microsoft.Cdn/profiles/originGroups", `${profile}/${group}`, rgName);
    const current = [...fd.desired().origins.values()].find((o) => o.name.toLowerCase() === name.toLowerCase());
    if (current === undefined)
      return notFound("Microsoft.Cdn/profiles/originGroups/origins", `${profile}/${group}/${name}`, rgName);
    if (req.method === "GET") return { status: 200, body: this.originResource(fd, current) };
    if (req.method !== "PUT" && req.method !== "PATCH") return this.methodNotAllowed(req);
    const props = (req.body as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
    const problems: string[] = [];
    const weight = props["weight"] ?? (req.method === "PUT" ? 50 : current.weight);
    const priority = props["priority"] ?? (req.method === "PUT" ? 1 : current.priority);
    const enabledState = props["enabledState"] ?? (req.method === "PUT" ? "Enabled" : current.enabledState);
    if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 1 || weight > 1000)
      problems.push("Weight of the origin must be between 1 and 1000.");
    if (typeof priority !== "number" || !Number.isInteger(priority) || priority < 1 || priority > 5)
      problems.push("Priority of the origin must be between 1 and 5.");
    if (enabledState !== "Enabled" && enabledState !== "Disabled")
      problems.push("EnabledState must be Enabled or Disabled.");
    if (problems.length > 0) return err(400, { code: "BadRequest", message: problems.join(" ") });
    const origins = new Map(fd.desired().origins);
    const next: OriginConfig = {
      ...current,
      weight: weight as number,
      priority: priority as number,
      enabledState: enabledState as "Enabled" | "Disabled",
    };
    origins.set(current.name, next);
    const { headers } = this.startFdOp(
      req,
      fd,
      { origins },
      (id) =>
        `/subscriptions/${this.world.subscriptionId}/resourceGroups/${fd.resourceGroup}/providers/Microsoft.Cdn/operationresults/${id}`,
    );
    return { status: req.method === "PATCH" ? 202 : 200, body: this.originResource(fd, next), headers };
  }

  // ------------------------------------------------------------------ Front Door classic

  private classicResource(fd: FrontDoorModel): Record<string, unknown> {
    const id = fd.resourceId;
    const cfg = fd.desired();
    const probe = cfg.probe;
    return {
      id,
      name: fd.resourceName,
      type: "Microsoft.Network/frontdoors",
      location: "Global",
      tags: {},
      properties: {
        provisioningState: fd.provisioningState(),
        resourceState: "Enabled",
        cname: `${fd.resourceName}.azurefd.net`,
        frontdoorId: this.world.stream(`frontdoor-id/${fd.name}`).guid(),
        enabledState: "Enabled",
        friendlyName: fd.resourceName,
        routingRules: [
          {
            id: `${id}/RoutingRules/default`,
            name: "default",
            properties: {
              frontendEndpoints: [{ id: `${id}/FrontendEndpoints/default` }],
              acceptedProtocols: ["Https"],
              patternsToMatch: ["/*"],
              enabledState: "Enabled",
              routeConfiguration: {
                "@odata.type": "#Microsoft.Azure.FrontDoor.Models.FrontdoorForwardingConfiguration",
                forwardingProtocol: "HttpsOnly",
                backendPool: { id: `${id}/BackendPools/${fd.groupName}` },
              },
              resourceState: "Enabled",
            },
          },
        ],
        loadBalancingSettings: [
          {
            id: `${id}/LoadBalancingSettings/loadBalancingSettings`,
            name: "loadBalancingSettings",
            properties: {
              sampleSize: probe.sampleSize,
              successfulSamplesRequired: probe.successfulSamplesRequired,
              additionalLatencyMilliseconds: probe.additionalLatencyMs,
              resourceState: "Enabled",
            },
          },
        ],
        healthProbeSettings: [
          {
            id: `${id}/HealthProbeSettings/healthProbeSettings`,
            name: "healthProbeSettings",
            properties: {
              path: probe.path,
              protocol: probe.protocol,
              intervalInSeconds: probe.intervalSeconds,
              healthProbeMethod: probe.method === "GET" ? "GET" : "HEAD",
              enabledState: "Enabled",
              resourceState: "Enabled",
            },
          },
        ],
        backendPools: [
          {
            id: `${id}/BackendPools/${fd.groupName}`,
            name: fd.groupName,
            properties: {
              backends: [...cfg.origins.values()].map((o) => ({
                address: o.name,
                httpPort: 80,
                httpsPort: 443,
                backendHostHeader: o.name,
                enabledState: o.enabledState,
                priority: o.priority,
                weight: o.weight,
              })),
              loadBalancingSettings: { id: `${id}/LoadBalancingSettings/loadBalancingSettings` },
              healthProbeSettings: { id: `${id}/HealthProbeSettings/healthProbeSettings` },
              resourceState: "Enabled",
            },
          },
        ],
        frontendEndpoints: [
          {
            id: `${id}/FrontendEndpoints/default`,
            name: "default",
            properties: {
              hostName: `${fd.resourceName}.azurefd.net`,
              sessionAffinityEnabledState: "Disabled",
              sessionAffinityTtlSeconds: 0,
              resourceState: "Enabled",
            },
          },
        ],
        backendPoolsSettings: { enforceCertificateNameCheck: "Enabled", sendRecvTimeoutSeconds: 30 },
      },
    };
  }

  private classicPut(req: ArmRequest, fd: FrontDoorModel): ArmResponse {
    const props = (req.body as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (props === undefined) return err(400, { code: "BadRequest", message: "properties is required." });
    const pools = Array.isArray(props["backendPools"]) ? (props["backendPools"] as Array<Record<string, unknown>>) : [];
    const pool = pools.find(
      (p) => typeof p["name"] === "string" && p["name"].toLowerCase() === fd.groupName.toLowerCase(),
    );
    const backends = ((pool?.["properties"] as Record<string, unknown> | undefined)?.["backends"] ?? []) as Array<
      Record<string, unknown>
    >;
    if (pool === undefined)
      return err(400, {
        code: "BadRequest",
        message: `Backend pool ${fd.groupName} is missing from the request; the simulator cannot remove it.`,
      });
    const origins = new Map(fd.desired().origins);
    const problems: string[] = [];
    backends.forEach((b, i) => {
      const address = typeof b["address"] === "string" ? b["address"] : "";
      const cur = [...origins.values()].find((o) => o.name.toLowerCase() === address.toLowerCase());
      if (cur === undefined) {
        problems.push(`backends[${i}]: address ${address} is not a backend of the topology`);
        return;
      }
      const weight = b["weight"] ?? cur.weight;
      const priority = b["priority"] ?? cur.priority;
      const enabledState = b["enabledState"] ?? cur.enabledState;
      if (typeof weight !== "number" || weight < 1 || weight > 1000)
        problems.push(`backends[${i}].weight must be between 1 and 1000`);
      if (typeof priority !== "number" || priority < 1 || priority > 5)
        problems.push(`backends[${i}].priority must be between 1 and 5`);
      if (enabledState !== "Enabled" && enabledState !== "Disabled")
        problems.push(`backends[${i}].enabledState must be Enabled or Disabled`);
      origins.set(cur.name, {
        ...cur,
        weight: weight as number,
        priority: priority as number,
        enabledState: enabledState as "Enabled" | "Disabled",
      });
    });
    if (problems.length > 0) return err(400, { code: "BadRequest", message: problems.join("; ") });
    const lb = (((props["loadBalancingSettings"] as Array<Record<string, unknown>> | undefined) ?? [])[0]?.[
      "properties"
    ] ?? {}) as Record<string, unknown>;
    const hp = (((props["healthProbeSettings"] as Array<Record<string, unknown>> | undefined) ?? [])[0]?.[
      "properties"
    ] ?? {}) as Record<string, unknown>;
    const cur = fd.desired().probe;
    const probe: ProbeConfig = {
      ...cur,
      intervalSeconds: typeof hp["intervalInSeconds"] === "number" ? hp["intervalInSeconds"] : cur.intervalSeconds,
      sampleSize: typeof lb["sampleSize"] === "number" ? lb["sampleSize"] : cur.sampleSize,
      successfulSamplesRequired:
        typeof lb["successfulSamplesRequired"] === "number"
          ? lb["successfulSamplesRequired"]
          : cur.successfulSamplesRequired,
      additionalLatencyMs:
        typeof lb["additionalLatencyMilliseconds"] === "number"
          ? lb["additionalLatencyMilliseconds"]
          : cur.additionalLatencyMs,
    };
    const { headers } = this.startFdOp(
      req,
      fd,
      { origins, probe },
      (id) =>
        `/subscriptions/${this.world.subscriptionId}/resourceGroups/${fd.resourceGroup}/providers/Microsoft.Network/frontdoorOperationResults/${id}`,
    );
    return { status: 202, body: this.classicResource(fd), headers };
  }

  // ------------------------------------------------------------------ Monitor metrics

  private metricsBatch(req: ArmRequest, subscription: string): ArmResponse {
    if (req.method !== "POST") return this.methodNotAllowed(req);
    const q = req.query;
    if (q["api-version"] === undefined)
      return err(400, {
        code: "MissingApiVersionParameter",
        message: "The api-version query parameter (?api-version=) is required for all requests.",
      });
    const ids = (req.body as { resourceids?: unknown } | undefined)?.resourceids;
    if (!Array.isArray(ids) || ids.length === 0)
      return err(400, { code: "BadRequest", message: "resourceids must be a non-empty list." });
    const namespace = q["metricnamespace"];
    const names = (q["metricnames"] ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "");
    if (namespace === undefined || names.length === 0)
      return err(400, { code: "BadRequest", message: "metricnamespace and metricnames are required." });
    const now = this.now;
    const end = q["endtime"] !== undefined ? Date.parse(q["endtime"]) : now;
    const start = q["starttime"] !== undefined ? Date.parse(q["starttime"]) : end - 3600_000;
    if (Number.isNaN(start) || Number.isNaN(end) || end <= start)
      return err(400, {
        code: "BadRequest",
        message: "starttime and endtime must be ISO 8601 times with starttime before endtime.",
      });
    const intervalText = q["interval"] ?? "PT1M";
    let intervalMs: number;
    try {
      intervalMs = intervalText.toUpperCase() === "FULL" ? end - start : isoDurationSeconds(intervalText) * 1000;
    } catch {
      return err(400, { code: "BadRequest", message: `Invalid interval ${intervalText}.` });
    }
    if (intervalMs <= 0) return err(400, { code: "BadRequest", message: `Invalid interval ${intervalText}.` });
    const aggs = (q["aggregation"] ?? "average").split(",").map((a) => a.trim().toLowerCase()) as Aggregation[];
    let filters;
    try {
      filters = parseMetricFilter(q["filter"]);
    } catch (e) {
      return err(400, { code: "BadRequest", message: (e as Error).message });
    }
    const defs = this.world.metrics.definitionsOf(namespace);
    for (const n of names)
      if (this.world.metrics.definition(namespace, n) === undefined) {
        const [provider, type] = namespace.split("/");
        return err(400, {
          code: "BadRequest",
          message: `Failed to find metric configuration for provider: ${provider ?? namespace}, resource Type: ${type ?? ""}, metric: ${n}, Valid metrics: ${defs.map((d) => d.name).join(",")}`,
        });
      }
    const values = [];
    for (const raw of ids) {
      const rid = String(raw);
      if (!rid.toLowerCase().startsWith(`/subscriptions/${subscription.toLowerCase()}/`))
        return err(400, { code: "BadRequest", message: `Resource ${rid} is not in subscription ${subscription}.` });
      const region = this.regionOf(rid);
      values.push({
        starttime: new Date(start).toISOString(),
        endtime: new Date(end).toISOString(),
        interval: intervalText,
        namespace,
        resourceregion: region,
        resourceid: rid,
        value: names.map((n) => {
          const def = this.world.metrics.definition(namespace, n)!;
          // Only what Azure Monitor has ingested by now (each grain's point is available a sampled 20–60 s after it ends).
          const series = this.world.metrics.query(rid, def.name, start, end, intervalMs, aggs, filters, this.now);
          return {
            id: `${rid}/providers/Microsoft.Insights/metrics/${def.name}`,
            type: "Microsoft.Insights/metrics",
            name: { value: def.name, localizedValue: def.name },
            displayDescription: def.description,
            unit: def.unit,
            errorCode: "Success",
            timeseries: series.map((s) => ({
              metadatavalues: Object.entries(s.dims).map(([k, v]) => ({
                name: { value: k.toLowerCase(), localizedValue: k },
                value: v,
              })),
              data: s.data.map((d) => ({
                timeStamp: new Date(d.at).toISOString(),
                ...Object.fromEntries(
                  aggs.flatMap((a): Array<[string, number]> => (d[a] === undefined ? [] : [[a, d[a]]])),
                ),
              })),
            })),
          };
        }),
      });
    }
    return { status: 200, body: { values } };
  }

  private regionOf(resourceId: string): string {
    const m = /managedClusters\/([^/]+)/i.exec(resourceId);
    if (m !== null) {
      const c = this.world.clusterList().find((x) => x.name.toLowerCase() === m[1]!.toLowerCase());
      if (c !== undefined) return c.region;
    }
    return "global";
  }

  // ------------------------------------------------------------------ Log Analytics

  private logsQuery(req: ArmRequest, workspace: string): ArmResponse {
    if (req.method !== "POST" && req.method !== "GET") return this.methodNotAllowed(req);
    const body = (req.body ?? {}) as { query?: unknown; timespan?: unknown };
    const query = typeof body.query === "string" ? body.query : req.query["query"];
    if (query === undefined || query.trim() === "")
      return err(400, {
        code: "BadArgumentError",
        message: "The request had some invalid properties: query is required.",
      });
    const now = this.now;
    let timespan: { start: number; end: number } | undefined;
    const ts = typeof body.timespan === "string" ? body.timespan : req.query["timespan"];
    if (ts !== undefined) {
      const parts = ts.split("/");
      try {
        if (parts.length === 1) timespan = { start: now - isoDurationSeconds(parts[0]!) * 1000, end: now };
        else {
          const a = parts[0]!;
          const b = parts[1]!;
          const s = a.startsWith("P") ? Date.parse(b) - isoDurationSeconds(a) * 1000 : Date.parse(a);
          const e = b.startsWith("P") ? Date.parse(a) + isoDurationSeconds(b) * 1000 : Date.parse(b);
          timespan = { start: s, end: e };
        }
      } catch {
        return err(400, { code: "BadArgumentError", message: `Invalid timespan ${ts}.` });
      }
    }
    void workspace;
    try {
      const table = runQuery(query, this.world.logRows, now, timespan);
      return { status: 200, body: { tables: [table] } };
    } catch (e) {
      if (e instanceof KqlError)
        return err(400, {
          code: "BadArgumentError",
          message: "The request had some invalid properties",
          details: [{ code: "SyntaxError", message: e.message }],
        });
      throw e;
    }
  }
}
