/**
 * Classifies Azure Resource Manager errors (HTTP status, error code, message) into Cutover's error codes. Pure, so
 * the adapters (which see `RestError`) and the tests share one mapping.
 *
 * Codes and messages: azure-facts §2.4–2.5 (AKS troubleshooting pages): allocation failures may arrive as the top
 * level code or wrapped, e.g. `Category: InternalError; SubCode: ZonalAllocationFailed`.
 */
import type { CutoverErrorCode } from "./errors";

const ALLOCATION = [
  "ZonalAllocationFailed",
  "AllocationFailed",
  "OverconstrainedAllocationRequest",
  "OverconstrainedZonalAllocationRequest",
  "SkuNotAvailable",
  "AKSCapacityHeavyUsage",
  "AvailabilityZoneNotSupported",
];
const QUOTA = ["QuotaExceeded", "ErrCode_InsufficientVCPUQuota", "InsufficientVCPUQuota"];
const CONFLICT = [
  "OperationNotAllowed",
  "AKSOperationPreempted",
  "Conflict",
  "AnotherOperationInProgress",
  "RetryableErrorDueToAnotherOperation",
];

export interface ArmErrorInfo {
  readonly status?: number;
  readonly code?: string;
  readonly message?: string;
}

/** The known allocation/quota code found in the error, top-level or wrapped in the message. */
export function capacityCode(info: ArmErrorInfo): string | undefined {
  const all = [...ALLOCATION, ...QUOTA];
  if (info.code !== undefined && all.includes(info.code)) return info.code;
  const message = info.message ?? "";
  return all.find((c) => new RegExp(`\\b${c}\\b`).test(message));
}

export function classifyArmError(info: ArmErrorInfo): CutoverErrorCode {
  const code = capacityCode(info);
  const message = info.message ?? "";
  if (code !== undefined) return QUOTA.includes(code) ? "QUOTA_EXCEEDED" : "ALLOCATION_FAILED";
  // ARM reports core-quota exhaustion as OperationNotAllowed with this message (error-resource-quota doc).
  if (info.code === "OperationNotAllowed" && /exceeding (approved )?(quota|.*quota)/i.test(message))
    return "QUOTA_EXCEEDED";
  if (info.status === 429 || info.code === "TooManyRequests") return "THROTTLED";
  if (info.code !== undefined && CONFLICT.includes(info.code)) return "CONFLICT";
  if (info.status === 409 || info.status === 412) return "CONFLICT";
  if (info.status === 401 || info.status === 403) return "UNAUTHORIZED";
  if (info.status === 404) return "NOT_FOUND";
  if (info.status === 408 || info.status === 504) return "TIMEOUT";
  if (info.status !== undefined && info.status >= 500) return "TRANSIENT";
  if (info.status === undefined) return "TRANSIENT"; // no HTTP response: connection reset, DNS, timeout
  return "INVALID_INPUT";
}
