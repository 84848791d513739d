/**
 * `POST /api/alerts`: Azure Monitor's Common Alert Schema webhook. Fired alerts start or join the failover of every
 * workload + scope they map to; Resolved alerts are recorded and passed to a failover still waiting on them. Bad input
 * is a 400 (413 when too large) with the reason; an alert that maps to nothing is a 202 recorded as ignored. Only a
 * failure of Cutover itself (storage unreachable) is a 5xx, which makes the action group retry.
 */
import { randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import { now, runtime } from "../composition";
import { mapAlert, MAX_ALERT_BYTES, parseAlertBody, type CommonAlert } from "../domain/alerts";
import type { FailedScope } from "../domain/plan";
import type { BreakerConfigInput } from "../domain/circuit-breaker";
import { alertEvidenceFromCommonAlert, type AlertEvidence } from "../domain/probe-evidence";
import { breakerScopes, type BreakerScope } from "../health/breaker-scopes";
import { EVENTS } from "../runbooks/contracts";
import { BREAKER_OPERATIONS, breakerKey, ENTITIES, type RecordInput } from "../runbooks/health-contracts";
import type { Topology } from "../domain/topology";
import {
  activeFailover,
  durableClientFor,
  RunSightings,
  startOrJoinFailover,
  type StartOutcome,
} from "./failover-service";
import { failure, json, problem } from "./responses";

const breakersByTopology = new WeakMap<Topology, ReadonlyMap<string, BreakerScope>>();

/** `breakerFor`, from the topology's breakers listed once per topology object instead of once per alert target. */
function breakerOf(topology: Topology, workload: string, scope: FailedScope): BreakerScope | undefined {
  let byKey = breakersByTopology.get(topology);
  if (byKey === undefined) {
    byKey = new Map(breakerScopes(topology).map((b) => [b.key, b]));
    breakersByTopology.set(topology, byKey);
  }
  return byKey.get(breakerKey(workload, scope));
}

interface Parcel {
  readonly client: DurableClient;
  readonly config: BreakerConfigInput;
  readonly now: number;
  readonly evidence: AlertEvidence;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The breaker entity's `record` takes at most this many evidence items (recordInputSchema). */
const MAX_EVIDENCE_PER_SIGNAL = 500;

/**
 * Delivers alert evidence to breaker entities with one `record` signal in flight per breaker: evidence that arrives
 * while a signal is on its way waits and goes in the next one, as one list (the entity applies a list in time order,
 * then ticks at the latest `now` of the batch). A quiet breaker gets each alert's signal at once; under an alert storm
 * the signals, each an entity operation with its state read and written, grow fewer instead of queueing up. Every
 * caller's promise settles with the delivery of the signal that carried its evidence.
 */
export class EvidenceCourier {
  readonly #waiting = new Map<string, Parcel[]>();
  readonly #sending = new Set<string>();

  deliver(
    client: DurableClient,
    breakerKey: string,
    config: BreakerConfigInput,
    now: number,
    evidence: AlertEvidence,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const parcel: Parcel = { client, config, now, evidence, resolve, reject };
      const queue = this.#waiting.get(breakerKey);
      if (queue === undefined) this.#waiting.set(breakerKey, [parcel]);
      else queue.push(parcel);
      this.#send(breakerKey);
    });
  }

  #send(breakerKey: string): void {
    if (this.#sending.has(breakerKey)) return;
    const queue = this.#waiting.get(breakerKey);
    if (queue === undefined || queue.length === 0) return;
    const first = queue[0]!;
    let count = 1;
    while (count < queue.length && count < MAX_EVIDENCE_PER_SIGNAL && queue[count]!.config === first.config) count++;
    const batch = queue.splice(0, count);
    if (queue.length === 0) this.#waiting.delete(breakerKey);
    const input: RecordInput = {
      now: Math.max(...batch.map((p) => p.now)),
      config: first.config,
      evidence: batch.map((p) => p.evidence),
    };
    this.#sending.add(breakerKey);
    void first.client
      .signalEntity(new df.EntityId(ENTITIES.breaker, breakerKey), BREAKER_OPERATIONS.record, input)
      .then(
        () => {
          for (const p of batch) p.resolve();
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      )
      .finally(() => {
        this.#sending.delete(breakerKey);
        this.#send(breakerKey);
      });
  }
}

/** One value per runtime object, made on first use (a reset composition starts with fresh ones). */
function perRuntime<T>(create: () => T): (rt: object) => T {
  const values = new WeakMap<object, T>();
  return (rt) => {
    let value = values.get(rt);
    if (value === undefined) {
      value = create();
      values.set(rt, value);
    }
    return value;
  };
}

const courierOf = perRuntime(() => new EvidenceCourier());
const sightingsOf = perRuntime(() => new RunSightings());

export async function alertsHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_ALERT_BYTES)
    return problem(413, `body exceeds ${MAX_ALERT_BYTES} bytes (Azure Monitor's payload limit)`);
  const body = await request.text();
  const parsed = parseAlertBody(body);
  if (!parsed.ok) return problem(parsed.status, parsed.reason);
  const alert = parsed.alert;
  try {
    const rt = await runtime();
    const client = durableClientFor(context);
    const sightings = sightingsOf(rt);
    const receivedAt = new Date(now()).toISOString();
    const essentials = alert.data.essentials;
    const record = async (
      outcome: "started" | "joined" | "ignored" | "resolved" | "rejected",
      targets: string[],
      instanceIds: string[],
      reason: string,
    ): Promise<void> => {
      await rt.state.recordAlert(
        {
          receivedAt,
          alertId: essentials.alertId,
          rule: essentials.alertRule,
          condition: essentials.monitorCondition,
          severity: essentials.severity,
          outcome,
          targets: targets.join(","),
          instanceIds: instanceIds.join(","),
          reason,
        },
        `${receivedAt}-${randomUUID()}`,
      );
    };

    const mapping = mapAlert(alert, rt.topology);
    if (!mapping.mapped) {
      await record("ignored", [], [], mapping.reason);
      context.log(`alert ${essentials.alertRule} ignored: ${mapping.reason}`);
      return json(202, { outcome: "ignored", reason: mapping.reason });
    }
    const targetNames = mapping.targets.map(
      (t) => `${t.workload}/${t.scope.region}${t.scope.zone === undefined ? "" : `/${t.scope.zone}`}`,
    );

    // Alerts are evidence for the breakers of the scopes they map to (they never open one alone; see docs/breaker.md).
    // A Fired alert on Front Door's own view of an origin (origin health, 5xx) says nothing about a region whose health
    // gate Cutover has drained: Front Door sees the gate, and the alert stays fired until failback reopens it. Letting it
    // count would keep that region's breaker from ever closing, so it is masked there; Resolved always counts.
    const evidence = alertEvidenceFromCommonAlert(alert, Date.parse(receivedAt));
    const frontDoorSignal = essentials.alertTargetIDs.some((id) =>
      /\/providers\/microsoft\.(cdn\/profiles|network\/frontdoors)\//i.test(id),
    );
    for (const t of mapping.targets) {
      const breaker = breakerOf(rt.topology, t.workload, t.scope);
      if (breaker === undefined || rt.health.mode === "off") continue;
      if (frontDoorSignal && essentials.monitorCondition === "Fired") {
        const gate = await rt.state.get(t.workload, t.scope.region);
        if (gate?.state === "drained") {
          context.log(
            `alert ${essentials.alertRule}: not breaker evidence for ${breaker.key} (its gate is drained by ${gate.by})`,
          );
          continue;
        }
      }
      try {
        await courierOf(rt).deliver(
          client,
          breaker.key,
          breaker.kind === "zone" ? rt.health.zoneBreaker : rt.health.regionBreaker,
          Date.parse(receivedAt),
          evidence,
        );
      } catch (error) {
        // The failover path below does not depend on the breaker; a lost signal only delays its evidence.
        context.warn(
          `alert evidence for ${breaker.key} not delivered: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }

    if (essentials.monitorCondition === "Resolved") {
      const notified: string[] = [];
      for (const t of mapping.targets) {
        const id = await activeFailover(
          { client, state: rt.state, now, cooldownSeconds: rt.cooldownSeconds, sightings },
          t.workload,
          t.scope,
        );
        if (id === undefined) continue;
        await client.raiseEvent(id, EVENTS.resolved, { alertId: essentials.alertId, at: receivedAt });
        notified.push(id);
      }
      await record(
        "resolved",
        targetNames,
        notified,
        notified.length > 0 ? "passed to the running failover" : "no failover running",
      );
      return json(202, { outcome: "resolved", targets: targetNames, notified });
    }

    const results: Array<StartOutcome & { workload: string; scope: FailedScope }> = [];
    for (const t of mapping.targets) {
      const outcome = await startOrJoinFailover(
        { client, state: rt.state, now, cooldownSeconds: rt.cooldownSeconds, control: rt.control, sightings },
        {
          workload: t.workload,
          scope: t.scope,
          mode: "live",
          topology: rt.topology,
          trigger: { kind: "alert", reference: essentials.alertId, detectedAt: firedAt(alert, receivedAt), receivedAt },
          options: { pollSeconds: rt.pollSeconds, confirmWithMetrics: rt.confirmAlerts },
        },
      );
      results.push({ ...outcome, workload: t.workload, scope: t.scope });
    }
    const started = results.some((r) => r.outcome === "started");
    const acted = results.some((r) => r.outcome !== "refused");
    const summary = started ? "started" : acted ? "joined" : "rejected";
    await record(
      summary,
      targetNames,
      results.map((r) => r.instanceId),
      [
        ...mapping.targets.map((t) => t.via),
        ...results.filter((r) => r.outcome === "refused").map((r) => `refused: ${r.detail ?? "shift held"}`),
      ].join("; "),
    );
    return json(202, {
      outcome: summary,
      failovers: results.map((r) => ({
        workload: r.workload,
        scope: r.scope,
        instanceId: r.instanceId,
        outcome: r.outcome,
        ...(r.detail === undefined ? {} : { detail: r.detail }),
        statusUrl: `/api/failovers/${r.instanceId}`,
      })),
    });
  } catch (error) {
    context.error(`alert handling failed: ${error instanceof Error ? error.message : String(error)}`);
    return failure(error);
  }
}

function firedAt(alert: CommonAlert, fallback: string): string {
  const fired = Date.parse(alert.data.essentials.firedDateTime);
  return Number.isNaN(fired) ? fallback : new Date(fired).toISOString();
}

/** `GET /api/alerts?day=YYYY-MM-DD`: every alert received that day (UTC) and what Cutover did with it. */
export async function listAlertsHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const day = request.query.get("day") ?? new Date(now()).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return problem(400, `day: expected YYYY-MM-DD, got ${JSON.stringify(day)}`);
  try {
    const records = await (await runtime()).state.listAlerts(day);
    return json(200, { day, count: records.length, alerts: records });
  } catch (error) {
    return failure(error);
  }
}
