/** Small helpers shared by the HTTP handlers: JSON responses and turning thrown errors into status codes. */
import type { HttpResponseInit } from "@azure/functions";
import { errorCodeOf } from "../domain/errors";

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { "content-type": "application/json", ...headers } };
}

export function problem(status: number, reason: string, extra: Record<string, unknown> = {}): HttpResponseInit {
  return json(status, { error: reason, ...extra });
}

/**
 * Maps a failure of Cutover itself (storage, configuration, Azure) to a status: bad configuration is 500 with the
 * reason, transient trouble 503 so that callers such as Azure Monitor's action groups retry.
 */
export function failure(error: unknown): HttpResponseInit {
  const code = errorCodeOf(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (code === "INVALID_CONFIG") return problem(500, reason);
  if (code === "INVALID_INPUT") return problem(400, reason);
  if (code === "NOT_FOUND") return problem(404, reason);
  return problem(503, reason, { retryable: true });
}
