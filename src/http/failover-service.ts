/**
 * Starting a failover exactly once per workload + scope, however many alerts, probes or drills ask at the same time.
 *
 * A scope's claim (a small blob written with etag compare-and-swap) names the failover generation that owns it. A
 * request joins the claimed instance while it runs, and also within the cooldown after it finished (the same
 * incident still alerting); otherwise it claims the next generation and starts it under a deterministic instance id.
 * A crash between claim and start is healed by the next request, which finds the claimed id not started and starts
 * it. The Durable backend itself refuses a second instance with a running id, which covers the last race.
 */
import type { DurableClient } from "durable-functions";
import type { StateStore } from "../adapters/state-store";
import type { Topology } from "../domain/topology";
import {
  failoverInstanceId,
  ORCHESTRATIONS,
  type FailoverInputInit,
  type Scope,
  type Trigger,
} from "../runbooks/contracts";

export interface StartRequest {
  readonly workload: string;
  readonly scope: Scope;
  readonly trigger: Trigger;
  readonly mode: "live" | "dry-run";
  readonly topology: Topology;
  readonly options: FailoverInputInit["options"];
}

export interface StartOutcome {
  readonly outcome: "started" | "joined";
  readonly instanceId: string;
}

const ACTIVE = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);

export interface FailoverServiceDeps {
  readonly client: DurableClient;
  readonly state: StateStore;
  readonly now: () => number;
  readonly cooldownSeconds: number;
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

export async function startOrJoinFailover(deps: FailoverServiceDeps, request: StartRequest): Promise<StartOutcome> {
  const { workload, scope } = request;
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
    return { outcome: await start(deps.client, instanceId, request), instanceId };
  }
  throw new Error("[CONFLICT] could not claim the scope after 8 attempts");
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
