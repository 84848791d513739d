/**
 * Azure Machine Learning command jobs as the simulator answers them: the ARM routes `@azure/arm-machinelearning`
 * 2.1.1 calls (`PUT`/`GET .../workspaces/{ws}/jobs/{name}`, `GET .../jobs`, `POST .../jobs/{name}/cancel`,
 * api-version 2022-10-01), with job state computed from the shared virtual clock.
 *
 * Self-contained request → response module: any ARM router can hand it requests whose path names
 * `Microsoft.MachineLearningServices` (`handle` returns undefined for other paths).
 *
 * Behaviour (modelling choices, documented in docs/training.md):
 * - a new job is `Queued`, then `Running` after a `trainingJobStart` sample of the latency model (queue + image
 *   pull), and stays Running (training runs for days);
 * - synchronous validation like the service's: unknown workspace → 404 `ResourceNotFound`; missing command,
 *   environment or compute, unknown compute, an asset input (`uri_folder` …) without `uri` (the service's
 *   "Request is invalid and/or missing fields.", Azure/azure-sdk-for-js#29328), or a command referencing an
 *   undefined `${{inputs.x}}` → 400 `UserError`; a second PUT of the same name with other inputs → 409 `Conflict`, with the same ones → 200;
 * - bad input found only when the job starts (no `checkpoint` input, a checkpoint URI that is not an https/
 *   azureml/wasbs URI, or one the `inputProblem` hook refuses) → `Queued`, then `Failed` at the moment it would have
 *   started running;
 * - cancel is immediate (`Canceled`), and a no-op on a finished job;
 * - a region marked down answers 503 for its workspaces.
 */
import { DEFAULT_LATENCY_MODEL, sampleTriangular, type LatencyModel } from "../../src/domain/latency-model";
import type { Topology } from "../../src/domain/topology";
import type { VirtualClock } from "../clock";
import type { ArmExtension } from "./arm-handlers";
import type { World } from "./world";

/** The request shape of the simulator's ARM router (structurally compatible with it). */
export interface AmlArmRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface AmlArmResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SimWorkspace {
  readonly resourceGroup: string;
  readonly name: string;
  readonly region: string;
  readonly computes: ReadonlyArray<string>;
}

export interface AmlJobsSimOptions {
  readonly clock: VirtualClock;
  readonly subscriptionId: string;
  readonly workspaces: ReadonlyArray<SimWorkspace>;
  /** Uniform [0, 1) draws for start delays: one dedicated seeded stream. */
  readonly random: () => number;
  readonly latency?: LatencyModel;
  /** Extra start-time input check (e.g. "that checkpoint folder does not exist"); a string fails the job. */
  readonly inputProblem?: (inputs: Readonly<Record<string, JobInput>>) => string | undefined;
  /** Region outages decided elsewhere (the world's `region-down` faults), besides {@link AmlJobsSimulator.setRegionDown}. */
  readonly regionDown?: (region: string) => boolean;
}

interface JobInput {
  readonly jobInputType?: string;
  readonly uri?: string;
  readonly value?: string;
  readonly mode?: string;
}

interface SimJob {
  readonly workspace: SimWorkspace;
  readonly name: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly startsAt: number;
  readonly failure: string | undefined;
  canceledAt: number | undefined;
}

export interface AmlRequestLogEntry {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

const PROVIDER = "Microsoft.MachineLearningServices";
const ASSET_INPUTS: ReadonlySet<string> = new Set([
  "uri_folder",
  "uri_file",
  "mltable",
  "custom_model",
  "mlflow_model",
  "triton_model",
]);

const armError = (status: number, code: string, message: string): AmlArmResponse => ({
  status,
  body: { error: { code, message } },
});

export class AmlJobsSimulator {
  private readonly o: AmlJobsSimOptions;
  private readonly latency: LatencyModel;
  private readonly jobs = new Map<string, SimJob>();
  private readonly down = new Set<string>();
  readonly requests: AmlRequestLogEntry[] = [];

  constructor(options: AmlJobsSimOptions) {
    this.o = options;
    this.latency = options.latency ?? DEFAULT_LATENCY_MODEL;
  }

  /** Every Azure ML workspace and compute of the topology's training workloads. */
  static fromTopology(
    topology: Topology,
    options: Omit<AmlJobsSimOptions, "subscriptionId" | "workspaces">,
  ): AmlJobsSimulator {
    const byKey = new Map<string, { resourceGroup: string; name: string; region: string; computes: Set<string> }>();
    for (const w of topology.workloads) {
      const t = w.training;
      if (t === undefined) continue;
      for (const [region, ws] of Object.entries(t.job.workspaces)) {
        const key = `${ws.resourceGroup}/${ws.name}`.toLowerCase();
        const entry = byKey.get(key) ?? { ...ws, region, computes: new Set<string>() };
        const compute = t.job.compute[region];
        if (compute !== undefined) entry.computes.add(compute);
        byKey.set(key, entry);
      }
    }
    return new AmlJobsSimulator({
      ...options,
      subscriptionId: topology.subscriptionId,
      workspaces: [...byKey.values()].map((w) => ({ ...w, computes: [...w.computes] })),
    });
  }

