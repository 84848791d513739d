/**
 * The failover activities: one idempotent I/O step each, built from ports so tests pass fakes and production passes
 * the Azure adapters. Step activities return an `ExecResult` (`done` | `pending` | `failed` | `transient`) so the
 * runbook's executor decides per step how to wait, retry (honouring ARM `Retry-After`) or fall back; they throw only
 * for bad input (a programming error). One-shot activities (snapshot, plan, report) throw `[CODE]` errors for
 * transient failures and are called with `callActivityWithRetry`.
 */
import type { InvocationContext } from "@azure/functions";
import type { z } from "zod";
import { CutoverError, errorCodeOf, type CutoverErrorCode } from "../domain/errors";
import type { ExecResult } from "../domain/failover-executor";
import { planFailover } from "../domain/planner";
import type { PlanResult } from "../domain/plan";
import { ACTIVITIES } from "../runbooks/contracts";
import {
  confirmInputSchema,
  ensureModelInputSchema,
  frontDoorInputSchema,
  gateInputSchema,
  planActivityInputSchema,
  poolTargetSchema,
  restoreInputSchema,
  saveReportInputSchema,
  snapshotInputSchema,
  verifyInputSchema,
  warmInputSchema,
  type Snapshot,
} from "../runbooks/activity-contracts";
import type { FailoverPorts, OriginPatch, PoolRef } from "./ports";

type Handler = (input: unknown, context: InvocationContext) => Promise<unknown>;

function parse<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
  input: unknown,
  name: string,
): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new CutoverError("INVALID_INPUT", `${name}: ${detail}`);
  }
  return parsed.data;
}

/** Turns an adapter error into a step result: retryable codes are `transient`, the rest `failed`. */
export function resultFromError(error: unknown): ExecResult {
  const code: CutoverErrorCode = errorCodeOf(error) ?? "INTERNAL";
  const detail = error instanceof Error ? error.message : String(error);
  const retryAfterSeconds = error instanceof CutoverError ? error.retryAfterSeconds : undefined;
  if (code === "THROTTLED" || code === "TRANSIENT" || code === "TIMEOUT" || code === "CONFLICT") {
    return retryAfterSeconds === undefined
      ? { kind: "transient", detail }
      : { kind: "transient", detail, retryAfterSeconds };
  }
  return { kind: "failed", code, detail };
}

async function guard(work: () => Promise<ExecResult>): Promise<ExecResult> {
  try {
    return await work();
  } catch (error) {
    if (errorCodeOf(error) === "INVALID_INPUT") throw error;
    return resultFromError(error);
  }
}

