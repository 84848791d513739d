/**
 * The in-process local host (DESIGN.md §6): runs a Functions v4 + durable-functions v3 app with no Functions host,
 * no Core Tools and no Azure account. It serves the app's HTTP triggers on loopback with function-key checks, fires
 * timer triggers and durable timers on a shared {@link VirtualClock}, and serves the Durable extension's HTTP API
 * so that the app's real `DurableClient` works unchanged.
 *
 * Time moves only when someone moves it: {@link LocalHost.advanceTime}, {@link LocalHost.runUntilIdle} with
 * `advanceTimers`, {@link LocalHost.waitForInstance}, the background auto-advance mode, or real time (dev mode).
 * Every jump happens only when the host is idle: no episode pending, no activity or entity operation in flight,
 * no HTTP request being served, and `clock.idle()` resolved.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { VirtualClock, DEFAULT_EPOCH, type ScheduledHandle } from "../clock";
import { loadApp, type AppEntry, type Registration } from "./app-loader";
import { DurableEngine, isTerminal, type HostEvent, type OrchestrationStatus } from "./durable-engine";
import { handleDurableApi, type ApiRequest, type ApiResponse } from "./durable-http-api";
import { LocalHostError } from "./errors";
import { readHostJson, type OverridableStates } from "./host-json";
import { FunctionInvocationError, Invoker, type RpcData, type RpcHttpOut } from "./invoker";
import { compileRoute, sortRoutes, type CompiledRoute } from "./routes";
import { parseSchedule, type TimerSchedule } from "./schedule";
import { MemoryHistoryStore, type EntityRecord, type HistoryStore, type InstanceRecord } from "./store";

export interface LocalHostOptions {
  /** The app: a JS file (compiled), a TS file (loaded through tsx), or a thunk that imports it. */
  readonly entry: AppEntry;
  /** Loopback port; 0 (default) lets the OS choose. */
  readonly port?: number;
  /** The default function key (accepted by `authLevel: "function"` routes). Random when omitted. */
  readonly functionKey?: string;
  /** The master key (accepted everywhere, required by `authLevel: "admin"`). Random when omitted. */
  readonly masterKey?: string;
  /** Shared with the Azure simulator. A new clock (at the store's last time, or 2030-01-01) when omitted. */
  readonly clock?: VirtualClock;
  /** Histories and entity state. A new {@link MemoryHistoryStore} when omitted. */
  readonly store?: HistoryStore;
  /** App settings applied to `process.env` before the entry loads (restored on stop). */
  readonly env?: Readonly<Record<string, string>>;
  /** host.json to read; defaults to `<cwd>/host.json`; `null` reads none. */
  readonly hostJsonPath?: string | null;
  /** Overrides of host.json values. */
  readonly hubName?: string;
  readonly overridableExistingInstanceStates?: OverridableStates;
  /** Called before the entry loads, e.g. to reset module state (`resetComposition`). */
  readonly beforeLoad?: () => void | Promise<void>;
  /** Receives every event-log line as it happens (dev mode prints them). */
  readonly onEvent?: (event: HostEvent) => void;
}

export interface RequestLogEntry {
  readonly seq: number;
  /** Virtual time when the request arrived. */
  readonly at: number;
  readonly method: string;
  /** Path and query, with key parameters (`code`) redacted. */
  readonly path: string;
  readonly status: number;
  /** The HTTP function that served it, or "durable-api" / undefined. */
  readonly target: string | undefined;
}

export interface RunUntilIdleOptions {
  /** Jump virtual time to the next due item while a durable timer is pending. Default false. */
  readonly advanceTimers?: boolean;
  /** With `advanceTimers`, keep running everything due up to this virtual time (epoch ms), even without timers. */
  readonly until?: number;
}

export interface WaitForInstanceOptions {
  /** Jump virtual time when the instance waits on a timer. Default true. */
  readonly advanceTimers?: boolean;
  /** Give up after this much virtual time (default 7 days). */
  readonly timeoutVirtualMs?: number;
  /** Give up after this much wall time with nothing left to run (default 10 s); a diagnostic, not a timing check. */
  readonly stuckAfterWallMs?: number;
}

export interface AutoAdvanceOptions {
  /** Never move virtual time past this epoch ms. */
  readonly until?: number;
}

