/**
 * The failback check (run by the probe timer once a minute): for every scope whose last failover succeeded live, start
 * its failback once the scope's breaker has stayed closed — and the failover has been over — for the soak time, with
 * no alert firing. The failback itself re-checks all of this in its plan (src/domain/failback.ts) and waits for
 * approval unless `CUTOVER_FAILBACK_APPROVAL=none`; its instance id is derived from the failover's, so a failover has
 * at most one failback at a time however many rounds ask. A failback refused for a reason time can cure (the state
 * changed between this check and its plan, or a read failed), or that relapsed, is tried again under the same id once
 * these conditions hold again ({@link retryOf}).
 */
import type * as df from "durable-functions";
import type { Runtime } from "../composition";
import type { WorkloadPlan } from "../domain/plan";
import type { FailbackOptions } from "../domain/failback";
import type { ShiftKind } from "../domain/shift";
import { startFailback, type FailbackRequest } from "../http/failover-service";
import type { FailoverReport } from "../runbooks/contracts";
import {
  breakerKey,
  FAILBACK_MAX_ATTEMPTS,
  failbackInstanceId,
  failbackMayBeRetried,
  failbackRetryableEnd,
  type BreakerEntityState,
  type FailbackAttempt,
  type FailbackReport,
} from "../runbooks/health-contracts";

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

/** A failback is tried again no sooner than this after its last attempt ended, doubling per attempt up to {@link MAX_RETRY_GAP_MS}. */
export const RETRY_GAP_MS = 60_000;
export const MAX_RETRY_GAP_MS = 1_800_000;

type Retry =
  | { readonly kind: "no" }
  | { readonly kind: "gave-up"; readonly reasons: ReadonlyArray<string> }
  | { readonly kind: "retry"; readonly attempts: FailbackAttempt[] };

/**
 * The attempts a new try of a finished, unsuccessful failback carries: its earlier ones (the newest 49, as the input
 * keeps at most 50) and itself.
 */
export function attemptsAfter(report: FailbackReport): FailbackAttempt[] {
  if (report.outcome === "succeeded") throw new Error("a failback that succeeded has no next attempt");
  return [
    ...(report.earlierAttempts ?? []).slice(-49),
    {
      outcome: report.outcome,
      startedAt: report.startedAt,
      endedAt: report.endedAt,
      reasons: report.reasons.slice(0, 20),
    },
  ];
}

/**
 * Whether a finished failback is tried again (the caller has already seen the breaker closed and soaked, no alert):
 * - a refusal whose every reason time can cure (`retryable`: something changed between the check and the plan — a
 *   breaker, an alert, a failed read), after a back-off;
 * - a relapse, once the soak time has passed since it ended as well (its evidence may not have opened the breaker, so
 *   the breaker's own soak is not enough), and after the back-off;
 * at most {@link FAILBACK_MAX_ATTEMPTS} times in all. Anything else (running, succeeded, aborted or denied, failed, a
 * structural refusal) stays as it is.
 */
export function retryOf(earlier: df.DurableOrchestrationStatus, now: number, soakMs: number): Retry {
  if (String(earlier.runtimeStatus) !== "Completed") return { kind: "no" };
  const report = earlier.output as FailbackReport | undefined;
  if (report === undefined || !failbackRetryableEnd(report)) return { kind: "no" };
  if (!failbackMayBeRetried(report)) return { kind: "gave-up", reasons: report.reasons };
  const attempts = attemptsAfter(report);
  const backOff = Math.min(MAX_RETRY_GAP_MS, RETRY_GAP_MS * 2 ** (attempts.length - 1));
  const gap = report.outcome === "relapsed" ? Math.max(backOff, soakMs) : backOff;
  if (now - Date.parse(report.endedAt) < gap) return { kind: "no" };
  return { kind: "retry", attempts };
}

/**
 * The request that starts (or, with earlier attempts, starts again) the failback of a live failover that succeeded:
 * its pre-failover pool counts from the plan, the health settings' soak, hold and approval (approval overridable).
 */
export function failbackRequest(
  rt: Runtime,
  failoverId: string,
  report: FailoverReport,
  ask: {
    readonly precedence: ShiftKind;
    readonly startedBy: string;
    readonly earlierAttempts: FailbackAttempt[];
    readonly approval?: FailbackOptions["approval"];
    /** Replace a finished instance (default: when there are earlier attempts). */
    readonly replaceFinished?: boolean;
  },
): FailbackRequest {
  const plan = report.plan as WorkloadPlan | undefined;
  return {
    workload: report.workload,
    scope: report.scope,
    failoverInstanceId: failoverId,
    precedence: ask.precedence,
    replaceFinished: ask.replaceFinished ?? ask.earlierAttempts.length > 0,
    input: {
      workload: report.workload,
      scope: report.scope,
      failoverInstanceId: failoverId,
      poolsBefore: (plan?.pools ?? []).map((p) => ({ region: p.region, pool: p.pool, count: p.from })),
      startedBy: ask.startedBy,
      earlierAttempts: ask.earlierAttempts,
      topology: rt.topology,
      options: {
        failback: {
          soakMs: rt.health.failback.soakSeconds * 1000,
          holdMs: rt.health.failback.holdSeconds * 1000,
          approval: ask.approval ?? rt.health.failback.approval,
        },
        pollSeconds: rt.pollSeconds,
      },
    },
  };
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
    const earlier = await status(client, failbackInstanceId(failoverId));
    let earlierAttempts: FailbackAttempt[] = [];
    if (earlier !== undefined) {
      const retry = retryOf(earlier, now, soakMs);
      if (retry.kind === "no") continue;
      if (retry.kind === "gave-up") {
        deps.log(
          `failback of ${failoverId}: not retried: ${FAILBACK_MAX_ATTEMPTS} attempts ended without success, the last for: ${retry.reasons.join("; ")}`,
        );
        continue;
      }
      earlierAttempts = retry.attempts;
    }
    const attempt = earlierAttempts.length + 1;

    const outcome = await startFailback(
      { client, now: () => now, control: rt.control },
      failbackRequest(rt, failoverId, report, {
        precedence: "automatic",
        startedBy: `soak of ${Math.round(soakMs / 1000)} s after ${failoverId}${attempt === 1 ? "" : ` (attempt ${attempt})`}`,
        earlierAttempts,
      }),
    );
    deps.log(
      `failback of ${failoverId}: ${outcome.outcome} ${outcome.instanceId}${outcome.detail === undefined ? "" : ` (${outcome.detail})`}`,
    );
    if (outcome.outcome === "started") started.push(outcome.instanceId);
  }
  return started;
}
