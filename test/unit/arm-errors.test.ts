import { describe, expect, it } from "vitest";
import { capacityCode, classifyArmError } from "../../src/domain/arm-errors";

describe("classifyArmError", () => {
  it.each([
    [{ status: 200, code: "ZonalAllocationFailed", message: "Allocation failed." }, "ALLOCATION_FAILED"],
    [
      {
        status: 200,
        code: "ReconcileVMSSAgentPoolFailed",
        message:
          "Reconcile vmss agent pool error: VMSSAgentPoolReconciler retry failed: Category: InternalError; SubCode: ZonalAllocationFailed; Dependency: Microsoft.Compute/VirtualMachineScaleSet",
      },
      "ALLOCATION_FAILED",
    ],
    [{ status: 200, code: "OverconstrainedAllocationRequest", message: "Allocation failed." }, "ALLOCATION_FAILED"],
    [
      { status: 400, code: "ErrCode_InsufficientVCPUQuota", message: "Insufficient regional vcpu quota left" },
      "QUOTA_EXCEEDED",
    ],
    [
      {
        status: 409,
        code: "OperationNotAllowed",
        message: "Operation results in exceeding quota limits of Core. Maximum allowed: 4",
      },
      "QUOTA_EXCEEDED",
    ],
    [
      {
        status: 409,
        code: "OperationNotAllowed",
        message: "Another agentpool operation (user - Creating) is in progress",
      },
      "CONFLICT",
    ],
    [{ status: 412, code: "PreconditionFailed", message: "etag" }, "CONFLICT"],
    [{ status: 429, code: "TooManyRequests", message: "throttled" }, "THROTTLED"],
    [{ status: 503, message: "unavailable" }, "TRANSIENT"],
    [{ status: 404, code: "ResourceNotFound", message: "nope" }, "NOT_FOUND"],
    [{ status: 403, code: "AuthorizationFailed", message: "no" }, "UNAUTHORIZED"],
    [{ message: "ECONNRESET" }, "TRANSIENT"],
    [{ status: 400, code: "InvalidParameter", message: "count" }, "INVALID_INPUT"],
  ] as const)("%j → %s", (info, expected) => {
    expect(classifyArmError(info)).toBe(expected);
  });

  it("finds a wrapped capacity code in the message", () => {
    expect(capacityCode({ code: "X", message: "SubCode: ZonalAllocationFailed;" })).toBe("ZonalAllocationFailed");
    expect(capacityCode({ code: "X", message: "NotZonalAllocationFailedAtAll" })).toBeUndefined();
  });
});
