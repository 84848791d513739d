/**
 * The world's timeline: every state change with its virtual timestamp. Tests and benchmarks assert on it, and two
 * runs with the same scenario, seed and request sequence produce identical timelines.
 */

export type TimelineKind =
  | "fault-started"
  | "fault-cleared"
  | "pool-operation-started"
  | "pool-operation-succeeded"
  | "pool-operation-failed"
  | "pool-operation-canceled"
  | "node-ready"
  | "nodes-lost"
  | "nodes-restored"
  | "endpoint-health-changed"
  | "model-load-started"
  | "model-loaded"
  | "model-unloaded"
  | "gate-changed"
  | "origin-unhealthy"
  | "origin-healthy"
  | "frontdoor-change-accepted"
  | "frontdoor-arm-completed"
  | "frontdoor-config-applied"
  | "propagation-finished"
  | "alert-fired"
  | "alert-resolved"
  | "alert-delivered"
  | "alert-delivery-failed";

export interface TimelineEvent {
  /** Virtual epoch milliseconds. */
  readonly at: number;
  /** Seconds since the scenario started (virtual). */
  readonly t: number;
  readonly kind: TimelineKind;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export class Timeline {
  private readonly events: TimelineEvent[] = [];
  constructor(private readonly startedAt: number) {}

  add(at: number, kind: TimelineKind, detail: TimelineEvent["detail"] = {}): TimelineEvent {
    const e: TimelineEvent = { at, t: Math.round(at - this.startedAt) / 1000, kind, detail };
    this.events.push(e);
    return e;
  }

  all(): ReadonlyArray<TimelineEvent> {
    return this.events;
  }

  ofKind(kind: TimelineKind): TimelineEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }

  /** Events whose detail contains every given key/value. */
  where(kind: TimelineKind, match: Readonly<Record<string, string | number | boolean | null>>): TimelineEvent[] {
    return this.events.filter((e) => e.kind === kind && Object.entries(match).every(([k, v]) => e.detail[k] === v));
  }
}
