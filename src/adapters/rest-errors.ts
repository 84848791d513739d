/**
 * The one place that turns SDK errors (`RestError` and friends) into `CutoverError`s. Never includes request or
 * response bodies beyond the service's error code and message.
 */
import { isRestError } from "@azure/core-rest-pipeline";
import { classifyArmError } from "../domain/arm-errors";
import { CutoverError } from "../domain/errors";

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
