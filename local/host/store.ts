/**
 * Where the local host keeps orchestration histories, pending work and entity state, so that a host stopped in the
 * middle of orchestrations can be replaced by a new host over the same store that finishes every one.
 *
 * Invariant: the engine writes a record after every change it must not lose (an episode's new history and the work
 * it scheduled, an activity's result, an entity operation's new state), and only reads the store at start-up. Every
 * record is stored as JSON text, so a value that does not survive serialisation fails here as it would in Azure.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { AppendOnlyJsonArray } from "./append-only-json";

export type RuntimeStatus =
  "Pending" | "Running" | "Completed" | "Failed" | "Terminated" | "ContinuedAsNew" | "Suspended" | "Canceled";

/** A history event as the Durable extension sends it to the SDK (PascalCase fields, ISO `Timestamp`). */
export interface HistoryEvent {
  readonly EventType: number;
  readonly EventId: number;
  IsPlayed: boolean;
  readonly Timestamp: string;
  readonly [field: string]: unknown;
}

/** A sequence-consuming action the orchestrator has produced, with the id it was given. */
export interface KnownAction {
  readonly id: number;
  readonly kind: ActionKind;
  readonly name: string;
}

export type ActionKind = "activity" | "timer" | "subOrchestration" | "entityCall" | "entitySignal" | "http";

export interface ActivityWork {
  readonly id: number;
  readonly name: string;
  /** JSON text of the input, or undefined when the orchestrator passed none. */
  readonly input: string | undefined;
  /** Set when the activity finished; results are released to the inbox in id order (see the engine). */
  result?:
    | { readonly ok: true; readonly json: string }
    | { readonly ok: false; readonly reason: string; readonly details: string };
}

export interface DurableTimer {
  readonly id: number;
  readonly fireAt: number;
}

export interface RetryState {
  /** Id of the first attempt: the key of this retry task. */
  readonly firstId: number;
  readonly kind: "activity" | "subOrchestration";
  readonly name: string;
  readonly input: string | undefined;
  readonly subInstanceId: string | undefined;
  readonly maxAttempts: number;
  readonly firstIntervalMs: number;
  readonly backoff: number;
  readonly maxIntervalMs: number | undefined;
  attempts: number;
  currentId: number;
  waitingTimerId: number | undefined;
}

export interface InstanceRecord {
  readonly instanceId: string;
  name: string;
  executionId: string;
  version: string;
  /** JSON text of the input, or null. */
  input: string | null;
  runtimeStatus: RuntimeStatus;
  createdTime: number;
  lastUpdatedTime: number;
  output: string | null;
  customStatus: string | null;
  parent: { readonly instanceId: string; readonly executionId: string; readonly taskScheduledId: number } | null;
  history: HistoryEvent[];
  /** Events waiting for the next episode, tagged with the execution they belong to. */
  inbox: Array<{ readonly executionId: string; readonly event: HistoryEvent }>;
  known: KnownAction[];
  nextSeq: number;
  timers: DurableTimer[];
  activities: ActivityWork[];
  retries: RetryState[];
  /** Number of episodes run (for logs and the benchmark). */
  episodes: number;
}

export interface EntityOperation {
  readonly requestId: string;
  readonly operation: string;
  /** JSON text of the input, or undefined. */
  readonly input: string | undefined;
  readonly signal: boolean;
  /** The calling orchestration, for calls (the response goes to its inbox). */
  readonly parent: { readonly instanceId: string; readonly executionId: string } | undefined;
}

export interface EntityRecord {
  /** Scheduler id: `@<lower-case name>@<key>`. */
  readonly id: string;
  readonly name: string;
  readonly key: string;
  exists: boolean;
  state: string | undefined;
  queue: EntityOperation[];
  lastModified: number;
}

export interface StoreMeta {
  /** Counter behind generated instance ids, so that ids are deterministic and never reused. */
  idCounter: number;
  /** The latest virtual time the host saw. */
  clockNow: number;
}

export interface StoreSnapshot {
  readonly instances: InstanceRecord[];
  readonly entities: EntityRecord[];
  readonly meta: StoreMeta | undefined;
}

/**
 * Invariant for every store: an instance's `history` only grows (events are appended, never changed once stored);
 * a new execution (continue-as-new) replaces the array. A store may therefore encode only the events it has not
 * seen yet (as {@link MemoryHistoryStore} does).
 */
