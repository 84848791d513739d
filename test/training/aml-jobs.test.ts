/**
 * The Azure ML adapter with the real `@azure/arm-machinelearning` client over https against the simulator's Azure
 * ML job module (loopback server, certificate generated at test time): create, idempotent retry, Queued → Running
 * on the virtual clock, Failed for bad input, rejections, conflicts, cancel, outage.
 */
import { AzureMachineLearningWorkspaces, type CommandJob } from "@azure/arm-machinelearning";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmlTrainingJobs, amlJobId, buildAmlCommandJob } from "../../src/adapters/aml-jobs";
import type { TrainingJobSpec } from "../../src/activities/training-ports";
import { trainingJobName } from "../../src/domain/checkpoint";
import { DEFAULT_LATENCY_MODEL } from "../../src/domain/latency-model";
import { VirtualClock } from "../../local/clock";
import { AmlJobsSimulator } from "../../local/sim/aml-jobs";
import { startAmlArmServer, type AmlArmServer } from "../../local/training/aml-arm-server";

const SUB = "6f1c2b7e-9a55-4c1e-8d2a-3e0f4b5a6c7d";
const clock = new VirtualClock();
let draws = 0;
const sim = new AmlJobsSimulator({
  clock,
  subscriptionId: SUB,
  workspaces: [
    { resourceGroup: "rg-ml-westus3", name: "mlw-train-westus3", region: "westus3", computes: ["gpu-cluster-wus3"] },
    { resourceGroup: "rg-ml-eastus2", name: "mlw-train-eastus2", region: "eastus2", computes: ["gpu-cluster-eus2"] },
  ],
  random: () => {
    draws += 1;
    return (draws * 0.37) % 1;
  },
  inputProblem: (inputs) => (inputs["checkpoint"]?.uri?.includes("/missing/") === true ? "path not found" : undefined),
});
let server: AmlArmServer;
let adapter: AmlTrainingJobs;

beforeAll(async () => {
  server = await startAmlArmServer(sim);
  adapter = new AmlTrainingJobs({ credential: server.credential, clientOptions: server.clientOptions });
});
afterAll(async () => {
  await server?.stop();
});

function spec(overrides: Partial<TrainingJobSpec> = {}, epoch = 2): TrainingJobSpec {
  const runId = overrides.runId ?? "foundation-13b-run-42";
  return {
    name: trainingJobName(runId, epoch),
    runId,
    epoch,
    region: "westus3",
    checkpoint: {
      uri: "https://stckptwestus3.blob.core.windows.net/checkpoints/foundation-13b-run-42/step-000000003000/",
      step: 3000,
    },
    command: "python train.py --resume-from ${{inputs.checkpoint}} --epoch ${{inputs.epoch}}",
    target: {
      kind: "azureml",
      subscriptionId: SUB,
      resourceGroup: "rg-ml-westus3",
      workspace: "mlw-train-westus3",
      compute: "gpu-cluster-wus3",
      environment: "azureml:acpt-pytorch-2.4-cuda12:3",
      experiment: "cutover-resume",
    },
    ...overrides,
  };
}

const maxStartMs = DEFAULT_LATENCY_MODEL.trainingJobStart.max * 1000;

