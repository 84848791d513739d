/**
 * Starting a failover exactly once per workload + scope, however many alerts, probes or drills ask at the same time.
 *
 * A scope's claim (a small blob written with etag compare-and-swap) names the failover generation that owns it. A
 * request joins the claimed instance while it runs, and also within the cooldown after it finished (the same
 * incident still alerting); otherwise it claims the next generation and starts it under a deterministic instance id.
 * A crash between claim and start is healed by the next request, which finds the claimed id not started and starts
 * it. The Durable backend itself refuses a second instance with a running id, which covers the last race.
 *
 * Single active shift per workload (src/domain/shift.ts): before a request starts a new run, it asks for the
 * workload's shift (a blob per workload, compare-and-swap like the claims) with its precedence — manual (an operator's
 * drill) > automatic (alerts, breakers, failbacks) > practice (scheduled drills). A lower precedence request is
 * refused and changes nothing; a higher one preempts the running one, which is asked to abort (its runbook
 * compensates); a region request escalates over a running zone run of the same region. Requests that join a running
 * run (the same scope, or a zone of a region being failed over) need no shift. A shift whose run has finished is ended
 * when the next request finds it (its run's status is the truth), and every shift expires on its own.
 */
import type { DurableClient } from "durable-functions";
import type { ControlStore } from "../adapters/control-store";
import type { StateStore } from "../adapters/state-store";
import {
  activeShift,
  createShiftState,
  DEFAULT_SHIFT_OPTIONS,
  endShift,
  expireShift,
  parseShiftState,
  requestShift,
  type ShiftDecision,
  type ShiftKind,
  type ShiftState,
} from "../domain/shift";
import type { Topology } from "../domain/topology";
import {
  EVENTS,
  failoverInstanceId,
  ORCHESTRATIONS,
  type FailoverInputInit,
  type Scope,
  type Trigger,
} from "../runbooks/contracts";
import { failbackInstanceId, HEALTH_ORCHESTRATIONS, type FailbackInputInit } from "../runbooks/health-contracts";

export interface StartRequest {
  readonly workload: string;
  readonly scope: Scope;
  readonly trigger: Trigger;
  readonly mode: "live" | "dry-run";
  readonly topology: Topology;
  readonly options: FailoverInputInit["options"];
  /** Shift precedence; default from the trigger: alert and probe are automatic, drill and manual are manual. */
  readonly precedence?: ShiftKind;
  /** Who asked (kept with the shift). */
  readonly by?: string;
}

export interface StartOutcome {
  /** `refused`: the shift rule kept this request from starting anything (`instanceId` is the holder's run). */
  readonly outcome: "started" | "joined" | "refused";
  readonly instanceId: string;
  readonly detail?: string;
  /** A run of lower precedence (or a zone run escalated to its region) that was asked to abort. */
  readonly replaced?: string;
}

const ACTIVE = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);

export interface FailoverServiceDeps {
  readonly client: DurableClient;
  readonly state: StateStore;
  readonly now: () => number;
  readonly cooldownSeconds: number;
  /** Where shifts live; without it the shift rule is not applied (exactly-once per scope still is). */
  readonly control?: ControlStore;
}

async function statusOf(
  client: DurableClient,
  instanceId: string,
): Promise<{ runtimeStatus: string; lastUpdatedTime: Date } | undefined> {
  try {
    const status = await client.getStatus(instanceId, { showHistory: false, showInput: false });
    return { runtimeStatus: String(status.runtimeStatus), lastUpdatedTime: new Date(status.lastUpdatedTime) };
  } catch (error) {
    if (/404|not found|No instance/i.test(error instanceof Error ? error.message : String(error))) return undefined;
    throw error;
  }
}

async function start(client: DurableClient, instanceId: string, request: StartRequest): Promise<"started" | "joined"> {
  const input: FailoverInputInit = {
    workload: request.workload,
    scope: request.scope,
    mode: request.mode,
    trigger: request.trigger,
    topology: request.topology,
    options: request.options,
  };
  try {
    await client.startNew(ORCHESTRATIONS.failoverWorkload, { instanceId, input });
    return "started";
  } catch (error) {
    // The backend refuses an id that is already running: someone else started it first.
    const status = await statusOf(client, instanceId);
    if (status !== undefined && ACTIVE.has(status.runtimeStatus)) return "joined";
    throw error;
  }
}

function precedenceOf(request: StartRequest): ShiftKind {
  if (request.precedence !== undefined) return request.precedence;
  return request.trigger.kind === "alert" || request.trigger.kind === "probe" ? "automatic" : "manual";
}

