/**
 * The probe timer (`probeHealth`, schedule `%CUTOVER_PROBE_SCHEDULE%`): one round of Cutover's own health signals.
 *
 * Each round, in this order:
 * 1. Read the breaker entities' states (bounded fan-out): every one once a minute, in between only those that can
 *    hold an opening (see `suspect`).
 * 2. Act on openings waiting in the breakers' outboxes: start or join the failover of that scope through the
 *    exactly-once claim (`startOrJoinFailover`, trigger kind `probe`, automatic precedence), then acknowledge. This is
 *    how an opening reaches the DurableClient without the entity doing I/O (see src/runbooks/breaker-entity.ts).
 * 3. Once a minute, the failback check (./failback-check), and the end of shifts whose runs have finished.
 * 4. Probe every workload-region endpoint from every vantage, and GPU readiness per zone once a minute
 *    (src/activities/probes.ts), bounded and time-boxed.
 * 5. Signal every breaker `record` with its evidence; one without evidence gets an empty `record` (a tick) when it is
 *    open or half-open, since open → half-open needs time only.
 * 6. Read again the breakers just sent failure evidence and act on an opening at once (step 2 of the next round
 *    catches one whose signal was not yet processed, at most one probe interval later).
 *
 * Every step is isolated: a breaker, a failover start or a probe that fails is logged and the round goes on.
 */
import type { InvocationContext, Timer } from "@azure/functions";
import * as df from "durable-functions";
import { EndpointAdapter } from "../adapters/endpoints";
import { mapBounded, probeRound } from "../activities/probes";
import { now, type Runtime } from "../composition";
import type { EndpointPort } from "../activities/ports";
import { endFinishedShift, startOrJoinFailover } from "../http/failover-service";
import {
  BREAKER_OPERATIONS,
  breakerEntityStateSchema,
  ENTITIES,
  type AcknowledgeInput,
  type BreakerEntityState,
  type RecordInput,
} from "../runbooks/health-contracts";
import { breakerScopes, type BreakerScope } from "./breaker-scopes";
import { configuredRuntime } from "./timer-runtime";
import { checkFailbacks } from "./failback-check";

/** A refused opening is asked again no sooner than this. */
const RETRY_MS = 60_000;
/** GPU readiness is a one-minute metric. */
const GPU_EVERY_MS = 60_000;
const FAILBACK_EVERY_MS = 60_000;

/** Every breaker is read at least this often (and all at once for the failback check). */
const FULL_READ_EVERY_MS = 60_000;

let lastGpuAt = Number.NEGATIVE_INFINITY;
let lastFailbackAt = Number.NEGATIVE_INFINITY;
let lastFullReadAt = Number.NEGATIVE_INFINITY;
const adapters = new Map<string, EndpointPort>();
/**
 * Per process: what each breaker looked like when last read, and which ones were sent anything but success evidence
 * in the last round. Reads go through the Durable HTTP API and are the round's main cost, so between full reads only
 * the breakers that can hold an opening are read: an opening needs non-success evidence or a breaker that is not
 * closed (success evidence never opens a closed breaker). An alert can also open one, but the alert webhook starts
 * that failover itself; the next full read acknowledges the opening. A new process starts with a full read.
 */
const lastKnown = new Map<string, BreakerEntityState | undefined>();
const suspect = new Set<string>();

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads a breaker's stored state (undefined before its first `record`). */
export async function readBreaker(client: df.DurableClient, key: string): Promise<BreakerEntityState | undefined> {
  const response = await client.readEntityState<unknown>(new df.EntityId(ENTITIES.breaker, key));
  if (!response.entityExists || response.entityState === undefined || response.entityState === null) return undefined;
  const parsed = breakerEntityStateSchema.safeParse(response.entityState);
  if (!parsed.success) throw new Error(`[INVALID_INPUT] breaker ${key} state: ${parsed.error.message}`);
  return parsed.data;
}

function endpointFor(rt: Runtime, vantage: string): EndpointPort {
  const key = `${vantage}|${rt.health.timeoutMs}`;
  let adapter = adapters.get(key);
  if (adapter === undefined) {
    adapter = new EndpointAdapter({ vantage, timeoutMs: rt.health.timeoutMs });
    adapters.set(key, adapter);
  }
  return adapter;
}

async function actOnOutbox(
  rt: Runtime,
  client: df.DurableClient,
  breaker: BreakerScope,
  state: BreakerEntityState,
  at: number,
  context: InvocationContext,
): Promise<void> {
  for (const opening of state.outbox) {
    if (opening.lastAttemptAt !== undefined && at - opening.lastAttemptAt < RETRY_MS) continue;
    let ack: AcknowledgeInput;
    if (rt.health.mode === "observe") {
      ack = { openingId: opening.id, at, outcome: "observed", detail: "CUTOVER_PROBE_MODE=observe: no failover" };
    } else {
      try {
        const outcome = await startOrJoinFailover(
          { client, state: rt.state, now, cooldownSeconds: rt.cooldownSeconds, control: rt.control },
          {
            workload: breaker.workload.name,
            scope: breaker.scope,
            mode: "live",
            topology: rt.topology,
            trigger: {
              kind: "probe",
              reference: opening.id,
              detectedAt: new Date(opening.at).toISOString(),
              receivedAt: new Date(at).toISOString(),
            },
            options: { pollSeconds: rt.pollSeconds },
            precedence: "automatic",
            by: `breaker ${breaker.key}`,
          },
        );
        ack = {
          openingId: opening.id,
          at,
          outcome: outcome.outcome,
          instanceId: outcome.instanceId,
          detail: (outcome.detail ?? `${opening.reason}: ${outcome.outcome} ${outcome.instanceId}`).slice(0, 500),
        };
        context.log(`breaker ${breaker.key} opening ${opening.id}: ${outcome.outcome} ${outcome.instanceId}`);
      } catch (error) {
        ack = { openingId: opening.id, at, outcome: "failed", detail: message(error).slice(0, 500) };
        context.error(`breaker ${breaker.key} opening ${opening.id}: ${message(error)}`);
      }
    }
    await client.signalEntity(new df.EntityId(ENTITIES.breaker, breaker.key), BREAKER_OPERATIONS.acknowledge, ack);
  }
}

