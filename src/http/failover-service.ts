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
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
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
  /**
   * What this process has seen of running failovers (see {@link RunSightings}); lets a request join a run seen
   * running moments ago without reading the claim and the run's status again. Without it every request reads both.
   */
  readonly sightings?: RunSightings;
}

/**
 * How long after a claim its run may still be unstarted because the claimant is starting it (a few storage and Durable
 * calls). Only a claim older than this whose run does not exist is taken for a crashed claimant's and started by
 * someone else.
 */
export const START_GRACE_MS = 30_000;

/** Longest time a sighting is trusted, whatever the cooldown (bounds the effect of a claim removed by hand). */
export const MAX_SIGHTING_MS = 30_000;

/**
 * Runs this process saw active (Running, Pending, ContinuedAsNew, Suspended), by the scope claim that names them.
 *
 * Why it is exact: a run seen active at time `t` (the clock read before the status call was sent) finishes, if at all,
 * at some `T ≥ t`. For `now - t` below the cooldown, `now - T` is below it too, so {@link startOrJoinFailover} would
 * answer "joined" to that same run whatever its status is now; and the claim still names it, because a claim is only
 * replaced once its run is neither active nor within the cooldown. So within `min(cooldown, MAX_SIGHTING_MS)` of a
 * sighting, the claim read and the status call can be skipped without changing any answer. A cooldown of 0 disables
 * it. Sightings never say a run is active *now*: whoever needs that (a Resolved alert delivering its event) still asks
 * for the status, and only skips the claim read.
 */
export class RunSightings {
  readonly #seen = new Map<string, { readonly instanceId: string; readonly at: number }>();