export interface HistoryStore {
  load(): Promise<StoreSnapshot>;
  putInstance(record: InstanceRecord): Promise<void>;
  deleteInstance(instanceId: string): Promise<void>;
  putEntity(record: EntityRecord): Promise<void>;
  putMeta(meta: StoreMeta): Promise<void>;
}

/** Marks where the history goes in a stored instance's JSON (no instance field holds this string by accident). */
const HISTORY_MARK = "cutover-history-slot-9f4c1e0a7d2b";
const HISTORY_SLOT = JSON.stringify(HISTORY_MARK);

interface StoredInstance {
  /** The record's JSON with the history replaced by {@link HISTORY_SLOT}. */
  head: string;
  /** The history's JSON items (without brackets), as they were at the last put. */
  historyItems: string;
  readonly history: AppendOnlyJsonArray<HistoryEvent>;
}

/**
 * In-memory store for tests and simulations: survives hosts (pass the same object to the next host), not processes.
 * Every put stores JSON text (a value that does not survive serialisation fails here as in Azure); the history part
 * is encoded incrementally (see {@link HistoryStore}), so a put costs the new events, not the whole history.
 */
export class MemoryHistoryStore implements HistoryStore {
  readonly #instances = new Map<string, StoredInstance>();
  readonly #entities = new Map<string, string>();
  #meta: string | undefined;

  load(): Promise<StoreSnapshot> {
    return Promise.resolve({
      instances: [...this.#instances.values()].map((i) => {
        const at = i.head.indexOf(HISTORY_SLOT);
        const text = `${i.head.slice(0, at)}[${i.historyItems}]${i.head.slice(at + HISTORY_SLOT.length)}`;
        return JSON.parse(text) as InstanceRecord;
      }),
      entities: [...this.#entities.values()].map((t) => JSON.parse(t) as EntityRecord),
      meta: this.#meta === undefined ? undefined : (JSON.parse(this.#meta) as StoreMeta),
    });
  }
  putInstance(record: InstanceRecord): Promise<void> {
    let stored = this.#instances.get(record.instanceId);
    if (stored === undefined) {
      stored = { head: "", historyItems: "", history: new AppendOnlyJsonArray<HistoryEvent>() };
      this.#instances.set(record.instanceId, stored);
    }
    stored.historyItems = stored.history.itemsJson(record.history);
    stored.head = JSON.stringify({ ...record, history: HISTORY_MARK });
    return Promise.resolve();
  }
  deleteInstance(instanceId: string): Promise<void> {
    this.#instances.delete(instanceId);
    return Promise.resolve();
  }
  putEntity(record: EntityRecord): Promise<void> {
    this.#entities.set(record.id, JSON.stringify(record));
    return Promise.resolve();
  }
  putMeta(meta: StoreMeta): Promise<void> {
    this.#meta = JSON.stringify(meta);
    return Promise.resolve();
  }
  /** Number of stored instances (tests). */
  get instanceCount(): number {
    return this.#instances.size;
  }
}

/**
 * One JSON file per instance and per entity under `dir`, written atomically (temporary file, then rename), so a
 * process killed mid-write leaves the previous version intact.
 */
export class FileHistoryStore implements HistoryStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, "instances"), { recursive: true });
    mkdirSync(join(dir, "entities"), { recursive: true });
  }

  load(): Promise<StoreSnapshot> {
    const read = <T>(sub: string): T[] =>
      readdirSync(join(this.dir, sub))
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => JSON.parse(readFileSync(join(this.dir, sub, f), "utf8")) as T);
    const metaPath = join(this.dir, "meta.json");
    return Promise.resolve({
      instances: read<InstanceRecord>("instances"),
      entities: read<EntityRecord>("entities"),
      meta: existsSync(metaPath) ? (JSON.parse(readFileSync(metaPath, "utf8")) as StoreMeta) : undefined,
    });
  }
  putInstance(record: InstanceRecord): Promise<void> {
    this.#write(join(this.dir, "instances", `${fileKey(record.instanceId)}.json`), record);
    return Promise.resolve();
  }
  deleteInstance(instanceId: string): Promise<void> {
    rmSync(join(this.dir, "instances", `${fileKey(instanceId)}.json`), { force: true });
    return Promise.resolve();
  }
  putEntity(record: EntityRecord): Promise<void> {
    this.#write(join(this.dir, "entities", `${fileKey(record.id)}.json`), record);
    return Promise.resolve();
  }
  putMeta(meta: StoreMeta): Promise<void> {
    this.#write(join(this.dir, "meta.json"), meta);
    return Promise.resolve();
  }
  #write(path: string, value: unknown): void {
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, path);
  }
}

function fileKey(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}