  setRegionDown(region: string, down: boolean): void {
    if (down) this.down.add(region);
    else this.down.delete(region);
  }

  /** Handles a request for a Machine Learning path; undefined for any other path. */
  handle(req: AmlArmRequest): AmlArmResponse | undefined {
    const m =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/jobs(?:\/([^/]+)(\/cancel)?)?\/?$/i.exec(
        req.path,
      );
    if (m === null) return undefined;
    const response = this.route(req, m[1]!, m[2]!, m[3]!, m[4], m[5] !== undefined);
    this.requests.push({ at: this.o.clock.now(), method: req.method, path: req.path, status: response.status });
    return response;
  }

  private route(
    req: AmlArmRequest,
    sub: string,
    rg: string,
    wsName: string,
    name: string | undefined,
    cancel: boolean,
  ): AmlArmResponse {
    if (req.query["api-version"] === undefined)
      return armError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required.",
      );
    if (sub.toLowerCase() !== this.o.subscriptionId.toLowerCase())
      return armError(404, "SubscriptionNotFound", `The subscription '${sub}' could not be found.`);
    const ws = this.o.workspaces.find(
      (w) => w.resourceGroup.toLowerCase() === rg.toLowerCase() && w.name.toLowerCase() === wsName.toLowerCase(),
    );
    if (ws === undefined)
      return armError(
        404,
        "ResourceNotFound",
        `The Resource '${PROVIDER}/workspaces/${wsName}' under resource group '${rg}' was not found.`,
      );
    if (this.down.has(ws.region) || this.o.regionDown?.(ws.region) === true)
      return armError(503, "ServiceUnavailable", `The service in ${ws.region} is temporarily unavailable.`);

    if (name === undefined) {
      if (req.method !== "GET") return armError(405, "MethodNotAllowed", `${req.method} is not supported on jobs.`);
      const value = [...this.jobs.values()].filter((j) => j.workspace === ws).map((j) => this.resource(sub, j));
      return { status: 200, body: { value } };
    }
    const key = `${ws.resourceGroup}/${ws.name}/${name}`.toLowerCase();
    const job = this.jobs.get(key);
    if (cancel) {
      if (req.method !== "POST") return armError(405, "MethodNotAllowed", `${req.method} is not supported on cancel.`);
      if (job === undefined) return armError(404, "UserError", `Job ${name} was not found.`);
      const state = this.state(job);
      if (state !== "Completed" && state !== "Failed" && state !== "Canceled") job.canceledAt = this.o.clock.now();
      return { status: 200 };
    }
    if (req.method === "GET") {
      if (job === undefined) return armError(404, "UserError", `Job ${name} was not found.`);
      return { status: 200, body: this.resource(sub, job) };
    }
    if (req.method !== "PUT") return armError(405, "MethodNotAllowed", `${req.method} is not supported on a job.`);
    return this.put(req, sub, ws, name, key, job);
  }