  /** `claimKey` names the claim (workload, region, zone); `at` is the clock read before the status was asked for. */
  saw(claimKey: string, instanceId: string, at: number): void {
    const previous = this.#seen.get(claimKey);
    if (previous !== undefined && previous.instanceId === instanceId && previous.at >= at) return;
    if (this.#seen.size >= 10_000) this.#seen.clear();
    this.#seen.set(claimKey, { instanceId, at });
  }

  /** The run named by the claim when it was seen active within `windowMs` of `now`. */
  recent(claimKey: string, now: number, windowMs: number): string | undefined {
    const s = this.#seen.get(claimKey);
    if (s === undefined) return undefined;
    const age = now - s.at;
    if (age < 0 || age >= Math.min(windowMs, MAX_SIGHTING_MS)) {
      this.#seen.delete(claimKey);
      return undefined;
    }
    return s.instanceId;
  }
}

/** The key {@link RunSightings} files a scope claim under. */
export function claimKey(workload: string, region: string, zone: string | undefined): string {
  return `${workload}|${region}|${zone ?? ""}`;
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

/** {@link start}, noting the run as seen active: it exists from the start call on, so it finishes after `asked`. */
async function startSeen(
  deps: FailoverServiceDeps,
  key: string,
  instanceId: string,
  request: StartRequest,
): Promise<"started" | "joined"> {
  const asked = deps.now();
  const outcome = await start(deps.client, instanceId, request);
  deps.sightings?.saw(key, instanceId, asked);
  return outcome;
}

function precedenceOf(request: StartRequest): ShiftKind {
  if (request.precedence !== undefined) return request.precedence;
  return request.trigger.kind === "alert" || request.trigger.kind === "probe" ? "automatic" : "manual";
}

/** The run's status, noting an active one in `deps.sightings` under `key`. */
async function observe(
  deps: FailoverServiceDeps,
  key: string,
  instanceId: string,
): Promise<{ runtimeStatus: string; lastUpdatedTime: Date } | undefined> {
  const asked = deps.now();
  const status = await statusOf(deps.client, instanceId);
  if (status !== undefined && ACTIVE.has(status.runtimeStatus)) deps.sightings?.saw(key, instanceId, asked);
  return status;
}

export async function startOrJoinFailover(deps: FailoverServiceDeps, request: StartRequest): Promise<StartOutcome> {
  const { workload, scope } = request;
  const cooldownMs = deps.cooldownSeconds * 1000;
  // A zone of a region whose failover is running (or just finished) is covered by it.
  if (scope.zone !== undefined) {
    const regionKey = claimKey(workload, scope.region, undefined);
    const seen = deps.sightings?.recent(regionKey, deps.now(), cooldownMs);
    if (seen !== undefined)
      return { outcome: "joined", instanceId: seen, detail: `covered by the ${scope.region} failover` };
    const covering = await deps.state.readClaim(workload, scope.region, undefined);
    if (covering !== undefined) {
      const status = await observe(deps, regionKey, covering.claim.instanceId);
      if (
        status !== undefined &&
        (ACTIVE.has(status.runtimeStatus) || deps.now() - status.lastUpdatedTime.getTime() < cooldownMs)
      )
        return {
          outcome: "joined",
          instanceId: covering.claim.instanceId,
          detail: `covered by the ${scope.region} failover`,
        };
    }
  }
  const key = claimKey(workload, scope.region, scope.zone);
  const seen = deps.sightings?.recent(key, deps.now(), cooldownMs);
  if (seen !== undefined) return { outcome: "joined", instanceId: seen };
  for (let attempt = 0; attempt < 8; attempt++) {
    const existing = await deps.state.readClaim(workload, scope.region, scope.zone);
    let generation = 1;
    if (existing !== undefined) {
      const { claim } = existing;
      const status = await observe(deps, key, claim.instanceId);
      if (status === undefined) {
        // Claimed but not started. Within the grace the claimant is still starting it: starting it here too could
        // start it twice (a run that already finished by the claimant's start would be started again over it). Later,
        // the claimant crashed: start it now.
        const claimedAt = Date.parse(claim.claimedAt);
        if (Number.isFinite(claimedAt) && deps.now() - claimedAt < START_GRACE_MS)
          return { outcome: "joined", instanceId: claim.instanceId, detail: "being started by another request" };
        return { outcome: await startSeen(deps, key, claim.instanceId, request), instanceId: claim.instanceId };
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
      outcome: await startSeen(deps, key, instanceId, request),
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
    // A shift already granted to this very run is not retired for its run not being found: the run is not started
    // until the shift is granted, so concurrent askers of one run (an alert storm) would otherwise end and re-grant it
    // in turn, each losing the compare-and-swap to the next.
    const state =
      activeShift(stored, Math.floor(deps.now()))?.id === ask.id ? stored : await retireFinished(deps, stored);
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
  /** Start a new attempt over a finished one (same instance id) instead of joining it. */
  readonly replaceFinished?: boolean;
}

/**
 * Starts the failback of one failover, at most once at a time (its instance id is derived from the failover's), under
 * the shift rule. `joined` when it already exists: running, or finished unless `replaceFinished`.
 */
export async function startFailback(
  deps: Pick<FailoverServiceDeps, "client" | "now"> & { readonly control: ControlStore },
  request: FailbackRequest,
): Promise<StartOutcome> {
  const instanceId = failbackInstanceId(request.failoverInstanceId);
  const existing = await statusOf(deps.client, instanceId);
  // An earlier attempt is replaced only when the caller asks and it is over (the check retries a refused one).
  if (existing !== undefined && !(request.replaceFinished === true && !ACTIVE.has(existing.runtimeStatus)))
    return { outcome: "joined", instanceId };
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

/**
 * The instance currently owning a scope, if it is still running. Its status is always read (the caller acts on a run
 * being active now); a recent sighting only saves reading the claim that names it.
 */
export async function activeFailover(
  deps: Pick<FailoverServiceDeps, "client" | "state" | "now" | "cooldownSeconds" | "sightings">,
  workload: string,
  scope: Scope,
): Promise<string | undefined> {
  const key = claimKey(workload, scope.region, scope.zone);
  const instanceId =
    deps.sightings?.recent(key, deps.now(), deps.cooldownSeconds * 1000) ??
    (await deps.state.readClaim(workload, scope.region, scope.zone))?.claim.instanceId;
  if (instanceId === undefined) return undefined;
  const asked = deps.now();
  const status = await statusOf(deps.client, instanceId);
  if (status === undefined || !ACTIVE.has(status.runtimeStatus)) return undefined;
  deps.sightings?.saw(key, instanceId, asked);
  return instanceId;
}

// ------------------------------------------------------------------------------------------------------------------
// Durable clients.

const clients = new Map<string, DurableClient>();

/**
 * `df.getClient(context)`, built once per distinct client binding data. Building one is not free (it deep-clones and
 * URL-validates the binding's management URLs and creates an axios instance), and the host passes the same binding
 * data to every invocation, so handlers that run at alert rates reuse the client the same data built. The client
 * keeps no per-invocation state: every call takes its URLs from that data.
 */
export function durableClientFor(context: InvocationContext): DurableClient {
  const binding = context.options.extraInputs.find(
    (i) => i.type === "durableClient" || i.type === "orchestrationClient",
  );
  const data = binding === undefined ? undefined : context.extraInputs.get(binding);
  if (data === undefined || data === null) return df.getClient(context);
  const key = JSON.stringify(data);
  let client = clients.get(key);
  if (client === undefined) {
    client = df.getClient(context);
    if (clients.size >= 16) clients.clear();
    clients.set(key, client);
  }
  return client;
}
