/**
 * The Durable extension's HTTP API, as `DurableClient` (durable-functions 3.5.0) and webhook callers use it: the
 * RPC base (`/durabletask/…`, which the client prefers when `rpcBaseUrl` is set) and the public webhook routes
 * (`/runtime/webhooks/durabletask/…`, which `createCheckStatusResponse` links point to). Status codes and bodies
 * follow the extension's `HttpApiHandler`: 202 + Location while running, 200 when finished (500 for Failed only
 * with `returnInternalServerErrorOnFailure=true`), 410 for events or terminations of finished instances, 404 for
 * unknown ones.
 */
import type { DurableEngine } from "./durable-engine";
import { isTerminal } from "./durable-engine";
import type { RuntimeStatus } from "./store";

export interface ApiRequest {
  readonly method: string;
  /** Path below the API base, without a leading slash (e.g. `instances/abc/raiseEvent/go`). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The full URL of the request (for the Location header). */
  readonly url: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export interface DurableApiContext {
  readonly engine: DurableEngine;
  /** Check-status links for an instance, on the public webhook base. */
  readonly managementPayload: (instanceId: string) => Record<string, string>;
}

function decodeSegments(path: string): string[] {
  return path
    .split("/")
    .filter((s, i, all) => s !== "" || i < all.length - 1)
    .map((s) => decodeURIComponent(s));
}

function error(status: number, message: string, exceptionMessage?: string, exceptionType?: string): ApiResponse {
  return {
    status,
    body: {
      Message: message,
      ...(exceptionMessage === undefined ? {} : { ExceptionMessage: exceptionMessage }),
      ...(exceptionType === undefined ? {} : { ExceptionType: exceptionType }),
    },
  };
}

function bool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  return undefined;
}

