/** Every request the simulator answered, in order, for assertions ("what did the adapter call?"). */

export type SimService = "arm" | "metrics" | "logs" | "endpoint" | "control" | "kubernetes";

export interface RequestLogEntry {
  readonly seq: number;
  /** Virtual epoch ms when the request arrived. */
  readonly at: number;
  readonly service: SimService;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly apiVersion: string | undefined;
  status: number;
  /** Id of the fault that answered this request, if one did. */
  fault: string | undefined;
  /** `x-cutover-vantage` header, if sent. */
  readonly vantage: string | undefined;
  /** Parsed JSON body of a write, if any. */
  readonly body: unknown;
}

export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];

  add(entry: Omit<RequestLogEntry, "seq">): RequestLogEntry {
    const e: RequestLogEntry = { ...entry, seq: this.entries.length + 1 };
    this.entries.push(e);
    return e;
  }

  all(): ReadonlyArray<RequestLogEntry> {
    return this.entries;
  }

  /** Entries matching a method and a path pattern (substring, case-insensitive, or RegExp). */
  find(filter: { service?: SimService; method?: string; path?: string | RegExp } = {}): RequestLogEntry[] {
    return this.entries.filter(
      (e) =>
        (filter.service === undefined || e.service === filter.service) &&
        (filter.method === undefined || e.method === filter.method.toUpperCase()) &&
        (filter.path === undefined ||
          (typeof filter.path === "string"
            ? e.path.toLowerCase().includes(filter.path.toLowerCase())
            : filter.path.test(e.path))),
    );
  }

  clear(): void {
    this.entries.length = 0;
  }
}
