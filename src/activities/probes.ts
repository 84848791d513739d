/**
 * One round of Cutover's own health probes: every inference workload-region endpoint from every vantage point, and
 * GPU readiness per zone from Azure Monitor, classified into breaker evidence (src/domain/probe-evidence.ts).
 *
 * Bounded and time-boxed: at most `concurrency` probes are in flight, each has its own timeout (the endpoint port's),
 * and probes not started by the round's deadline are skipped (reported, never counted as failures), so one slow
 * region never delays the others and a round always ends. Built from ports so that tests pass fakes.
 *
 * A health answer of 503 with `status: "drained"` is Cutover's own health gate speaking: the endpoint is otherwise
 * healthy (the gate is the last check of the health contract), so it is judged on its version and latency, as if it
 * had answered 200. Without this a region that failed over could never prove it recovered: its gate stays drained
 * until failback, which needs the breaker closed.
 *
 * A 503 saying `cold`, `no-capacity` or `loading` is not evidence about the region either way: the region works but
 * holds no serving capacity or model (a cold standby, or capacity that is still coming back). It is what the failover
 * planner calls a (cold) target, not an impaired region (`impairedRegions`), and failing it over would only drain a
 * standby. Lost capacity is the zone breakers' concern (GPU readiness against the pools' counts). Such answers are
 * counted as `idle`.
 */
const IDLE_STATES: ReadonlySet<string> = new Set(["cold", "no-capacity", "loading"]);
import type { GpuReadiness } from "../adapters/monitor";
import { classifyGpuReadiness, classifyProbe, type Evidence } from "../domain/probe-evidence";
import type { Topology, Zone } from "../domain/topology";
import type { BreakerScope } from "../health/breaker-scopes";
import type { AgentPoolPort, EndpointPort } from "./ports";

export interface ProbePorts {
  /** The endpoint port that probes as `vantage` (sends `x-cutover-vantage`, applies the per-probe timeout). */
  readonly endpoint: (vantage: string) => EndpointPort;
  readonly gpuReadiness: (
    subscriptionId: string,
    cluster: { readonly resourceGroup: string; readonly name: string },
    region: string,
  ) => Promise<GpuReadiness | undefined>;
  readonly pools: AgentPoolPort;
  readonly now: () => number;
  /** Monotonic wall-clock milliseconds, for the round's deadline only. */
  readonly elapsed?: () => number;
}

export interface ProbeRoundOptions {
  readonly vantages: ReadonlyArray<string>;
  readonly concurrency: number;
  /** Probes not started this many (wall-clock) ms after the round began are skipped. */
  readonly deadlineMs: number;
  /** Read GPU readiness this round (the metric has a one-minute grain: once a minute is enough). */
  readonly gpu: boolean;
}

export interface ProbeRoundResult {
  readonly at: number;
  /** Breaker key → evidence for it. */
  readonly evidence: ReadonlyMap<string, Evidence[]>;
  /** Zone breaker key → timestamp of the metric point its GPU evidence came from. */
  readonly gpuMetricAt: ReadonlyMap<string, number>;
  /** Zone breaker keys whose zone has a GPU pool still changing (scaling): judged once it has settled. */
  readonly gpuUnsettled: ReadonlySet<string>;
  readonly probes: number;
  readonly skipped: number;
  /** Answers that were no evidence (`cold`, `no-capacity`, `loading`). */
  readonly idle: number;
  readonly problems: ReadonlyArray<string>;
}

/** Runs `work` over `items` with at most `limit` in flight; items not started before `expired()` get `undefined`. */
export async function mapBounded<T, R>(
  items: ReadonlyArray<T>,
  limit: number,
  work: (item: T) => Promise<R>,
  expired: () => boolean = () => false,
): Promise<Array<R | undefined>> {
  const out = new Array<R | undefined>(items.length).fill(undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      if (expired()) continue;
      out[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker()));
  return out;
}

