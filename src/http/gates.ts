/**
 * `GET /api/gates/{workload}/{region}` (anonymous): the health gate an origin's health endpoint honours. 200 while
 * open, 503 while Cutover has drained the origin, so Front Door's own probes move traffic within one probe window.
 * Origins call it on every probe from every Front Door POP, so answers are cached for a couple of seconds.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { GateRecord } from "../activities/ports";
import { now, runtime } from "../composition";
import { failure, json, problem } from "./responses";

const CACHE_MS = 2000;
const cache = new Map<string, { at: number; record: GateRecord | undefined }>();

export async function gatesHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const workload = request.params["workload"] ?? "";
  const region = request.params["region"] ?? "";
  try {
    const rt = await runtime();
    const w = rt.topology.workloads.find((x) => x.name === workload);
    if (w === undefined || w.regions[region] === undefined) return problem(404, `no gate for ${workload}/${region}`);
    const key = `${workload}/${region}`;
    const hit = cache.get(key);
    let record: GateRecord | undefined;
    if (hit !== undefined && now() - hit.at < CACHE_MS) record = hit.record;
    else {
      record = await rt.state.get(workload, region);
      cache.set(key, { at: now(), record });
    }
    const state = record?.state ?? "open";
    return json(
      state === "open" ? 200 : 503,
      {
        workload,
        region,
        state,
        ...(record === undefined ? {} : { reason: record.reason, updatedAt: record.updatedAt }),
      },
      { "cache-control": "no-store" },
    );
  } catch (error) {
    return failure(error);
  }
}

/** Drops cached gate answers (tests and the local host). */
export function clearGateCache(): void {
  cache.clear();
}
