/**
 * Which breakers exist: one per inference workload-region with an endpoint (fed by probes and alerts), and one per
 * zone holding that workload's GPU pools (fed by GPU readiness and alerts). Training workloads have no serving path
 * to probe and fail over on alerts alone.
 */
import type { Topology, Workload } from "../domain/topology";
import type { Scope } from "../runbooks/contracts";
import { breakerKey } from "../runbooks/health-contracts";

export interface BreakerScope {
  readonly key: string;
  readonly workload: Workload;
  readonly scope: Scope;
  readonly kind: "region" | "zone";
}

export function breakerScopes(topology: Topology): BreakerScope[] {
  const out: BreakerScope[] = [];
  for (const w of topology.workloads) {
    if (w.kind !== "inference") continue;
    for (const [region, entry] of Object.entries(w.regions)) {
      if (entry.endpoint !== undefined)
        out.push({ key: breakerKey(w.name, { region }), workload: w, scope: { region }, kind: "region" });
      if (entry.cluster === undefined) continue;
      const zones = [...new Set(entry.gpuPools.map((p) => p.zone))].sort();
      for (const zone of zones)
        out.push({ key: breakerKey(w.name, { region, zone }), workload: w, scope: { region, zone }, kind: "zone" });
    }
  }
  return out;
}

/** The breaker that watches `scope` of `workload`, if there is one. */
export function breakerFor(topology: Topology, workload: string, scope: Scope): BreakerScope | undefined {
  const key = breakerKey(workload, scope);
  return breakerScopes(topology).find((b) => b.key === key);
}
