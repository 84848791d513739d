/**
 * The Durable Task part of the local host: runs orchestrations by replaying their history through the real
 * durable-functions SDK (invoked through the captured programming model, exactly as the extension does), runs
 * activities and entity operations, keeps durable timers on the shared {@link VirtualClock}, and persists every
 * change to a {@link HistoryStore}.
 *
 * Invariants that make runs reproducible and restartable:
 * - Sequence numbers are assigned the way the SDK assigns them: the i-th sequence-consuming action (flattened, in
 *   order) of an execution gets the next number, and `callActivityWithRetry` allocates one more number when a
 *   failure is processed (its retry timer) and one when that timer fires (the next attempt). So that allocation
 *   order is unambiguous, an event that allocates is always the first new event of its episode.
 * - On every replay the actions already known must come back identical (kind and name); otherwise the instance
 *   fails with a non-determinism error, as DurableTask.Core does.
 * - An instance's activity results are released to its inbox in scheduling order once none of its activities is
 *   still running, so histories do not depend on I/O timing (and a result, once stored, is never recomputed).
 * - Virtual time never moves while anything is in flight (see {@link DurableEngine.isBusy}).
 */
import type { ScheduledHandle, VirtualClock } from "../clock";
import type { Registration } from "./app-loader";
import { LocalHostError } from "./errors";
import { deterministicGuid, EventType, friendlyHistory, historyEvent } from "./history";
import type { OverridableStates } from "./host-json";
import { FunctionInvocationError, rpcToJsonText, rpcToValue, type Invoker, type RpcData } from "./invoker";
import type {
  ActionKind,
  EntityOperation,
  EntityRecord,
  HistoryEvent,
  HistoryStore,
  InstanceRecord,
  RetryState,
  RuntimeStatus,
  StoreMeta,
} from "./store";

/** One line of the host's event log (what ran, at which virtual time). */
export interface HostEvent {
  readonly seq: number;
  /** Virtual time (epoch ms). */
  readonly at: number;
  readonly kind:
    | "instance-started"
    | "episode"
    | "instance-completed"
    | "instance-failed"
    | "instance-terminated"
    | "continued-as-new"
    | "activity-started"
    | "activity-completed"
    | "activity-failed"
    | "timer-fired"
    | "event-raised"
    | "entity-operation"
    | "timer-trigger"
    | "non-determinism"
    | "log"
    | "warning";
  readonly name?: string;
  readonly instanceId?: string;
  readonly message?: string;
}

export interface OrchestrationStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input: unknown;
  readonly customStatus: unknown;
  readonly output: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly historyEvents?: Array<Record<string, unknown>>;
}

export interface DurableEngineOptions {
  readonly invoker: Invoker;
  readonly registrations: ReadonlyMap<string, Registration>;
  readonly store: HistoryStore;
  readonly clock: VirtualClock;
  readonly hubName: string;
  readonly overridableExistingInstanceStates: OverridableStates;
  readonly maxConcurrentActivities: number;
  /** The durable client binding data (JSON text) given to functions with a durableClient input. */
  readonly clientData: () => string;
  readonly log: (event: Omit<HostEvent, "seq" | "at">) => void;
}

type StartResult =
  | { readonly ok: true; readonly instanceId: string }
  | { readonly ok: false; readonly status: 400 | 500; readonly message: string; readonly exceptionType: string };

/** Raw action objects as the SDK serialises them (see durable-functions `ActionType`). */
interface RawAction {
  readonly actionType: number;
  readonly functionName?: string;
  readonly input?: unknown;
  readonly instanceId?: string;
  readonly operation?: string;
  readonly fireAt?: string;
  readonly isCanceled?: boolean;
  readonly retryOptions?: Record<string, unknown>;
  readonly compoundActions?: RawAction[];
}

interface OrchestratorStateJson {
  readonly isDone?: boolean;
  readonly actions?: RawAction[][];
  readonly output?: unknown;
  readonly error?: string;
  readonly customStatus?: unknown;
}

const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
} as const;

const TERMINAL: ReadonlySet<RuntimeStatus> = new Set(["Completed", "Failed", "Terminated", "Canceled"]);
const NOT_OVERRIDABLE_WHEN_NON_RUNNING: ReadonlySet<RuntimeStatus> = new Set([
  "Running",
  "Pending",
  "ContinuedAsNew",
  "Suspended",
]);
const NON_DETERMINISM_PREFIX = "Non-Deterministic workflow detected: ";

export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL.has(status);
}

function actionKind(a: RawAction): ActionKind | undefined {
  switch (a.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return "activity";
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return "subOrchestration";
    case ActionType.CreateTimer:
      return "timer";
    case ActionType.CallEntity:
      return "entityCall";
    case ActionType.SignalEntity:
      return "entitySignal";
    case ActionType.CallHttp:
      return "http";
    default:
      return undefined;
  }
}

function actionName(a: RawAction): string {
  switch (actionKind(a)) {
    case "activity":
    case "subOrchestration":
      return a.functionName ?? "";
    case "entityCall":
    case "entitySignal":
      return `${a.instanceId ?? ""}:${a.operation ?? ""}`;
    default:
      return "";
  }
}

function describe(kind: ActionKind, name: string): string {
  switch (kind) {
    case "activity":
      return `an activity task named '${name}'`;
    case "subOrchestration":
      return `a sub-orchestration named '${name}'`;
    case "timer":
      return "a timer";
    case "entityCall":
      return `an entity call '${name}'`;
    case "entitySignal":
      return `an entity signal '${name}'`;
    case "http":
      return "an HTTP call";
  }
}

function flatten(actions: ReadonlyArray<ReadonlyArray<RawAction>> | undefined): RawAction[] {
  const out: RawAction[] = [];
  const visit = (a: RawAction): void => {
    if (a.actionType === ActionType.WhenAll || a.actionType === ActionType.WhenAny) {
      for (const c of a.compoundActions ?? []) visit(c);
    } else out.push(a);
  };
  for (const group of actions ?? []) for (const a of group) visit(a);
  return out;
}

/** Inputs that durable-functions JSON-encodes a second time when they are strings (`Utils.processInput`). */
function processedInputToJson(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  return typeof input === "string" ? input : JSON.stringify(input);
}