export async function startOrJoinFailover(deps: FailoverServiceDeps, request: StartRequest): Promise<StartOutcome> {
  const { workload, scope } = request;
  // A zone of a region whose failover is running (or just finished) is covered by it.
  if (scope.zone !== undefined) {
    const covering = await deps.state.readClaim(workload, scope.region, undefined);
    if (covering !== undefined) {
      const status = await statusOf(deps.client, covering.claim.instanceId);
      if (
        status !== undefined &&
        (ACTIVE.has(status.runtimeStatus) ||
          deps.now() - status.lastUpdatedTime.getTime() < deps.cooldownSeconds * 1000)
      )
        return {
          outcome: "joined",
          instanceId: covering.claim.instanceId,
          detail: `covered by the ${scope.region} failover`,
        };
    }
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    const existing = await deps.state.readClaim(workload, scope.region, scope.zone);
    let generation = 1;
    if (existing !== undefined) {
      const { claim } = existing;
      const status = await statusOf(deps.client, claim.instanceId);
      if (status === undefined) {
        // Claimed but never started (the claimant crashed): start it now.
        return { outcome: await start(deps.client, claim.instanceId, request), instanceId: claim.instanceId };
      }
      if (ACTIVE.has(status.runtimeStatus)) return { outcome: "joined", instanceId: claim.instanceId };
      if (deps.now() - status.lastUpdatedTime.getTime() < deps.cooldownSeconds * 1000)
        return { outcome: "joined", instanceId: claim.instanceId };
      generation = claim.generation + 1;
    }
    const instanceId = failoverInstanceId(workload, scope, generation);
    let replaced: string | undefined;
    if (deps.control !== undefined) {
      const decision = await acquireShift(deps as ShiftDeps, workload, {
        id: instanceId,
        kind: precedenceOf(request),
        scope,
        reason: `${request.trigger.kind} ${request.trigger.reference}`,
        ...(request.by === undefined ? {} : { by: request.by }),
      });
      if (decision.outcome === "refused")
        return { outcome: "refused", instanceId: decision.holder.id, detail: decision.detail };
      if (decision.outcome === "preempted" || decision.outcome === "escalated") {
        replaced = decision.replaced.id;
        await abortRun(deps.client, replaced, `${decision.outcome} by ${instanceId} (${precedenceOf(request)})`);
      }
    }
    const won = await deps.state.writeClaim(
      workload,
      scope.region,
      scope.zone,
      {
        generation,
        instanceId,
        claimedAt: new Date(deps.now()).toISOString(),
        trigger: `${request.trigger.kind} ${request.trigger.reference}`,
      },
      existing?.etag,
    );
    if (!won) continue; // Lost the race: re-read and join the winner.
    return {
      outcome: await start(deps.client, instanceId, request),
      instanceId,
      ...(replaced === undefined ? {} : { replaced }),
    };
  }
  throw new Error("[CONFLICT] could not claim the scope after 8 attempts");
}

// ------------------------------------------------------------------------------------------------------------------
// Shifts.

type ShiftDeps = Pick<FailoverServiceDeps, "client" | "now"> & { readonly control: ControlStore };

export interface ShiftAsk {
  readonly id: string;
  readonly kind: ShiftKind;
  readonly scope: Scope;
  readonly by?: string;
  readonly reason?: string;
}

/** The workload's shift state as stored (a fresh one when there is none). */
export async function readShiftState(
  deps: Pick<ShiftDeps, "control" | "now">,
  workload: string,
): Promise<{ state: ShiftState; etag: string | undefined }> {
  const stored = await deps.control.readShift(workload);
  return stored === undefined
    ? { state: createShiftState(workload, Math.floor(deps.now())), etag: undefined }
    : { state: parseShiftState(stored.value), etag: stored.etag };
}

/** Ends the active shift when its run is no longer running (the run's status is the truth). */
async function retireFinished(deps: ShiftDeps, state: ShiftState): Promise<ShiftState> {
  const now = Math.floor(deps.now());
  const active = activeShift(state, now);
  if (active === undefined) return state;
  const status = await statusOf(deps.client, active.id);
  if (status !== undefined && ACTIVE.has(status.runtimeStatus)) return state;
  return endShift(state, active.id, now, `run ${status?.runtimeStatus ?? "not found"}`).state;
}

/**
 * Ends the workload's active shift if its run has finished, and records an expired one as expired (the probe timer
 * calls this once a minute, so a shift never outlives its run by more than that). Returns the shift that was ended.
 */
