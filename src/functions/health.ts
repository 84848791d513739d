import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { loadTopology } from "../composition";
import { formatProblem } from "../config/topology-loader";
import { VERSION } from "../version";

/** `GET /api/health`: the app's version and whether its topology loaded (with every problem when it did not). */
export async function healthHandler(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const pending = loadTopology();
  const result = "then" in pending ? await pending : pending;
  const topology = result.ok
    ? { loaded: true, workloads: result.topology.workloads.map((w) => w.name), source: result.source }
    : { loaded: false, problems: "problems" in result ? result.problems.map(formatProblem) : [result.reason] };
  return { status: result.ok ? 200 : 503, jsonBody: { name: "cutover", version: VERSION, topology } };
}

app.http("health", { route: "health", methods: ["GET"], authLevel: "function", handler: healthHandler });
