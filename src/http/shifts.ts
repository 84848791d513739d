/**
 * `GET /api/shifts/{workload}`: who may move the workload now — the active shift (run id, kind and precedence, scope,
 * expiry) — and the recent shifts with how each ended (`ended`, `expired`, `preempted`, `escalated`).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { now, runtime } from "../composition";
import { activeShift } from "../domain/shift";
import { readShiftState } from "./failover-service";
import { failure, json, problem } from "./responses";

const iso = (ms: number): string => new Date(ms).toISOString();

export async function shiftsHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const name = request.params["workload"] ?? "";
  try {
    const rt = await runtime();
    if (!rt.topology.workloads.some((w) => w.name === name)) return problem(404, `no workload ${name}`);
    const { state } = await readShiftState({ control: rt.control, now }, name);
    const active = activeShift(state, Math.floor(now()));
    return json(200, {
      workload: name,
      active:
        active === undefined
          ? null
          : {
              ...active,
              startedAt: iso(active.startedAt),
              expiresAt: iso(active.expiresAt),
              statusUrl: `/api/failovers/${active.id}`,
            },
      history: state.history.map((h) => ({
        ...h,
        endedAt: iso(h.endedAt),
        shift: { ...h.shift, startedAt: iso(h.shift.startedAt), expiresAt: iso(h.shift.expiresAt) },
      })),
    });
  } catch (error) {
    return failure(error);
  }
}
