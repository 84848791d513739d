/**
 * A hand-written TrainingJobPort for runbook tests: jobs follow a script on the virtual clock, every call is
 * recorded, and submission is idempotent by name like the real adapter.
 */
import type {
  TrainingJobPort,
  TrainingJobSpec,
  TrainingJobState,
  TrainingJobStatus,
  TrainingJobSubmitResult,
} from "../../../src/activities/training-ports";
import type { Clock } from "../../../local/clock";

export type JobScript =
  | { readonly kind: "starts"; readonly afterMs: number }
  | { readonly kind: "fails"; readonly afterMs: number }
  | { readonly kind: "never-starts" }
  | { readonly kind: "rejects"; readonly message: string };

export class ScriptedJobs implements TrainingJobPort {
  script: JobScript = { kind: "starts", afterMs: 300_000 };
  readonly submitted: TrainingJobSpec[] = [];
  readonly statusCalls: string[] = [];
  private readonly jobs = new Map<string, { spec: TrainingJobSpec; at: number; script: JobScript }>();

  constructor(private readonly clock: Clock) {}

  submit(spec: TrainingJobSpec): Promise<TrainingJobSubmitResult> {
    this.submitted.push(spec);
    if (this.script.kind === "rejects")
      return Promise.resolve({ status: "rejected", reason: "invalid-input", message: this.script.message });
    const existing = this.jobs.get(spec.name);
    if (existing === undefined) this.jobs.set(spec.name, { spec, at: this.clock.now(), script: this.script });
    return Promise.resolve({
      status: "submitted",
      jobId: `jobs/${spec.name}`,
      created: existing === undefined,
      state: "Queued",
    });
  }

  getStatus(jobId: string): Promise<TrainingJobStatus> {
    this.statusCalls.push(jobId);
    const job = this.jobs.get(jobId.replace(/^jobs\//, ""));
    if (job === undefined) return Promise.reject(new Error(`[NOT_FOUND] no job ${jobId}`));
    const elapsed = this.clock.now() - job.at;
    let state: TrainingJobState = "Queued";
    if (job.script.kind === "starts" && elapsed >= job.script.afterMs) state = "Running";
    if (job.script.kind === "fails" && elapsed >= job.script.afterMs) state = "Failed";
    return Promise.resolve({ jobId, state, providerState: state });
  }
}
