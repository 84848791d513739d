/**
 * The `breaker` Durable Entity: one regional circuit breaker (`workload:region`) or zone breaker
 * (`workload:region:zone`), the single writer of its state.
 *
 * Operations ({@link BREAKER_OPERATIONS}): `record` (evidence from the probe timer and the alert webhook, or none: a
 * tick), `acknowledge` (the starter reports what became of an opening), `get`, and `evaluateFailbackGate` (a
 * failback step's hold, judged on the evidence kept here so that the failback's history stays small).
 *
 * Why an outbox: entities must not do I/O, so an opening (closed → open) is not acted on here. It is appended to
 * `outbox`, and the probe timer — which reads every breaker each round anyway — starts or joins the scope's failover
 * through the exactly-once claim and then acknowledges it. A crash between the start and the acknowledgement is
 * harmless: the opening is still in the outbox, and starting again joins the same claimed instance. An opening the
 * shift rule refuses stays in the outbox and is retried while the breaker is not closed; closing drops it.
 *
 * Deterministic and pure apart from the durable-functions context: time is the caller's `now` (or the evidence's
 * `at`), never a clock. State is bounded (breaker window and history, outbox ≤ 8, handled ≤ 20, recent evidence ≤
 * {@link RECENT_LIMIT} within {@link RECENT_MS}).
 */
import type { EntityContext, EntityHandler } from "durable-functions";
import { z } from "zod";
import {
  breakerStep,
  breakerTick,
  createBreaker,
  parseBreakerConfig,
  type BreakerConfig,
  type BreakerTransition,
} from "../domain/circuit-breaker";
import { errorCodeOf } from "../domain/errors";
import { evaluateFailbackGate, type FailbackCheck, type GateVerdict } from "../domain/failback";
import type { Evidence } from "../domain/probe-evidence";
import { formatPath } from "../domain/topology";
import type { Scope } from "./contracts";
import {
  acknowledgeInputSchema,
  BREAKER_OPERATIONS,
  breakerEntityStateSchema,
  parseBreakerKey,
  recordInputSchema,
  type BreakerEntityState,
  type BreakerRecordResult,
  type HandledOpening,
  type Opening,
} from "./health-contracts";

export const OUTBOX_LIMIT = 8;
export const HANDLED_LIMIT = 20;
/** Recent evidence kept for failback gates: enough for a 5-minute hold from three vantages every 10 s. */
export const RECENT_LIMIT = 200;
export const RECENT_MS = 900_000;
const REASON_KEEP = 100;

function fail(what: string, error: z.ZodError): Error {
  return new Error(
    `[INVALID_INPUT] ${what}: ${error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")}`,
  );
}

/** A new entity state for `workload`/`scope`, closed at `now`. */
export function createBreakerEntity(
  workload: string,
  scope: Scope,
  now: number,
  config: BreakerConfig,
  configInput: Record<string, unknown>,
): BreakerEntityState {
  return {
    version: 1,
    workload,
    scope,
    breaker: createBreaker(now, config),
    outbox: [],
    handled: [],
    recent: [],
    config: configInput,
    updatedAt: now,
  };
}

function compact(e: Evidence): Evidence {
  return e.reason.length <= REASON_KEEP ? e : { ...e, reason: `${e.reason.slice(0, REASON_KEEP - 1)}…` };
}

function keepHandled(list: ReadonlyArray<HandledOpening>): HandledOpening[] {
  return list.slice(Math.max(0, list.length - HANDLED_LIMIT));
}

/**
 * `record`: applies the evidence in time order, then a tick at `now`. Every closed → open transition becomes an
 * opening in the outbox; a breaker that is closed at the end drops what is left there (the scope recovered before a
 * failover could start). Throws `[INVALID_INPUT]` for a malformed input or configuration.
 */
