/**
 * The failback check (run by the probe timer once a minute): for every scope whose last failover succeeded live, start
 * its failback once the scope's breaker has stayed closed — and the failover has been over — for the soak time, with
 * no alert firing. The failback itself re-checks all of this in its plan (src/domain/failback.ts) and waits for
 * approval unless `CUTOVER_FAILBACK_APPROVAL=none`; its instance id is derived from the failover's, so a failover is
 * failed back at most once however many rounds ask.
 */
import type * as df from "durable-functions";
import type { Runtime } from "../composition";
import type { WorkloadPlan } from "../domain/plan";
import { startFailback } from "../http/failover-service";
import type { FailoverReport } from "../runbooks/contracts";
import { breakerKey, failbackInstanceId, type BreakerEntityState } from "../runbooks/health-contracts";

export interface FailbackCheckDeps {
  readonly rt: Runtime;
  readonly client: df.DurableClient;
  /** Breaker states read this round, by key. */
  readonly states: ReadonlyMap<string, BreakerEntityState | undefined>;
  readonly now: number;
  readonly log: (line: string) => void;
}

async function status(client: df.DurableClient, id: string): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(id, { showHistory: false, showInput: false });
  } catch (error) {
    if (/404|not found|No instance/i.test(error instanceof Error ? error.message : String(error))) return undefined;
    throw error;
  }
}

/** Returns the failbacks it started (instance ids). */
export async function checkFailbacks(deps: FailbackCheckDeps): Promise<string[]> {
  const { rt, client, now } = deps;
  const soakMs = rt.health.failback.soakSeconds * 1000;
  const started: string[] = [];
  for (const entry of await rt.control.listClaims()) {
    const workload = rt.topology.workloads.find((w) => w.name === entry.workload);
    if (workload?.kind !== "inference") continue;
    const scope = entry.zone === undefined ? { region: entry.region } : { region: entry.region, zone: entry.zone };
    const state = deps.states.get(breakerKey(entry.workload, scope));
    if (state === undefined) continue;
    const breaker = state.breaker;
    if (breaker.state !== "closed" || breaker.alerts.length > 0) continue;
    if (now - breaker.since < soakMs) continue;
    const failoverId = entry.claim.instanceId;
    const failover = await status(client, failoverId);
    if (failover === undefined || String(failover.runtimeStatus) !== "Completed") continue;
    const report = failover.output as FailoverReport | undefined;
    if (report?.outcome !== "succeeded" || report.mode !== "live") continue;
    if (now - Date.parse(report.endedAt) < soakMs) continue;
    if ((await status(client, failbackInstanceId(failoverId))) !== undefined) continue;

    const plan = report.plan as WorkloadPlan | undefined;
    const outcome = await startFailback(
      { client, now: () => now, control: rt.control },
      {
        workload: entry.workload,
        scope,
        failoverInstanceId: failoverId,
        precedence: "automatic",
        input: {
          workload: entry.workload,
          scope,
          failoverInstanceId: failoverId,
          poolsBefore: (plan?.pools ?? []).map((p) => ({ region: p.region, pool: p.pool, count: p.from })),
          startedBy: `soak of ${Math.round(soakMs / 1000)} s after ${failoverId}`,
          topology: rt.topology,
          options: {
            failback: {
              soakMs,
              holdMs: rt.health.failback.holdSeconds * 1000,
              approval: rt.health.failback.approval,
            },
            pollSeconds: rt.pollSeconds,
          },
        },
      },
    );
    deps.log(
      `failback of ${failoverId}: ${outcome.outcome} ${outcome.instanceId}${outcome.detail === undefined ? "" : ` (${outcome.detail})`}`,
    );
    if (outcome.outcome === "started") started.push(outcome.instanceId);
  }
  return started;
}
