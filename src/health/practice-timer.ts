/**
 * The practice timer (`practiceRuns`, every minute): scheduled drills per workload (the topology's `practice`).
 *
 * Each minute, per workload with a schedule: grade the drills that finished (`gradePracticeRun` against the
 * workload's RTO objective), then decide the latest due occurrence once (`decidePracticeRun`, with the workload's
 * active failovers, firing alerts, active shift and breakers as blocking conditions) and either start the drill —
 * a dry-run failover, or a live one, trigger kind `drill` at practice precedence — or record the skip with every
 * reason. Results live in a compare-and-swap blob per workload (`practice/<workload>.json`, the newest 100) and are
 * served by `GET /api/practice/{workload}`.
 *
 * Exactly once per occurrence: the occurrence is recorded with its decision, and a drill's instance id is derived
 * from the occurrence, so a timer that fires twice (or two instances racing) cannot start a drill twice.
 */
import type { InvocationContext, Timer } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { now, type Runtime } from "../composition";
import {
  decidePracticeRun,
  gradePracticeRun,
  practiceChecksFromReadiness,
  practiceResultSchema,
  recordPracticeResult,
  type PracticeConditions,
  type PracticeResult,
} from "../domain/practice";
import { activeShift } from "../domain/shift";
import type { Workload } from "../domain/topology";
import { acquireShift, readShiftState, startOrJoinFailover } from "../http/failover-service";
import { ORCHESTRATIONS, type FailoverInputInit, type FailoverReport } from "../runbooks/contracts";
import { breakerScopes } from "./breaker-scopes";
import { configuredRuntime } from "./timer-runtime";
import { readBreaker } from "./probe-timer";

const ACTIVE = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);
const TERMINAL = new Set(["Completed", "Failed", "Terminated", "Canceled"]);

export const practiceLogSchema = z.strictObject({ version: z.literal(1), results: z.array(practiceResultSchema) });
export type PracticeLog = z.infer<typeof practiceLogSchema>;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function statusOf(client: df.DurableClient, id: string): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(id, { showHistory: false, showInput: false });
  } catch (error) {
    if (/404|not found|No instance/i.test(message(error))) return undefined;
    throw error;
  }
}

/** The practice log of a workload, with its etag (empty before the first decision). */
export async function readPracticeLog(
  rt: Pick<Runtime, "control">,
  workload: string,
): Promise<{ log: PracticeLog; etag: string | undefined }> {
  const stored = await rt.control.readPractice(workload);
  if (stored === undefined) return { log: { version: 1, results: [] }, etag: undefined };
  return { log: practiceLogSchema.parse(stored.value), etag: stored.etag };
}

/** Drill instance id for one occurrence (`practice-chat-20300101T030000Z`). */
export function practiceInstanceId(workload: string, occurrence: number): string {
  return `practice-${workload}-${new Date(occurrence).toISOString().replace(/[-:]|\.\d{3}/g, "")}`;
}

async function conditionsFor(
  rt: Runtime,
  client: df.DurableClient,
  workload: Workload,
  at: number,
): Promise<PracticeConditions> {
  const incidents: Array<{ id: string }> = [];
  for (const c of await rt.control.listClaims()) {
    if (c.workload !== workload.name) continue;
    const s = await statusOf(client, c.claim.instanceId);
    if (s !== undefined && ACTIVE.has(String(s.runtimeStatus))) incidents.push({ id: c.claim.instanceId });
  }
  const breakers: Array<{ region: string; zone?: string; state: "closed" | "open" | "half-open" }> = [];
  const alerts = new Set<string>();
  for (const b of breakerScopes(rt.topology).filter((x) => x.workload.name === workload.name)) {
    const state = await readBreaker(client, b.key);
    if (state === undefined) continue;
    breakers.push({
      region: b.scope.region,
      ...(b.scope.zone === undefined ? {} : { zone: b.scope.zone }),
      state: state.breaker.state,
    });
    for (const a of state.breaker.alerts) alerts.add(a.alertId);
  }
  const { state: shifts } = await readShiftState({ control: rt.control, now: () => at }, workload.name);
  const shift = activeShift(shifts, at);
  const shiftRunning =
    shift === undefined ? false : ACTIVE.has(String((await statusOf(client, shift.id))?.runtimeStatus));
  return {
    activeIncidents: incidents,
    firingAlerts: [...alerts].sort().map((id) => ({ id })),
    ...(shift !== undefined && shiftRunning ? { activeShift: { id: shift.id, kind: shift.kind } } : {}),
    breakers,
  };
}

/** Grades a finished drill from its failover report. */
export function gradeResult(
  result: PracticeResult,
  report: FailoverReport,
  workload: Workload,
  at: number,
): PracticeResult {
  const grade = gradePracticeRun(
    {
      mode: result.mode,
      outcome: report.outcome,
      ...(report.rtoSeconds === undefined ? {} : { rtoSeconds: report.rtoSeconds }),
      ...(report.predictedRtoSeconds === undefined ? {} : { predictedRtoSeconds: report.predictedRtoSeconds }),
      checks: practiceChecksFromReadiness(report.readiness ?? []),
      reasons: report.reasons,
    },
    { rtoSeconds: workload.slo.rtoSeconds },
  );
  return {
    ...result,
    result: grade.result,
    reasons: grade.reasons.map((r) => ({ code: r.code, detail: r.detail })),
    gradedAt: at,
    ...(report.rtoSeconds === undefined ? {} : { rtoSeconds: report.rtoSeconds }),
    ...(report.predictedRtoSeconds === undefined ? {} : { predictedRtoSeconds: report.predictedRtoSeconds }),
  };
}