export function applyRecord(
  previous: BreakerEntityState | undefined,
  workload: string,
  scope: Scope,
  rawInput: unknown,
): BreakerRecordResult {
  const parsed = recordInputSchema.safeParse(rawInput);
  if (!parsed.success) throw fail("record", parsed.error);
  const input = parsed.data;
  const config = parseBreakerConfig(input.config);
  let entity = previous ?? createBreakerEntity(workload, scope, input.now, config, input.config);
  // A zone whose pools changed (scaling, or a new expected count) is judged only on metric points that start after
  // the change: Monitor's points lag by a minute or more, and one from before would count nodes not yet there.
  const gpuIn = input.evidence.filter((e) => e.source === "gpu");
  const expectedNow = gpuIn.length > 0 ? gpuIn[gpuIn.length - 1]?.expectedNodes : undefined;
  let gpuChangedAt = entity.gpuChangedAt;
  if (input.gpuUnsettledAt !== undefined) gpuChangedAt = Math.max(gpuChangedAt ?? 0, input.gpuUnsettledAt);
  if (expectedNow !== undefined && entity.gpuExpectedNodes !== undefined && expectedNow !== entity.gpuExpectedNodes)
    gpuChangedAt = Math.max(gpuChangedAt ?? 0, input.now);
  const staleGpu =
    input.gpuMetricAt !== undefined &&
    ((entity.lastGpuMetricAt !== undefined && input.gpuMetricAt <= entity.lastGpuMetricAt) ||
      (gpuChangedAt !== undefined && input.gpuMetricAt < gpuChangedAt));
  const evidence = input.evidence
    .filter((e) => !(e.source === "gpu" && staleGpu))
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map((x) => x.e);

  let breaker = entity.breaker;
  const transitions: BreakerTransition[] = [];
  for (const e of evidence) {
    const r = breakerStep(breaker, e, config);
    breaker = r.state;
    if (r.transition !== undefined) transitions.push(r.transition);
  }
  const ticked = breakerTick(breaker, input.now, config);
  breaker = ticked.state;
  if (ticked.transition !== undefined) transitions.push(ticked.transition);

  const key = scope.zone === undefined ? `${workload}:${scope.region}` : `${workload}:${scope.region}:${scope.zone}`;
  let outbox: Opening[] = [...entity.outbox];
  let handled: HandledOpening[] = [...entity.handled];
  let openings = entity.breaker.openings;
  for (const t of transitions) {
    if (t.from !== "closed" || t.to !== "open") continue;
    openings++;
    outbox.push({ id: `${key}#${openings}`, at: t.at, reason: t.reason, detail: t.detail, attempts: 0 });
  }
  if (outbox.length > OUTBOX_LIMIT) {
    const dropped = outbox.slice(0, outbox.length - OUTBOX_LIMIT);
    outbox = outbox.slice(outbox.length - OUTBOX_LIMIT);
    handled = [
      ...handled,
      ...dropped.map((o) => ({
        id: o.id,
        at: o.at,
        handledAt: input.now,
        outcome: "dropped" as const,
        detail: "outbox full",
      })),
    ];
  }
  if (breaker.state === "closed" && outbox.length > 0) {
    handled = [
      ...handled,
      ...outbox.map((o) => ({
        id: o.id,
        at: o.at,
        handledAt: input.now,
        outcome: "dropped" as const,
        detail: `the breaker closed before a failover was started${o.lastOutcome === undefined ? "" : ` (last: ${o.lastOutcome})`}`,
      })),
    ];
    outbox = [];
  }

  const horizon = Math.max(breaker.clock, input.now) - RECENT_MS;
  const recent = [...entity.recent, ...evidence.map(compact)]
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map((x) => x.e)
    .filter((e) => e.at > horizon);
  entity = {
    ...entity,
    breaker,
    outbox,
    handled: keepHandled(handled),
    recent: recent.slice(Math.max(0, recent.length - RECENT_LIMIT)),
    config: input.config,
    updatedAt: Math.max(entity.updatedAt, input.now),
    ...(input.gpuMetricAt !== undefined && !staleGpu && evidence.some((e) => e.source === "gpu")
      ? { lastGpuMetricAt: input.gpuMetricAt }
      : {}),
    ...(expectedNow === undefined ? {} : { gpuExpectedNodes: expectedNow }),
    ...(gpuChangedAt === undefined ? {} : { gpuChangedAt }),
  };
  return { state: entity, transitions };
}

/**
 * `acknowledge`: `started`, `joined` and `observed` retire the opening; `refused` and `failed` keep it for a retry
 * (with the attempt counted). An unknown opening id is ignored (a repeated acknowledgement).
 */
export function applyAcknowledge(entity: BreakerEntityState, rawInput: unknown): BreakerEntityState {
  const parsed = acknowledgeInputSchema.safeParse(rawInput);
  if (!parsed.success) throw fail("acknowledge", parsed.error);
  const ack = parsed.data;
  const opening = entity.outbox.find((o) => o.id === ack.openingId);
  if (opening === undefined) return entity;
  if (ack.outcome === "refused" || ack.outcome === "failed") {
    return {
      ...entity,
      outbox: entity.outbox.map((o) =>
        o.id === ack.openingId
          ? { ...o, attempts: o.attempts + 1, lastAttemptAt: ack.at, lastOutcome: `${ack.outcome}: ${ack.detail}` }
          : o,
      ),
    };
  }
  return {
    ...entity,
    outbox: entity.outbox.filter((o) => o.id !== ack.openingId),
    handled: keepHandled([
      ...entity.handled,
      {
        id: opening.id,
        at: opening.at,
        handledAt: ack.at,
        outcome: ack.outcome,
        ...(ack.instanceId === undefined ? {} : { instanceId: ack.instanceId }),
        detail: ack.detail,
      },
    ]),
  };
}

