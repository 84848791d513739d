/**
 * AKS agent pools in the simulated world: nodes with the virtual time they become Ready, long-running scale
 * operations, abort, and the errors Azure returns (codes and messages verbatim from azure-facts §2.4–2.5).
 */

export type PoolProvisioningState = "Succeeded" | "Creating" | "Scaling" | "Failed" | "Canceled" | "Canceling";
export type OperationStatus = "InProgress" | "Succeeded" | "Failed" | "Canceling" | "Canceled";

export interface SimNode {
  readonly name: string;
  /** Virtual epoch ms at which the node is Ready (provisioned, driver and device plugin up). */
  readonly readyAt: number;
}

export interface ArmErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: ReadonlyArray<{ readonly code: string; readonly message: string }>;
}

export interface PoolOperation {
  readonly id: string;
  readonly poolKey: string;
  readonly kind: "create" | "scale";
  readonly startedAt: number;
  /** When the operation reaches its outcome (unless canceled first). */
  readonly endsAt: number;
  readonly outcome: { readonly status: "Succeeded" } | { readonly status: "Failed"; readonly error: ArmErrorBody };
  /** Nodes the operation adds (each with its own ready time). */
  readonly adding: ReadonlyArray<SimNode>;
  readonly removingCount: number;
  readonly fromCount: number;
  readonly toCount: number;
  canceledAt?: number;
  cancelEndsAt?: number;
  finalized: boolean;
}

export interface SimPool {
  readonly key: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly cluster: string;
  readonly name: string;
  readonly region: string;
  readonly zone: string | undefined;
  readonly vmSize: string;
  /** The workload whose region this pool serves (pools created at run time inherit their cluster's). */
  readonly workload: string | undefined;
  readonly mode: "User" | "System";
  minCount: number | undefined;
  maxCount: number | undefined;
  /** Nodes that exist (ready now or later). */
  nodes: SimNode[];
  /** The `count` ARM reports: the target of the latest operation. */
  count: number;
  provisioningState: PoolProvisioningState;
  operation: PoolOperation | undefined;
  nodeSeq: number;
  createdAt: number;
  /** Optimistic concurrency (`properties.eTag`): changes with every accepted write (PUT, abort). */
  etag: string;
}

export function poolKey(resourceGroup: string, cluster: string, pool: string): string {
  return `${resourceGroup}/${cluster}/${pool}`.toLowerCase();
}

export function clusterKey(resourceGroup: string, cluster: string): string {
  return `${resourceGroup}/${cluster}`.toLowerCase();
}

/** `OperationNotAllowed` (HTTP 409) while another agent-pool operation runs (azure-facts §2.4, verbatim form). */
/**
 * AKS's etag preconditions on a PUT (learn.microsoft.com/azure/aks/use-etags): `If-Match: *` or a value needs the pool
 * to exist (and that value to be its current etag); `If-None-Match: *` needs it not to. Undefined when the write may go
 * ahead, else the 412 body.
 */