export async function endFinishedShift(deps: ShiftDeps, workload: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const stored = await deps.control.readShift(workload);
    if (stored === undefined) return undefined;
    const state = parseShiftState(stored.value);
    const now = Math.floor(deps.now());
    const ended = await retireFinished(deps, state);
    const expired = ended === state ? expireShift(state, now) : ended;
    if (expired === state || (ended === state && expired.active?.id === state.active?.id)) return undefined;
    if (await deps.control.writeShift(workload, expired, stored.etag)) return state.active?.id;
  }
  return undefined;
}

/**
 * Asks for the workload's shift (compare-and-swap on the shift blob, retried on a lost race). The caller acts on
 * `preempted`/`escalated` by aborting the replaced run (see {@link abortRun}).
 */
export async function acquireShift(deps: ShiftDeps, workload: string, ask: ShiftAsk): Promise<ShiftDecision> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const { state: stored, etag } = await readShiftState(deps, workload);
    const state = await retireFinished(deps, stored);
    const result = requestShift(
      state,
      {
        id: ask.id,
        kind: ask.kind,
        scope: ask.scope,
        ttlMs: DEFAULT_SHIFT_OPTIONS.maxTtlMs[ask.kind],
        ...(ask.by === undefined ? {} : { by: ask.by }),
        ...(ask.reason === undefined ? {} : { reason: ask.reason.slice(0, 500) }),
      },
      Math.floor(deps.now()),
    );
    const unchanged =
      state === stored && (result.decision.outcome === "refused" || result.decision.outcome === "joined");
    if (unchanged) return result.decision;
    if (await deps.control.writeShift(workload, result.state, etag)) return result.decision;
  }
  throw new Error("[CONFLICT] could not update the shift after 8 attempts");
}

/** Asks a run to stop (its runbook compensates); a run that already finished is left alone. */
export async function abortRun(client: DurableClient, instanceId: string, reason: string): Promise<void> {
  const status = await statusOf(client, instanceId);
  if (status === undefined || !ACTIVE.has(status.runtimeStatus)) return;
  try {
    await client.raiseEvent(instanceId, EVENTS.abort, { by: "cutover shift rule", reason });
  } catch (error) {
    // Finished in the meantime (410): nothing to stop.
    if (!/410|not found|completed|terminated/i.test(error instanceof Error ? error.message : String(error)))
      throw error;
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Failback.

export interface FailbackRequest {
  readonly workload: string;
  readonly scope: Scope;
  readonly failoverInstanceId: string;
  readonly precedence: ShiftKind;
  readonly input: FailbackInputInit;
}

/**
 * Starts the failback of one failover, at most once (its instance id is derived from the failover's), under the shift
 * rule. `joined` when it already exists (running or finished).
 */
export async function startFailback(
  deps: Pick<FailoverServiceDeps, "client" | "now"> & { readonly control: ControlStore },
  request: FailbackRequest,
): Promise<StartOutcome> {
  const instanceId = failbackInstanceId(request.failoverInstanceId);
  if ((await statusOf(deps.client, instanceId)) !== undefined) return { outcome: "joined", instanceId };
  const decision = await acquireShift(deps, request.workload, {
    id: instanceId,
    kind: request.precedence,
    scope: request.scope,
    reason: `failback of ${request.failoverInstanceId}`,
  });
  if (decision.outcome === "refused")
    return { outcome: "refused", instanceId: decision.holder.id, detail: decision.detail };
  let replaced: string | undefined;
  if (decision.outcome === "preempted" || decision.outcome === "escalated") {
    replaced = decision.replaced.id;
    await abortRun(deps.client, replaced, `${decision.outcome} by ${instanceId}`);
  }
  try {
    await deps.client.startNew(HEALTH_ORCHESTRATIONS.failbackWorkload, { instanceId, input: request.input });
  } catch (error) {
    if ((await statusOf(deps.client, instanceId)) !== undefined) return { outcome: "joined", instanceId };
    throw error;
  }
  return { outcome: "started", instanceId, ...(replaced === undefined ? {} : { replaced }) };
}

/** The instance currently owning a scope, if it is still running. */
export async function activeFailover(
  deps: Pick<FailoverServiceDeps, "client" | "state">,
  workload: string,
  scope: Scope,
): Promise<string | undefined> {
  const existing = await deps.state.readClaim(workload, scope.region, scope.zone);
  if (existing === undefined) return undefined;
  const status = await statusOf(deps.client, existing.claim.instanceId);
  return status !== undefined && ACTIVE.has(status.runtimeStatus) ? existing.claim.instanceId : undefined;
}
