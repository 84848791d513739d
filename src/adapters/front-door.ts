/**
 * Front Door origins: Standard/Premium through `@azure/arm-cdn` (one PATCH per origin; `deploymentStatus` tracks
 * propagation to the edge), and classic through `@azure/arm-frontdoor` (read-modify-write of the whole profile, the
 * only update classic offers). Updates return once ARM accepted them; the runbook polls propagation with durable
 * timers because it takes minutes (documented 3–20 min) and must never sit on the critical path.
 */
import type { FrontDoor as ClassicFrontDoor } from "@azure/arm-frontdoor";
import type { FrontDoorPort, OriginObservation, OriginPatch, OriginUpdate } from "../activities/ports";
import type { FrontDoor } from "../domain/topology";
import type { AzureClients } from "./azure-clients";
import { serviceError, toCutoverError } from "./rest-errors";

export class FrontDoorAdapter implements FrontDoorPort {
  constructor(
    private readonly clients: AzureClients,
    private readonly updateIntervalInMs = 2000,
  ) {}

  async listOrigins(subscriptionId: string, fd: FrontDoor): Promise<OriginObservation[]> {
    try {
      if (fd.kind === "standard") {
        const client = this.clients.cdnClient(subscriptionId);
        const out: OriginObservation[] = [];
        for await (const o of client.afdOrigins.listByOriginGroup(fd.resourceGroup, fd.profile, fd.originGroup)) {
          out.push({
            name: o.name ?? "",
            enabledState: o.enabledState === "Disabled" ? "Disabled" : "Enabled",
            weight: o.weight ?? 50,
            priority: o.priority ?? 1,
            ...(o.deploymentStatus === undefined ? {} : { deploymentStatus: o.deploymentStatus }),
            ...(o.provisioningState === undefined ? {} : { provisioningState: o.provisioningState }),
          });
        }
        return out;
      }
      const door = await this.clients
        .frontDoorClient(subscriptionId)
        .frontDoors.get(fd.resourceGroup, fd.frontDoorName);
      const pool = door.backendPools?.find((p) => p.name === fd.backendPool);
      if (pool === undefined) throw new Error(`backend pool ${fd.backendPool} not found in ${fd.frontDoorName}`);
      // Classic has no per-backend deployment status: the profile's state stands for all of its backends.
      const settled =
        door.provisioningState === "Succeeded" &&
        (door.resourceState === undefined || door.resourceState === "Enabled");
      return (pool.backends ?? []).map((b) => ({
        name: b.address ?? "",
        enabledState: b.enabledState === "Disabled" ? "Disabled" : "Enabled",
        weight: b.weight ?? 50,
        priority: b.priority ?? 1,
        deploymentStatus: settled ? "Succeeded" : "InProgress",
        ...(door.provisioningState === undefined ? {} : { provisioningState: door.provisioningState }),
      }));
    } catch (error) {
      throw toCutoverError(error, `list origins of ${fd.kind === "standard" ? fd.profile : fd.frontDoorName}`);
    }
  }

  async updateOrigins(
    subscriptionId: string,
    fd: FrontDoor,
    patches: ReadonlyMap<string, OriginPatch>,
  ): Promise<OriginUpdate> {
    if (patches.size === 0) return { kind: "unchanged" };
    try {
      if (fd.kind === "standard") {
        const client = this.clients.cdnClient(subscriptionId);
        for (const [origin, patch] of patches) {
          const body = {
            ...(patch.enabledState === undefined ? {} : { enabledState: patch.enabledState }),
            ...(patch.weight === undefined ? {} : { weight: patch.weight }),
            ...(patch.priority === undefined ? {} : { priority: patch.priority }),
          };
          // The initial PATCH is the write; propagation is observed later through deploymentStatus.
          await client.afdOrigins.beginUpdate(fd.resourceGroup, fd.profile, fd.originGroup, origin, body, {
            updateIntervalInMs: this.updateIntervalInMs,
          });
        }
        return { kind: "accepted" };
      }
      const client = this.clients.frontDoorClient(subscriptionId);
      const door: ClassicFrontDoor = await client.frontDoors.get(fd.resourceGroup, fd.frontDoorName);
      const pool = door.backendPools?.find((p) => p.name === fd.backendPool);
      if (pool === undefined)
        return { kind: "rejected", code: "NOT_FOUND", message: `backend pool ${fd.backendPool} not found` };
      let changed = false;
      for (const [address, patch] of patches) {
        const backend = pool.backends?.find((b) => b.address === address);
        if (backend === undefined)
          return { kind: "rejected", code: "NOT_FOUND", message: `backend ${address} not found` };
        if (patch.enabledState !== undefined && backend.enabledState !== patch.enabledState) {
          backend.enabledState = patch.enabledState;
          changed = true;
        }
        if (patch.weight !== undefined && backend.weight !== patch.weight) {
          backend.weight = patch.weight;
          changed = true;
        }
        if (patch.priority !== undefined && backend.priority !== patch.priority) {
          backend.priority = patch.priority;
          changed = true;
        }
      }
      if (!changed) return { kind: "unchanged" };
      await client.frontDoors.beginCreateOrUpdate(fd.resourceGroup, fd.frontDoorName, door, {
        updateIntervalInMs: this.updateIntervalInMs,
      });
      return { kind: "accepted" };
    } catch (error) {
      const info = serviceError(error);
      if (info.status === 400) return { kind: "rejected", code: info.code ?? "BadRequest", message: info.message };
      throw toCutoverError(error, `update origins of ${fd.kind === "standard" ? fd.profile : fd.frontDoorName}`);
    }
  }
}