async function startDrill(
  rt: Runtime,
  client: df.DurableClient,
  workload: Workload,
  decision: { occurrence: number; scope: { region: string; zone?: string | undefined }; mode: "dry-run" | "live" },
  at: number,
): Promise<{ runId: string } | { refused: string }> {
  const id = practiceInstanceId(workload.name, decision.occurrence);
  const scope =
    decision.scope.zone === undefined
      ? { region: decision.scope.region }
      : { region: decision.scope.region, zone: decision.scope.zone as "1" | "2" | "3" };
  const trigger = {
    kind: "drill" as const,
    reference: id,
    detectedAt: new Date(at).toISOString(),
    receivedAt: new Date(at).toISOString(),
  };
  if (decision.mode === "live") {
    const outcome = await startOrJoinFailover(
      { client, state: rt.state, now, cooldownSeconds: 0, control: rt.control },
      {
        workload: workload.name,
        scope,
        mode: "live",
        trigger,
        topology: rt.topology,
        options: { pollSeconds: rt.pollSeconds },
        precedence: "practice",
        by: "practice schedule",
      },
    );
    return outcome.outcome === "refused" ? { refused: outcome.detail ?? "shift held" } : { runId: outcome.instanceId };
  }
  // A dry run changes nothing, so it claims no scope (a real alert must never join a rehearsal), but it holds the
  // practice shift while it runs so that it never overlaps another run of the workload.
  const shift = await acquireShift({ client, now, control: rt.control }, workload.name, {
    id,
    kind: "practice",
    scope,
    by: "practice schedule",
    reason: "scheduled dry-run drill",
  });
  if (shift.outcome === "refused") return { refused: shift.detail };
  if ((await statusOf(client, id)) === undefined) {
    const input: FailoverInputInit = {
      workload: workload.name,
      scope,
      mode: "dry-run",
      trigger,
      topology: rt.topology,
      options: { pollSeconds: rt.pollSeconds },
    };
    await client.startNew(ORCHESTRATIONS.failoverWorkload, { instanceId: id, input });
  }
  return { runId: id };
}

/** One workload's practice minute; returns what it did (for logs and tests). */
export async function practiceWorkload(
  rt: Runtime,
  client: df.DurableClient,
  workload: Workload,
  at: number,
): Promise<string[]> {
  const practice = workload.practice;
  if (practice === undefined) return [];
  for (let attempt = 0; attempt < 4; attempt++) {
    const done: string[] = [];
    const { log, etag } = await readPracticeLog(rt, workload.name);
    let results = log.results;
    let changed = false;

    for (const r of results) {
      if (r.result !== "pending" || r.runId === undefined) continue;
      const s = await statusOf(client, r.runId);
      if (s !== undefined && !TERMINAL.has(String(s.runtimeStatus))) continue;
      const report = (s?.output ?? (await rt.state.getReport(r.runId))) as FailoverReport | undefined;
      if (report === undefined || typeof report !== "object" || !("outcome" in report)) {
        results = recordPracticeResult(results, {
          ...r,
          result: "fail",
          reasons: [
            {
              code: "RUN_FAILED",
              detail: `run ${r.runId} ended ${String(s?.runtimeStatus ?? "missing")} without a report`,
            },
          ],
          gradedAt: at,
        });
      } else results = recordPracticeResult(results, gradeResult(r, report, workload, at));
      changed = true;
      done.push(`graded ${r.runId}`);
    }

    const last = results.filter((r) => r.workload === workload.name).map((r) => r.occurrence);
    const decision = decidePracticeRun(
      at,
      { workload: workload.name, ...practice },
      {
        ...(await conditionsFor(rt, client, workload, at)),
        ...(last.length === 0 ? {} : { lastOccurrenceAt: Math.max(...last) }),
      },
    );
    if (decision.decision === "skip") {
      results = recordPracticeResult(results, {
        workload: workload.name,
        occurrence: decision.occurrence,
        decidedAt: at,
        decision: "skip",
        mode: practice.mode,
        reasons: decision.reasons.map((r) => ({ code: r.code, detail: r.detail })),
        result: "skipped",
      });
      changed = true;
      done.push(
        `skipped ${new Date(decision.occurrence).toISOString()}: ${decision.reasons.map((r) => r.code).join(", ")}`,
      );
    } else if (decision.decision === "run") {
      const started = await startDrill(rt, client, workload, decision, at);
      results = recordPracticeResult(
        results,
        "refused" in started
          ? {
              workload: workload.name,
              occurrence: decision.occurrence,
              decidedAt: at,
              decision: "skip",
              mode: decision.mode,
              reasons: [{ code: "SHIFT_HELD", detail: started.refused }],
              result: "skipped",
            }
          : {
              workload: workload.name,
              occurrence: decision.occurrence,
              decidedAt: at,
              decision: "run",
              mode: decision.mode,
              reasons: [],
              result: "pending",
              runId: started.runId,
            },
      );
      changed = true;
      done.push("refused" in started ? `refused: ${started.refused}` : `started ${started.runId}`);
    }
    if (!changed) return done;
    if (await rt.control.writePractice(workload.name, { version: 1, results }, etag)) return done;
  }
  throw new Error(`[CONFLICT] could not update the practice log of ${workload.name} after 4 attempts`);
}

export async function practiceRunsHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const rt = await configuredRuntime(context, "practice runs");
  if (rt === undefined) return;
  const client = df.getClient(context);
  const at = Math.floor(now());
  for (const workload of rt.topology.workloads) {
    if (workload.practice === undefined) continue;
    try {
      for (const line of await practiceWorkload(rt, client, workload, at))
        context.log(`practice ${workload.name}: ${line}`);
    } catch (error) {
      context.error(`practice ${workload.name}: ${message(error)}`);
    }
  }
}
