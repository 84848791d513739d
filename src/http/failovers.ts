/**
 * Failover status and control: `GET /api/failovers/{id}`, `POST /api/failovers/{id}/approve`, `POST …/abort`, and
 * `POST /api/drills` (dry-run: plan and readiness, no writes; live: a real failover of that scope), and
 * `POST /api/failovers/{id}/failback` (an operator's failback).
 */
import { randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { now, runtime } from "../composition";
import { formatPath, zoneSchema } from "../domain/topology";
import { attemptsAfter, failbackRequest } from "../health/failback-check";
import { EVENTS, ORCHESTRATIONS, type FailoverReport } from "../runbooks/contracts";
import { failbackInstanceId, type FailbackAttempt, type FailbackReport } from "../runbooks/health-contracts";
import { startFailback, startOrJoinFailover } from "./failover-service";
import { failure, json, problem } from "./responses";

const ACTIVE = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);

async function readStatus(context: InvocationContext, id: string): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await df.getClient(context).getStatus(id, { showHistory: false, showInput: false });
  } catch (error) {
    if (/404|not found|No instance/i.test(error instanceof Error ? error.message : String(error))) return undefined;
    throw error;
  }
}

export async function getFailoverHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params["id"] ?? "";
  try {
    const status = await readStatus(context, id);
    if (status === undefined) {
      const report = await (await runtime()).state.getReport(id);
      if (report === undefined) return problem(404, `no failover ${id}`);
      return json(200, { instanceId: id, runtimeStatus: "Completed", report });
    }
    return json(200, {
      instanceId: id,
      runtimeStatus: status.runtimeStatus,
      createdTime: status.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
      status: status.customStatus ?? null,
      report: status.output ?? null,
    });
  } catch (error) {
    return failure(error);
  }
}

const controlSchema = z.strictObject({
  by: z.string().min(1).max(200).optional(),
  reason: z.string().max(2000).optional(),
});

/** A request body that may be empty (`{}` then), or a 400 for malformed JSON. */
async function optionalBody(
  request: HttpRequest,
): Promise<{ ok: true; body: unknown } | { ok: false; response: HttpResponseInit }> {
  const text = await request.text();
  if (text.trim() === "") return { ok: true, body: {} };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch (error) {
    return { ok: false, response: problem(400, `malformed JSON: ${(error as Error).message}`) };
  }
}

