/**
 * `startSimulator`: the world of a scenario behind two loopback listeners — https for ARM, Azure Monitor metrics
 * and Log Analytics (self-signed certificate generated at run time, so the real SDK clients work with only an
 * endpoint and `tlsOptions.ca` changed), and http for the inference endpoints' health and warm-up routes.
 *
 * Time is the {@link VirtualClock} passed in (or a new one): tests advance it, the local host runs it to
 * quiescence, and `cutover sim` drives it with wall time (`realtime`).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { VirtualClock } from "../clock";
import type { Topology } from "../../src/domain/topology";
import { AlertEvaluator, type AlertNotification } from "./alerts";
import { ArmHandlers, type ArmExtension, type ArmResponse } from "./arm-handlers";
import { amlJobsExtension } from "./aml-jobs";
import { createCertificate } from "./certs";
import { KubeApi } from "./kube-api";
import { RequestLog, type SimService } from "./request-log";
import { faultSchema, loadScenarioOrThrow, type FaultInput, type LoadedScenario } from "./scenario";
import type { Timeline } from "./timeline";
import { World, type GateSource } from "./world";

export interface SimulatorOptions {
  /** A loaded scenario, or the path of a scenario file. */
  readonly scenario: LoadedScenario | string;
  /** Shared virtual clock; default a new one at 2030-01-01. */
  readonly clock?: VirtualClock;
  /** Port of the https ARM/Monitor listener (0 = any). */
  readonly port?: number;
  /** Port of the http endpoints listener (0 = any). */
  readonly endpointsPort?: number;
  /** Drive the clock from wall time at `speed` virtual seconds per wall second (for `cutover sim`). */
  readonly realtime?: { readonly speed: number };
  /** Directory for the CA file; default a new temp dir. */
  readonly certDir?: string;
  /** Send `Retry-After` on LRO status responses (off by default so tests poll fast). */
  readonly lroRetryAfterSeconds?: number;
  readonly gatePollSeconds?: number;
  readonly metricGrainSeconds?: number;
  /**
   * More ARM resource providers served on the same listener (after auth and fault injection, before the built-in
   * routes); each gets the world to seed itself from (e.g. `world.topology`, `world.stream(name)`, `world.clock`).
   */
  readonly armExtensions?: ReadonlyArray<(world: World) => ArmExtension>;
}

/** Options for SDK client constructors that point them at the simulator. */
export interface SimClientOptions {
  readonly endpoint: string;
  readonly tlsOptions: { readonly ca: string };
  readonly retryOptions: {
    readonly maxRetries: number;
    readonly retryDelayInMs: number;
    readonly maxRetryDelayInMs: number;
  };
}

export interface Simulator {
  /** https base URL for ARM (and metrics:getBatch). */
  readonly armEndpoint: string;
  /** Metrics endpoint for `new MetricsClient(endpoint, …)` (the same listener). */
  readonly metricsEndpoint: string;
  /** Log Analytics endpoint including `/v1` (LogsQueryClient's `endpoint` replaces the whole base). */
  readonly logsEndpoint: string;
  /** http base URL of the inference endpoints. */
  readonly endpointsOrigin: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly subscriptionId: string;
  readonly credential: TokenCredential;
  /** Constructor options for the ARM clients (also usable for MetricsClient). */
  readonly clientOptions: SimClientOptions;
  /** Constructor options for LogsQueryClient. */
  readonly logsClientOptions: SimClientOptions;
  /** Per-call options for LROs: poll every millisecond of wall time. */
  readonly pollOptions: { readonly updateIntervalInMs: number };
  readonly clock: VirtualClock;
  readonly world: World;
  readonly timeline: Timeline;
  readonly requestLog: RequestLog;
  readonly alerts: AlertEvaluator;
  readonly faults: {
    inject(fault: FaultInput): string;
    schedule(fault: FaultInput): string;
    clear(id: string): boolean;
    active(): ReturnType<World["activeFaults"]>;
  };
  /** The scenario topology with endpoint URLs rewritten to this simulator. */
  effectiveTopology(): Topology;
  setAlertWebhook(url: string | undefined): void;
  setGateSource(source: GateSource | undefined): void;
  alertNotifications(): ReadonlyArray<AlertNotification>;
  /** Advances virtual time by `ms` in steps of at most `stepMs`, letting tracked async work finish between steps. */
  advance(ms: number, options?: { stepMs?: number }): Promise<void>;
  /**
   * Resolves `work` (e.g. an SDK poller) while moving virtual time forward: each round waits briefly in wall time
   * for the client's next request, then advances to the next world event (at most `stepMs`). Throws when
   * `maxVirtualMs` pass without `work` settling. Time moves while a request of `work` may still be on its way, so
   * for a reproducible timeline send writes first (`await poller.submitted()`, autorest `begin…()`), then drive.
   */
  drive<T>(work: Promise<T>, options?: { stepMs?: number; maxVirtualMs?: number }): Promise<T>;
  stop(): Promise<void>;
}