describe("Azure ML training jobs through the real SDK client", () => {
  it("creates the command job with the checkpoint and epoch as inputs; Queued, then Running on the clock", async () => {
    const s = spec({ runId: "run-create" });
    const submitted = await adapter.submit(s);
    expect(submitted).toEqual({
      status: "submitted",
      jobId: amlJobId({
        subscriptionId: SUB,
        resourceGroup: "rg-ml-westus3",
        workspace: "mlw-train-westus3",
        name: s.name,
      }),
      created: true,
      state: "Queued",
    });
    if (submitted.status !== "submitted") throw new Error("unreachable");

    // What reached the service, read back raw (the typed model drops input uris, azure-sdk-for-js#29328).
    const client = new AzureMachineLearningWorkspaces(server.credential, SUB, {
      ...server.clientOptions,
      $host: server.endpoint,
    });
    let raw = "";
    await client.jobs.get("rg-ml-westus3", "mlw-train-westus3", s.name, {
      onResponse: (r) => {
        raw = r.bodyAsText ?? "";
      },
    });
    const props = (JSON.parse(raw) as { properties: CommandJob }).properties;
    expect(props.inputs?.["checkpoint"]).toEqual({
      jobInputType: "uri_folder",
      uri: s.checkpoint.uri,
      mode: "ReadOnlyMount",
    });
    expect(props.inputs?.["epoch"]).toEqual({ jobInputType: "literal", value: "2" });
    expect(props.computeId).toMatch(/\/workspaces\/mlw-train-westus3\/computes\/gpu-cluster-wus3$/);
    expect(props.environmentId).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg-ml-westus3/providers/Microsoft.MachineLearningServices/workspaces/mlw-train-westus3/environments/acpt-pytorch-2.4-cuda12/versions/3`,
    );

    expect(await adapter.getStatus(submitted.jobId)).toMatchObject({ state: "Queued", providerState: "Queued" });
    clock.advanceBy(maxStartMs);
    expect(await adapter.getStatus(submitted.jobId)).toMatchObject({ state: "Running", providerState: "Running" });
  });

  it("is idempotent by name: a retried submission finds the job instead of starting a second trainer", async () => {
    const s = spec({ runId: "run-retry" });
    const first = await adapter.submit(s);
    const before = sim.jobCount();
    const again = await adapter.submit(s);
    expect(again).toMatchObject({ status: "submitted", created: false });
    expect(first.status === "submitted" && again.status === "submitted" && again.jobId === first.jobId).toBe(true);
    expect(sim.jobCount()).toBe(before);
  });

  it("returns a conflict when the job name exists with another checkpoint", async () => {
    const s = spec({ runId: "run-conflict" });
    await adapter.submit(s);
    const other = await adapter.submit({
      ...s,
      checkpoint: { uri: s.checkpoint.uri.replace("3000", "2000"), step: 2000 },
    });
    expect(other).toMatchObject({ status: "rejected", reason: "conflict" });
  });

  it("rejects an unknown compute and a command that references an undefined input (400 UserError)", async () => {
    const badCompute = await adapter.submit(
      spec({
        runId: "run-compute",
        target: { ...(spec().target as Extract<TrainingJobSpec["target"], { kind: "azureml" }>), compute: "nope" },
      }),
    );
    expect(badCompute).toMatchObject({ status: "rejected", reason: "invalid-input" });
    expect(badCompute.status === "rejected" && badCompute.message).toMatch(/UserError: Compute nope was not found/);
    const badCommand = await adapter.submit(spec({ runId: "run-cmd", command: "python train.py ${{inputs.dataset}}" }));
    expect(badCommand).toMatchObject({ status: "rejected", reason: "invalid-input" });
  });

  it("rejects an unknown workspace as not-found", async () => {
    const target = {
      ...(spec().target as Extract<TrainingJobSpec["target"], { kind: "azureml" }>),
      workspace: "mlw-ghost",
    };
    expect(await adapter.submit(spec({ runId: "run-ws", target }))).toMatchObject({
      status: "rejected",
      reason: "not-found",
    });
  });

  it("rejects before any request what it cannot express (bad environment, non-ML target)", async () => {
    const before = sim.requests.length;
    const target = {
      ...(spec().target as Extract<TrainingJobSpec["target"], { kind: "azureml" }>),
      environment: "pytorch",
    };
    expect(await adapter.submit(spec({ runId: "run-env", target }))).toMatchObject({
      status: "rejected",
      reason: "invalid-input",
    });
    expect(
      await adapter.submit(
        spec({
          target: { kind: "kubernetes", cluster: { resourceGroup: "rg", name: "aks" }, namespace: "train", image: "x" },
        }),
      ),
    ).toMatchObject({ status: "rejected", reason: "unsupported-target" });
    expect(sim.requests.length).toBe(before);
  });

  it("a job whose checkpoint cannot be mounted is accepted, then Failed when it starts", async () => {
    const s = spec({
      runId: "run-missing",
      checkpoint: {
        uri: "https://stckptwestus3.blob.core.windows.net/checkpoints/missing/step-000000000001/",
        step: 1,
      },
    });
    const submitted = await adapter.submit(s);
    expect(submitted).toMatchObject({ status: "submitted", state: "Queued" });
    if (submitted.status !== "submitted") throw new Error("unreachable");
    clock.advanceBy(maxStartMs);
    expect(await adapter.getStatus(submitted.jobId)).toMatchObject({ state: "Failed" });

    const unmountable = await adapter.submit(
      spec({ runId: "run-s3", checkpoint: { uri: "s3://bucket/run/step-1/", step: 1 } }),
    );
    if (unmountable.status !== "submitted") throw new Error(`expected submitted, got ${JSON.stringify(unmountable)}`);
    clock.advanceBy(maxStartMs);
    expect(await adapter.getStatus(unmountable.jobId)).toMatchObject({ state: "Failed" });
  });

  it("rejects a checkpoint input without a URI (400, as the service does)", async () => {
    const noUri = await adapter.submit(spec({ runId: "run-nouri", checkpoint: { uri: "", step: 1 } }));
    expect(noUri).toMatchObject({ status: "rejected", reason: "invalid-input" });
    expect(noUri.status === "rejected" && noUri.message).toMatch(/missing fields/);
  });

  it("negative control: the typed createOrUpdate of arm-machinelearning 2.1.1 loses the input uri (#29328)", async () => {
    const client = new AzureMachineLearningWorkspaces(server.credential, SUB, {
      ...server.clientOptions,
      $host: server.endpoint,
    });
    const body = buildAmlCommandJob(spec({ runId: "run-typed" }));
    if ("invalid" in body) throw new Error(body.invalid);
    await expect(
      client.jobs.createOrUpdate("rg-ml-westus3", "mlw-train-westus3", trainingJobName("run-typed", 2), body),
    ).rejects.toMatchObject({ statusCode: 400, message: "Request is invalid and/or missing fields." });
  });

  it("cancels a job (and cancelling a missing job is a no-op)", async () => {
    const submitted = await adapter.submit(spec({ runId: "run-cancel" }));
    if (submitted.status !== "submitted") throw new Error("unreachable");
    await adapter.cancel(submitted.jobId);
    expect(await adapter.getStatus(submitted.jobId)).toMatchObject({ state: "Canceled" });
    await expect(adapter.cancel(submitted.jobId.replace("run-cancel", "run-ghost"))).resolves.toBeUndefined();
  });

  it("maps an outage of the region to a retryable TRANSIENT error", async () => {
    const submitted = await adapter.submit(spec({ runId: "run-outage" }));
    if (submitted.status !== "submitted") throw new Error("unreachable");
    sim.setRegionDown("westus3", true);
    try {
      await expect(adapter.getStatus(submitted.jobId)).rejects.toMatchObject({ code: "TRANSIENT", retryable: true });
      await expect(adapter.submit(spec({ runId: "run-outage-2" }))).rejects.toThrow(/^\[TRANSIENT\]/);
    } finally {
      sim.setRegionDown("westus3", false);
    }
  });
});