  private put(
    req: AmlArmRequest,
    sub: string,
    ws: SimWorkspace,
    name: string,
    key: string,
    existing: SimJob | undefined,
  ): AmlArmResponse {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/.test(name))
      return armError(400, "UserError", `Job name ${JSON.stringify(name)} is not valid.`);
    const body = req.body as { properties?: Record<string, unknown> } | null;
    const props = body?.properties;
    if (props === undefined || typeof props !== "object" || props === null)
      return armError(400, "UserError", "The request body must have properties.");
    if (props["jobType"] !== "Command")
      return armError(400, "UserError", `The simulator runs Command jobs only, not ${String(props["jobType"])}.`);
    const command = props["command"];
    if (typeof command !== "string" || command.trim() === "")
      return armError(400, "UserError", "properties.command is required.");
    const environmentId = props["environmentId"];
    if (
      typeof environmentId !== "string" ||
      !(environmentId.startsWith("/subscriptions/") || environmentId.startsWith("azureml://"))
    )
      return armError(400, "UserError", "properties.environmentId must be an environment ARM id or azureml:// id.");
    const computeId = props["computeId"];
    const compute = typeof computeId === "string" ? /\/workspaces\/([^/]+)\/computes\/([^/]+)$/i.exec(computeId) : null;
    if (compute === null) return armError(400, "UserError", "properties.computeId is required for a command job.");
    if (compute[1]!.toLowerCase() !== ws.name.toLowerCase() || !ws.computes.includes(compute[2]!))
      return armError(
        400,
        "UserError",
        `Compute ${compute[2]} was not found in workspace ${ws.name} (known: ${ws.computes.join(", ") || "none"}).`,
      );
    const inputs = (props["inputs"] ?? {}) as Record<string, JobInput>;
    // The service's answer to an asset input without a uri (what arm-machinelearning 2.1.1 sends, #29328).
    for (const input of Object.values(inputs))
      if (ASSET_INPUTS.has(input.jobInputType ?? "") && (typeof input.uri !== "string" || input.uri === ""))
        return armError(400, "UserError", "Request is invalid and/or missing fields.");
    for (const ref of command.matchAll(/\$\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}/g))
      if (inputs[ref[1]!] === undefined)
        return armError(400, "UserError", `The command references inputs.${ref[1]} which is not defined in inputs.`);

    if (existing !== undefined) {
      if (
        JSON.stringify(existing.properties["inputs"] ?? {}) !== JSON.stringify(inputs) ||
        existing.properties["computeId"] !== computeId
      )
        return armError(409, "Conflict", `A job named ${name} already exists with different properties.`);
      return { status: 200, body: this.resource(sub, existing) };
    }
    const now = this.o.clock.now();
    const startMs = Math.round(sampleTriangular(this.latency.trainingJobStart, this.o.random()) * 1000);
    const job: SimJob = {
      workspace: ws,
      name,
      properties: { ...props, inputs },
      createdAt: now,
      startsAt: now + startMs,
      failure: this.inputFailure(inputs),
      canceledAt: undefined,
    };
    this.jobs.set(key, job);
    return { status: 201, body: this.resource(sub, job) };
  }

  private inputFailure(inputs: Readonly<Record<string, JobInput>>): string | undefined {
    const checkpoint = inputs["checkpoint"];
    if (checkpoint === undefined) return "no checkpoint input";
    const uri = checkpoint.uri ?? "";
    if (!/^(https:\/\/|azureml:\/\/|wasbs:\/\/)\S+$/.test(uri))
      return `checkpoint URI ${JSON.stringify(uri)} cannot be mounted`;
    return this.o.inputProblem?.(inputs);
  }

  /** The job's state at the clock's now. */
  state(job: SimJob): string {
    const now = this.o.clock.now();
    if (job.canceledAt !== undefined && job.canceledAt <= now) return "Canceled";
    if (now < job.startsAt) return "Queued";
    return job.failure === undefined ? "Running" : "Failed";
  }

  /** Test and report aid: state of a job by workspace and name. */
  jobState(resourceGroup: string, workspace: string, name: string): string | undefined {
    const job = this.jobs.get(`${resourceGroup}/${workspace}/${name}`.toLowerCase());
    return job === undefined ? undefined : this.state(job);
  }

  jobCount(): number {
    return this.jobs.size;
  }

  private resource(sub: string, job: SimJob): Record<string, unknown> {
    const ws = job.workspace;
    const id = `/subscriptions/${sub}/resourceGroups/${ws.resourceGroup}/providers/${PROVIDER}/workspaces/${ws.name}/jobs/${job.name}`;
    const created = new Date(job.createdAt).toISOString();
    return {
      id,
      name: job.name,
      type: `${PROVIDER}/workspaces/jobs`,
      systemData: { createdAt: created, createdBy: "cutover", createdByType: "Application", lastModifiedAt: created },
      properties: {
        ...job.properties,
        status: this.state(job),
        services: {
          Studio: {
            jobServiceType: "Studio",
            endpoint: `https://ml.azure.com/runs/${job.name}?wsid=${encodeURIComponent(id)}`,
          },
        },
      },
    };
  }
}

const byWorld = new WeakMap<World, AmlJobsSimulator>();

/**
 * The simulator's ARM extension for Azure ML jobs: workspaces and computes from the world's topology, the world's
 * clock and latency profile, a dedicated random stream (`aml-jobs`), and the world's `region-down` faults.
 */
export function amlJobsExtension(world: World): ArmExtension {
  const random = world.stream("aml-jobs");
  const sim = AmlJobsSimulator.fromTopology(world.topology, {
    clock: world.clock,
    latency: world.latency,
    random: () => random.next(),
    regionDown: (region) => world.regionDown(region),
  });
  byWorld.set(world, sim);
  return (req) => sim.handle(req);
}

/** The Azure ML job simulator serving a world (for assertions and reports), if the extension is installed. */
export function amlJobsOf(world: World): AmlJobsSimulator | undefined {
  return byWorld.get(world);
}
