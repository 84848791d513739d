/**
 * The one place that turns SDK errors (`RestError` and friends) into `CutoverError`s. Never includes request or
 * response bodies beyond the service's error code and message.
 */
import { isRestError } from "@azure/core-rest-pipeline";
import { classifyArmError } from "../domain/arm-errors";
import { CutoverError, type CutoverErrorCode } from "../domain/errors";

export interface ServiceError {
  readonly status?: number;
  readonly code?: string;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

/** Extracts status, code, message and Retry-After from anything an Azure SDK may throw. */
export function serviceError(error: unknown): ServiceError {
  if (isRestError(error)) {
    const retryAfter = error.response?.headers.get("retry-after");
    const seconds = retryAfter === undefined ? undefined : Number(retryAfter);
    return {
      ...(error.statusCode === undefined ? {} : { status: error.statusCode }),
      ...(error.code === undefined ? {} : { code: error.code }),
      message: error.message,
      ...(seconds === undefined || Number.isNaN(seconds) ? {} : { retryAfterSeconds: seconds }),
    };
  }
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; statusCode?: unknown };
    return {
      ...(typeof e.statusCode === "number" ? { status: e.statusCode } : {}),
      ...(typeof e.code === "string" ? { code: e.code } : {}),
      message: error.message,
    };
  }
  return { message: String(error) };
}

/** Maps an SDK error to a CutoverError with a code from the closed union. */
export function toCutoverError(error: unknown, what: string): CutoverError {
  if (error instanceof CutoverError) return error;
  const info = serviceError(error);
  const code = classifyArmError(info);
  const label = [info.status, info.code].filter((x) => x !== undefined).join(" ");
  return new CutoverError(code, `${what}: ${label === "" ? "" : `${label}: `}${info.message}`, {
    cause: error,
    ...(info.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: info.retryAfterSeconds }),
  });
}

/** What {@link statusErrorToCutover} reads: a `RestError`, or any object with the same fields. */
export interface SdkErrorLike {
  readonly name?: unknown;
  readonly statusCode?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly response?: { readonly headers?: { get?(name: string): string | undefined } };
}

/**
 * Status-based mapping for services whose error messages must not be repeated (the Blob data plane, Azure ML jobs):
 * the message names the action, the HTTP status and the service's error code only. `refine` gives a status/code
 * pair the service's own meaning (Blob: 412 is a failed precondition, 503 `ServerBusy` is throttling).
 */
export function statusErrorToCutover(
  error: unknown,
  action: string,
  refine?: (status: number, code: string | undefined) => CutoverErrorCode | undefined,
): CutoverError {
  if (error instanceof CutoverError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkErrorLike;
  const status = typeof e.statusCode === "number" ? e.statusCode : undefined;
  const code = typeof e.code === "string" ? e.code : undefined;
  const label = code ?? (typeof e.name === "string" ? e.name : "error");
  const what = `${action}: ${status === undefined ? "" : `HTTP ${status} `}${label}`;
  const raw = e.response?.headers?.get?.("retry-after");
  const retryAfter = raw === undefined ? undefined : Number(raw);
  const opts = {
    cause: error,
    ...(retryAfter !== undefined && Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
  };
  if (status === undefined) return new CutoverError("TRANSIENT", what, opts);
  const refined = refine?.(status, code);
  if (refined !== undefined) return new CutoverError(refined, what, opts);
  if (status === 401 || status === 403) return new CutoverError("UNAUTHORIZED", what, opts);
  if (status === 404) return new CutoverError("NOT_FOUND", what, opts);
  if (status === 409) return new CutoverError("CONFLICT", what, opts);
  if (status === 429) return new CutoverError("THROTTLED", what, opts);
  if (status === 408) return new CutoverError("TIMEOUT", what, opts);
  if (status >= 500) return new CutoverError("TRANSIENT", what, opts);
  return new CutoverError("INVALID_INPUT", what, { ...opts, retryable: false });
}
