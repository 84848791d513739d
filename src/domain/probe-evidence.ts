/**
 * Health evidence: what one observation says about a workload-region (or a zone), in the small, plain-JSON form the
 * circuit breaker ({@link ./circuit-breaker}) consumes and records.
 *
 * Why: Front Door's own probes only see "HTTP 200 or not" (azure-facts §1.1), and Azure Monitor alerts arrive minutes
 * late (§3.1). Cutover's probes see more: a region that answers 200 but serves a model version other than the one
 * the topology expects is unhealthy for that workload, and one that answers slower than the workload's latency SLO is
 * degraded. This module only *classifies*; deciding what a run of evidence means is the breaker's job.
 *
 * Invariants:
 * - Classification is total and pure: every well-formed observation maps to exactly one outcome, and the same input
 *   always gives the same evidence. Malformed input throws `CutoverError("INVALID_INPUT")` naming every bad field.
 * - Outcome precedence for a probe: not 200 (or unreachable) → `failure`; 200 with a reported version other than
 *   the expected one → `stale`; 200 slower than the SLO → `slow`; otherwise `success`. Stale outranks slow because
 *   serving the wrong model is wrong for every request, while slowness is a matter of degree.
 * - An endpoint that reports no model version (vLLM `/health`, KServe `/v2/health/ready` return no body; §7.2) is not
 *   called stale unless the caller says freshness must be proven (`requireModelVersion`).
 * - Timestamps are epoch milliseconds supplied by the caller; nothing here reads a clock.
 */
import { z } from "zod";
import { CutoverError } from "./errors";
import { formatPath, zoneSchema } from "./topology";
import type { CommonAlert } from "./alerts";

/** What one observation says. `slow` and `stale` are 200 answers that still fall short. */
export type ProbeOutcome = "success" | "failure" | "slow" | "stale";
export const PROBE_OUTCOMES: ReadonlyArray<ProbeOutcome> = ["success", "failure", "slow", "stale"];

const epochMs = z.number().int().min(0);
const vantageName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "expected a vantage name of letters, digits, '.', '_', ':' or '-'");

/**
 * One probe of an inference endpoint's health URL, as the probe activity saw it (the shape of
 * `EndpointPort.health` plus when and from where). `status` 0 means the endpoint could not be reached (DNS, TCP,
 * TLS, or the probe's own time box).
 */
export const probeObservationSchema = z.strictObject({
  at: epochMs,
  vantage: vantageName,
  status: z.number().int().min(0).max(599),
  latencyMs: z.number().min(0).optional(),
  modelVersion: z.string().min(1).optional(),
  detail: z.string().optional(),
});
export type ProbeObservation = z.input<typeof probeObservationSchema>;

/** What the topology expects of the endpoint: the workload's latency SLO and model version. */
export const probeExpectationsSchema = z.strictObject({
  latencySloMs: z.number().positive(),
  modelVersion: z.string().min(1),
  /** Count a 200 without a reported model version as `stale`. Default false (see the module header). */
  requireModelVersion: z.boolean().default(false),
});
export type ProbeExpectations = z.input<typeof probeExpectationsSchema>;

/** Longest `reason` kept in evidence: entity state stays small even when an endpoint returns a long error text. */
export const MAX_REASON_LENGTH = 200;

export const probeEvidenceSchema = z.strictObject({
  source: z.literal("probe"),
  at: epochMs,
  vantage: vantageName,
  outcome: z.enum(["success", "failure", "slow", "stale"]),
  status: z.number().int().min(0).max(599),
  /** Null when the endpoint could not be reached. */
  latencyMs: z.number().min(0).nullable(),
  /** Null when the endpoint did not report one. */
  modelVersion: z.string().nullable(),
  reason: z.string().max(MAX_REASON_LENGTH),
});
export type ProbeEvidence = z.infer<typeof probeEvidenceSchema>;