function rawInputToJson(input: unknown): string | undefined {
  return input === undefined ? undefined : JSON.stringify(input);
}

function parseJsonText(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Validation of instance ids, as the Durable extension does for StartNewAsync. */
export function instanceIdProblem(id: string): string | undefined {
  if (id.length === 0) return "Orchestration instance ids must not be empty.";
  if (id.length > 256) return "Instance ID lengths must not exceed 256 characters.";
  if (id.startsWith("@")) return "Orchestration instance ids must not start with @.";
  // eslint-disable-next-line no-control-regex
  if (/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(id)) {
    return "Orchestration instance ids must not contain /, \\, #, ? or control characters.";
  }
  return undefined;
}

export class DurableEngine {
  readonly #o: DurableEngineOptions;
  readonly #instances = new Map<string, InstanceRecord>();
  readonly #entities = new Map<string, EntityRecord>();
  #meta: StoreMeta = { idCounter: 0, clockNow: 0 };
  readonly #ready: string[] = [];
  readonly #readySet = new Set<string>();
  #pumping = false;
  #busy = 0;
  #stopped = false;
  readonly #timerHandles = new Map<string, ScheduledHandle>();
  readonly #activityQueue: Array<() => void> = [];
  #runningActivities = 0;
  readonly #entityRunning = new Set<string>();
  #idleWaiters: Array<() => void> = [];
  #changeWaiters: Array<() => void> = [];

  constructor(options: DurableEngineOptions) {
    this.#o = options;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Loads the store and resumes everything that was in flight: re-runs unfinished activities, re-arms timers. */
  async start(): Promise<void> {
    const snapshot = await this.#o.store.load();
    if (snapshot.meta !== undefined) this.#meta = { ...snapshot.meta };
    for (const e of snapshot.entities) this.#entities.set(e.id, e);
    for (const rec of snapshot.instances) this.#instances.set(rec.instanceId, rec);
    for (const rec of this.#instances.values()) {
      if (isTerminal(rec.runtimeStatus)) continue;
      for (const t of rec.timers) this.#armTimer(rec, t.id, t.fireAt);
      for (const a of rec.activities) if (a.result === undefined) this.#dispatchActivity(rec, a.id);
      this.#releaseActivityResults(rec);
      if (rec.inbox.length > 0) this.#markReady(rec.instanceId);
    }
    for (const e of this.#entities.values()) this.#pumpEntity(e.id);
  }

  /** Stops scheduling: late results of work still in flight are dropped, never written. */
  stop(): void {
    this.#stopped = true;
    for (const h of this.#timerHandles.values()) h.cancel();
    this.#timerHandles.clear();
    this.#activityQueue.length = 0;
    this.#notifyIdle();
    this.#notifyChange();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  // ---------------------------------------------------------------- busy / idle tracking

  /** Marks external work (an HTTP request, a timer-trigger invocation) as in flight until the promise settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#busy++;
    const done = (): void => this.#endWork();
    work.then(done, done);
    return work;
  }

  isBusy(): boolean {
    return this.#busy > 0 || this.#ready.length > 0;
  }

  /** Resolves when no episode, activity, entity operation or tracked request is in flight. */
  whenIdle(): Promise<void> {
    if (!this.isBusy() || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves at the next state change (new work, a status change, a timer armed or fired). */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.#changeWaiters.push(resolve));
  }

  #beginWork(): void {
    this.#busy++;
  }

  #endWork(): void {
    this.#busy--;
    if (!this.isBusy()) this.#notifyIdle();
    this.#notifyChange();
  }

  #notifyIdle(): void {
    const w = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const f of w) f();
  }

  #notifyChange(): void {
    const w = this.#changeWaiters;
    this.#changeWaiters = [];
    for (const f of w) f();
  }

  /** Earliest pending durable timer (virtual ms), if any. */
  nextTimerDue(): number | undefined {
    let min: number | undefined;
    for (const rec of this.#instances.values()) {
      if (isTerminal(rec.runtimeStatus)) continue;
      for (const t of rec.timers) if (min === undefined || t.fireAt < min) min = t.fireAt;
    }
    return min;
  }

  // ---------------------------------------------------------------- persistence
  // Writes are tracked as work, so the host is not idle (and time does not move) while one is still pending.

  #write(pending: Promise<void>): void {
    this.track(pending).catch((error: unknown) => {
      this.#o.log({ kind: "warning", message: `store write failed: ${(error as Error).message}` });
    });
  }

  #persist(rec: InstanceRecord): void {
    if (this.#stopped) return;
    this.#write(this.#o.store.putInstance(rec));
  }

  #persistEntity(rec: EntityRecord): void {
    if (this.#stopped) return;
    this.#write(this.#o.store.putEntity(rec));
  }

  #persistMeta(): void {
    if (this.#stopped) return;
    this.#meta.clockNow = this.#o.clock.now();
    this.#write(this.#o.store.putMeta(this.#meta));
  }

  // ---------------------------------------------------------------- client operations

  newInstanceId(): string {
    this.#meta.idCounter++;
    this.#persistMeta();
    return deterministicGuid(`${this.#o.hubName}:instance:${this.#meta.idCounter}`).replace(/-/g, "");
  }

  /** `client.startNew` semantics of the Durable extension, including `overridableExistingInstanceStates`. */
  startNew(name: string, instanceId: string | undefined, inputJson: string | null, version = ""): StartResult {
    const reg = this.#o.registrations.get(name);
    if (reg === undefined || reg.kind !== "orchestration") {
      return {
        ok: false,
        status: 400,
        message: `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
        exceptionType: "System.ArgumentException",
      };
    }
    const id = instanceId === undefined || instanceId === "" ? this.newInstanceId() : instanceId;
    const problem = instanceIdProblem(id);
    if (problem !== undefined) {
      return { ok: false, status: 400, message: problem, exceptionType: "System.ArgumentException" };
    }
    const existing = this.#instances.get(id);
    if (existing !== undefined) {
      const refuse =
        this.#o.overridableExistingInstanceStates === "NonRunningStates" &&
        NOT_OVERRIDABLE_WHEN_NON_RUNNING.has(existing.runtimeStatus);
      if (refuse) {
        return {
          ok: false,
          status: 500,
          message: `An Orchestration instance with the status ${existing.runtimeStatus} already exists.`,
          exceptionType: "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
        };
      }
      this.#forgetInstanceWork(existing);
    }
    this.#createInstance(id, name, inputJson, version, null);
    return { ok: true, instanceId: id };
  }

  #createInstance(
    id: string,
    name: string,
    inputJson: string | null,
    version: string,
    parent: InstanceRecord["parent"],
  ): InstanceRecord {
    const now = this.#o.clock.now();
    const executionId = deterministicGuid(`${id}:execution:${now}:${this.#meta.idCounter}`).replace(/-/g, "");
    const rec: InstanceRecord = {
      instanceId: id,
      name,
      executionId,
      version,
      input: inputJson,
      runtimeStatus: "Pending",
      createdTime: now,
      lastUpdatedTime: now,
      output: null,
      customStatus: null,
      parent,
      history: [],
      inbox: [],
      known: [],
      nextSeq: 0,
      timers: [],
      activities: [],
      retries: [],
      episodes: 0,
    };
    rec.inbox.push({ executionId, event: this.#executionStarted(rec, now) });
    this.#instances.set(id, rec);
    this.#persist(rec);
    this.#o.log({ kind: "instance-started", name, instanceId: id });
    this.#markReady(id);
    return rec;
  }

  #executionStarted(rec: InstanceRecord, now: number): HistoryEvent {
    return historyEvent(EventType.ExecutionStarted, now, {
      Name: rec.name,
      Input: rec.input,
      Version: rec.version,
      OrchestrationInstance: { InstanceId: rec.instanceId, ExecutionId: rec.executionId },
      ParentInstance:
        rec.parent === null
          ? null
          : { OrchestrationInstance: { InstanceId: rec.parent.instanceId, ExecutionId: rec.parent.executionId } },
    });
  }

  #forgetInstanceWork(rec: InstanceRecord): void {
    for (const t of rec.timers) this.#disarmTimer(rec, t.id);
  }

  getRecord(instanceId: string): InstanceRecord | undefined {
    return this.#instances.get(instanceId);
  }

  listRecords(): InstanceRecord[] {
    return [...this.#instances.values()];
  }

  listEntityRecords(): EntityRecord[] {
    return [...this.#entities.values()];
  }

  status(
    instanceId: string,
    options: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean } = {},
  ): OrchestrationStatus | undefined {
    const rec = this.#instances.get(instanceId);
    if (rec === undefined) return undefined;
    return this.#statusOf(rec, options);
  }

  #statusOf(
    rec: InstanceRecord,
    options: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean },
  ): OrchestrationStatus {
    const showInput = options.showInput ?? true;
    const base: OrchestrationStatus = {
      name: rec.name,
      instanceId: rec.instanceId,
      runtimeStatus: rec.runtimeStatus,
      input: showInput ? parseJsonText(rec.input) : null,
      customStatus: parseJsonText(rec.customStatus),
      output: parseJsonText(rec.output),
      // The extension formats these with "s" + "Z" (whole seconds, UTC).
      createdTime: new Date(rec.createdTime).toISOString().replace(/\.\d{3}Z$/, "Z"),
      lastUpdatedTime: new Date(rec.lastUpdatedTime).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    if (options.showHistory !== true) return base;
    return {
      ...base,
      historyEvents: friendlyHistory(rec.history, rec.name, {
        showHistoryOutput: options.showHistoryOutput === true,
        showInput,
      }),
    };
  }

  /** @returns "not-found", "gone" (the instance is finished), or "accepted". */
  raiseEvent(instanceId: string, eventName: string, dataJson: string | null): "not-found" | "gone" | "accepted" {
    const rec = this.#instances.get(instanceId);
    if (rec === undefined) return "not-found";
    if (isTerminal(rec.runtimeStatus)) return "gone";
    const ev = historyEvent(EventType.EventRaised, this.#o.clock.now(), { Name: eventName, Input: dataJson });
    rec.inbox.push({ executionId: rec.executionId, event: ev });
    this.#persist(rec);
    this.#o.log({ kind: "event-raised", name: eventName, instanceId });
    this.#markReady(instanceId);
    return "accepted";
  }

  terminate(instanceId: string, reason: string): "not-found" | "gone" | "accepted" {
    const rec = this.#instances.get(instanceId);
    if (rec === undefined) return "not-found";
    if (isTerminal(rec.runtimeStatus)) return "gone";
    const ev = historyEvent(EventType.ExecutionTerminated, this.#o.clock.now(), { Input: JSON.stringify(reason) });
    rec.inbox.push({ executionId: rec.executionId, event: ev });
    this.#persist(rec);
    this.#markReady(instanceId);
    return "accepted";
  }

  purge(instanceId: string): boolean {
    const rec = this.#instances.get(instanceId);
    if (rec === undefined) return false;
    this.#forgetInstanceWork(rec);
    this.#instances.delete(instanceId);
    if (!this.#stopped) this.#write(this.#o.store.deleteInstance(instanceId));
    this.#notifyChange();
    return true;
  }

  // ---------------------------------------------------------------- entities (client side)

  signalEntity(name: string, key: string, operation: string, inputJson: string | undefined): void {
    this.#enqueueEntityOp(name, key, {
      requestId: deterministicGuid(`${this.#o.hubName}:signal:${++this.#meta.idCounter}`),
      operation,
      input: inputJson,
      signal: true,
      parent: undefined,
    });
    this.#persistMeta();
  }

  readEntity(name: string, key: string): { exists: boolean; state: string | undefined } {
    const rec = this.#entities.get(schedulerId(name, key));
    if (rec === undefined || !rec.exists) return { exists: false, state: undefined };
    return { exists: true, state: rec.state };
  }

  // ---------------------------------------------------------------- scheduling

  #markReady(instanceId: string): void {
    if (this.#stopped) return;
    if (!this.#readySet.has(instanceId)) {
      this.#readySet.add(instanceId);
      this.#ready.push(instanceId);
    }
    this.#notifyChange();
    if (!this.#pumping) {
      this.#pumping = true;
      this.#beginWork();
      void this.#pump();
    }
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        if (this.#stopped) break;
        const id = this.#ready.shift();
        if (id === undefined) break;
        this.#readySet.delete(id);
        const rec = this.#instances.get(id);
        if (rec === undefined) continue;
        try {
          await this.#runEpisode(rec);
        } catch (error) {
          this.#o.log({
            kind: "warning",
            instanceId: id,
            message: `episode crashed: ${(error as Error).stack ?? String(error)}`,
          });
        }
      }
    } finally {
      this.#pumping = false;
      this.#endWork();
    }
  }

  // ---------------------------------------------------------------- episodes

  #allocatingRetry(rec: InstanceRecord, ev: HistoryEvent): RetryState | undefined {
    if (ev.EventType === EventType.TaskFailed || ev.EventType === EventType.SubOrchestrationInstanceFailed) {
      return rec.retries.find((r) => r.currentId === ev["TaskScheduledId"] && r.waitingTimerId === undefined);
    }
    if (ev.EventType === EventType.TimerFired) {
      return rec.retries.find((r) => r.waitingTimerId === ev["TimerId"] && r.attempts < r.maxAttempts);
    }
    return undefined;
  }

  async #runEpisode(rec: InstanceRecord): Promise<void> {
    if (isTerminal(rec.runtimeStatus)) {
      if (rec.inbox.length > 0) {
        rec.inbox = [];
        this.#persist(rec);
      }
      return;
    }
    rec.inbox = rec.inbox.filter((i) => i.executionId === rec.executionId);
    const terminateAt = rec.inbox.findIndex((i) => i.event.EventType === EventType.ExecutionTerminated);
    if (terminateAt >= 0) {
      this.#terminateNow(rec, rec.inbox[terminateAt]!.event);
      return;
    }
    if (rec.inbox.length === 0) return;

    // Choose the batch so that a sequence-allocating event is always first (see the module comment).
    const isAllocating = (e: HistoryEvent): boolean => this.#allocatingRetry(rec, e) !== undefined;
    const firstAlloc = rec.inbox.findIndex((i) => isAllocating(i.event));
    let batchSize: number;
    if (firstAlloc === 0) {
      batchSize = 1;
      while (batchSize < rec.inbox.length && !isAllocating(rec.inbox[batchSize]!.event)) batchSize++;
    } else batchSize = firstAlloc > 0 ? firstAlloc : rec.inbox.length;
    const batch = rec.inbox.slice(0, batchSize).map((i) => i.event);

    const reg = this.#o.registrations.get(rec.name);
    const now = this.#o.clock.now();
    const started = historyEvent(EventType.OrchestratorStarted, now);
    const scheduled: HistoryEvent[] = [];
    const work: Array<() => void> = [];
    // Entity messages are sent even when the episode ends the execution (signal, then return or continueAsNew).
    const entityWork: Array<() => void> = [];
    if (firstAlloc === 0) this.#applyRetryAllocation(rec, batch[0]!, now, scheduled, work);

    let state: OrchestratorStateJson | undefined;
    let failure: string | undefined;
    if (reg === undefined || reg.kind !== "orchestration") {
      failure = `The function '${rec.name}' doesn't exist, is disabled, or is not an orchestrator function.`;
    } else {
      const payload = {
        history: [
          ...rec.history.map((e) => ({ ...e, IsPlayed: true })),
          started,
          ...batch.map((e) => ({ ...e, IsPlayed: false })),
        ],
        input: parseJsonText(rec.input),
        instanceId: rec.instanceId,
        isReplaying: rec.history.length > 0,
        parentInstanceId: rec.parent?.instanceId ?? null,
        upperSchemaVersion: 1,
        upperSchemaVersionNew: 2,
        longRunningTimerIntervalDuration: "3.00:00:00",
        // Far above any timer an app uses, so the SDK never splits timers (see docs/local-host.md).
        maximumShortTimerDuration: "3650.00:00:00",
        defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
      };
      try {
        const res = await this.#o.invoker.invoke(reg, { string: JSON.stringify(payload) });
        state = rpcToValue(res.returnValue) as OrchestratorStateJson;
      } catch (error) {
        const parsed = parseOutOfProcFailure(error);
        state = parsed.state;
        failure = parsed.message;
      }
    }
    if (this.#stopped) return;
    const stillThere = this.#instances.get(rec.instanceId);
    if (stillThere !== rec) return; // purged or replaced while the orchestrator ran

    // ---- from here on, synchronous until the commit
    const consumed = rec.inbox.splice(0, batchSize);
    void consumed;
    rec.episodes++;
    if (rec.runtimeStatus === "Pending") rec.runtimeStatus = "Running";
    if (state?.customStatus !== undefined) rec.customStatus = JSON.stringify(state.customStatus);
    const newEvents = [started, ...batch];

    const flat = flatten(state?.actions);
    const seqActions = flat.filter((a) => actionKind(a) !== undefined);
    const nd = this.#checkDeterminism(rec, seqActions, failure !== undefined);
    if (nd !== undefined) {
      this.#o.log({ kind: "non-determinism", instanceId: rec.instanceId, name: rec.name, message: nd });
      this.#finish(rec, "Failed", JSON.stringify(nd), newEvents, now, nd);
      return;
    }
    // Cancellations of known timers.
    for (let i = 0; i < Math.min(seqActions.length, rec.known.length); i++) {
      const a = seqActions[i]!;
      const k = rec.known[i]!;
      if (k.kind === "timer" && a.isCanceled === true) this.#cancelTimer(rec, k.id);
    }
    if (failure === undefined) {
      for (let i = rec.known.length; i < seqActions.length; i++) {
        const problem = this.#scheduleAction(rec, seqActions[i]!, now, scheduled, work, entityWork);
        if (problem !== undefined) {
          failure = problem;
          break;
        }
      }
    }
    if (failure !== undefined) {
      const message = failure.startsWith(NON_DETERMINISM_PREFIX)
        ? failure
        : `Orchestrator function '${rec.name}' failed: ${failure}`;
      this.#finish(rec, "Failed", JSON.stringify(message), newEvents, now, message);
      return;
    }
    const continueAsNew = flat.find((a) => a.actionType === ActionType.ContinueAsNew);
    if (state?.isDone === true && continueAsNew !== undefined) {
      this.#continueAsNew(rec, newEvents, now, continueAsNew);
      for (const w of entityWork) w();
      return;
    }
    if (state?.isDone === true) {
      this.#finish(
        rec,
        "Completed",
        JSON.stringify(state.output ?? null),
        [...newEvents, ...scheduled],
        now,
        undefined,
      );
      for (const w of entityWork) w();
      return;
    }
    // Retry bookkeeping for tasks that finished in this batch.
    for (const e of batch) this.#settleRetry(rec, e);
    rec.history.push(
      ...newEvents.map((e) => ({ ...e, IsPlayed: true })),
      ...scheduled,
      historyEvent(EventType.OrchestratorCompleted, now),
    );
    rec.lastUpdatedTime = now;
    this.#persist(rec);
    this.#o.log({
      kind: "episode",
      instanceId: rec.instanceId,
      name: rec.name,
      message: `${batch.length} new event(s)`,
    });
    for (const w of work) w();
    for (const w of entityWork) w();
    if (rec.inbox.length > 0) this.#markReady(rec.instanceId);
    this.#notifyChange();
  }

  #checkDeterminism(rec: InstanceRecord, seqActions: RawAction[], failing: boolean): string | undefined {
    const n = Math.min(seqActions.length, rec.known.length);
    for (let i = 0; i < n; i++) {
      const a = seqActions[i]!;
      const k = rec.known[i]!;
      const kind = actionKind(a)!;
      const name = actionName(a);
      if (kind !== k.kind || name !== k.name) {
        return (
          `${NON_DETERMINISM_PREFIX}A previous execution of this orchestration scheduled ${describe(k.kind, k.name)} ` +
          `with sequence number ${k.id}, but the current replay execution instead produced ${describe(kind, name)} ` +
          "with this sequence number. Was a change made to the orchestrator code after this instance had already started running?"
        );
      }
    }
    if (seqActions.length < rec.known.length && !failing) {
      const k = rec.known[seqActions.length]!;
      return (
        `${NON_DETERMINISM_PREFIX}A previous execution of this orchestration scheduled ${describe(k.kind, k.name)} ` +
        `with sequence number ${k.id}, but the current replay execution hasn't (yet?) scheduled this task. ` +
        "Was a change made to the orchestrator code after this instance had already started running?"
      );
    }
    return undefined;
  }

  /** Records a new action, gives it the next sequence number and queues its work. Returns a failure message. */
  #scheduleAction(
    rec: InstanceRecord,
    a: RawAction,
    now: number,
    scheduled: HistoryEvent[],
    work: Array<() => void>,
    entityWork: Array<() => void>,
  ): string | undefined {
    const kind = actionKind(a)!;
    const id = rec.nextSeq++;
    rec.known.push({ id, kind, name: actionName(a) });
    switch (kind) {
      case "activity": {
        const input = processedInputToJson(a.input);
        scheduled.push(historyEvent(EventType.TaskScheduled, now, { Name: a.functionName, Input: input ?? null }, id));
        rec.activities.push({ id, name: a.functionName ?? "", input });
        work.push(() => this.#dispatchActivity(rec, id));
        if (a.actionType === ActionType.CallActivityWithRetry)
          rec.retries.push(retryState(a, id, "activity", input, undefined));
        return undefined;
      }
      case "subOrchestration": {
        const input = rawInputToJson(a.input);
        const childId = a.instanceId !== undefined && a.instanceId !== "" ? a.instanceId : `${rec.instanceId}:${id}`;
        scheduled.push(
          historyEvent(
            EventType.SubOrchestrationInstanceCreated,
            now,
            { Name: a.functionName, InstanceId: childId, Input: input ?? null },
            id,
          ),
        );
        work.push(() => this.#startChild(rec, id, a.functionName ?? "", childId, input));
        if (a.actionType === ActionType.CallSubOrchestratorWithRetry) {
          rec.retries.push(retryState(a, id, "subOrchestration", input, a.instanceId));
        }
        return undefined;
      }
      case "timer": {
        const fireAt = Date.parse(a.fireAt ?? "");
        scheduled.push(historyEvent(EventType.TimerCreated, now, { FireAt: a.fireAt }, id));
        if (a.isCanceled !== true) {
          rec.timers.push({ id, fireAt });
          work.push(() => this.#armTimer(rec, id, fireAt));
        }
        return undefined;
      }
      case "entityCall":
      case "entitySignal": {
        const signal = kind === "entitySignal";
        const target = a.instanceId ?? "";
        const requestId = deterministicGuid(`${rec.instanceId}:${rec.executionId}:${id}`);
        const input = rawInputToJson(a.input);
        const message = {
          id: requestId,
          op: a.operation,
          signal,
          input,
          parent: rec.instanceId,
          parentExecution: rec.executionId,
        };
        scheduled.push(
          historyEvent(
            EventType.EventSent,
            now,
            { InstanceId: target, Name: a.operation, Input: JSON.stringify(message) },
            id,
          ),
        );
        const [name, key] = splitSchedulerId(target);
        const op: EntityOperation = {
          requestId,
          operation: a.operation ?? "",
          input,
          signal,
          parent: signal ? undefined : { instanceId: rec.instanceId, executionId: rec.executionId },
        };
        entityWork.push(() => this.#enqueueEntityOp(name, key, op));
        return undefined;
      }
      case "http":
        return "callHttp is not supported by the local host (see docs/local-host.md); call HTTP endpoints from an activity.";
    }
  }

  #applyRetryAllocation(
    rec: InstanceRecord,
    ev: HistoryEvent,
    now: number,
    scheduled: HistoryEvent[],
    work: Array<() => void>,
  ): void {
    const r = this.#allocatingRetry(rec, ev)!;
    if (ev.EventType === EventType.TimerFired) {
      r.waitingTimerId = undefined;
      const id = rec.nextSeq++;
      r.attempts++;
      r.currentId = id;
      if (r.kind === "activity") {
        scheduled.push(historyEvent(EventType.TaskScheduled, now, { Name: r.name, Input: r.input ?? null }, id));
        rec.activities.push({ id, name: r.name, input: r.input });
        work.push(() => this.#dispatchActivity(rec, id));
      } else {
        const childId = r.subInstanceId ?? `${rec.instanceId}:${id}`;
        scheduled.push(
          historyEvent(
            EventType.SubOrchestrationInstanceCreated,
            now,
            { Name: r.name, InstanceId: childId, Input: r.input ?? null },
            id,
          ),
        );
        work.push(() => this.#startChild(rec, id, r.name, childId, r.input));
      }
      return;
    }
    // A failure: DurableTask's RetryInterceptor waits firstRetryInterval * backoff^(attempt-1), capped.
    const timerId = rec.nextSeq++;
    let delay = r.firstIntervalMs * Math.pow(r.backoff, r.attempts - 1);
    if (r.maxIntervalMs !== undefined && r.maxIntervalMs > 0) delay = Math.min(delay, r.maxIntervalMs);
    const fireAt = now + Math.max(0, Math.round(delay));
    r.waitingTimerId = timerId;
    scheduled.push(historyEvent(EventType.TimerCreated, now, { FireAt: new Date(fireAt).toISOString() }, timerId));
    rec.timers.push({ id: timerId, fireAt });
    work.push(() => this.#armTimer(rec, timerId, fireAt));
  }

  /** Drops retry state once its task completed, or failed for good (its last timer fired). */
  #settleRetry(rec: InstanceRecord, e: HistoryEvent): void {
    rec.retries = rec.retries.filter((r) => {
      if (
        (e.EventType === EventType.TaskCompleted || e.EventType === EventType.SubOrchestrationInstanceCompleted) &&
        e["TaskScheduledId"] === r.currentId
      ) {
        return false;
      }
      if (e.EventType === EventType.TimerFired && e["TimerId"] === r.waitingTimerId && r.attempts >= r.maxAttempts)
        return false;
      return true;
    });
  }

  #finish(
    rec: InstanceRecord,
    status: "Completed" | "Failed",
    outputJson: string,
    newEvents: HistoryEvent[],
    now: number,
    failure: string | undefined,
  ): void {
    rec.history.push(
      ...newEvents.map((e) => ({ ...e, IsPlayed: true })),
      historyEvent(EventType.ExecutionCompleted, now, { OrchestrationStatus: status, Result: outputJson }),
      historyEvent(EventType.OrchestratorCompleted, now),
    );
    rec.runtimeStatus = status;
    rec.output = outputJson;
    rec.lastUpdatedTime = now;
    rec.inbox = [];
    for (const t of rec.timers) this.#disarmTimer(rec, t.id);
    rec.timers = [];
    rec.activities = [];
    rec.retries = [];
    this.#persist(rec);
    this.#o.log({
      kind: status === "Completed" ? "instance-completed" : "instance-failed",
      instanceId: rec.instanceId,
      name: rec.name,
      ...(failure === undefined ? {} : { message: failure }),
    });
    this.#notifyParent(rec, status, outputJson, failure);
    this.#notifyChange();
  }

  #terminateNow(rec: InstanceRecord, ev: HistoryEvent): void {
    const now = this.#o.clock.now();
    rec.history.push(
      { ...historyEvent(EventType.OrchestratorStarted, now), IsPlayed: true },
      { ...ev, IsPlayed: true },
      historyEvent(EventType.ExecutionCompleted, now, { OrchestrationStatus: "Terminated", Result: ev["Input"] }),
      historyEvent(EventType.OrchestratorCompleted, now),
    );
    rec.runtimeStatus = "Terminated";
    rec.output = typeof ev["Input"] === "string" ? ev["Input"] : null;
    rec.lastUpdatedTime = now;
    rec.inbox = [];
    for (const t of rec.timers) this.#disarmTimer(rec, t.id);
    rec.timers = [];
    rec.activities = [];
    rec.retries = [];
    this.#persist(rec);
    this.#o.log({ kind: "instance-terminated", instanceId: rec.instanceId, name: rec.name });
    this.#notifyChange();
  }

  #continueAsNew(rec: InstanceRecord, newEvents: HistoryEvent[], now: number, action: RawAction): void {
    void newEvents;
    for (const t of rec.timers) this.#disarmTimer(rec, t.id);
    const carried = rec.inbox.filter((i) => i.event.EventType === EventType.EventRaised).map((i) => i.event);
    const input = processedInputToJson(action.input) ?? null;
    rec.executionId = deterministicGuid(`${rec.instanceId}:execution:${now}:${rec.episodes}`).replace(/-/g, "");
    rec.input = input;
    rec.history = [];
    rec.known = [];
    rec.nextSeq = 0;
    rec.timers = [];
    rec.activities = [];
    rec.retries = [];
    rec.runtimeStatus = "Running";
    rec.lastUpdatedTime = now;
    rec.inbox = [
      { executionId: rec.executionId, event: this.#executionStarted(rec, now) },
      ...carried.map((event) => ({ executionId: rec.executionId, event })),
    ];
    this.#persist(rec);
    this.#o.log({ kind: "continued-as-new", instanceId: rec.instanceId, name: rec.name });
    this.#markReady(rec.instanceId);
  }

  #notifyParent(
    child: InstanceRecord,
    status: "Completed" | "Failed",
    outputJson: string,
    failure: string | undefined,
  ): void {
    const p = child.parent;
    if (p === null) return;
    const parent = this.#instances.get(p.instanceId);
    if (parent === undefined || parent.executionId !== p.executionId || isTerminal(parent.runtimeStatus)) return;
    const now = this.#o.clock.now();
    const ev =
      status === "Completed"
        ? historyEvent(EventType.SubOrchestrationInstanceCompleted, now, {
            TaskScheduledId: p.taskScheduledId,
            Result: outputJson,
          })
        : historyEvent(EventType.SubOrchestrationInstanceFailed, now, {
            TaskScheduledId: p.taskScheduledId,
            Reason: failure ?? "failed",
            Details: failure ?? "",
          });
    parent.inbox.push({ executionId: parent.executionId, event: ev });
    this.#persist(parent);
    this.#markReady(parent.instanceId);
  }

  #startChild(
    parent: InstanceRecord,
    taskId: number,
    name: string,
    childId: string,
    inputJson: string | undefined,
  ): void {
    if (this.#stopped) return;
    const existing = this.#instances.get(childId);
    const reg = this.#o.registrations.get(name);
    const refuse =
      reg === undefined || reg.kind !== "orchestration"
        ? `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`
        : existing !== undefined && !isTerminal(existing.runtimeStatus)
          ? `An Orchestration instance with the status ${existing.runtimeStatus} already exists.`
          : instanceIdProblem(childId);
    if (refuse !== undefined) {
      const ev = historyEvent(EventType.SubOrchestrationInstanceFailed, this.#o.clock.now(), {
        TaskScheduledId: taskId,
        Reason: refuse,
        Details: refuse,
      });
      parent.inbox.push({ executionId: parent.executionId, event: ev });
      this.#persist(parent);
      this.#markReady(parent.instanceId);
      return;
    }
    if (existing !== undefined) this.#forgetInstanceWork(existing);
    this.#createInstance(childId, name, inputJson ?? null, "", {
      instanceId: parent.instanceId,
      executionId: parent.executionId,
      taskScheduledId: taskId,
    });
  }

  // ---------------------------------------------------------------- timers

  #timerKey(rec: InstanceRecord, id: number): string {
    return `${rec.instanceId}|${rec.executionId}|${id}`;
  }

  #armTimer(rec: InstanceRecord, id: number, fireAt: number): void {
    if (this.#stopped) return;
    const key = this.#timerKey(rec, id);
    this.#timerHandles.get(key)?.cancel();
    const executionId = rec.executionId;
    const fire = (): void => {
      this.#timerHandles.delete(key);
      this.#fireTimer(rec.instanceId, executionId, id);
    };
    if (fireAt <= this.#o.clock.now()) {
      // Already due: the extension delivers it at once.
      queueMicrotask(fire);
      return;
    }
    this.#timerHandles.set(key, this.#o.clock.schedule(fireAt, fire, `durable timer ${rec.instanceId}#${id}`));
    this.#notifyChange();
  }

  #disarmTimer(rec: InstanceRecord, id: number): void {
    const key = this.#timerKey(rec, id);
    this.#timerHandles.get(key)?.cancel();
    this.#timerHandles.delete(key);
  }

  #cancelTimer(rec: InstanceRecord, id: number): void {
    if (!rec.timers.some((t) => t.id === id)) return;
    this.#disarmTimer(rec, id);
    rec.timers = rec.timers.filter((t) => t.id !== id);
  }

  #fireTimer(instanceId: string, executionId: string, id: number): void {
    if (this.#stopped) return;
    const rec = this.#instances.get(instanceId);
    if (rec === undefined || rec.executionId !== executionId || isTerminal(rec.runtimeStatus)) return;
    const timer = rec.timers.find((t) => t.id === id);
    if (timer === undefined) return;
    rec.timers = rec.timers.filter((t) => t.id !== id);
    const ev = historyEvent(EventType.TimerFired, this.#o.clock.now(), {
      TimerId: id,
      FireAt: new Date(timer.fireAt).toISOString(),
    });
    rec.inbox.push({ executionId, event: ev });
    this.#persist(rec);
    this.#o.log({ kind: "timer-fired", instanceId, message: `timer ${id}` });
    this.#markReady(instanceId);
  }

  // ---------------------------------------------------------------- activities

  #clientInputs(reg: Registration): Map<string, RpcData> {
    const m = new Map<string, RpcData>();
    for (const b of reg.durableClientInputs) m.set(b, { string: this.#o.clientData() });
    return m;
  }

  #dispatchActivity(rec: InstanceRecord, id: number): void {
    if (this.#stopped) return;
    const executionId = rec.executionId;
    const run = (): void => {
      this.#runningActivities++;
      this.#beginWork();
      void this.#runActivity(rec, executionId, id).finally(() => {
        this.#runningActivities--;
        const next = this.#activityQueue.shift();
        if (next !== undefined && !this.#stopped) next();
        this.#endWork();
      });
    };
    if (this.#runningActivities < this.#o.maxConcurrentActivities) run();
    else {
      this.#beginWork();
      this.#activityQueue.push(() => {
        this.#endWork();
        run();
      });
    }
  }

  async #runActivity(rec: InstanceRecord, executionId: string, id: number): Promise<void> {
    const work = rec.activities.find((a) => a.id === id);
    if (work === undefined) return;
    const reg = this.#o.registrations.get(work.name);
    this.#o.log({ kind: "activity-started", name: work.name, instanceId: rec.instanceId });
    let result: NonNullable<typeof work.result>;
    if (reg === undefined || reg.kind !== "activity") {
      const msg = `The function '${work.name}' doesn't exist, is disabled, or is not an activity function.`;
      result = { ok: false, reason: msg, details: msg };
    } else {
      try {
        const res = await this.#o.invoker.invoke(
          reg,
          work.input === undefined ? undefined : { json: work.input },
          this.#clientInputs(reg),
        );
        result = { ok: true, json: rpcToJsonText(res.returnValue) };
      } catch (error) {
        const cause = error instanceof FunctionInvocationError ? error.cause : error;
        const message = cause instanceof Error ? cause.message : String(cause);
        const details = cause instanceof Error && cause.stack !== undefined ? cause.stack : message;
        result = { ok: false, reason: `Activity function '${work.name}' failed: ${message}`, details };
      }
    }
    if (this.#stopped) return;
    if (this.#instances.get(rec.instanceId) !== rec || rec.executionId !== executionId || isTerminal(rec.runtimeStatus))
      return;
    work.result = result;
    this.#o.log({
      kind: result.ok ? "activity-completed" : "activity-failed",
      name: work.name,
      instanceId: rec.instanceId,
      ...(result.ok ? {} : { message: result.reason }),
    });
    this.#releaseActivityResults(rec);
    this.#persist(rec);
  }

  /** Moves finished activity results to the inbox, in id order, once none of the instance's activities is running. */
  #releaseActivityResults(rec: InstanceRecord): void {
    if (rec.activities.length === 0 || rec.activities.some((a) => a.result === undefined)) return;
    const now = this.#o.clock.now();
    const done = [...rec.activities].sort((a, b) => a.id - b.id);
    rec.activities = [];
    for (const a of done) {
      const r = a.result!;
      const ev = r.ok
        ? historyEvent(EventType.TaskCompleted, now, { TaskScheduledId: a.id, Result: r.json })
        : historyEvent(EventType.TaskFailed, now, { TaskScheduledId: a.id, Reason: r.reason, Details: r.details });
      rec.inbox.push({ executionId: rec.executionId, event: ev });
    }
    this.#markReady(rec.instanceId);
  }

  // ---------------------------------------------------------------- entities

  #enqueueEntityOp(name: string, key: string, op: EntityOperation): void {
    if (this.#stopped) return;
    const id = schedulerId(name, key);
    let rec = this.#entities.get(id);
    if (rec === undefined) {
      rec = {
        id,
        name: name.toLowerCase(),
        key,
        exists: false,
        state: undefined,
        queue: [],
        lastModified: this.#o.clock.now(),
      };
      this.#entities.set(id, rec);
    }
    rec.queue.push(op);
    this.#persistEntity(rec);
    this.#pumpEntity(id);
  }

  #pumpEntity(id: string): void {
    if (this.#stopped || this.#entityRunning.has(id)) return;
    const rec = this.#entities.get(id);
    if (rec === undefined || rec.queue.length === 0) return;
    this.#entityRunning.add(id);
    this.#beginWork();
    void (async () => {
      try {
        while (!this.#stopped && rec.queue.length > 0) await this.#runEntityOp(rec, rec.queue[0]!);
      } catch (error) {
        this.#o.log({ kind: "warning", message: `entity ${id} crashed: ${(error as Error).stack ?? String(error)}` });
      } finally {
        this.#entityRunning.delete(id);
        this.#endWork();
      }
    })();
  }

  /** Runs one operation as a batch of one, so that a failed operation's state changes are rolled back. */
  async #runEntityOp(rec: EntityRecord, op: EntityOperation): Promise<void> {
    const reg = [...this.#o.registrations.values()].find(
      (r) => r.kind === "entity" && r.name.toLowerCase() === rec.name,
    );
    let response: { result?: string; exceptionType?: string };
    let signals: Array<{ target: { name: string; key: string }; name: string; input: string }> = [];
    if (reg === undefined) {
      response = {
        result: JSON.stringify(`No entity function named '${rec.name}' is registered.`),
        exceptionType: "System.ArgumentException",
      };
    } else {
      const payload = {
        self: { name: rec.name, key: rec.key },
        exists: rec.exists,
        state: rec.state,
        batch: [{ id: op.requestId, name: op.operation, signal: op.signal, input: op.input }],
      };
      try {
        const res = await this.#o.invoker.invoke(reg, { string: JSON.stringify(payload) }, this.#clientInputs(reg));
        const st = rpcToValue(res.returnValue) as {
          results?: Array<{ isError: boolean; result?: string }>;
          signals?: typeof signals;
          entityExists?: boolean;
          entityState?: string;
        };
        const r = st.results?.[0];
        if (r?.isError === true) {
          response = {
            result: JSON.stringify(`Operation '${op.operation}' on entity '${rec.id}' failed: ${r.result ?? ""}`),
            exceptionType: "Error",
          };
        } else {
          rec.exists = st.entityExists === true;
          rec.state = rec.exists ? st.entityState : undefined;
          response = r?.result === undefined ? {} : { result: r.result };
          signals = st.signals ?? [];
        }
      } catch (error) {
        response = { result: JSON.stringify((error as Error).message), exceptionType: "Error" };
      }
    }
    if (this.#stopped) return;
    this.#o.log({
      kind: "entity-operation",
      name: `${rec.id}:${op.operation}`,
      ...(response.exceptionType === undefined ? {} : { message: `failed: ${response.result ?? ""}` }),
    });
    if (op.parent !== undefined) {
      const caller = this.#instances.get(op.parent.instanceId);
      if (caller !== undefined && caller.executionId === op.parent.executionId && !isTerminal(caller.runtimeStatus)) {
        const ev = historyEvent(EventType.EventRaised, this.#o.clock.now(), {
          Name: op.requestId,
          Input: JSON.stringify(response),
        });
        caller.inbox.push({ executionId: caller.executionId, event: ev });
        this.#persist(caller);
        this.#markReady(caller.instanceId);
      }
    }
    rec.queue.shift();
    rec.lastModified = this.#o.clock.now();
    this.#persistEntity(rec);
    for (const s of signals) {
      this.#enqueueEntityOp(s.target.name, s.target.key, {
        requestId: deterministicGuid(`${rec.id}:${op.requestId}:${s.name}:${++this.#meta.idCounter}`),
        operation: s.name,
        input: s.input === "" ? undefined : s.input,
        signal: true,
        parent: undefined,
      });
    }
    if (signals.length > 0) this.#persistMeta();
  }
}

