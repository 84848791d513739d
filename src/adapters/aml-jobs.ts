/**
 * The resumed trainer as an Azure Machine Learning command job, over ARM with `@azure/arm-machinelearning`
 * (`PUT/GET .../workspaces/{ws}/jobs/{name}`, `POST .../jobs/{name}/cancel`; api-version 2022-10-01 in 2.1.1).
 *
 * The job gets the checkpoint folder as a `uri_folder` input and the fencing epoch (plus run id and step) as literal
 * inputs, so the trainer's command can say `--resume-from ${{inputs.checkpoint}} --epoch ${{inputs.epoch}}`.
 *
 * Workaround, Azure/azure-sdk-for-js#29328: the 2.1.1 serializer maps `uri_folder`/`uri_file` job inputs only under
 * `AssetJobInput`, so `jobs.createOrUpdate` sends `{ "jobInputType": "uri_folder" }` without `uri` and `mode` (the
 * service answers 400 "Request is invalid and/or missing fields."), and reading a job back drops them too. The PUT
 * therefore goes through the client's own pipeline (`client.sendRequest`: same auth, retries, TLS options, endpoint)
 * with the JSON body as built here, and jobs are compared on the raw response text.
 * Submission is idempotent by job name: an existing job with the same name and the same checkpoint and epoch is
 * returned as is; one with other inputs is a conflict. SDK errors are mapped by {@link amlErrorToCutover}; request
 * and response bodies are never logged.
 */
import type { TokenCredential } from "@azure/core-auth";
import { createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";
import {
  AzureMachineLearningWorkspaces,
  type AzureMachineLearningWorkspacesOptionalParams,
  type CommandJob,
  type JobBase,
} from "@azure/arm-machinelearning";
import { CutoverError } from "../domain/errors";
import { statusErrorToCutover, type SdkErrorLike } from "./rest-errors";
import type {
  TrainingJobPort,
  TrainingJobSpec,
  TrainingJobState,
  TrainingJobStatus,
  TrainingJobSubmitResult,
} from "../activities/training-ports";

export interface AmlTrainingJobsOptions {
  readonly credential: TokenCredential;
  /**
   * Client options passed to every `AzureMachineLearningWorkspaces` (retry options, `tlsOptions`, `httpClient`). An
   * `endpoint` here also becomes the client's `$host`, which is what 2.1.1 builds request URLs from.
   */
  readonly clientOptions?: AzureMachineLearningWorkspacesOptionalParams;
  /** Poll interval of the cancel LRO, ms. Default: the SDK's. */
  readonly updateIntervalInMs?: number;
}

const PROVIDER = "Microsoft.MachineLearningServices";

type ErrorLike = SdkErrorLike;

/** The one place ARM errors from the ML client become domain errors. The message carries ARM's code, not bodies. */
export function amlErrorToCutover(error: unknown, action: string): CutoverError {
  return statusErrorToCutover(error, action);
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || error instanceof CutoverError) return undefined;
  const s = (error as ErrorLike).statusCode;
  return typeof s === "number" ? s : undefined;
}

function messageOf(error: unknown): string {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrorLike;
  const code = typeof e.code === "string" ? `${e.code}: ` : "";
  const message = typeof e.message === "string" ? e.message : "rejected";
  return `${code}${message}`.slice(0, 500);
}

/** Azure ML's word for a job's state, mapped to the backend-neutral {@link TrainingJobState}. */
export function mapAmlJobStatus(status: string | undefined): TrainingJobState {
  switch (status) {
    case "NotStarted":
    case "Starting":
    case "Provisioning":
    case "Preparing":
    case "Queued":
      return "Queued";
    case "Running":
    case "Finalizing":
      return "Running";
    case "Completed":
      return "Completed";
    case "Failed":
      return "Failed";
    case "Canceled":
    case "CancelRequested":
      return "Canceled";
    default:
      return "Unknown";
  }
}

export interface AmlJobRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  readonly name: string;
}