const SIM_TOKEN = "cutover-simulator-token";

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const loaded = typeof options.scenario === "string" ? await loadScenarioOrThrow(options.scenario) : options.scenario;
  const clock = options.clock ?? new VirtualClock();
  const world = new World({
    loaded,
    clock,
    ...(options.gatePollSeconds === undefined ? {} : { gatePollSeconds: options.gatePollSeconds }),
    ...(options.metricGrainSeconds === undefined ? {} : { metricGrainSeconds: options.metricGrainSeconds }),
  });
  const alerts = new AlertEvaluator(world, loaded.scenario.alerts);
  const cert = await createCertificate(options.certDir);
  const arm = new ArmHandlers(world, {
    ...(options.lroRetryAfterSeconds === undefined ? {} : { lroRetryAfterSeconds: options.lroRetryAfterSeconds }),
    extensions: [amlJobsExtension, ...(options.armExtensions ?? [])].map((make) => make(world)),
    kubeCaPem: cert.certPem,
  });
  const kube = new KubeApi(world, SIM_TOKEN);
  const requestLog = new RequestLog();

  const armServer = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    void serveArm(req, res);
  });
  const endpointServer = createHttpServer((req, res) => {
    void serveEndpoint(req, res);
  });

  async function readBody(req: IncomingMessage): Promise<{ raw: string; json: unknown; bad: boolean }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    if (raw.trim() === "") return { raw, json: undefined, bad: false };
    try {
      return { raw, json: JSON.parse(raw) as unknown, bad: false };
    } catch {
      return { raw, json: undefined, bad: true };
    }
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, {
      ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
      "x-ms-request-id": `sim-${requestLog.all().length}`,
      ...headers,
    });
    res.end(text);
  }

  function queryOf(url: URL): Record<string, string> {
    const q: Record<string, string> = {};
    for (const [k, v] of url.searchParams) q[k.toLowerCase()] = v;
    return q;
  }

  async function serveArm(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://sim.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    const { json, bad } = await readBody(req);
    const query = queryOf(url);
    const path = decodeURIComponent(url.pathname);
    const service: SimService = /metrics:getbatch/i.test(path)
      ? "metrics"
      : /^(\/v1)?\/workspaces\/[^/]+\/query/i.test(path)
        ? "logs"
        : path.startsWith("/_sim/")
          ? "control"
          : path.startsWith("/k8s/")
            ? "kubernetes"
            : "arm";
    const entry = requestLog.add({
      at: clock.now(),
      service,
      method,
      path,
      query,
      apiVersion: query["api-version"],
      status: 0,
      fault: undefined,
      vantage: headerOf(req, "x-cutover-vantage"),
      body: method === "GET" ? undefined : json,
    });
    if (service === "control") {
      const r = control(method, path, json);
      entry.status = r.status;
      send(res, r.status, r.body);
      return;
    }
    if (service === "kubernetes") {
      // The clusters' Kubernetes API servers (local/sim/kube-api.ts): their own auth, no ARM faults.
      const k = /^\/k8s\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
      const r = kube.handle({
        method,
        resourceGroup: k?.[1] ?? "",
        cluster: k?.[2] ?? "",
        path: k === null ? path : (k[3] ?? "/"),
        query: url.searchParams,
        authorization: k === null ? undefined : headerOf(req, "authorization"),
      });
      if (r.kind === "unreachable") {
        entry.status = 0;
        req.socket.destroy();
        return;
      }
      entry.status = r.status;
      send(res, r.status, r.body);
      return;
    }
    if (headerOf(req, "authorization")?.startsWith("Bearer ") !== true) {
      entry.status = 401;
      send(res, 401, {
        error: {
          code: "AuthenticationFailed",
          message: "Authentication failed. The 'Authorization' header is missing.",
        },
      });
      return;
    }
    const fault = world.httpFaultFor(service, { method, path });
    if (fault !== undefined) {
      entry.fault = fault.id;
      if (fault.fault.kind === "timeout") {
        entry.status = 0;
        req.socket.destroy();
        return;
      }
      if (fault.fault.kind === "http-error") {
        const status = fault.fault.status;
        entry.status = status;
        send(
          res,
          status,
          {
            error: {
              code:
                status === 429
                  ? "TooManyRequests"
                  : status === 503
                    ? "ServiceUnavailable"
                    : status === 504
                      ? "GatewayTimeout"
                      : "InternalServerError",
              message: `Simulated fault ${fault.id}.`,
            },
          },
          fault.fault.retryAfterSeconds === undefined ? {} : { "Retry-After": String(fault.fault.retryAfterSeconds) },
        );
        return;
      }
    }
    if (bad) {
      entry.status = 400;
      send(res, 400, {
        error: {
          code: "InvalidRequestContent",
          message: "The request content was invalid and could not be deserialized.",
        },
      });
      return;
    }
    const origin = headerOf(req, "x-sim-original-origin") ?? `https://${headerOf(req, "host") ?? "127.0.0.1"}`;
    let r: ArmResponse;
    try {
      r = arm.handle({ method, path, query, headers: req.headers, body: json, origin });
    } catch (error) {
      r = {
        status: 500,
        body: { error: { code: "InternalServerError", message: `Simulator error: ${String(error)}` } },
      };
    }
    entry.status = r.status;
    send(res, r.status, r.body, { ...(r.headers ?? {}) });
  }

  async function serveEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    const { json } = await readBody(req);
    const vantage = headerOf(req, "x-cutover-vantage");
    const m = /^\/([^/]+)\/([^/]+)\/(health|healthz|v2\/health\/ready|v2\/health\/live|warmup)\/?$/.exec(url.pathname);
    const entry = requestLog.add({
      at: clock.now(),
      service: "endpoint",
      method,
      path: url.pathname,
      query: queryOf(url),
      apiVersion: undefined,
      status: 0,
      fault: undefined,
      vantage,
      body: json,
    });
    const reply = (status: number, body: unknown): void => {
      entry.status = status;
      if (method === "HEAD") {
        res.writeHead(status);
        res.end();
      } else send(res, status, body);
    };
    if (m === null) return reply(404, { error: "unknown endpoint route; see docs/simulator.md" });
    const workload = decodeURIComponent(m[1]!);
    const region = decodeURIComponent(m[2]!);
    const route = m[3]!;
    if (
      !world.topology.workloads.some(
        (w) => w.name === workload && w.kind === "inference" && w.regions[region] !== undefined,
      )
    )
      return reply(404, { error: `no inference endpoint for ${workload} in ${region}` });
    const fault = world.httpFaultFor("endpoint", { method, path: url.pathname, workload, region });
    if (fault !== undefined) {
      entry.fault = fault.id;
      if (fault.fault.kind === "timeout") {
        req.socket.destroy();
        return;
      }
      if (fault.fault.kind === "http-error") {
        entry.status = fault.fault.status;
        send(
          res,
          fault.fault.status,
          { status: "error", fault: fault.id },
          fault.fault.retryAfterSeconds === undefined ? {} : { "Retry-After": String(fault.fault.retryAfterSeconds) },
        );
        return;
      }
    }
    const from = vantage === undefined ? {} : { vantage };
    if (route === "warmup") {
      if (method !== "POST" && method !== "GET")
        return reply(405, { error: "use POST to start a warm-up, GET to read it" });
      const h = world.endpointHealth(workload, region, from);
      if (h.code === 0) {
        entry.status = 0;
        req.socket.destroy();
        return;
      }
      const version = (json as { modelVersion?: unknown } | undefined)?.modelVersion;
      const r = world.warmup(workload, region, {
        start: method === "POST",
        ...(typeof version === "string" ? { version } : {}),
      });
      return reply(r.code, r.body);
    }
    if (method !== "GET" && method !== "HEAD") return reply(405, { error: "health routes take GET or HEAD" });
    const h = world.endpointHealth(workload, region, from);
    if (h.code === 0) {
      entry.status = 0;
      req.socket.destroy();
      return;
    }
    if (route === "v2/health/live")
      return reply(world.regionDown(region) ? 503 : 200, { live: !world.regionDown(region) });
    return reply(h.code, {
      status: h.status,
      modelVersion: h.modelVersion,
      expectedVersion: h.expectedVersion,
      latencyMs: h.latencyMs,
      readyGpus: h.readyGpus,
    });
  }

  function control(method: string, path: string, body: unknown): { status: number; body: unknown } {
    if (method === "GET" && path === "/_sim/snapshot") return { status: 200, body: world.snapshot() };
    if (method === "GET" && path === "/_sim/timeline") return { status: 200, body: world.timeline.all() };
    if (method === "GET" && path === "/_sim/waits") return { status: 200, body: world.sampledWaits() };
    if (method === "GET" && path === "/_sim/requests") return { status: 200, body: requestLog.all() };
    if (method === "POST" && path === "/_sim/faults") {
      const parsed = faultSchema.safeParse(body);
      if (!parsed.success)
        return { status: 400, body: { error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) } };
      return { status: 201, body: { id: world.injectFault(parsed.data) } };
    }
    const del = /^\/_sim\/faults\/([^/]+)$/.exec(path);
    if (method === "DELETE" && del !== null)
      return world.clearFault(del[1]!)
        ? { status: 204, body: undefined }
        : { status: 404, body: { error: "no such active fault" } };
    if (method === "PUT" && path === "/_sim/alert-webhook") {
      const u = (body as { url?: unknown } | undefined)?.url;
      if (u !== undefined && u !== null && typeof u !== "string")
        return { status: 400, body: { error: "url must be a string or null" } };
      alerts.setWebhook(typeof u === "string" ? u : undefined);
      return { status: 204, body: undefined };
    }
    if (method === "PUT" && path === "/_sim/gate-source") {
      const u = (body as { urlTemplate?: unknown } | undefined)?.urlTemplate;
      if (u !== undefined && u !== null && typeof u !== "string")
        return { status: 400, body: { error: "urlTemplate must be a string or null" } };
      world.setGateSource(typeof u === "string" ? { urlTemplate: u } : undefined);
      return { status: 204, body: undefined };
    }
    return { status: 404, body: { error: `unknown control route ${method} ${path}` } };
  }

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
  const armPort = await listen(armServer, options.port ?? 0);
  const endpointPort = await listen(endpointServer, options.endpointsPort ?? 0);
  const armEndpoint = `https://127.0.0.1:${armPort}`;
  const endpointsOrigin = `http://127.0.0.1:${endpointPort}`;

  let driver: NodeJS.Timeout | undefined;
  if (options.realtime !== undefined) {
    const speed = options.realtime.speed;
    let last = Date.now();
    driver = setInterval(() => {
      const now = Date.now();
      clock.advanceBy((now - last) * speed);
      last = now;
    }, 100);
  }

  const credential: TokenCredential = {
    getToken: (): Promise<AccessToken> =>
      Promise.resolve({ token: SIM_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }),
  };
  const clientOptions: SimClientOptions = {
    endpoint: armEndpoint,
    tlsOptions: { ca: cert.certPem },
    retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
  };

  const wallPause = (): Promise<void> => new Promise((r) => setTimeout(r, 2));

  const sim: Simulator = {
    armEndpoint,
    metricsEndpoint: armEndpoint,
    logsEndpoint: `${armEndpoint}/v1`,
    endpointsOrigin,
    caPem: cert.certPem,
    caFile: cert.caFile,
    subscriptionId: world.subscriptionId,
    credential,
    clientOptions,
    logsClientOptions: { ...clientOptions, endpoint: `${armEndpoint}/v1` },
    pollOptions: { updateIntervalInMs: 1 },
    clock,
    world,
    timeline: world.timeline,
    requestLog,
    alerts,
    faults: {
      inject: (f) => world.injectFault(f),
      schedule: (f) => world.scheduleFault(f),
      clear: (id) => world.clearFault(id),
      active: () => world.activeFaults(),
    },
    effectiveTopology(): Topology {
      const t = structuredClone(world.topology);
      for (const w of t.workloads)
        for (const [region, entry] of Object.entries(w.regions))
          if (entry.endpoint !== undefined)
            w.regions[region] = {
              ...entry,
              endpoint: {
                healthUrl: `${endpointsOrigin}/${w.name}/${region}/health`,
                warmupUrl: `${endpointsOrigin}/${w.name}/${region}/warmup`,
              },
            };
      return t;
    },
    setAlertWebhook: (url) => alerts.setWebhook(url),
    setGateSource: (source) => world.setGateSource(source),
    alertNotifications: () => alerts.notifications,
    async advance(ms, opts = {}) {
      const step = opts.stepMs ?? 1000;
      const target = clock.now() + ms;
      while (clock.now() < target) {
        clock.advanceTo(Math.min(target, clock.now() + step));
        await clock.idle();
        await new Promise((r) => setImmediate(r));
      }
    },
    async drive(work, opts = {}) {
      const step = opts.stepMs ?? 10_000;
      const limit = clock.now() + (opts.maxVirtualMs ?? 4 * 3600_000);
      let settled = false;
      const tracked = work.finally(() => {
        settled = true;
      });
      tracked.catch(() => undefined);
      for (;;) {
        await wallPause();
        await clock.idle();
        if (settled) return tracked;
        if (clock.now() >= limit)
          throw new Error(
            `[TIMEOUT] drive: work did not settle within ${(opts.maxVirtualMs ?? 4 * 3600_000) / 1000} virtual seconds`,
          );
        const next = clock.nextDueTime();
        const to = Math.min(
          clock.now() + step,
          next !== undefined && next > clock.now() ? next : clock.now() + step,
          limit,
        );
        clock.advanceTo(to);
      }
    },
    async stop() {
      if (driver !== undefined) clearInterval(driver);
      alerts.stop();
      world.stop();
      await clock.idle();
      await Promise.all([closeServer(armServer), closeServer(endpointServer)]);
    },
  };
  return sim;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
