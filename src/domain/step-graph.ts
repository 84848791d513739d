/**
 * Step-graph helpers for failover plans: structural checks and the longest (critical) path.
 *
 * A plan's steps form a DAG through their `after` edges. The predicted RTO is the length of the longest path that
 * ends at the `verify` step and runs only through steps that count for RTO: trailing work such as Front Door
 * propagation is in the graph (the runbook executes it) but off that path. Pure: no I/O.
 */

/** The part of a plan step these helpers read. */
export interface GraphStep {
  readonly id: string;
  readonly after: ReadonlyArray<string>;
  readonly expectedSeconds: number;
  readonly countsForRto: boolean;
}

export interface CriticalPath {
  /** Sum of `expectedSeconds` along the path. */
  readonly seconds: number;
  /** Step ids from the first step to the end step. */
  readonly path: ReadonlyArray<string>;
}

/**
 * Every structural problem of a step graph: duplicate ids, edges to unknown steps, self-edges, cycles, negative or
 * non-finite durations. Empty when the graph is a well-formed DAG.
 */
export function checkStepGraph(steps: ReadonlyArray<GraphStep>): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const step of steps) {
    if (ids.has(step.id)) problems.push(`duplicate step id ${step.id}`);
    ids.add(step.id);
    if (!Number.isFinite(step.expectedSeconds) || step.expectedSeconds < 0)
      problems.push(`step ${step.id}: expectedSeconds must be a finite number >= 0, got ${step.expectedSeconds}`);
  }
  for (const step of steps) {
    for (const dep of step.after) {
      if (dep === step.id) problems.push(`step ${step.id} depends on itself`);
      else if (!ids.has(dep)) problems.push(`step ${step.id} depends on unknown step ${dep}`);
    }
  }
  if (problems.length === 0 && topologicalOrder(steps) === undefined) problems.push("the step graph has a cycle");
  return problems;
}

/** Step ids in an order where every step comes after its dependencies (stable: ties keep input order); undefined on a cycle. */
export function topologicalOrder(steps: ReadonlyArray<GraphStep>): string[] | undefined {
  const pending = new Map(steps.map((s) => [s.id, new Set(s.after)]));
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < steps.length) {
    const ready = steps.find((s) => !done.has(s.id) && [...(pending.get(s.id) ?? [])].every((d) => done.has(d)));
    if (ready === undefined) return undefined;
    done.add(ready.id);
    order.push(ready.id);
  }
  return order;
}

/**
 * The longest path ending at `endId` that uses only steps with `countsForRto` (the end step included). A dependency
 * that does not count is ignored, as if that edge were absent. Throws when the graph is malformed or the end step is
 * missing or does not count: both are programming errors in whoever built the graph.
 */
export function criticalPathTo(steps: ReadonlyArray<GraphStep>, endId: string): CriticalPath {
  const problems = checkStepGraph(steps);
  if (problems.length > 0) throw new Error(`[INTERNAL] malformed step graph: ${problems.join("; ")}`);
  const byId = new Map(steps.map((s) => [s.id, s]));
  const end = byId.get(endId);
  if (end === undefined || !end.countsForRto) throw new Error(`[INTERNAL] no counted step ${endId} in the step graph`);
  const best = new Map<string, CriticalPath>();
  for (const id of topologicalOrder(steps) ?? []) {
    const step = byId.get(id);
    if (step === undefined || !step.countsForRto) continue;
    let longest: CriticalPath = { seconds: 0, path: [] };
    for (const dep of step.after) {
      const candidate = best.get(dep);
      if (candidate !== undefined && candidate.seconds > longest.seconds) longest = candidate;
      // On a tie keep the first dependency listed, so the reported path is deterministic.
      else if (candidate !== undefined && longest.path.length === 0) longest = candidate;
    }
    best.set(id, { seconds: longest.seconds + step.expectedSeconds, path: [...longest.path, id] });
  }
  const result = best.get(endId);
  if (result === undefined) throw new Error(`[INTERNAL] no path to ${endId}`);
  return result;
}
