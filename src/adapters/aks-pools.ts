/**
 * AKS agent pools through `@azure/arm-containerservice` (modular SDK). Scaling is set-to: GET the pool, PUT it back
 * with the new count under its etag (If-Match), and return the serialized long-running-operation state; the runbook
 * polls it later with `restorePoller`, one poll per durable timer, so no activity ever waits minutes.
 */
import { restorePoller, type AgentPool } from "@azure/arm-containerservice";
import { capacityCode, classifyArmError } from "../domain/arm-errors";
import type { AgentPoolPort, OperationObservation, PoolObservation, PoolRef, ScaleBegin } from "../activities/ports";
import type { AzureClients } from "./azure-clients";
import { serviceError, toCutoverError } from "./rest-errors";

/** States in which AKS refuses a new operation on the pool (409 OperationNotAllowed). */
const BUSY = new Set(["Creating", "Updating", "Scaling", "Upgrading", "Deleting", "Starting", "Stopping", "Canceling"]);

function observe(pool: AgentPool): PoolObservation {
  const error = pool.status?.provisioningError;
  return {
    count: pool.count ?? 0,
    provisioningState: pool.provisioningState ?? "Unknown",
    vmSize: pool.vmSize ?? "",
    zones: pool.availabilityZones ?? [],
    ...(error?.code === undefined ? {} : { error: { code: error.code, message: error.message ?? "" } }),
  };
}

export class AksPoolsAdapter implements AgentPoolPort {
  constructor(
    private readonly clients: AzureClients,
    private readonly updateIntervalInMs = 2000,
  ) {}

  async get(ref: PoolRef): Promise<PoolObservation> {
    try {
      return observe(
        await this.clients.aks(ref.subscriptionId).agentPools.get(ref.resourceGroup, ref.cluster, ref.pool),
      );
    } catch (error) {
      throw toCutoverError(error, `get agent pool ${ref.cluster}/${ref.pool}`);
    }
  }

  async beginScale(ref: PoolRef, count: number): Promise<ScaleBegin> {
    const client = this.clients.aks(ref.subscriptionId);
    let pool: AgentPool;
    try {
      pool = await client.agentPools.get(ref.resourceGroup, ref.cluster, ref.pool);
    } catch (error) {
      throw toCutoverError(error, `get agent pool ${ref.cluster}/${ref.pool}`);
    }
    const state = pool.provisioningState ?? "Unknown";
    if (pool.count === count && state === "Succeeded") return { kind: "unchanged", count };
    if (BUSY.has(state)) {
      // Another operation is in progress; AKS would answer 409. Let the runbook back off and try again.
      throw toCutoverError(
        Object.assign(new Error(`agent pool ${ref.pool} is ${state}: another operation is in progress`), {
          statusCode: 409,
          code: "OperationNotAllowed",
        }),
        `scale ${ref.cluster}/${ref.pool}`,
      );
    }
    try {
      const poller = client.agentPools.createOrUpdate(
        ref.resourceGroup,
        ref.cluster,
        ref.pool,
        { ...pool, count },
        { ...(pool.eTag === undefined ? {} : { ifMatch: pool.eTag }), updateIntervalInMs: this.updateIntervalInMs },
      );
      await poller.submitted();
      return { kind: "accepted", operation: await poller.serialize() };
    } catch (error) {
      const info = serviceError(error);
      const capacity = capacityCode(info);
      if (capacity !== undefined) return { kind: "rejected", code: capacity, message: info.message };
      const code = classifyArmError(info);
      if (code === "QUOTA_EXCEEDED" || code === "INVALID_INPUT")
        return { kind: "rejected", code: info.code ?? code, message: info.message };
      throw toCutoverError(error, `scale ${ref.cluster}/${ref.pool} to ${count}`);
    }
  }

  async abortOperation(ref: PoolRef): Promise<"aborting" | "nothing-running"> {
    const client = this.clients.aks(ref.subscriptionId);
    try {
      // Only the request: the operation it cancels is followed with `operationStatus` (it ends Canceled).
      const poller = client.agentPools.abortLatestOperation(ref.resourceGroup, ref.cluster, ref.pool, {
        updateIntervalInMs: this.updateIntervalInMs,
      });
      await poller.submitted();
      return "aborting";
    } catch (error) {
      const info = serviceError(error);
      // 409 OperationNotAllowed: the latest operation already ended (or is being canceled): nothing to abort.
      if (info.status === 409 && info.code === "OperationNotAllowed") return "nothing-running";
      throw toCutoverError(error, `abort the operation on ${ref.cluster}/${ref.pool}`);
    }
  }

  async operationStatus(ref: PoolRef, operation: string): Promise<OperationObservation> {
    const client = this.clients.aks(ref.subscriptionId);
    const poller = restorePoller(client, operation, client.agentPools.createOrUpdate, {
      updateIntervalInMs: this.updateIntervalInMs,
    });
    try {
      await poller.poll();
    } catch (error) {
      // core-lro throws when the operation ends Canceled (an abort); the state it recorded says so.
      if (poller.operationState?.status === "canceled")
        return { status: "Canceled", error: { code: "OperationCanceled", message: serviceError(error).message } };
      const info = serviceError(error);
      if (info.status === undefined || capacityCode(info) !== undefined || info.code !== undefined) {
        // A failed operation surfaces as an error carrying the service's code (e.g. ZonalAllocationFailed).
        const code = capacityCode(info) ?? info.code;
        if (code !== undefined && info.status === undefined)
          return { status: "Failed", error: { code, message: info.message } };
      }
      throw toCutoverError(error, `poll scale of ${ref.cluster}/${ref.pool}`);
    }
    const state = poller.operationState;
    const status = state?.status;
    if (status === "succeeded") return { status: "Succeeded" };
    if (status === "failed" || status === "canceled") {
      const info = serviceError(state?.error);
      return {
        status: status === "failed" ? "Failed" : "Canceled",
        error: { code: capacityCode(info) ?? info.code ?? "OperationFailed", message: info.message },
      };
    }
    return { status: "InProgress" };
  }
}
