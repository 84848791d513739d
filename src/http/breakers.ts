/**
 * `GET /api/breakers/{workload}/{region}`: the workload-region's circuit breaker and its zones' breakers — state,
 * what each is waiting for, per-vantage counts, firing alerts, the recorded transitions with their evidence, and
 * what became of each opening (the failover it started or joined, or why it was refused).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { runtime } from "../composition";
import { describeBreaker, parseBreakerConfig } from "../domain/circuit-breaker";
import { breakerScopes } from "../health/breaker-scopes";
import { readBreaker } from "../health/probe-timer";
import type { BreakerEntityState } from "../runbooks/health-contracts";
import { failure, json, problem } from "./responses";

/** The API view of one breaker (`exists: false` before its first evidence). */
export function breakerView(key: string, state: BreakerEntityState | undefined): Record<string, unknown> {
  if (state === undefined) return { key, exists: false, state: "closed" };
  const config = parseBreakerConfig(state.config);
  return {
    key,
    exists: true,
    ...describeBreaker(state.breaker, config),
    transitions: state.breaker.transitions,
    outbox: state.outbox,
    handled: state.handled,
    recentEvidence: state.recent.slice(Math.max(0, state.recent.length - 20)),
    updatedAt: new Date(state.updatedAt).toISOString(),
  };
}

export async function breakersHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const workload = request.params["workload"] ?? "";
  const region = request.params["region"] ?? "";
  try {
    const rt = await runtime();
    const scopes = breakerScopes(rt.topology).filter((b) => b.workload.name === workload && b.scope.region === region);
    if (scopes.length === 0) {
      const w = rt.topology.workloads.find((x) => x.name === workload);
      return problem(
        404,
        w === undefined
          ? `no workload ${workload}`
          : w.regions[region] === undefined
            ? `workload ${workload} has no region ${region} (has ${Object.keys(w.regions).join(", ")})`
            : `${workload}/${region} has no breaker (only inference workload regions with an endpoint or GPU pools)`,
      );
    }
    const client = df.getClient(context);
    const views = await Promise.all(
      scopes.map(async (b) => ({ b, view: breakerView(b.key, await readBreaker(client, b.key)) })),
    );
    const regional = views.find((v) => v.b.kind === "region");
    return json(200, {
      workload,
      region,
      mode: rt.health.mode,
      vantages: rt.health.vantages,
      quorum: rt.health.quorum,
      breaker: regional?.view ?? null,
      zones: Object.fromEntries(
        views.filter((v) => v.b.kind === "zone").map((v): [string, unknown] => [v.b.scope.zone ?? "", v.view]),
      ),
    });
  } catch (error) {
    return failure(error);
  }
}