export function preconditionFailed(
  current: string | undefined,
  conditions: { readonly ifMatch?: string; readonly ifNoneMatch?: string },
): ArmErrorBody | undefined {
  const bare = (v: string): string =>
    v
      .trim()
      .replace(/^W\//, "")
      .replace(/^"(.*)"$/, "$1");
  const ifMatch = conditions.ifMatch === undefined || conditions.ifMatch === "" ? undefined : bare(conditions.ifMatch);
  const ifNoneMatch = conditions.ifNoneMatch === undefined ? undefined : bare(conditions.ifNoneMatch);
  const fail = (message: string): ArmErrorBody => ({ code: "PreconditionFailed", message });
  if (ifNoneMatch === "*" && current !== undefined)
    return fail("The agent pool already exists and If-None-Match: * was given.");
  if (ifMatch === undefined) return undefined;
  if (current === undefined) return fail(`The agent pool does not exist; If-Match: ${ifMatch} cannot be met.`);
  if (ifMatch !== "*" && ifMatch !== current)
    return fail(
      `Operation failed because the eTag ${ifMatch} does not match the agent pool's current eTag ${current}: it was modified since it was read.`,
    );
  return undefined;
}

export function operationNotAllowed(pool: SimPool): ArmErrorBody {
  return {
    code: "OperationNotAllowed",
    message: `Operation is not allowed: Another agentpool operation (${pool.name} - ${pool.provisioningState}) is in progress, please wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details`,
  };
}

/** Allocation failures as AKS reports them (azure-facts §2.5, zonalallocation-allocationfailed-error). */
export function allocationError(
  code: "ZonalAllocationFailed" | "AllocationFailed" | "OverconstrainedAllocationRequest",
): ArmErrorBody {
  const original =
    code === "ZonalAllocationFailed"
      ? "Allocation failed. We do not have sufficient capacity for the requested VM size in this zone. Read more about improving likelihood of allocation success at https://aka.ms/allocation-guidance"
      : code === "AllocationFailed"
        ? "Allocation failed. We do not have sufficient capacity for the requested VM size in this region. Read more about improving likelihood of allocation success at https://aka.ms/allocation-guidance"
        : "Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is too restrictive. Please remove some constraints and try again.";
  return {
    code,
    message: `Reconcile vmss agent pool error: VMSSAgentPoolReconciler retry failed: Category: InternalError; SubCode: ${code}; Dependency: Microsoft.Compute/VirtualMachineScaleSet; OrginalError: Code="${code}" Message="${original}"; AKSTeam: NodeProvisioning`,
    details: [{ code, message: original }],
  };
}

/** AKS's vCPU quota pre-check (HTTP 400), verbatim shape from azure-facts §2.5. */
export function insufficientVcpuQuota(region: string, left: number, requested: number): ArmErrorBody {
  return {
    code: "ErrCode_InsufficientVCPUQuota",
    message: `Insufficient regional vcpu quota left for location ${region}. left regional vcpu quota ${left}, requested quota ${requested}. If you want to increase the quota, please follow this instruction: https://learn.microsoft.com/en-us/azure/quotas/view-quotas. Surge nodes would also consume vcpu quota, please consider use smaller maxSurge or use maxUnavailable to proceed upgrade without surge nodes, details: aka.ms/aks/maxUnavailable`,
  };
}

/** Compute's core-quota error as ARM returns it (azure-facts §2.5, quota-exceeded-error). */
export function quotaExceeded(limit: number, inUse: number, requested: number): ArmErrorBody {
  return {
    code: "QuotaExceeded",
    message: `Operation results in exceeding quota limits of Core. Maximum allowed: ${limit}, Current in use: ${inUse}, Additional requested: ${requested}.`,
  };
}

export function readyNodes(pool: SimPool, now: number): number {
  return pool.nodes.filter((n) => n.readyAt <= now).length;
}

/** ARM `properties` of an agent pool as the 2026-04-01 API returns them (the fields Cutover reads, plus a few). */
export function poolProperties(pool: SimPool): Record<string, unknown> {
  return {
    count: pool.count,
    vmSize: pool.vmSize,
    osType: "Linux",
    osSKU: "Ubuntu",
    type: "VirtualMachineScaleSets",
    mode: pool.mode,
    maxPods: 30,
    ...(pool.zone === undefined ? {} : { availabilityZones: [pool.zone] }),
    enableAutoScaling: false,
    ...(pool.minCount === undefined ? {} : { minCount: pool.minCount }),
    ...(pool.maxCount === undefined ? {} : { maxCount: pool.maxCount }),
    provisioningState: pool.provisioningState,
    eTag: pool.etag,
    powerState: { code: "Running" },
    orchestratorVersion: "1.33.2",
    currentOrchestratorVersion: "1.33.2",
    nodeImageVersion: "AKSUbuntu-2204gen2containerd-202611.10.0",
    upgradeSettings: { maxSurge: "10%" },
    nodeLabels: { "cutover.io/zone": pool.zone ?? "none" },
  };
}