export function amlJobId(ref: AmlJobRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/${PROVIDER}/workspaces/${ref.workspace}/jobs/${ref.name}`;
}

export function parseAmlJobId(jobId: string): AmlJobRef {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/jobs\/([^/]+)$/i.exec(
      jobId,
    );
  if (m === null) throw new CutoverError("INVALID_INPUT", `not an Azure ML job id: ${jobId}`, { retryable: false });
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, workspace: m[3]!, name: m[4]! };
}

/**
 * `azureml:<name>:<version>` (the CLI's short form) becomes the workspace-scoped ARM id the REST API wants; ARM ids
 * and `azureml://registries/...` ids pass through. Anything else is undefined (a rejected submission).
 */
export function amlEnvironmentId(
  environment: string,
  scope: { subscriptionId: string; resourceGroup: string; workspace: string },
): string | undefined {
  if (environment.startsWith("/subscriptions/") || environment.startsWith("azureml://")) return environment;
  const m = /^azureml:([A-Za-z0-9][A-Za-z0-9._-]*):([A-Za-z0-9._-]+)$/.exec(environment);
  if (m === null) return undefined;
  return `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}/providers/${PROVIDER}/workspaces/${scope.workspace}/environments/${m[1]}/versions/${m[2]}`;
}

/** The command job body for a resume. Pure, exported so tests can check exactly what is sent. */
export function buildAmlCommandJob(spec: TrainingJobSpec): JobBase | { readonly invalid: string } {
  const target = spec.target;
  if (target.kind !== "azureml") return { invalid: `target kind ${target.kind} is not Azure ML` };
  const scope = {
    subscriptionId: target.subscriptionId,
    resourceGroup: target.resourceGroup,
    workspace: target.workspace,
  };
  const environmentId = amlEnvironmentId(target.environment, scope);
  if (environmentId === undefined)
    return { invalid: `environment ${JSON.stringify(target.environment)} is not azureml:<name>:<version> or an id` };
  const properties: CommandJob = {
    jobType: "Command",
    displayName: `${spec.runId} resume from step ${spec.checkpoint.step} (epoch ${spec.epoch})`,
    description: `Resumed by Cutover in ${spec.region} from ${spec.checkpoint.uri}`,
    experimentName: target.experiment,
    command: spec.command,
    environmentId,
    computeId: `/subscriptions/${target.subscriptionId}/resourceGroups/${target.resourceGroup}/providers/${PROVIDER}/workspaces/${target.workspace}/computes/${target.compute}`,
    inputs: {
      checkpoint: { jobInputType: "uri_folder", uri: spec.checkpoint.uri, mode: "ReadOnlyMount" },
      epoch: { jobInputType: "literal", value: String(spec.epoch) },
      run_id: { jobInputType: "literal", value: spec.runId },
      step: { jobInputType: "literal", value: String(spec.checkpoint.step) },
    },
    tags: {
      "cutover.run-id": spec.runId,
      "cutover.epoch": String(spec.epoch),
      "cutover.checkpoint-step": String(spec.checkpoint.step),
    },
  };
  return { properties };
}

interface RawJob {
  readonly id: string | undefined;
  readonly status: string | undefined;
  readonly checkpointUri: string | undefined;
  readonly epoch: string | undefined;
}

function parseJson(text: string | null | undefined): unknown {
  if (text === undefined || text === null || text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The few fields Cutover reads from a job resource, from its raw JSON. */
function rawJob(json: unknown): RawJob {
  const j = (typeof json === "object" && json !== null ? json : {}) as {
    id?: unknown;
    properties?: { status?: unknown; inputs?: Record<string, { uri?: unknown; value?: unknown } | null> };
  };
  const inputs = j.properties?.inputs ?? {};
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  return {
    id: str(j.id),
    status: str(j.properties?.status),
    checkpointUri: str(inputs["checkpoint"]?.uri),
    epoch: str(inputs["epoch"]?.value),
  };
}

/** An ARM error response as the error shape {@link amlErrorToCutover} reads. */
function armFailure(status: number, json: unknown, retryAfter: string | undefined): ErrorLike {
  const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return {
    statusCode: status,
    code: typeof e?.code === "string" ? e.code : `HTTP${status}`,
    message: typeof e?.message === "string" ? e.message : `HTTP ${status}`,
    response: { headers: { get: (name: string) => (name.toLowerCase() === "retry-after" ? retryAfter : undefined) } },
  };
}

export class AmlTrainingJobs implements TrainingJobPort {
  private readonly credential: TokenCredential;
  private readonly clientOptions: AzureMachineLearningWorkspacesOptionalParams;
  private readonly updateIntervalInMs: number | undefined;
  private readonly clients = new Map<string, AzureMachineLearningWorkspaces>();

  constructor(options: AmlTrainingJobsOptions) {
    this.credential = options.credential;
    const o = options.clientOptions ?? {};
    this.clientOptions = o.endpoint !== undefined && o.$host === undefined ? { ...o, $host: o.endpoint } : o;
    this.updateIntervalInMs = options.updateIntervalInMs;
  }

  private client(subscriptionId: string): AzureMachineLearningWorkspaces {
    let c = this.clients.get(subscriptionId);
    if (c === undefined) {
      c = new AzureMachineLearningWorkspaces(this.credential, subscriptionId, this.clientOptions);
      this.clients.set(subscriptionId, c);
    }
    return c;
  }

  async submit(spec: TrainingJobSpec): Promise<TrainingJobSubmitResult> {
    const target = spec.target;
    if (target.kind !== "azureml")
      return {
        status: "rejected",
        reason: "unsupported-target",
        message: `the Azure ML adapter cannot run ${target.kind} jobs`,
      };
    const body = buildAmlCommandJob(spec);
    if ("invalid" in body) return { status: "rejected", reason: "invalid-input", message: body.invalid };
    const ref = {
      subscriptionId: target.subscriptionId,
      resourceGroup: target.resourceGroup,
      workspace: target.workspace,
      name: spec.name,
    };

    const existing = await this.find(ref);
    if (existing !== undefined) return this.asExisting(existing, ref, spec);
    const put = await this.putJob(ref, body);
    if (put.status === 200 || put.status === 201) {
      const created = rawJob(put.json);
      return {
        status: "submitted",
        jobId: created.id ?? amlJobId(ref),
        created: true,
        state: mapAmlJobStatus(created.status),
      };
    }
    if (put.status === 409) {
      const raced = await this.find(ref);
      if (raced !== undefined) return this.asExisting(raced, ref, spec);
    }
    const failure = armFailure(put.status, put.json, put.retryAfter);
    if (put.status === 400) return { status: "rejected", reason: "invalid-input", message: messageOf(failure) };
    if (put.status === 404) return { status: "rejected", reason: "not-found", message: messageOf(failure) };
    throw amlErrorToCutover(failure, `create job ${ref.name}`);
  }

  /** PUT through the client's pipeline with our own JSON (see the azure-sdk-for-js#29328 note above). */
  private async putJob(
    ref: AmlJobRef,
    body: JobBase,
  ): Promise<{ status: number; json: unknown; retryAfter: string | undefined }> {
    const client = this.client(ref.subscriptionId);
    const request = createPipelineRequest({
      url: `${client.$host.replace(/\/+$/, "")}${amlJobId(ref)}?api-version=${encodeURIComponent(client.apiVersion)}`,
      method: "PUT",
      body: JSON.stringify(body),
      headers: createHttpHeaders({ "content-type": "application/json", accept: "application/json" }),
    });
    let response;
    try {
      response = await client.sendRequest(request);
    } catch (error) {
      throw amlErrorToCutover(error, `create job ${ref.name}`);
    }
    return {
      status: response.status,
      json: parseJson(response.bodyAsText),
      retryAfter: response.headers.get("retry-after"),
    };
  }

  /** The job as the service returned it (raw JSON, so inputs keep their `uri`), or undefined when absent. */
  private async find(ref: AmlJobRef): Promise<RawJob | undefined> {
    let text: string | null | undefined;
    try {
      await this.client(ref.subscriptionId).jobs.get(ref.resourceGroup, ref.workspace, ref.name, {
        onResponse: (raw) => {
          text = raw.bodyAsText;
        },
      });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw amlErrorToCutover(error, `read job ${ref.name}`);
    }
    return rawJob(parseJson(text));
  }

  private asExisting(job: RawJob, ref: AmlJobRef, spec: TrainingJobSpec): TrainingJobSubmitResult {
    if (job.checkpointUri !== spec.checkpoint.uri || job.epoch !== String(spec.epoch))
      return {
        status: "rejected",
        reason: "conflict",
        message: `job ${ref.name} already exists with a different checkpoint or epoch`,
      };
    return { status: "submitted", jobId: job.id ?? amlJobId(ref), created: false, state: mapAmlJobStatus(job.status) };
  }

  async getStatus(jobId: string): Promise<TrainingJobStatus> {
    const ref = parseAmlJobId(jobId);
    let job: JobBase;
    try {
      job = await this.client(ref.subscriptionId).jobs.get(ref.resourceGroup, ref.workspace, ref.name);
    } catch (error) {
      throw amlErrorToCutover(error, `read job ${ref.name}`);
    }
    const providerState = job.properties.status ?? "Unknown";
    return { jobId, state: mapAmlJobStatus(providerState), providerState };
  }

  async cancel(jobId: string): Promise<void> {
    const ref = parseAmlJobId(jobId);
    try {
      await this.client(ref.subscriptionId).jobs.beginCancelAndWait(
        ref.resourceGroup,
        ref.workspace,
        ref.name,
        this.updateIntervalInMs === undefined ? {} : { updateIntervalInMs: this.updateIntervalInMs },
      );
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw amlErrorToCutover(error, `cancel job ${ref.name}`);
    }
  }
}