function bodyText(body: Buffer): string | null {
  return body.length === 0 ? null : body.toString("utf8");
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function handleDurableApi(ctx: DurableApiContext, req: ApiRequest): ApiResponse {
  const seg = decodeSegments(req.path);
  const [head, a, b, c] = seg;
  const method = req.method.toUpperCase();
  const engine = ctx.engine;

  if (head === "orchestrators" && a !== undefined && a !== "") {
    if (method !== "POST") return { status: 404 };
    const text = bodyText(req.body);
    if (text !== null && !isJson(text)) return error(400, "Invalid JSON content");
    const version = req.query.get("version") ?? "";
    const result = engine.startNew(a, b, text, version);
    if (!result.ok) {
      return result.status === 400
        ? error(400, "One or more of the arguments submitted is incorrect", result.message, result.exceptionType)
        : error(500, "Something went wrong while processing your request", result.message, result.exceptionType);
    }
    const payload = ctx.managementPayload(result.instanceId);
    return {
      status: 202,
      headers: { Location: payload["statusQueryGetUri"] ?? "", "Retry-After": "10" },
      body: payload,
    };
  }

  if (head === "instances") {
    const id = a;
    if (id === undefined || id === "") {
      if (method === "GET") return listInstances(engine, req.query);
      if (method === "DELETE") return purgeByFilter(engine, req.query);
      return { status: 404 };
    }
    if (b === undefined) {
      if (method === "GET") return getStatus(engine, id, req);
      if (method === "DELETE")
        return engine.purge(id) ? { status: 200, body: { instancesDeleted: 1 } } : { status: 404 };
      return { status: 404 };
    }
    if (method !== "POST") return { status: 404 };
    const op = b.toLowerCase();
    if (op === "raiseevent" && c !== undefined) {
      const rec = engine.getRecord(id);
      if (rec === undefined) return { status: 404 };
      if (isTerminal(rec.runtimeStatus)) return { status: 410 };
      const contentType = String(req.headers["content-type"] ?? "")
        .split(";")[0]
        ?.trim()
        .toLowerCase();
      if (contentType !== "application/json") return error(400, "Only application/json request content is supported");
      const text = bodyText(req.body);
      if (text !== null && !isJson(text)) return error(400, "Invalid JSON content");
      const r = engine.raiseEvent(id, c, text);
      return { status: r === "accepted" ? 202 : r === "gone" ? 410 : 404 };
    }
    if (op === "terminate") {
      const r = engine.terminate(id, req.query.get("reason") ?? "");
      return { status: r === "accepted" ? 202 : r === "gone" ? 410 : 404 };
    }
    if (op === "rewind" || op === "suspend" || op === "resume" || op === "restart") {
      return error(501, `The ${b} operation is not supported by the local host.`);
    }
    return { status: 404 };
  }

  if (head === "entities" && a !== undefined && a !== "") {
    const key = b === undefined || b === "$" ? "" : b;
    if (method === "GET") {
      if (b === undefined) return error(501, "Listing entities is not supported by the local host.");
      const r = engine.readEntity(a, key);
      if (!r.exists) return { status: 404 };
      return { status: 200, body: r.state === undefined ? null : (JSON.parse(r.state) as unknown) };
    }
    if (method === "POST" || method === "DELETE") {
      if (key === "") return error(400, "The entity key must not be empty.");
      const operation = method === "DELETE" ? "delete" : (req.query.get("op") ?? "");
      const text = bodyText(req.body);
      if (text !== null && !isJson(text)) return error(400, "Invalid JSON content");
      engine.signalEntity(a, key, operation, text ?? undefined);
      return { status: 202 };
    }
    return { status: 404 };
  }
  return { status: 404 };
}

function getStatus(engine: DurableEngine, id: string, req: ApiRequest): ApiResponse {
  const q = req.query;
  const status = engine.status(id, {
    showHistory: bool(q, "showHistory") === true,
    showHistoryOutput: bool(q, "showHistoryOutput") === true,
    showInput: bool(q, "showInput") ?? true,
  });
  if (status === undefined) return { status: 404 };
  const running: ReadonlyArray<RuntimeStatus> = ["Running", "Pending", "ContinuedAsNew", "Suspended"];
  if (running.includes(status.runtimeStatus)) {
    return { status: 202, headers: { Location: req.url, "Retry-After": "5" }, body: status };
  }
  if (status.runtimeStatus === "Failed" && bool(q, "returnInternalServerErrorOnFailure") === true) {
    return { status: 500, body: status };
  }
  return { status: 200, body: status };
}

function matchesFilter(engine: DurableEngine, q: URLSearchParams): (id: string) => boolean {
  const statuses = (q.get("runtimeStatus") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const from = q.get("createdTimeFrom");
  const to = q.get("createdTimeTo");
  const prefix = q.get("instanceIdPrefix");
  const fromMs = from === null ? undefined : Date.parse(from);
  const toMs = to === null ? undefined : Date.parse(to);
  return (id) => {
    const rec = engine.getRecord(id);
    if (rec === undefined) return false;
    if (statuses.length > 0 && !statuses.includes(rec.runtimeStatus)) return false;
    if (fromMs !== undefined && !Number.isNaN(fromMs) && rec.createdTime < fromMs) return false;
    if (toMs !== undefined && !Number.isNaN(toMs) && rec.createdTime > toMs) return false;
    if (prefix !== null && !rec.instanceId.startsWith(prefix)) return false;
    return true;
  };
}

function listInstances(engine: DurableEngine, q: URLSearchParams): ApiResponse {
  const keep = matchesFilter(engine, q);
  const showInput = bool(q, "showInput") ?? false;
  const all = engine
    .listRecords()
    .filter((r) => keep(r.instanceId))
    .sort((x, y) => x.createdTime - y.createdTime || x.instanceId.localeCompare(y.instanceId))
    .map((r) => engine.status(r.instanceId, { showInput })!);
  return { status: 200, body: all };
}

function purgeByFilter(engine: DurableEngine, q: URLSearchParams): ApiResponse {
  if (q.get("createdTimeFrom") === null)
    return { status: 400, body: "Please provide value for 'createdTimeFrom' parameter." };
  const keep = matchesFilter(engine, q);
  const ids = engine
    .listRecords()
    .filter((r) => keep(r.instanceId))
    .map((r) => r.instanceId);
  for (const id of ids) engine.purge(id);
  return ids.length === 0 ? { status: 404 } : { status: 200, body: { instancesDeleted: ids.length } };
}