const MAX_BODY = 100 * 1024 * 1024;
/** Both logs keep the latest entries only, so a long `cutover dev` session does not grow without bound. */
const LOG_LIMIT = 50_000;

function redact(path: string): string {
  return path.replace(/([?&]code=)[^&]*/gi, "$1***");
}

/** The host; create it with {@link startLocalHost}. */
export class LocalHost {
  readonly clock: VirtualClock;
  readonly functionKey: string;
  readonly masterKey: string;
  readonly systemKey: string;
  readonly store: HistoryStore;
  #baseUrl = "";
  #hubName = "";
  #registrations: ReadonlyMap<string, Registration> = new Map();
  #engine: DurableEngine | undefined;
  #invoker: Invoker | undefined;
  #server: Server | undefined;
  #routes: Array<CompiledRoute<Registration>> = [];
  #routePrefix = "api";
  readonly #requestLog: RequestLogEntry[] = [];
  readonly #eventLog: HostEvent[] = [];
  #eventSeq = 0;
  #requestSeq = 0;
  readonly #timerHandles = new Map<string, ScheduledHandle>();
  #envRestore: Array<[string, string | undefined]> = [];
  #auto: { stop: boolean; wake: () => void; done: Promise<void> } | undefined;
  #realTime: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #options: LocalHostOptions;
  #unsubscribeSchedule: (() => void) | undefined;
  #scheduleWaiters: Array<() => void> = [];

  constructor(options: LocalHostOptions, clock: VirtualClock, store: HistoryStore) {
    this.#options = options;
    this.clock = clock;
    this.store = store;
    this.functionKey = options.functionKey ?? randomBytes(24).toString("base64url");
    this.masterKey = options.masterKey ?? randomBytes(24).toString("base64url");
    this.systemKey = randomBytes(24).toString("base64url");
  }

  get baseUrl(): string {
    return this.#baseUrl;
  }
  get hubName(): string {
    return this.#hubName;
  }
  get registrations(): ReadonlyMap<string, Registration> {
    return this.#registrations;
  }
  get requestLog(): ReadonlyArray<RequestLogEntry> {
    return this.#requestLog;
  }
  get eventLog(): ReadonlyArray<HostEvent> {
    return this.#eventLog;
  }
  #engineOrThrow(): DurableEngine {
    if (this.#engine === undefined || this.#stopped) throw new LocalHostError("STOPPED", "the local host is stopped");
    return this.#engine;
  }

  // ------------------------------------------------------------------ start / stop

