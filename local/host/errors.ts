/**
 * Errors the local host raises for bad input or an app it cannot run. They carry a literal `name` and a closed
 * `code` so that the CLI and tests can tell them apart without parsing messages.
 */
export type LocalHostErrorCode =
  | "NO_FUNCTIONS"
  | "UNSUPPORTED_BINDING"
  | "TEST_MODE"
  | "ENTRY_NOT_FOUND"
  | "ENTRY_FAILED"
  | "INVALID_OPTIONS"
  | "INVALID_HOST_JSON"
  | "INVALID_SCHEDULE"
  | "NOT_FOUND"
  | "STUCK"
  | "TIMEOUT"
  | "STOPPED";

export class LocalHostError extends Error {
  override readonly name = "LocalHostError" as const;
  readonly code: LocalHostErrorCode;

  constructor(code: LocalHostErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
