/**
 * Pieces the failover and failback orchestrators share. Deterministic like every runbook: no I/O, clock or randomness.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, Task } from "durable-functions";
import type { FrontDoor, Topology, Workload } from "../domain/topology";
import { snapshotSchema, type Snapshot } from "./activity-contracts";
import { ACTIVITIES } from "./contracts";

/** Retry policy of one-shot activities (snapshot, report saves): 4 attempts, 2 s doubling, at most 30 s apart. */
export const ONE_SHOT_RETRY = new df.RetryOptions(2000, 4);
ONE_SHOT_RETRY.backoffCoefficient = 2;
ONE_SHOT_RETRY.maxRetryIntervalInMilliseconds = 30_000;

/** Live state of a workload's pools and origins, for the plan, the audit trail and compensation. */
export function* takeSnapshot(
  context: OrchestrationContext,
  topology: Topology,
  workload: Workload,
  frontDoor: FrontDoor | undefined,
): Generator<Task, Snapshot, unknown> {
  return snapshotSchema.parse(
    yield context.df.callActivityWithRetry(ACTIVITIES.snapshotWorkload, ONE_SHOT_RETRY, {
      subscriptionId: topology.subscriptionId,
      workload,
      ...(frontDoor === undefined ? {} : { frontDoor }),
    }),
  );
}