export async function probeHealthHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const rt = await configuredRuntime(context, "probes");
  if (rt === undefined || rt.health.mode === "off") return;
  const client = df.getClient(context);
  const at = Math.floor(now());
  const breakers = breakerScopes(rt.topology);
  const limit = rt.health.concurrency;

  // 1–2. Read the breakers that can hold an opening (all of them once a minute) and drain their outboxes.
  const full = at - lastFullReadAt >= FULL_READ_EVERY_MS;
  if (full) lastFullReadAt = at;
  const toRead = breakers.filter((b) => {
    if (full || suspect.has(b.key) || !lastKnown.has(b.key)) return true;
    const known = lastKnown.get(b.key);
    return known !== undefined && (known.breaker.state !== "closed" || known.outbox.length > 0);
  });
  const states = new Map<string, BreakerEntityState | undefined>(lastKnown);
  /** Reads a breaker, remembers its state, and acts on any opening in its outbox. */
  const readAndAct = async (b: BreakerScope): Promise<void> => {
    try {
      const state = await readBreaker(client, b.key);
      states.set(b.key, state);
      lastKnown.set(b.key, state);
      if (state !== undefined && state.outbox.length > 0) await actOnOutbox(rt, client, b, state, at, context);
    } catch (error) {
      context.error(`breaker ${b.key}: ${message(error)}`);
    }
  };
  await mapBounded(toRead, limit, readAndAct);

  // 3. Failback check, once a minute (with every breaker just read).
  if (full && rt.health.failback.mode === "auto" && at - lastFailbackAt >= FAILBACK_EVERY_MS) {
    lastFailbackAt = at;
    try {
      await checkFailbacks({ rt, client, states, now: at, log: (line) => context.log(line) });
    } catch (error) {
      context.error(`failback check: ${message(error)}`);
    }
  }

  // 3b. Once a minute, end the shifts whose runs have finished (or expired), so that none outlives its run.
  if (full)
    for (const w of rt.topology.workloads) {
      try {
        const ended = await endFinishedShift({ client, now: () => at, control: rt.control }, w.name);
        if (ended !== undefined) context.log(`shift of ${w.name} held by ${ended} ended`);
      } catch (error) {
        context.error(`shift of ${w.name}: ${message(error)}`);
      }
    }

  // 4. Probe.
  const gpu = at - lastGpuAt >= GPU_EVERY_MS;
  if (gpu) lastGpuAt = at;
  const round = await probeRound(
    {
      endpoint: (vantage) => endpointFor(rt, vantage),
      gpuReadiness: rt.health.gpuReadiness,
      pools: rt.ports.pools,
      now: () => at,
    },
    rt.topology,
    breakers,
    {
      vantages: rt.health.vantages,
      concurrency: limit,
      // Leave room inside a 10 s interval for the reads and signals around the probes.
      deadlineMs: Math.max(rt.health.timeoutMs, 5000),
      gpu,
    },
  );
  for (const p of round.problems) context.warn(`probe: ${p}`);
  if (round.skipped > 0) context.warn(`probe round: ${round.skipped} probe(s) skipped at the deadline`);

  // 5. Feed the breakers. One without evidence is only ticked when time can move it (open or half-open): a closed
  // breaker has nothing to decide without evidence, and skipping it saves an entity operation per round.
  const fed: BreakerScope[] = [];
  await mapBounded(breakers, limit, async (b) => {
    const evidence = round.evidence.get(b.key) ?? [];
    if (evidence.some((e) => e.source !== "alert" && e.outcome !== "success")) suspect.add(b.key);
    else suspect.delete(b.key);
    const known = states.get(b.key);
    const unsettled = round.gpuUnsettled.has(b.key);
    if (evidence.length === 0 && !unsettled && (known === undefined || known.breaker.state === "closed")) return;
    const gpuMetricAt = round.gpuMetricAt.get(b.key);
    const input: RecordInput = {
      now: at,
      config: b.kind === "zone" ? rt.health.zoneBreaker : rt.health.regionBreaker,
      evidence,
      ...(gpuMetricAt === undefined ? {} : { gpuMetricAt }),
      ...(unsettled ? { gpuUnsettledAt: at } : {}),
    };
    try {
      await client.signalEntity(new df.EntityId(ENTITIES.breaker, b.key), BREAKER_OPERATIONS.record, input);
      if (suspect.has(b.key)) fed.push(b);
    } catch (error) {
      context.error(`breaker ${b.key}: evidence not delivered: ${message(error)}`);
    }
  });

  // 6. Read again the breakers that were just sent failure evidence, and act on an opening at once instead of a probe
  // interval later. A signal is processed asynchronously: when the read comes before it, the next round's step 2
  // finds the opening (nothing is lost, it only costs that interval).
  await mapBounded(fed, limit, readAndAct);
}
