/**
 * The one error type Cutover throws, and the closed union of its codes.
 *
 * Expected outcomes (no capacity in a zone, quota exceeded, an invalid checkpoint) are returned as
 * discriminated unions, never thrown. Only transient or programming failures are thrown, and an activity that
 * throws starts its message with `[CODE]` so the orchestrator can read the code back with
 * {@link errorCodeOf}: error classes do not survive the trip from activity to orchestrator.
 */
export type CutoverErrorCode =
  | "INVALID_INPUT"
  | "INVALID_TOPOLOGY"
  | "INVALID_CONFIG"
  | "NOT_FOUND"
  | "CONFLICT"
  | "THROTTLED"
  | "TRANSIENT"
  | "TIMEOUT"
  | "UNAUTHORIZED"
  | "ALLOCATION_FAILED"
  | "QUOTA_EXCEEDED"
  | "PRECONDITION_FAILED"
  | "NON_DETERMINISM"
  | "INTERNAL";

const CODES: ReadonlySet<string> = new Set<CutoverErrorCode>([
  "INVALID_INPUT",
  "INVALID_TOPOLOGY",
  "INVALID_CONFIG",
  "NOT_FOUND",
  "CONFLICT",
  "THROTTLED",
  "TRANSIENT",
  "TIMEOUT",
  "UNAUTHORIZED",
  "ALLOCATION_FAILED",
  "QUOTA_EXCEEDED",
  "PRECONDITION_FAILED",
  "NON_DETERMINISM",
  "INTERNAL",
]);

/** Codes a caller may retry with backoff. */
const RETRYABLE: ReadonlySet<CutoverErrorCode> = new Set<CutoverErrorCode>([
  "THROTTLED",
  "TRANSIENT",
  "TIMEOUT",
  "CONFLICT",
]);

export interface CutoverErrorOptions {
  readonly retryable?: boolean;
  readonly cause?: unknown;
  /** Seconds the server asked us to wait (ARM `Retry-After`), when known. */
  readonly retryAfterSeconds?: number;
}

export class CutoverError extends Error {
  override readonly name = "CutoverError" as const;
  readonly code: CutoverErrorCode;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: CutoverErrorCode, message: string, options: CutoverErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Reads the `[CODE]` prefix back from an error or message that crossed the activity boundary. */
export function errorCodeOf(error: unknown): CutoverErrorCode | undefined {
  if (error instanceof CutoverError) return error.code;
  const message = error instanceof Error ? error.message : typeof error === "string" ? error : undefined;
  if (message === undefined) return undefined;
  const match = /\[([A-Z_]+)\]/.exec(message);
  const code = match?.[1];
  return code !== undefined && CODES.has(code) ? (code as CutoverErrorCode) : undefined;
}

export function isRetryableCode(code: CutoverErrorCode | undefined): boolean {
  return code !== undefined && RETRYABLE.has(code);
}