async function control(
  request: HttpRequest,
  context: InvocationContext,
  event: "approve" | "abort",
): Promise<HttpResponseInit> {
  const id = request.params["id"] ?? "";
  const read = await optionalBody(request);
  if (!read.ok) return read.response;
  const parsed = (
    event === "approve" ? controlSchema.extend({ approved: z.boolean().optional() }) : controlSchema
  ).safeParse(read.body);
  if (!parsed.success)
    return problem(400, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; "));
  try {
    const status = await readStatus(context, id);
    if (status === undefined) return problem(404, `no failover ${id}`);
    if (!ACTIVE.has(String(status.runtimeStatus)))
      return problem(409, `failover ${id} is ${String(status.runtimeStatus)}`);
    const by = parsed.data.by ?? "api";
    if (event === "approve") {
      const approved = (parsed.data as { approved?: boolean }).approved ?? true;
      await df.getClient(context).raiseEvent(id, EVENTS.approval, { approved, by });
      return json(202, { instanceId: id, event: approved ? "approved" : "denied", by });
    }
    await df
      .getClient(context)
      .raiseEvent(id, EVENTS.abort, { by, reason: parsed.data.reason ?? "aborted through the API" });
    return json(202, { instanceId: id, event: "abort requested", by });
  } catch (error) {
    return failure(error);
  }
}

export const approveHandler = (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
  control(request, context, "approve");
export const abortHandler = (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
  control(request, context, "abort");

export const drillSchema = z.strictObject({
  workload: z.string().min(1),
  scope: z.strictObject({ region: z.string().min(1), zone: zoneSchema.optional() }),
  mode: z.enum(["dry-run", "live"]),
});

export async function drillsHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch (error) {
    return problem(400, `malformed JSON: ${(error as Error).message}`);
  }
  const parsed = drillSchema.safeParse(body);
  if (!parsed.success)
    return problem(400, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; "));
  const drill = parsed.data;
  try {
    const rt = await runtime();
    const workload = rt.topology.workloads.find((w) => w.name === drill.workload);
    if (workload === undefined) return problem(400, `workload: "${drill.workload}" is not in the topology`);
    if (workload.regions[drill.scope.region] === undefined)
      return problem(
        400,
        `scope.region: workload ${drill.workload} has no region "${drill.scope.region}" (has ${Object.keys(workload.regions).join(", ")})`,
      );
    if (
      drill.scope.zone !== undefined &&
      !(rt.topology.regions[drill.scope.region]?.zones ?? []).includes(drill.scope.zone)
    )
      return problem(400, `scope.zone: ${drill.scope.region} has no zone ${drill.scope.zone}`);
    const client = df.getClient(context);
    const at = new Date(now()).toISOString();
    const reference = `drill-${randomUUID()}`;
    const trigger = { kind: "drill" as const, reference, detectedAt: at, receivedAt: at };
    const options = { pollSeconds: rt.pollSeconds };
    let instanceId: string;
    let outcome: "started" | "joined";
    let replaced: string | undefined;
    if (drill.mode === "dry-run") {
      instanceId = reference;
      await client.startNew(ORCHESTRATIONS.failoverWorkload, {
        instanceId,
        input: {
          workload: drill.workload,
          scope: drill.scope,
          mode: "dry-run",
          trigger,
          topology: rt.topology,
          options,
        },
      });
      outcome = "started";
    } else {
      // A live drill is an operator's run: manual precedence (it preempts automatic and practice runs).
      const started = await startOrJoinFailover(
        { client, state: rt.state, now, cooldownSeconds: 0, control: rt.control },
        {
          workload: drill.workload,
          scope: drill.scope,
          mode: "live",
          trigger,
          topology: rt.topology,
          options,
          precedence: "manual",
          by: "POST /api/drills",
        },
      );
      if (started.outcome === "refused")
        return problem(409, started.detail ?? "another run holds the workload", { holder: started.instanceId });
      ({ instanceId, outcome } = started);
      replaced = started.replaced;
    }
    const response = client.createCheckStatusResponse(request, instanceId);
    const links = (await response.json()) as Record<string, unknown> | undefined;
    return json(
      202,
      {
        instanceId,
        outcome,
        mode: drill.mode,
        statusUrl: `/api/failovers/${instanceId}`,
        ...(replaced === undefined ? {} : { replaced }),
        ...(links ?? {}),
      },
      { location: `/api/failovers/${instanceId}` },
    );
  } catch (error) {
    return failure(error);
  }
}

const failbackAskSchema = z.strictObject({
  by: z.string().min(1).max(200).optional(),
  /** Overrides `CUTOVER_FAILBACK_APPROVAL` for this failback. */
  approval: z.enum(["before-start", "every-step", "none"]).optional(),
});

/**
 * `POST /api/failovers/{id}/failback`: an operator starts the failback of failover `id` (automatic precedence: it never
 * preempts a running failover), or starts it again after an attempt that did not succeed (refused, relapsed, aborted
 * or denied, failed; the earlier attempts stay in its report). The failback plans as the automatic one does: it refuses while the scope's breaker is not
 * closed and soaked or an alert fires. 202 started (or joined when one is running); 404 no such failover; 409 when the
 * failover is not a live one that succeeded, the failback already succeeded, or another run holds the workload.
 */
export async function failbackHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params["id"] ?? "";
  const read = await optionalBody(request);
  if (!read.ok) return read.response;
  const parsed = failbackAskSchema.safeParse(read.body);
  if (!parsed.success)
    return problem(400, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; "));
  try {
    const rt = await runtime();
    const status = await readStatus(context, id);
    const report = status?.output as FailoverReport | null | undefined;
    if (status === undefined || status.name !== ORCHESTRATIONS.failoverWorkload)
      return problem(404, `no failover ${id}`);
    if (String(status.runtimeStatus) !== "Completed" || report?.outcome !== "succeeded" || report.mode !== "live")
      return problem(
        409,
        `failover ${id} is ${String(status.runtimeStatus)}${report?.outcome === undefined ? "" : ` (${report.outcome}, ${report.mode})`}: only a live failover that succeeded is failed back`,
      );
    const workload = rt.topology.workloads.find((w) => w.name === report.workload);
    if (workload?.kind !== "inference")
      return problem(
        409,
        `workload ${report.workload} ${workload === undefined ? "is not in the topology" : "is a training workload: it fails back by resuming in the hub"}`,
      );
    const fbId = failbackInstanceId(id);
    const earlier = await readStatus(context, fbId);
    const earlierReport = earlier?.output as FailbackReport | null | undefined;
    let earlierAttempts: FailbackAttempt[] = [];
    if (earlier !== undefined && !ACTIVE.has(String(earlier.runtimeStatus))) {
      if (earlierReport?.outcome === "succeeded")
        return problem(409, `failover ${id} was already failed back by ${fbId} (ended ${earlierReport.endedAt})`);
      if (earlierReport !== null && earlierReport !== undefined) earlierAttempts = attemptsAfter(earlierReport);
    }
    const by = parsed.data.by ?? "api";
    const client = df.getClient(context);
    const started = await startFailback(
      { client, now, control: rt.control },
      failbackRequest(rt, id, report, {
        // Automatic precedence, as the check's: an operator's failback never preempts a running failover (a 409 names it).
        precedence: "automatic",
        startedBy: `${by} (POST /api/failovers/${id}/failback)`,
        earlierAttempts,
        // Over any finished attempt, one that left no report (a crashed instance) included.
        replaceFinished: earlier !== undefined,
        ...(parsed.data.approval === undefined ? {} : { approval: parsed.data.approval }),
      }),
    );
    if (started.outcome === "refused")
      return problem(409, started.detail ?? "another run holds the workload", { holder: started.instanceId });
    return json(
      202,
      {
        instanceId: started.instanceId,
        outcome: started.outcome,
        attempt: earlierAttempts.length + 1,
        statusUrl: `/api/failovers/${started.instanceId}`,
        ...(started.replaced === undefined ? {} : { replaced: started.replaced }),
      },
      { location: `/api/failovers/${started.instanceId}` },
    );
  } catch (error) {
    return failure(error);
  }
}