const gateInputSchema = z.strictObject({
  check: z.strictObject({
    region: z.string().min(1),
    zone: z.enum(["1", "2", "3"]).optional(),
    holdMs: z.number().int().min(0),
    minProbes: z.number().int().min(1),
    maxFailureRatio: z.number().min(0).max(1),
    maxSlowRatio: z.number().min(0).max(1),
    modelVersion: z.string().min(1),
    latencySloMs: z.number().positive(),
  }),
  stepStartedAt: z.number().int().min(0),
  now: z.number().int().min(0),
});
export type GateInput = z.input<typeof gateInputSchema>;

/** What `evaluateFailbackGate` returns: the verdict and where the breaker stands. */
export interface GateAnswer {
  readonly verdict: GateVerdict;
  readonly breaker: "closed" | "open" | "half-open" | "missing";
  readonly probes: number;
}

/** `evaluateFailbackGate`: judges a failback step's hold on the evidence this breaker kept since the step began. */
export function applyGate(entity: BreakerEntityState | undefined, rawInput: unknown): GateAnswer {
  const parsed = gateInputSchema.safeParse(rawInput);
  if (!parsed.success) throw fail("evaluateFailbackGate", parsed.error);
  const { check, stepStartedAt, now } = parsed.data;
  if (entity === undefined)
    return {
      verdict: { verdict: "wait", detail: "no evidence yet: the breaker has not been fed" },
      breaker: "missing",
      probes: 0,
    };
  const { zone, ...rest } = check;
  const fbCheck: FailbackCheck = zone === undefined ? rest : { ...rest, zone };
  const verdict = evaluateFailbackGate(fbCheck, entity.breaker, entity.recent, stepStartedAt, now);
  const probes = entity.recent.filter((e) => e.source !== "alert" && e.at >= stepStartedAt && e.at <= now).length;
  return { verdict, breaker: entity.breaker.state, probes };
}

function readState(context: EntityContext<unknown>): BreakerEntityState | undefined {
  const raw = context.df.getState();
  if (raw === undefined || raw === null) return undefined;
  const parsed = breakerEntityStateSchema.safeParse(raw);
  if (!parsed.success) throw fail("stored breaker state", parsed.error);
  return parsed.data;
}

/**
 * The entity function. A malformed operation is logged and answered with `{ error }` without changing state: entity
 * exceptions lose their message on the way back to the caller (local-testing-feasibility §3.6), and a signal has no
 * caller at all.
 */
export const breakerEntity: EntityHandler<unknown> = (context: EntityContext<unknown>) => {
  const key = parseBreakerKey(context.df.entityKey);
  const operation = context.df.operationName;
  try {
    if (key === undefined)
      throw new Error(
        `[INVALID_INPUT] breaker key ${JSON.stringify(context.df.entityKey)} is not workload:region[:zone]`,
      );
    const state = readState(context);
    switch (operation) {
      case BREAKER_OPERATIONS.record: {
        const result = applyRecord(state, key.workload, key.scope, context.df.getInput());
        context.df.setState(result.state);
        for (const t of result.transitions)
          context.log(`breaker ${context.df.entityKey}: ${t.from} → ${t.to} (${t.reason}): ${t.detail}`);
        context.df.return({
          transitions: result.transitions,
          state: result.state.breaker.state,
          outbox: result.state.outbox.length,
        });
        return;
      }
      case BREAKER_OPERATIONS.acknowledge: {
        if (state === undefined) {
          context.df.return({ error: "no such breaker yet" });
          return;
        }
        context.df.setState(applyAcknowledge(state, context.df.getInput()));
        context.df.return({ ok: true });
        return;
      }
      case BREAKER_OPERATIONS.get:
        context.df.return(state ?? null);
        return;
      case BREAKER_OPERATIONS.evaluateFailbackGate:
        context.df.return(applyGate(state, context.df.getInput()));
        return;
      default:
        throw new Error(`[INVALID_INPUT] unknown breaker operation ${JSON.stringify(operation)}`);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    context.error(`breaker ${context.df.entityKey} ${operation ?? "?"}: ${message}`);
    context.df.return({ error: message, code: errorCodeOf(error) ?? "INTERNAL" });
  }
};
