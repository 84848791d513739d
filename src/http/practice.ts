/**
 * `GET /api/practice/{workload}`: the workload's practice schedule, its next occurrence, and the kept results of its
 * drills (run or skipped, pass or fail with reason codes, newest last).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { now, runtime } from "../composition";
import { nextPracticeRun, parsePracticeSchedule } from "../domain/practice";
import { readPracticeLog } from "../health/practice-timer";
import { failure, json, problem } from "./responses";

export async function practiceHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const name = request.params["workload"] ?? "";
  try {
    const rt = await runtime();
    const workload = rt.topology.workloads.find((w) => w.name === name);
    if (workload === undefined) return problem(404, `no workload ${name}`);
    const { log } = await readPracticeLog(rt, name);
    const practice = workload.practice;
    const next =
      practice === undefined ? null : nextPracticeRun(parsePracticeSchedule({ workload: name, ...practice }), now());
    return json(200, {
      workload: name,
      schedule: practice ?? null,
      next: next === null ? null : new Date(next).toISOString(),
      results: log.results.map((r) => ({
        ...r,
        occurrence: new Date(r.occurrence).toISOString(),
        decidedAt: new Date(r.decidedAt).toISOString(),
        ...(r.gradedAt === undefined ? {} : { gradedAt: new Date(r.gradedAt).toISOString() }),
        ...(r.runId === undefined ? {} : { statusUrl: `/api/failovers/${r.runId}` }),
      })),
    });
  } catch (error) {
    return failure(error);
  }
}