export async function probeRound(
  ports: ProbePorts,
  topology: Topology,
  breakers: ReadonlyArray<BreakerScope>,
  options: ProbeRoundOptions,
): Promise<ProbeRoundResult> {
  const at = ports.now();
  const clock = ports.elapsed ?? ((): number => performance.now());
  const began = clock();
  const expired = (): boolean => clock() - began > options.deadlineMs;
  const evidence = new Map<string, Evidence[]>();
  const gpuMetricAt = new Map<string, number>();
  const gpuUnsettled = new Set<string>();
  const problems: string[] = [];
  const add = (key: string, e: Evidence): void => {
    const list = evidence.get(key) ?? [];
    list.push(e);
    evidence.set(key, list);
  };

  const endpointProbes = breakers
    .filter((b) => b.kind === "region")
    .flatMap((b) => options.vantages.map((vantage) => ({ b, vantage })));
  const results = await mapBounded(
    endpointProbes,
    options.concurrency,
    async ({ b, vantage }) => {
      const endpoint = b.workload.regions[b.scope.region]?.endpoint;
      if (endpoint === undefined) return undefined;
      const h = await ports.endpoint(vantage).health(endpoint.healthUrl);
      if (h.status !== 200 && h.state !== undefined && IDLE_STATES.has(h.state)) return "idle" as const;
      const drained = h.status === 503 && h.state === "drained";
      try {
        return classifyProbe(
          {
            at,
            vantage,
            status: drained ? 200 : h.status,
            ...(h.latencyMs === undefined ? {} : { latencyMs: Math.max(0, h.latencyMs) }),
            ...(h.modelVersion === undefined ? {} : { modelVersion: h.modelVersion }),
            ...(h.detail === undefined && h.state === undefined ? {} : { detail: h.detail ?? h.state }),
          },
          { latencySloMs: b.workload.slo.latencyMs, modelVersion: b.workload.model.version },
        );
      } catch (error) {
        problems.push(`${b.key} from ${vantage}: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    },
    expired,
  );
  let probes = 0;
  let skipped = 0;
  let idle = 0;
  results.forEach((r, i) => {
    const p = endpointProbes[i];
    if (p === undefined) return;
    if (r === undefined) skipped++;
    else if (r === "idle") idle++;
    else {
      probes++;
      add(p.b.key, r);
    }
  });

  if (options.gpu) {
    const byRegion = new Map<string, BreakerScope[]>();
    for (const b of breakers.filter((x) => x.kind === "zone")) {
      const k = `${b.workload.name}/${b.scope.region}`;
      byRegion.set(k, [...(byRegion.get(k) ?? []), b]);
    }
    await mapBounded(
      [...byRegion.values()],
      options.concurrency,
      async (zones) => {
        const first = zones[0] as BreakerScope;
        const region = first.scope.region;
        const entry = first.workload.regions[region];
        if (entry?.cluster === undefined) return;
        try {
          const readiness = await ports.gpuReadiness(topology.subscriptionId, entry.cluster, region);
          if (readiness === undefined) {
            problems.push(`${first.workload.name}/${region}: no gpu_ready_nodes points yet`);
            return;
          }
          const expected = new Map<Zone, number>();
          const unknown = new Set<Zone>();
          const scaling = new Set<Zone>();
          await Promise.all(
            entry.gpuPools.map(async (pool) => {
              const cluster = entry.cluster as { resourceGroup: string; name: string };
              try {
                const obs = await ports.pools.get({
                  subscriptionId: topology.subscriptionId,
                  resourceGroup: cluster.resourceGroup,
                  cluster: cluster.name,
                  pool: pool.name,
                });
                // A pool that is scaling has not settled: its zone is judged once it has.
                if (obs.provisioningState !== "Succeeded") {
                  unknown.add(pool.zone);
                  scaling.add(pool.zone);
                }
                expected.set(pool.zone, (expected.get(pool.zone) ?? 0) + obs.count);
              } catch (error) {
                unknown.add(pool.zone);
                problems.push(`${region}/${pool.name}: ${error instanceof Error ? error.message : String(error)}`);
              }
            }),
          );
          for (const b of zones) {
            const zone = b.scope.zone as Zone;
            if (scaling.has(zone)) gpuUnsettled.add(b.key);
            if (unknown.has(zone)) continue;
            const ready = entry.gpuPools
              .filter((p) => p.zone === zone)
              .reduce((sum, p) => sum + (readiness.pools[p.name] ?? 0), 0);
            add(
              b.key,
              classifyGpuReadiness({ at, region, zone, readyNodes: ready, expectedNodes: expected.get(zone) ?? 0 }),
            );
            gpuMetricAt.set(b.key, readiness.at);
          }
        } catch (error) {
          problems.push(
            `${first.workload.name}/${region} GPU readiness: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      },
      expired,
    );
  }
  return { at, evidence, gpuMetricAt, gpuUnsettled, probes, skipped, idle, problems };
}