/** An Azure Monitor alert about the breaker's scope: `Fired` or `Resolved`, keyed by the alert id. */
export const alertEvidenceSchema = z.strictObject({
  source: z.literal("alert"),
  /** When Cutover received it (the alert's own fired time is in `firedAt`). */
  at: epochMs,
  alertId: z.string().min(1),
  condition: z.enum(["Fired", "Resolved"]),
  rule: z.string(),
  severity: z.string(),
  firedAt: epochMs.nullable(),
  reason: z.string().max(MAX_REASON_LENGTH),
});
export type AlertEvidence = z.infer<typeof alertEvidenceSchema>;

/** GPU readiness of one zone's pools from Monitor metrics: ready nodes against the nodes expected there. */
export const gpuEvidenceSchema = z.strictObject({
  source: z.literal("gpu"),
  at: epochMs,
  /** Always {@link GPU_VANTAGE}: readiness comes from one place (Azure Monitor), not from probe vantage points. */
  vantage: vantageName,
  region: z.string().min(1),
  zone: zoneSchema,
  outcome: z.enum(["success", "failure"]),
  readyNodes: z.number().int().min(0),
  expectedNodes: z.number().int().min(0),
  reason: z.string().max(MAX_REASON_LENGTH),
});
export type GpuEvidence = z.infer<typeof gpuEvidenceSchema>;

/** Everything the breaker accepts. Plain JSON: it is stored in entity state and in transition records. */
export const evidenceSchema = z.discriminatedUnion("source", [
  probeEvidenceSchema,
  alertEvidenceSchema,
  gpuEvidenceSchema,
]);
export type Evidence = z.infer<typeof evidenceSchema>;

/** The vantage name GPU-readiness evidence carries. */
export const GPU_VANTAGE = "azure-monitor";

function invalid(what: string, error: z.ZodError): CutoverError {
  const problems = error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
  return new CutoverError("INVALID_INPUT", `${what}: ${problems.join("; ")}`);
}

