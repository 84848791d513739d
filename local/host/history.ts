/**
 * History events in the exact shape the Durable extension sends to durable-functions (PascalCase fields,
 * `EventType` numbers from DurableTask.Core), plus the "friendly" form the status API returns with `showHistory`.
 */
import { createHash } from "node:crypto";
import type { HistoryEvent } from "./store";

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));

export function eventTypeName(type: number): string {
  return NAMES[type] ?? `Unknown${type}`;
}

export function historyEvent(
  type: number,
  at: number,
  fields: Record<string, unknown> = {},
  eventId = -1,
): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: new Date(at).toISOString(), ...fields };
}

/** A GUID-shaped id derived from `seed` (deterministic: the same seed always gives the same id). */
export function deterministicGuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== "string") return text ?? null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The status API's `historyEvents`: the extension folds TaskScheduled into the matching completion (as
 * `ScheduledTime`) and leaves out the OrchestratorStarted/Completed bookkeeping.
 */
export function friendlyHistory(
  history: ReadonlyArray<HistoryEvent>,
  orchestratorName: string,
  options: { showHistoryOutput: boolean; showInput: boolean },
): Array<Record<string, unknown>> {
  const scheduled = new Map<number, HistoryEvent>();
  const out: Array<Record<string, unknown>> = [];
  for (const e of history) {
    const type = e.EventType;
    if (type === EventType.TaskScheduled || type === EventType.SubOrchestrationInstanceCreated) {
      scheduled.set(e.EventId, e);
      continue;
    }
    if (type === EventType.OrchestratorStarted || type === EventType.OrchestratorCompleted) continue;
    const item: Record<string, unknown> = {
      EventType: eventTypeName(type),
      EventId: e.EventId,
      Timestamp: e.Timestamp,
    };
    switch (type) {
      case EventType.ExecutionStarted:
        item["FunctionName"] = orchestratorName;
        if (options.showInput) item["Input"] = parseJson(e["Input"]);
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const s = scheduled.get(Number(e["TaskScheduledId"]));
        item["FunctionName"] = s?.["Name"];
        item["ScheduledTime"] = s?.Timestamp;
        if (type === EventType.TaskCompleted || type === EventType.SubOrchestrationInstanceCompleted) {
          if (options.showHistoryOutput) item["Result"] = parseJson(e["Result"]);
        } else {
          item["Reason"] = e["Reason"];
          item["Details"] = e["Details"];
        }
        break;
      }
      case EventType.TimerCreated:
      case EventType.TimerFired:
        item["FireAt"] = e["FireAt"];
        if (type === EventType.TimerFired) item["TimerId"] = e["TimerId"];
        break;
      case EventType.EventRaised:
        item["Name"] = e["Name"];
        if (options.showHistoryOutput) item["Input"] = parseJson(e["Input"]);
        break;
      case EventType.EventSent:
        item["Name"] = e["Name"];
        item["InstanceId"] = e["InstanceId"];
        break;
      case EventType.ExecutionCompleted:
        item["OrchestrationStatus"] = e["OrchestrationStatus"];
        if (options.showHistoryOutput) item["Result"] = parseJson(e["Result"]);
        break;
      case EventType.ExecutionTerminated:
        item["Input"] = parseJson(e["Input"]);
        break;
      default:
        break;
    }
    out.push(item);
  }
  return out;
}