  /** @internal used by {@link startLocalHost}. */
  async start(): Promise<void> {
    const o = this.#options;
    this.#server = createServer((req, res) => this.#onRequest(req, res));
    await new Promise<void>((ok, fail) => {
      this.#server!.once("error", fail);
      this.#server!.listen(o.port ?? 0, "127.0.0.1", () => ok());
    });
    const port = (this.#server.address() as AddressInfo).port;
    this.#baseUrl = `http://127.0.0.1:${port}`;
    try {
      const env: Record<string, string> = { WEBSITE_HOSTNAME: `127.0.0.1:${port}`, ...(o.env ?? {}) };
      this.#applyEnv(env);
      const hostJsonPath = o.hostJsonPath === null ? undefined : resolve(o.hostJsonPath ?? "host.json");
      const hostJson = readHostJson(hostJsonPath, process.env);
      this.#hubName = o.hubName ?? hostJson.hubName;
      this.#routePrefix = hostJson.routePrefix;
      await o.beforeLoad?.();
      const app = await loadApp(o.entry);
      this.#registrations = app.registrations;
      this.#invoker = new Invoker({
        programmingModel: app.programmingModel,
        session: app.session,
        onLog: (name, l) => this.#log({ kind: "log", name, message: `[${l.level}] ${l.message}` }),
      });
      const schedules = this.#parseTimerSchedules();
      this.#routes = sortRoutes(
        [...this.#registrations.values()]
          .filter((r) => r.kind === "http")
          .map((r) => compileRoute(r.route ?? r.name, r)),
      );
      this.#engine = new DurableEngine({
        invoker: this.#invoker,
        registrations: this.#registrations,
        store: this.store,
        clock: this.clock,
        hubName: this.#hubName,
        overridableExistingInstanceStates:
          o.overridableExistingInstanceStates ?? hostJson.overridableExistingInstanceStates,
        maxConcurrentActivities: hostJson.maxConcurrentActivityFunctions,
        clientData: () => JSON.stringify(this.clientData()),
        log: (e) => this.#log(e),
      });
      this.#unsubscribeSchedule = this.clock.onSchedule(() => {
        const w = this.#scheduleWaiters;
        this.#scheduleWaiters = [];
        for (const f of w) f();
      });
      await this.#invoker.runAppHooks("appStart");
      await this.#engine.start();
      for (const [reg, schedule] of schedules) this.#armTimerTrigger(reg, schedule, this.clock.now());
      for (const [reg, schedule] of schedules) {
        if (reg.runOnStartup === true) this.#fireTimerTrigger(reg, schedule.next(this.clock.now()), false);
      }
    } catch (error) {
      await this.#closeServer();
      this.#restoreEnv();
      throw error;
    }
  }

  /** Stops serving and scheduling. Work still in flight finishes in the background but is never written. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.stopRealTime();
    if (this.#auto !== undefined) {
      this.#auto.stop = true;
      this.#auto.wake();
    }
    this.#engine?.stop();
    for (const h of this.#timerHandles.values()) h.cancel();
    this.#timerHandles.clear();
    this.#unsubscribeSchedule?.();
    try {
      await this.#invoker?.runAppHooks("appTerminate");
    } catch (error) {
      this.#log({ kind: "warning", message: `appTerminate hook failed: ${(error as Error).message}` });
    }
    await this.#closeServer();
    this.#restoreEnv();
  }

  async #closeServer(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  }

  #applyEnv(env: Record<string, string>): void {
    for (const [k, v] of Object.entries(env)) {
      this.#envRestore.push([k, process.env[k]]);
      process.env[k] = v;
    }
  }

  #restoreEnv(): void {
    for (const [k, v] of this.#envRestore.reverse()) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    this.#envRestore = [];
  }

  #log(e: Omit<HostEvent, "seq" | "at">): void {
    const event: HostEvent = { seq: ++this.#eventSeq, at: this.clock.now(), ...e };
    this.#eventLog.push(event);
    if (this.#eventLog.length > LOG_LIMIT) this.#eventLog.splice(0, this.#eventLog.length - LOG_LIMIT);
    this.#options.onEvent?.(event);
  }

  // ------------------------------------------------------------------ durable client data

  /** The binding data the Durable extension gives a `durableClient` input (what `df.getClient()` reads). */
  clientData(): Record<string, unknown> {
    const hub = this.#hubName;
    const wh = `${this.#baseUrl}/runtime/webhooks/durabletask`;
    const q = `taskHub=${hub}&connection=Storage&code=${this.systemKey}`;
    return {
      taskHubName: hub,
      creationUrls: {
        createNewInstancePostUri: `${wh}/orchestrators/{functionName}[/{instanceId}]?code=${this.systemKey}`,
        waitOnNewInstancePostUri: `${wh}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${this.systemKey}`,
      },
      managementUrls: this.#managementUrls("INSTANCEID"),
      baseUrl: wh,
      requiredQueryStringParameters: q,
      rpcBaseUrl: `${this.#baseUrl}/durabletask/`,
    };
  }

  #managementUrls(id: string): Record<string, string> {
    const wh = `${this.#baseUrl}/runtime/webhooks/durabletask`;
    const q = `taskHub=${this.#hubName}&connection=Storage&code=${this.systemKey}`;
    const i = id === "INSTANCEID" ? id : encodeURIComponent(id);
    return {
      id,
      statusQueryGetUri: `${wh}/instances/${i}?${q}`,
      sendEventPostUri: `${wh}/instances/${i}/raiseEvent/{eventName}?${q}`,
      terminatePostUri: `${wh}/instances/${i}/terminate?reason={text}&${q}`,
      rewindPostUri: `${wh}/instances/${i}/rewind?reason={text}&${q}`,
      purgeHistoryDeleteUri: `${wh}/instances/${i}?${q}`,
      restartPostUri: `${wh}/instances/${i}/restart?${q}`,
      suspendPostUri: `${wh}/instances/${i}/suspend?reason={text}&${q}`,
      resumePostUri: `${wh}/instances/${i}/resume?reason={text}&${q}`,
    };
  }

  // ------------------------------------------------------------------ HTTP

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.#stopped || this.#engine === undefined) {
      res.writeHead(503).end();
      return;
    }
    const work = this.#serve(req, res).catch((error: unknown) => {
      this.#log({ kind: "warning", message: `request failed: ${(error as Error).stack ?? String(error)}` });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    void this.#engine.track(work);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = this.clock.now();
    const url = new URL(req.url ?? "/", this.#baseUrl);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const method = (req.method ?? "GET").toUpperCase();
    let target: string | undefined;
    let status: number;
    const path = url.pathname;
    if (path.startsWith("/durabletask/") || path === "/durabletask") {
      target = "durable-api";
      status = this.#writeApi(res, this.#callApi(path.slice("/durabletask/".length), url, req, body, method));
    } else if (path.startsWith("/runtime/webhooks/durabletask/")) {
      target = "durable-api";
      const code = url.searchParams.get("code") ?? headerValue(req.headers["x-functions-key"]);
      if (code !== this.systemKey && code !== this.masterKey) {
        status = 401;
        res.writeHead(401).end();
      } else {
        status = this.#writeApi(
          res,
          this.#callApi(path.slice("/runtime/webhooks/durabletask/".length), url, req, body, method),
        );
      }
    } else if (path === "/" || path === "") {
      status = 200;
      res
        .writeHead(200, { "content-type": "text/plain; charset=utf-8" })
        .end("Cutover local host: the app is up and running.\n");
    } else {
      const r = await this.#serveFunction(req, res, url, body, method);
      status = r.status;
      target = r.target;
    }
    if (this.#requestLog.length >= LOG_LIMIT) this.#requestLog.splice(0, this.#requestLog.length - LOG_LIMIT + 1);
    this.#requestLog.push({
      seq: ++this.#requestSeq,
      at,
      method,
      path: redact(url.pathname + url.search),
      status,
      target,
    });
  }

  #callApi(sub: string, url: URL, req: IncomingMessage, body: Buffer, method: string): ApiResponse {
    const request: ApiRequest = {
      method,
      path: sub,
      query: url.searchParams,
      headers: req.headers,
      body,
      url: url.href,
    };
    return handleDurableApi(
      { engine: this.#engineOrThrow(), managementPayload: (id) => this.#managementUrls(id) },
      request,
    );
  }

  #writeApi(res: ServerResponse, r: ApiResponse): number {
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    let payload: string | undefined;
    if (r.body !== undefined) {
      payload = JSON.stringify(r.body);
      headers["content-type"] = "application/json; charset=utf-8";
    }
    res.writeHead(r.status, headers).end(payload);
    return r.status;
  }

  async #serveFunction(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: Buffer,
    method: string,
  ): Promise<{ status: number; target: string | undefined }> {
    const prefix = this.#routePrefix === "" ? "/" : `/${this.#routePrefix}/`;
    const path = url.pathname;
    if (!(
      path.toLowerCase().startsWith(prefix.toLowerCase()) || path.toLowerCase() === prefix.slice(0, -1).toLowerCase()
    )) {
      res.writeHead(404).end();
      return { status: 404, target: undefined };
    }
    const sub = path.slice(prefix.length);
    let matched: { route: CompiledRoute<Registration>; params: Record<string, string> } | undefined;
    const allowed = new Set<string>();
    for (const route of this.#routes) {
      const params = route.match(sub);
      if (params === undefined) continue;
      const methods = route.value.methods ?? ["GET", "POST"];
      if (methods.includes(method)) {
        matched = { route, params };
        break;
      }
      for (const m of methods) allowed.add(m);
    }
    if (matched === undefined) {
      if (allowed.size > 0) {
        res.writeHead(405, { allow: [...allowed].join(", ") }).end();
        return { status: 405, target: undefined };
      }
      res.writeHead(404).end();
      return { status: 404, target: undefined };
    }
    const reg = matched.route.value;
    if (!this.#authorized(reg, req, url)) {
      res.writeHead(401).end();
      return { status: 401, target: reg.name };
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const rpc: Record<string, unknown> = {
      method,
      url: url.href,
      headers,
      params: matched.params,
      query: Object.fromEntries(url.searchParams),
      ...(body.length > 0 ? { body: { bytes: new Uint8Array(body) } } : {}),
    };
    const extra = new Map<string, RpcData>();
    for (const b of reg.durableClientInputs) extra.set(b, { string: JSON.stringify(this.clientData()) });
    let out: RpcHttpOut | null | undefined;
    try {
      const r = await this.#invoker!.invoke(reg, { http: rpc }, extra);
      out = r.returnValue?.http;
    } catch (error) {
      const cause = error instanceof FunctionInvocationError ? error.cause : error;
      this.#log({
        kind: "warning",
        name: reg.name,
        message: `HTTP function failed: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`,
      });
      res.writeHead(500).end();
      return { status: 500, target: reg.name };
    }
    if (out === undefined || out === null) {
      res.writeHead(204).end();
      return { status: 204, target: reg.name };
    }
    const status = Number(out.statusCode ?? "200") || 200;
    const outHeaders: Record<string, string | string[]> = { ...(out.headers ?? {}) };
    const cookies = (out.cookies ?? []).map(formatCookie);
    if (cookies.length > 0) outHeaders["set-cookie"] = cookies;
    const b = out.body;
    let bytes: Buffer | undefined;
    if (b?.bytes !== undefined && b.bytes !== null) bytes = Buffer.from(b.bytes);
    else if (typeof b?.string === "string") bytes = Buffer.from(b.string, "utf8");
    res.writeHead(status, outHeaders).end(bytes);
    return { status, target: reg.name };
  }

  #authorized(reg: Registration, req: IncomingMessage, url: URL): boolean {
    const level = reg.authLevel ?? "anonymous";
    if (level === "anonymous") return true;
    const key = url.searchParams.get("code") ?? headerValue(req.headers["x-functions-key"]);
    if (key === undefined || key === null || key === "") return false;
    if (key === this.masterKey) return true;
    return level === "function" && key === this.functionKey;
  }

  // ------------------------------------------------------------------ timer triggers

  #parseTimerSchedules(): Array<[Registration, TimerSchedule]> {
    const out: Array<[Registration, TimerSchedule]> = [];
    for (const reg of this.#registrations.values()) {
      if (reg.kind !== "timer") continue;
      out.push([reg, parseSchedule(reg.schedule ?? "", process.env, reg.name)]);
    }
    return out;
  }

  #armTimerTrigger(reg: Registration, schedule: TimerSchedule, after: number): void {
    if (this.#stopped) return;
    const next = schedule.next(after);
    if (next === undefined) return;
    this.#timerHandles.set(
      reg.name,
      this.clock.schedule(
        next,
        () => {
          this.#timerHandles.delete(reg.name);
          this.#fireTimerTrigger(reg, schedule.next(next), false, after);
          this.#armTimerTrigger(reg, schedule, next);
        },
        `timer trigger ${reg.name}`,
      ),
    );
  }

  #fireTimerTrigger(reg: Registration, nextAt: number | undefined, isPastDue: boolean, last?: number): void {
    if (this.#stopped || this.#engine === undefined) return;
    const now = this.clock.now();
    const timer = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: {
        Last: new Date(last ?? now).toISOString(),
        Next: nextAt === undefined ? null : new Date(nextAt).toISOString(),
        LastUpdated: new Date(now).toISOString(),
      },
      IsPastDue: isPastDue,
    };
    const extra = new Map<string, RpcData>();
    for (const b of reg.durableClientInputs) extra.set(b, { string: JSON.stringify(this.clientData()) });
    this.#log({ kind: "timer-trigger", name: reg.name });
    const work = this.#invoker!.invoke(reg, { json: JSON.stringify(timer) }, extra).catch((error: unknown) => {
      const cause = error instanceof FunctionInvocationError ? error.cause : error;
      this.#log({
        kind: "warning",
        name: reg.name,
        message: `timer function failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      });
    });
    void this.#engine.track(work);
  }

  // ------------------------------------------------------------------ time control

  /** Resolves when the host is idle (see the module comment). */
  async settle(): Promise<void> {
    const engine = this.#engineOrThrow();
    for (;;) {
      await engine.whenIdle();
      await this.clock.idle();
      await new Promise<void>((r) => setImmediate(r));
      if (this.#stopped || (!engine.isBusy() && this.clock.inFlightCount() === 0)) return;
    }
  }

  /**
   * Runs everything runnable. With `advanceTimers`, jumps virtual time to each next due item (durable timers,
   * timer triggers, simulator events) while a durable timer is pending, or up to `until`.
   */
  async runUntilIdle(options: RunUntilIdleOptions = {}): Promise<void> {
    const engine = this.#engineOrThrow();
    for (;;) {
      await this.settle();
      if (this.#stopped || options.advanceTimers !== true) return;
      const next = this.clock.nextDueTime();
      if (options.until !== undefined) {
        if (next === undefined || next > options.until) {
          if (this.clock.now() < options.until) this.clock.advanceTo(options.until);
          await this.settle();
          return;
        }
      } else if (engine.nextTimerDue() === undefined || next === undefined) return;
      this.clock.advanceTo(next);
    }
  }

  /** Moves virtual time forward by `ms`, stopping at every due item on the way and letting the host settle. */
  async advanceTime(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new LocalHostError("INVALID_OPTIONS", `advanceTime needs a non-negative number (got ${ms})`);
    const target = this.clock.now() + ms;
    for (;;) {
      await this.settle();
      const next = this.clock.nextDueTime();
      if (next === undefined || next > target) break;
      this.clock.advanceTo(next);
    }
    this.clock.advanceTo(target);
    await this.settle();
  }

  /**
   * Background run-to-quiescence: whenever the host is idle, jumps to the next due item (never past `until`).
   * Drive a scenario with it, then {@link stopAutoAdvance}.
   */
  startAutoAdvance(options: AutoAdvanceOptions = {}): void {
    if (this.#auto !== undefined) throw new LocalHostError("INVALID_OPTIONS", "auto-advance is already running");
    if (this.#realTime !== undefined) throw new LocalHostError("INVALID_OPTIONS", "the clock is following real time");
    const engine = this.#engineOrThrow();
    let wakeUp: () => void = () => undefined;
    const state = { stop: false, wake: () => wakeUp(), done: Promise.resolve() };
    state.done = (async () => {
      while (!state.stop && !this.#stopped) {
        await this.settle();
        if (state.stop || this.#stopped) break;
        const next = this.clock.nextDueTime();
        if (next === undefined || (options.until !== undefined && next > options.until)) {
          await new Promise<void>((r) => {
            wakeUp = r;
            void engine.nextChange().then(r);
            this.#scheduleWaiters.push(r);
          });
          continue;
        }
        this.clock.advanceTo(next);
      }
    })();
    this.#auto = state;
  }

  async stopAutoAdvance(): Promise<void> {
    const auto = this.#auto;
    if (auto === undefined) return;
    auto.stop = true;
    auto.wake();
    await auto.done;
    this.#auto = undefined;
  }

  /** Dev mode: the virtual clock follows wall-clock time (times `speed`), so timers fire as under `func start`. */
  startRealTime(speed = 1): void {
    if (this.#auto !== undefined) throw new LocalHostError("INVALID_OPTIONS", "auto-advance is running");
    if (!(speed > 0)) throw new LocalHostError("INVALID_OPTIONS", `speed must be positive (got ${speed})`);
    let last = Date.now();
    this.#realTime = setInterval(() => {
      const now = Date.now();
      this.clock.advanceBy((now - last) * speed);
      last = now;
    }, 20);
    this.#realTime.unref();
  }

  stopRealTime(): void {
    if (this.#realTime !== undefined) clearInterval(this.#realTime);
    this.#realTime = undefined;
  }

  // ------------------------------------------------------------------ instances

  getStatus(
    instanceId: string,
    options: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean } = {},
  ): OrchestrationStatus | undefined {
    return this.#engineOrThrow().status(instanceId, options);
  }

  /** Starts an orchestration directly (tests); the app itself uses its DurableClient. */
  startNew(name: string, options: { instanceId?: string; input?: unknown } = {}): string {
    const r = this.#engineOrThrow().startNew(
      name,
      options.instanceId,
      options.input === undefined ? null : JSON.stringify(options.input),
    );
    if (!r.ok) throw new LocalHostError("INVALID_OPTIONS", r.message);
    return r.instanceId;
  }

  /** Raw store records (history, inbox, pending work) for tests and debugging. */
  getRecord(instanceId: string): ReturnType<DurableEngine["getRecord"]> {
    return this.#engineOrThrow().getRecord(instanceId);
  }

  /**
   * Every instance and entity as the engine holds it now: the same content `store.load()` returns once the host has
   * settled (the engine writes every change through), without copying and parsing every history. The records are
   * live — read them, never change them. For callers that look often (the simulate loop checks after every chunk).
   */
  records(): { readonly instances: ReadonlyArray<InstanceRecord>; readonly entities: ReadonlyArray<EntityRecord> } {
    const engine = this.#engineOrThrow();
    return { instances: engine.listRecords(), entities: engine.listEntityRecords() };
  }

  /** Waits until the instance is Completed, Failed or Terminated, moving virtual time as needed (see options). */
  async waitForInstance(instanceId: string, options: WaitForInstanceOptions = {}): Promise<OrchestrationStatus> {
    const engine = this.#engineOrThrow();
    const advance = options.advanceTimers ?? true;
    const deadline = this.clock.now() + (options.timeoutVirtualMs ?? 7 * 24 * 3600_000);
    const stuckAfter = options.stuckAfterWallMs ?? 10_000;
    for (;;) {
      if (this.#stopped) throw new LocalHostError("STOPPED", "the local host stopped");
      if (this.#auto === undefined && this.#realTime === undefined) await this.settle();
      const s = engine.status(instanceId);
      if (s === undefined) throw new LocalHostError("NOT_FOUND", `no orchestration instance "${instanceId}"`);
      if (isTerminal(s.runtimeStatus)) return s;
      const next = this.clock.nextDueTime();
      if (this.#auto === undefined && this.#realTime === undefined && advance && next !== undefined) {
        if (next > deadline) {
          throw new LocalHostError(
            "TIMEOUT",
            `instance "${instanceId}" is still ${s.runtimeStatus} after ${options.timeoutVirtualMs ?? 7 * 24 * 3600_000} virtual ms`,
          );
        }
        this.clock.advanceTo(next);
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const stuck = await new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), stuckAfter);
        void engine.nextChange().then(() => r(false));
        this.#scheduleWaiters.push(() => r(false));
      });
      clearTimeout(timer);
      if (stuck && !engine.isBusy()) {
        throw new LocalHostError(
          "STUCK",
          `instance "${instanceId}" is ${s.runtimeStatus} and nothing is left to run` +
            (advance ? "" : " without advancing timers") +
            ": it waits for an external event, an entity response or a timer that nothing will deliver",
        );
      }
    }
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function formatCookie(c: Record<string, unknown>): string {
  const val = (x: unknown): unknown => (typeof x === "object" && x !== null && "value" in x ? x.value : x);
  let s = `${String(c["name"])}=${String(c["value"])}`;
  const domain = val(c["domain"]);
  const path = val(c["path"]);
  const expires = val(c["expires"]);
  const maxAge = val(c["maxAge"]);
  if (typeof domain === "string") s += `; Domain=${domain}`;
  if (typeof path === "string") s += `; Path=${path}`;
  if (typeof expires === "number") s += `; Expires=${new Date(expires).toUTCString()}`;
  if (typeof maxAge === "number") s += `; Max-Age=${maxAge}`;
  if (val(c["secure"]) === true) s += "; Secure";
  if (val(c["httpOnly"]) === true) s += "; HttpOnly";
  const sameSite = c["sameSite"];
  if (sameSite === 1 || sameSite === "Lax") s += "; SameSite=Lax";
  else if (sameSite === 2 || sameSite === "Strict") s += "; SameSite=Strict";
  else if (sameSite === 3 || sameSite === "None") s += "; SameSite=None";
  return s;
}

/**
 * Starts a local host: listens on loopback, applies `env`, loads the entry and captures its registrations, resumes
 * any work found in the store, and arms timer triggers. Rejects with a {@link LocalHostError} naming the problem
 * when the app registers nothing or something the host cannot run.
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const store = options.store ?? new MemoryHistoryStore();
  let clock = options.clock;
  if (clock === undefined) {
    // Resume where the stored instances left off, so a restarted host never runs time backwards.
    const snapshot = await store.load();
    const latest = Math.max(snapshot.meta?.clockNow ?? 0, ...snapshot.instances.map((i) => i.lastUpdatedTime));
    clock = new VirtualClock(Math.max(DEFAULT_EPOCH, latest));
  }
  const host = new LocalHost(options, clock, store);
  await host.start();
  return host;
}