function poolRef(t: {
  subscriptionId: string;
  cluster: { resourceGroup: string; name: string };
  pool: string;
}): PoolRef {
  return {
    subscriptionId: t.subscriptionId,
    resourceGroup: t.cluster.resourceGroup,
    cluster: t.cluster.name,
    pool: t.pool,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createFailoverActivities(ports: FailoverPorts): Record<string, Handler> {
  const iso = (): string => new Date(ports.now()).toISOString();

  const snapshotWorkload: Handler = async (raw) => {
    const input = parse(snapshotInputSchema, raw, ACTIVITIES.snapshotWorkload);
    const { workload, frontDoor, subscriptionId } = input;
    const errors: string[] = [];
    const snapshot: Snapshot = { takenAt: iso(), pools: [], origins: [], gates: [], endpoints: [], models: [], errors };
    const tasks: Array<Promise<void>> = [];
    for (const [region, entry] of Object.entries(workload.regions)) {
      for (const pool of entry.gpuPools) {
        if (entry.cluster === undefined) continue;
        const ref = {
          subscriptionId,
          resourceGroup: entry.cluster.resourceGroup,
          cluster: entry.cluster.name,
          pool: pool.name,
        };
        tasks.push(
          ports.pools.get(ref).then(
            (obs) => {
              snapshot.pools.push({
                region,
                pool: pool.name,
                zone: pool.zone,
                vmSize: obs.vmSize,
                count: obs.count,
                provisioningState: obs.provisioningState,
                ...(obs.error === undefined ? {} : { error: `${obs.error.code}: ${obs.error.message}` }),
              });
            },
            (e: unknown) => void errors.push(`pool ${region}/${pool.name}: ${(e as Error).message}`),
          ),
        );
      }
      tasks.push(
        ports.gates.get(workload.name, region).then(
          (g) => void snapshot.gates.push({ region, state: g?.state ?? "open" }),
          (e: unknown) => void errors.push(`gate ${region}: ${(e as Error).message}`),
        ),
      );
      if (entry.endpoint !== undefined) {
        tasks.push(
          ports.endpoints.health(entry.endpoint.healthUrl).then((h) => {
            snapshot.endpoints.push({
              region,
              status: h.status,
              ...(h.modelVersion === undefined ? {} : { modelVersion: h.modelVersion }),
              ...(h.latencyMs === undefined ? {} : { latencyMs: h.latencyMs }),
              ...(h.state === undefined ? {} : { state: h.state }),
              ...(h.detail === undefined ? {} : { detail: h.detail }),
            });
          }),
        );
      }
      if (entry.modelStore !== undefined) {
        tasks.push(
          ports.models.status(entry.modelStore, { name: workload.model.name, version: workload.model.version }).then(
            (m) => void snapshot.models.push({ region, status: m.kind }),
            (e: unknown) => {
              errors.push(`model store ${region}: ${(e as Error).message}`);
              snapshot.models.push({ region, status: "unknown" });
            },
          ),
        );
      }
    }
    if (frontDoor !== undefined) {
      tasks.push(
        ports.frontDoor.listOrigins(subscriptionId, frontDoor).then(
          (origins) => {
            const declared = new Set(Object.values(workload.regions).map((e) => e.origin));
            snapshot.otherOrigins = origins
              .filter((o) => !declared.has(o.name))
              .map((o) => ({ origin: o.name, enabledState: o.enabledState }))
              .sort((a, b) => a.origin.localeCompare(b.origin));
            for (const [region, entry] of Object.entries(workload.regions)) {
              const o = origins.find((x) => x.name === entry.origin);
              if (o === undefined) {
                if (entry.origin !== undefined)
                  errors.push(`origin ${entry.origin} (${region}) not found in Front Door`);
                continue;
              }
              snapshot.origins.push({
                region,
                origin: o.name,
                enabledState: o.enabledState,
                weight: o.weight,
                priority: o.priority,
                ...(o.deploymentStatus === undefined ? {} : { deploymentStatus: o.deploymentStatus }),
              });
            }
          },
          (e: unknown) => void errors.push(`front door: ${(e as Error).message}`),
        ),
      );
    }
    await Promise.all(tasks);
    // Stable order: the snapshot is part of the audit record.
    snapshot.pools.sort((a, b) => `${a.region}/${a.pool}`.localeCompare(`${b.region}/${b.pool}`));
    for (const list of [snapshot.gates, snapshot.endpoints, snapshot.models, snapshot.origins] as Array<
      Array<{ region: string }>
    >)
      list.sort((a, b) => a.region.localeCompare(b.region));
    errors.sort();
    return snapshot;
  };

  const planFailoverActivity: Handler = (raw) => {
    const input = parse(planActivityInputSchema, raw, ACTIVITIES.planFailover);
    const result: PlanResult = planFailover({
      topology: input.topology,
      scope: input.scope,
      workload: input.workload,
      capacity: { pools: input.capacity.pools },
      health: input.health,
      detection: input.detection,
      modelStores: input.modelStores,
    });
    return Promise.resolve(result);
  };

  const beginScalePool: Handler = (raw) =>
    guard(async () => {
      const t = parse(poolTargetSchema, raw, ACTIVITIES.beginScalePool);
      const ref = poolRef(t);
      const begin = await ports.pools.beginScale(ref, t.to);
      if (begin.kind === "unchanged")
        return { kind: "done", detail: `${t.region}/${t.pool} already at ${begin.count} nodes` };
      if (begin.kind === "rejected") return { kind: "failed", code: begin.code, detail: begin.message };
      return { kind: "pending", operation: begin.operation, detail: `scaling ${t.region}/${t.pool} to ${t.to}` };
    });

  const getScaleStatus: Handler = (raw) =>
    guard(async () => {
      const t = parse(poolTargetSchema, raw, ACTIVITIES.getScaleStatus);
      const ref = poolRef(t);
      if (t.operation !== undefined) {
        const op = await ports.pools.operationStatus(ref, t.operation);
        if (op.status === "InProgress") {
          if (t.need === undefined || t.need >= t.to)
            return { kind: "pending", detail: `scaling ${t.region}/${t.pool} to ${t.to}: in progress` };
          // Spare nodes were asked for: the needed ones being Ready is enough. Only the cluster's Kubernetes API says
          // which nodes are Ready while AKS's operation runs; when it cannot be read, wait for AKS and say why.
          const spare = t.to - t.need;
          try {
            const nodes = await ports.nodes.poolNodes(ref);
            if (nodes.ready >= t.need)
              return {
                kind: "done",
                detail: `${t.region}/${t.pool}: ${nodes.ready} of ${t.to} nodes Ready (${t.need} needed; ${t.to - nodes.ready} spare still provisioning)`,
              };
            return {
              kind: "pending",
              detail: `scaling ${t.region}/${t.pool} to ${t.to} (${spare} spare): ${nodes.ready} of ${t.need} needed nodes Ready`,
            };
          } catch (error) {
            return {
              kind: "pending",
              detail: `scaling ${t.region}/${t.pool} to ${t.to}: in progress; node readiness unavailable (${errorText(error)}), waiting for AKS to finish`,
            };
          }
        }
        if (op.status === "Failed" || op.status === "Canceled")
          return {
            kind: "failed",
            code: op.error?.code ?? op.status,
            detail: op.error?.message ?? `operation ${op.status}`,
          };
        // The long-running PUT succeeded: AKS reports that only once the nodes are provisioned.
        return { kind: "done", detail: `${t.region}/${t.pool} at ${t.to} nodes` };
      }
      const pool = await ports.pools.get(ref);
      if (pool.provisioningState === "Failed" && pool.error !== undefined)
        return { kind: "failed", code: pool.error.code, detail: pool.error.message };
      if (pool.provisioningState === "Succeeded" && pool.count >= t.to)
        return { kind: "done", detail: `${t.region}/${t.pool} at ${pool.count} nodes` };
      return {
        kind: "pending",
        detail: `${t.region}/${t.pool}: ${pool.provisioningState}, ${pool.count}/${t.to} nodes`,
      };
    });

  /** Stops a losing hedge's provisioning (a `release` step): done once AKS took the abort or had nothing to abort. */
  const abortScalePool: Handler = (raw) =>
    guard(async () => {
      const t = parse(poolTargetSchema, raw, ACTIVITIES.abortScalePool);
      const outcome = await ports.pools.abortOperation(poolRef(t));
      return {
        kind: "done",
        detail:
          outcome === "aborting"
            ? `abort of the operation on ${t.region}/${t.pool} accepted`
            : `${t.region}/${t.pool}: no operation running to abort`,
      };
    });

  const ensureModel: Handler = (raw) =>
    guard(async () => {
      const input = parse(ensureModelInputSchema, raw, ACTIVITIES.ensureModel);
      const status = await ports.models.status(input.target, input.model);
      if (status.kind === "present")
        return { kind: "done", detail: `${input.model.name}@${input.model.version} present in ${input.region}` };
      if (status.kind === "copying") return { kind: "pending", detail: status.detail };
      // Absent or a failed copy: copy from the first source that has it.
      for (const source of input.sources) {
        const s = await ports.models.status(source.store, input.model);
        if (s.kind !== "present") continue;
        await ports.models.beginCopy(source.store, input.target, input.model);
        return {
          kind: "pending",
          detail: `copying ${input.model.name}@${input.model.version} from ${source.region} to ${input.region}`,
        };
      }
      return {
        kind: "failed",
        code: "PRECONDITION_FAILED",
        detail: `${input.model.name}@${input.model.version} is in no model store (${[input.region, ...input.sources.map((s) => s.region)].join(", ")})`,
      };
    });

  const warmEndpoint: Handler = (raw) =>
    guard(async () => {
      const input = parse(warmInputSchema, raw, ACTIVITIES.warmEndpoint);
      const warm = await ports.endpoints.warmup(input.endpoint.warmupUrl, input.model);
      if (warm.kind === "loading") return { kind: "pending", detail: `${input.region}: ${warm.detail}` };
      if (warm.kind === "error") {
        // 5xx/unreachable while nodes come up is expected: keep polling until the step's deadline.
        if (warm.status === 0 || warm.status >= 500)
          return {
            kind: "pending",
            detail: `${input.region}: warm-up ${warm.status || "unreachable"}: ${warm.detail}`,
          };
        return {
          kind: "failed",
          code: "PRECONDITION_FAILED",
          detail: `${input.region}: warm-up refused (${warm.status}): ${warm.detail}`,
        };
      }
      if (warm.modelVersion !== input.model.version)
        return {
          kind: "pending",
          detail: `${input.region}: serving ${warm.modelVersion}, expected ${input.model.version}`,
        };
      if (warm.latencyMs > input.latencyMs)
        return {
          kind: "pending",
          detail: `${input.region}: latency ${warm.latencyMs} ms above the SLO of ${input.latencyMs} ms`,
        };
      return {
        kind: "done",
        detail: `${input.region}: ${input.model.name}@${warm.modelVersion} warm, ${warm.latencyMs} ms`,
      };
    });

  const setHealthGate: Handler = (raw) =>
    guard(async () => {
      const input = parse(gateInputSchema, raw, ACTIVITIES.setHealthGate);
      const current = await ports.gates.get(input.workload, input.region);
      if (current?.state === input.state)
        return { kind: "done", detail: `gate ${input.workload}/${input.region} already ${input.state}` };
      await ports.gates.set(input.workload, input.region, {
        state: input.state,
        reason: input.reason,
        updatedAt: iso(),
        by: input.by,
      });
      return { kind: "done", detail: `gate ${input.workload}/${input.region} ${input.state}` };
    });

  const updateFrontDoor: Handler = (raw) =>
    guard(async () => {
      const input = parse(frontDoorInputSchema, raw, ACTIVITIES.updateFrontDoor);
      const origins = await ports.frontDoor.listOrigins(input.subscriptionId, input.frontDoor);
      // Guard: never leave the workload without an enabled origin (Front Door fails open when all are unhealthy).
      const enabledAfter = input.workloadOrigins.filter((name) => {
        const patch = input.origins[name];
        const current = origins.find((o) => o.name === name);
        return (patch?.enabledState ?? current?.enabledState) === "Enabled";
      });
      if (enabledAfter.length === 0)
        return {
          kind: "failed",
          code: "PRECONDITION_FAILED",
          detail: "refusing to disable the last enabled origin of the workload",
        };
      const patches = new Map<string, OriginPatch>();
      for (const [name, patch] of Object.entries(input.origins)) {
        const current = origins.find((o) => o.name === name);
        if (current === undefined) return { kind: "failed", code: "NOT_FOUND", detail: `origin ${name} not found` };
        const needs =
          (patch.enabledState !== undefined && patch.enabledState !== current.enabledState) ||
          (patch.weight !== undefined && patch.weight !== current.weight) ||
          (patch.priority !== undefined && patch.priority !== current.priority);
        if (needs) patches.set(name, patch);
      }
      if (patches.size === 0) return { kind: "done", detail: "Front Door already has the target configuration" };
      const result = await ports.frontDoor.updateOrigins(input.subscriptionId, input.frontDoor, patches);
      if (result.kind === "rejected") return { kind: "failed", code: result.code, detail: result.message };
      return { kind: "done", detail: `Front Door update accepted for ${[...patches.keys()].join(", ")}` };
    });

  const getFrontDoorStatus: Handler = (raw) =>
    guard(async () => {
      const input = parse(frontDoorInputSchema, raw, ACTIVITIES.getFrontDoorStatus);
      const origins = await ports.frontDoor.listOrigins(input.subscriptionId, input.frontDoor);
      const waiting: string[] = [];
      for (const [name, patch] of Object.entries(input.origins)) {
        const o = origins.find((x) => x.name === name);
        if (o === undefined) return { kind: "failed", code: "NOT_FOUND", detail: `origin ${name} not found` };
        if (patch.enabledState !== undefined && o.enabledState !== patch.enabledState)
          waiting.push(`${name}: ${o.enabledState}`);
        else if (o.deploymentStatus !== undefined && o.deploymentStatus !== "Succeeded") {
          if (o.deploymentStatus === "Failed")
            return { kind: "failed", code: "TRANSIENT", detail: `${name}: deployment failed` };
          waiting.push(`${name}: ${o.deploymentStatus}`);
        }
      }
      return waiting.length === 0
        ? { kind: "done", detail: "Front Door configuration propagated" }
        : { kind: "pending", detail: `propagating: ${waiting.join(", ")}` };
    });

  const verifyCutover: Handler = (raw) =>
    guard(async () => {
      const input = parse(verifyInputSchema, raw, ACTIVITIES.verifyCutover);
      const problems: string[] = [];
      const ok: string[] = [];
      await Promise.all(
        input.targets.map(async (target) => {
          const health = await ports.endpoints.health(target.endpoint.healthUrl);
          if (health.status !== 200) problems.push(`${target.region}: health ${health.status || "unreachable"}`);
          else if (health.modelVersion !== undefined && health.modelVersion !== input.model.version)
            problems.push(`${target.region}: serving ${health.modelVersion}, expected ${input.model.version}`);
          else if (health.latencyMs !== undefined && health.latencyMs > input.latencyMs)
            problems.push(`${target.region}: latency ${health.latencyMs} ms over ${input.latencyMs} ms`);
          let gpus = 0;
          const unknown: string[] = [];
          for (const p of target.pools) {
            const ref = poolRef({ subscriptionId: input.subscriptionId, ...p });
            const pool = await ports.pools.get(ref);
            if (pool.provisioningState === "Succeeded") gpus += pool.count * p.gpusPerNode;
            else if (pool.count > 0) {
              // Still scaling (spare nodes provisioning): its Ready nodes count, as the cluster's Kubernetes API sees them.
              try {
                gpus += Math.min((await ports.nodes.poolNodes(ref)).ready, pool.count) * p.gpusPerNode;
              } catch (error) {
                unknown.push(`${p.pool} ${pool.provisioningState}, node readiness unavailable: ${errorText(error)}`);
              }
            }
          }
          if (gpus + 1e-9 < target.needGpus)
            problems.push(
              `${target.region}: ${gpus} GPUs ready, ${target.needGpus} needed${unknown.length === 0 ? "" : ` (${unknown.join("; ")})`}`,
            );
          else ok.push(`${target.region}: ${gpus} GPUs`);
        }),
      );
      if (problems.length > 0) return { kind: "pending", detail: problems.sort().join("; ") };
      return { kind: "done", detail: `verified: ${ok.sort().join(", ")}` };
    });

  const restoreTraffic: Handler = async (raw) => {
    const input = parse(restoreInputSchema, raw, ACTIVITIES.restoreTraffic);
    const records: Array<{ action: string; outcome: string }> = [];
    for (const region of input.gates) {
      try {
        await ports.gates.set(input.workload, region, {
          state: "open",
          reason: input.reason,
          updatedAt: iso(),
          by: input.by,
        });
        records.push({ action: `reopen health gate ${input.workload}/${region}`, outcome: "done" });
      } catch (error) {
        records.push({
          action: `reopen health gate ${input.workload}/${region}`,
          outcome: `failed: ${(error as Error).message}`,
        });
      }
    }
    if (input.frontDoor !== undefined && Object.keys(input.origins).length > 0) {
      const action = `restore Front Door origins ${Object.keys(input.origins).join(", ")}`;
      try {
        const r = await ports.frontDoor.updateOrigins(
          input.subscriptionId,
          input.frontDoor,
          new Map(Object.entries(input.origins)),
        );
        records.push({ action, outcome: r.kind === "rejected" ? `rejected: ${r.code}: ${r.message}` : r.kind });
      } catch (error) {
        records.push({ action, outcome: `failed: ${(error as Error).message}` });
      }
    }
    return records;
  };

  /** Front Door origin health % over the input's window (undefined: no data points). */
  const originHealth = (input: z.output<typeof confirmInputSchema>): Promise<number | undefined> =>
    ports.metrics.originHealthPercent(input.subscriptionId, input.frontDoor, input.origin, input.minutes, input.region);

  const confirmSignal: Handler = async (raw) => {
    const input = parse(confirmInputSchema, raw, ACTIVITIES.confirmSignal);
    const health = await originHealth(input);
    if (health === undefined)
      return {
        confirmed: true,
        detail: `no origin health data for ${input.origin} in the last ${input.minutes} min: acting on the alert`,
      };
    return health < input.thresholdPercent
      ? { confirmed: true, detail: `origin ${input.origin} health ${health.toFixed(1)}% < ${input.thresholdPercent}%` }
      : {
          confirmed: false,
          detail: `origin ${input.origin} health ${health.toFixed(1)}% ≥ ${input.thresholdPercent}%: not confirmed`,
        };
  };

  /** Front Door origin health below the threshold at every POP over the window: Front Door already excludes it. */
  const checkOriginExcluded: Handler = (raw) =>
    guard(async () => {
      const input = parse(confirmInputSchema, raw, ACTIVITIES.checkOriginExcluded);
      const health = await originHealth(input);
      if (health === undefined) return { kind: "pending", detail: `no origin health data for ${input.origin} yet` };
      return health < input.thresholdPercent
        ? {
            kind: "done",
            detail: `metrics: ${input.origin} health ${health.toFixed(1)}% at every POP: Front Door excludes it`,
          }
        : {
            kind: "pending",
            detail: `metrics: ${input.origin} health ${health.toFixed(1)}%: Front Door still probes it healthy somewhere`,
          };
    });

  const saveReport: Handler = async (raw) => {
    const input = parse(saveReportInputSchema, raw, ACTIVITIES.saveReport);
    await ports.reports.saveReport(input.instanceId, input.report);
    return true;
  };

  return {
    [ACTIVITIES.snapshotWorkload]: snapshotWorkload,
    [ACTIVITIES.planFailover]: planFailoverActivity,
    [ACTIVITIES.beginScalePool]: beginScalePool,
    [ACTIVITIES.getScaleStatus]: getScaleStatus,
    [ACTIVITIES.abortScalePool]: abortScalePool,
    [ACTIVITIES.ensureModel]: ensureModel,
    [ACTIVITIES.warmEndpoint]: warmEndpoint,
    [ACTIVITIES.setHealthGate]: setHealthGate,
    [ACTIVITIES.updateFrontDoor]: updateFrontDoor,
    [ACTIVITIES.getFrontDoorStatus]: getFrontDoorStatus,
    [ACTIVITIES.verifyCutover]: verifyCutover,
    [ACTIVITIES.restoreTraffic]: restoreTraffic,
    [ACTIVITIES.confirmSignal]: confirmSignal,
    [ACTIVITIES.checkOriginExcluded]: checkOriginExcluded,
    [ACTIVITIES.saveReport]: saveReport,
  };
}