function clip(text: string): string {
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

/**
 * Classifies one probe of an inference endpoint. Throws `CutoverError("INVALID_INPUT")` for a malformed observation
 * or expectation, naming every bad field.
 */
export function classifyProbe(observation: ProbeObservation, expectations: ProbeExpectations): ProbeEvidence {
  const o = probeObservationSchema.safeParse(observation);
  if (!o.success) throw invalid("probe observation", o.error);
  const e = probeExpectationsSchema.safeParse(expectations);
  if (!e.success) throw invalid("probe expectations", e.error);
  const obs = o.data;
  const exp = e.data;
  const base = {
    source: "probe" as const,
    at: obs.at,
    vantage: obs.vantage,
    status: obs.status,
    latencyMs: obs.status === 0 ? null : (obs.latencyMs ?? null),
    modelVersion: obs.modelVersion ?? null,
  };
  const detail = obs.detail === undefined || obs.detail === "" ? "" : `: ${obs.detail}`;

  if (obs.status === 0) return { ...base, outcome: "failure", reason: clip(`unreachable${detail}`) };
  // Front Door counts only 200 as healthy (azure-facts §1.1); Cutover's probes agree, so a 204 or a 3xx is a failure.
  if (obs.status !== 200) return { ...base, outcome: "failure", reason: clip(`HTTP ${obs.status}${detail}`) };
  if (obs.modelVersion !== undefined && obs.modelVersion !== exp.modelVersion)
    return {
      ...base,
      outcome: "stale",
      reason: clip(`serves model version ${obs.modelVersion}, expected ${exp.modelVersion}`),
    };
  if (obs.modelVersion === undefined && exp.requireModelVersion)
    return { ...base, outcome: "stale", reason: `no model version reported, expected ${exp.modelVersion}` };
  if (obs.latencyMs !== undefined && obs.latencyMs > exp.latencySloMs)
    return {
      ...base,
      outcome: "slow",
      reason: `latency ${Math.round(obs.latencyMs)} ms over the ${exp.latencySloMs} ms SLO`,
    };
  return {
    ...base,
    outcome: "success",
    reason:
      obs.latencyMs === undefined
        ? "HTTP 200 (latency not measured)"
        : `HTTP 200 in ${Math.round(obs.latencyMs)} ms${obs.modelVersion === undefined ? " (model version not reported)" : ""}`,
  };
}

export interface AlertEvidenceInput {
  readonly at: number;
  readonly alertId: string;
  readonly condition: "Fired" | "Resolved";
  readonly rule?: string;
  readonly severity?: string;
  /** The alert's own fired time, epoch ms. */
  readonly firedAt?: number;
}

/** Builds alert evidence from its parts (for alerts that did not come through the Common Alert Schema). */
export function alertEvidence(input: AlertEvidenceInput): AlertEvidence {
  const evidence = {
    source: "alert" as const,
    at: input.at,
    alertId: input.alertId,
    condition: input.condition,
    rule: input.rule ?? "",
    severity: input.severity ?? "",
    firedAt: input.firedAt ?? null,
    reason: clip(
      `alert ${input.rule === undefined || input.rule === "" ? input.alertId : input.rule} ${input.condition.toLowerCase()}`,
    ),
  };
  const parsed = alertEvidenceSchema.safeParse(evidence);
  if (!parsed.success) throw invalid("alert evidence", parsed.error);
  return parsed.data;
}

/**
 * Alert evidence from a parsed Common Alert Schema payload (see ./alerts). `receivedAt` (epoch ms) is when Cutover
 * received it: the breaker orders evidence by arrival, and the alert's `firedDateTime` is kept for the record only
 * because it can be minutes older than the probe evidence it sits next to.
 */
export function alertEvidenceFromCommonAlert(alert: CommonAlert, receivedAt: number): AlertEvidence {
  const essentials = alert.data.essentials;
  const fired = Date.parse(essentials.firedDateTime);
  return alertEvidence({
    at: receivedAt,
    alertId: essentials.alertId,
    condition: essentials.monitorCondition,
    rule: essentials.alertRule,
    severity: essentials.severity,
    ...(Number.isFinite(fired) && fired >= 0 ? { firedAt: fired } : {}),
  });
}

export const gpuReadinessInputSchema = z.strictObject({
  at: epochMs,
  region: z.string().min(1),
  zone: zoneSchema,
  readyNodes: z.number().int().min(0),
  expectedNodes: z.number().int().min(0),
  /**
   * Fraction of the expected nodes that must be Ready. Default 0.75: one node of four in repair or upgrade is routine
   * and not a zone failure; half a zone's GPUs gone is. Modelling choice (no published figure).
   */
  minReadyRatio: z.number().gt(0).max(1).default(0.75),
});
export type GpuReadinessInput = z.input<typeof gpuReadinessInputSchema>;

/**
 * Classifies GPU readiness in one zone. A zone where no nodes are expected (a pool scaled to zero) is a success:
 * there is nothing there to be unready.
 */
export function classifyGpuReadiness(input: GpuReadinessInput): GpuEvidence {
  const parsed = gpuReadinessInputSchema.safeParse(input);
  if (!parsed.success) throw invalid("GPU readiness", parsed.error);
  const g = parsed.data;
  const base = {
    source: "gpu" as const,
    at: g.at,
    vantage: GPU_VANTAGE,
    region: g.region,
    zone: g.zone,
    readyNodes: g.readyNodes,
    expectedNodes: g.expectedNodes,
  };
  if (g.expectedNodes === 0) return { ...base, outcome: "success", reason: "no GPU nodes expected in this zone" };
  const needed = Math.ceil(g.expectedNodes * g.minReadyRatio);
  const ok = g.readyNodes >= needed;
  return {
    ...base,
    outcome: ok ? "success" : "failure",
    reason: `${g.readyNodes}/${g.expectedNodes} GPU nodes ready in ${g.region} zone ${g.zone} (${ok ? "at least" : "below"} ${needed} needed)`,
  };
}

/** Parses evidence read back from storage or sent over the wire; throws `INVALID_INPUT` naming every bad field. */
export function parseEvidence(value: unknown): Evidence {
  const parsed = evidenceSchema.safeParse(value);
  if (!parsed.success) throw invalid("evidence", parsed.error);
  return parsed.data;
}