function retryState(
  a: RawAction,
  id: number,
  kind: RetryState["kind"],
  input: string | undefined,
  subInstanceId: string | undefined,
): RetryState {
  const o = a.retryOptions ?? {};
  const num = (k: string): number | undefined => (typeof o[k] === "number" ? o[k] : undefined);
  return {
    firstId: id,
    kind,
    name: a.functionName ?? "",
    input,
    subInstanceId: subInstanceId === "" ? undefined : subInstanceId,
    maxAttempts: num("maxNumberOfAttempts") ?? 1,
    firstIntervalMs: num("firstRetryIntervalInMilliseconds") ?? 1000,
    backoff: num("backoffCoefficient") ?? 1,
    maxIntervalMs: num("maxRetryIntervalInMilliseconds"),
    attempts: 1,
    currentId: id,
    waitingTimerId: undefined,
  };
}

export function schedulerId(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

function splitSchedulerId(id: string): [string, string] {
  const pos = id.indexOf("@", 1);
  return [id.substring(1, pos), id.substring(pos + 1)];
}

/**
 * durable-functions reports an orchestrator failure by throwing `"<x>\n\n$OutOfProcData$:<state JSON>"` (in 3.5.0
 * `<x>` is literally `false`); the real message is the state's `error`.
 */
function parseOutOfProcFailure(error: unknown): { state: OrchestratorStateJson | undefined; message: string } {
  const cause = error instanceof FunctionInvocationError ? error.cause : error;
  const text = cause instanceof Error ? cause.message : String(cause);
  const marker = "$OutOfProcData$:";
  const at = text.indexOf(marker);
  if (at >= 0) {
    try {
      const state = JSON.parse(text.slice(at + marker.length)) as OrchestratorStateJson;
      return { state, message: state.error ?? text.slice(0, at).trim() };
    } catch {
      // fall through
    }
  }
  return { state: undefined, message: text };
}

export { LocalHostError };
