/**
 * `GET /api/plan?workload=&region=&zone=`: readiness — what would happen now if that scope failed, from live state
 * (pool counts, endpoint health, gates, model presence), and why not when the planner refuses. No writes.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime } from "../composition";
import { planFailover } from "../domain/planner";
import { poolKey } from "../domain/plan";
import { zoneSchema, type Zone } from "../domain/topology";
import { impairedRegions, snapshotSchema } from "../runbooks/activity-contracts";
import { dryRunReadiness } from "../runbooks/failover-workload";
import { failure, json, problem } from "./responses";

export async function planHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const workloadName = request.query.get("workload");
  const region = request.query.get("region");
  const zoneText = request.query.get("zone");
  const missing = [workloadName === null ? "workload" : undefined, region === null ? "region" : undefined].filter(
    (x) => x !== undefined,
  );
  if (missing.length > 0 || workloadName === null || region === null)
    return problem(400, `missing query parameter(s): ${missing.join(", ")}`);
  let zone: Zone | undefined;
  if (zoneText !== null && zoneText !== "") {
    const z = zoneSchema.safeParse(zoneText);
    if (!z.success) return problem(400, `zone: expected "1" | "2" | "3", got ${JSON.stringify(zoneText)}`);
    zone = z.data;
  }
  try {
    const rt = await runtime();
    const workload = rt.topology.workloads.find((w) => w.name === workloadName);
    if (workload === undefined) return problem(400, `workload: "${workloadName}" is not in the topology`);
    if (workload.regions[region] === undefined)
      return problem(400, `region: workload ${workloadName} has no region "${region}"`);
    const frontDoor = workload.frontDoor === undefined ? undefined : rt.topology.frontDoors[workload.frontDoor];
    const snapshot = snapshotSchema.parse(
      await rt.activities["snapshotWorkload"]?.(
        { subscriptionId: rt.topology.subscriptionId, workload, ...(frontDoor === undefined ? {} : { frontDoor }) },
        context,
      ),
    );
    const capacity: Record<string, number> = {};
    for (const p of snapshot.pools) capacity[poolKey(workload.name, p.region, p.pool)] = p.count;
    const impaired = impairedRegions(snapshot, region);
    const result = planFailover({
      topology: rt.topology,
      scope: zone === undefined ? { region } : { region, zone },
      workload: workload.name,
      capacity: { pools: capacity },
      health: { impairedRegions: impaired, impairedZones: [] },
      detection: "alert",
      modelStores: {
        missing: snapshot.models
          .filter((m) => m.status === "absent" || m.status === "failed")
          .map((m) => ({ workload: workload.name, region: m.region })),
      },
    });
    const planned = result.workloads.find((w) => w.workload === workload.name);
    const readiness = planned?.status === "ok" ? dryRunReadiness(workload, planned, snapshot) : [];
    return json(200, { ...result, readiness, snapshot });
  } catch (error) {
    return failure(error);
  }
}
