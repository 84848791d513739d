/**
 * How long each step of a failover takes: one set of distributions used two ways. The planner uses their means to
 * predict a plan's RTO; the Azure simulator samples them (seeded) to decide when things happen in its world.
 *
 * Every default cites the published figure it comes from (../shared/reference/azure-facts.md, with its sources).
 * Where the docs give no number the value is a labelled modelling choice. All values are seconds.
 */

/** A triangular distribution: never below `min`, never above `max`, most likely `mode`. */
export interface Triangular {
  readonly min: number;
  readonly mode: number;
  readonly max: number;
}

export function mean(d: Triangular): number {
  return (d.min + d.mode + d.max) / 3;
}

/** Samples a triangular distribution from a uniform `u` in [0, 1). */
export function sampleTriangular(d: Triangular, u: number): number {
  const { min, mode, max } = d;
  if (max <= min) return min;
  const c = (mode - min) / (max - min);
  return u < c
    ? min + Math.sqrt(u * (max - min) * (mode - min))
    : max - Math.sqrt((1 - u) * (max - min) * (max - mode));
}

export interface LatencyModel {
  /**
   * GPU node provisioning to node Ready, per VM size family prefix (longest matching prefix wins, `default` last).
   * azure-facts §2.1: A100 NC96ads 5–11 min to node Ready (Microsoft Q&A 2026-05); KAITO "machine readiness can
   * take up to 10 minutes"; cluster autoscaler max-node-provision-time 15 min.
   */
  readonly nodeProvisioning: Readonly<Record<string, Triangular>>;
  /** ARM accepts an agent-pool PUT (LRO start). Modelling choice: seconds. */
  readonly armAccept: Triangular;
  /**
   * Model load into GPU memory, seconds per GB of weights, plus engine start-up. azure-facts §7.1: ServerlessLLM
   * LLaMA-2-70B (~130 GB) ≈ 84 s with standard loaders (≈0.65 s/GB); Run:ai streamer 15 GB in 7.5–48 s
   * (0.5–3.2 s/GB); vLLM CUDA-graph capture / KV-cache allocation adds tens of seconds to minutes.
   */
  readonly modelLoadSecondsPerGb: Triangular;
  readonly engineStartup: Triangular;
  /**
   * Copying model weights between regions when the target store lacks the version, seconds per GB. Modelling
   * choice: 0.2–1 GB/s server-side blob copy (azure-facts §8 gives no copy throughput).
   */
  readonly modelCopySecondsPerGb: Triangular;
  /** Writing a health-gate flag (one blob write). Modelling choice. */
  readonly gateWrite: Triangular;
  /**
   * Front Door configuration change: ARM update accepted, then global propagation. azure-facts §1.3: "typically
   * between 3 and 20 minutes" (front-door-faq).
   */
  readonly frontDoorArmUpdate: Triangular;
  readonly frontDoorPropagation: Triangular;
  /**
   * Metric alert detection: metric availability (<1 min) + wait for next evaluation + window effect + dispatch.
   * azure-facts §3.1 (derived): typically 1–5+ min at PT1M/PT5M.
   */
  readonly alertDetection: Triangular;
  /** Action-group webhook dispatch after the alert fires (seconds; azure-facts §3.3 gives no SLA). */
  readonly alertDispatch: Triangular;
  /** Snapshot + plan + start of the runbook inside Cutover. Modelling choice. */
  readonly decide: Triangular;
  /** Verification after traffic moved: one probe round plus a metrics read. Modelling choice. */
  readonly verify: Triangular;
  /** Azure ML job from submission to Running (queue + image pull). Modelling choice: 2–10 min. */
  readonly trainingJobStart: Triangular;
  /** Validating a checkpoint: seconds per GB hashed (streamed sha256 at 0.2–1 GB/s). Modelling choice. */
  readonly checkpointHashSecondsPerGb: Triangular;
}

const t = (min: number, mode: number, max: number): Triangular => ({ min, mode, max });

export const DEFAULT_LATENCY_MODEL: LatencyModel = {
  nodeProvisioning: {
    // A100 (NCads_A100_v4, NDasr_A100_v4): 5–11 min to Ready (azure-facts §2.1).
    Standard_NC: t(300, 420, 660),
    Standard_ND: t(360, 480, 720),
    // H100 NCads_H100_v5: same family of driver + device-plugin steps; no separate published figure.
    Standard_NC40ads_H100: t(300, 450, 660),
    // A10 / T4 visualisation and inference sizes: smaller images, same driver path (aks-engine issue: 8 min+ NV6).
    Standard_NV: t(240, 360, 540),
    Standard_NC4as_T4: t(180, 300, 480),
    default: t(300, 420, 660),
  },
  armAccept: t(2, 5, 15),
  modelLoadSecondsPerGb: t(0.3, 0.6, 1.2),
  engineStartup: t(20, 45, 120),
  modelCopySecondsPerGb: t(1, 2, 5),
  gateWrite: t(0.2, 0.5, 2),
  frontDoorArmUpdate: t(10, 30, 90),
  frontDoorPropagation: t(180, 420, 1200),
  alertDetection: t(60, 150, 330),
  alertDispatch: t(2, 10, 30),
  decide: t(2, 5, 15),
  verify: t(10, 30, 60),
  trainingJobStart: t(120, 240, 600),
  checkpointHashSecondsPerGb: t(1, 2, 5),
};

/** Named profiles for the simulator; the planner always uses `typical` unless told otherwise. */
export type LatencyProfile = "typical" | "fast" | "slow";

function scale(d: Triangular, factor: number): Triangular {
  return t(d.min * factor, d.mode * factor, d.max * factor);
}

function scaleModel(model: LatencyModel, factor: number): LatencyModel {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(model)) {
    if (key === "nodeProvisioning") {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Triangular>).map(([k, d]) => [k, scale(d, factor)]),
      );
    } else out[key] = scale(value as Triangular, factor);
  }
  return out as unknown as LatencyModel;
}

export function latencyModelFor(profile: LatencyProfile, overrides: Partial<LatencyModel> = {}): LatencyModel {
  const base =
    profile === "typical" ? DEFAULT_LATENCY_MODEL : scaleModel(DEFAULT_LATENCY_MODEL, profile === "fast" ? 0.5 : 1.6);
  return { ...base, ...overrides };
}

/** The provisioning distribution for a VM size: the longest matching prefix in `nodeProvisioning`. */
export function nodeProvisioningFor(model: LatencyModel, vmSize: string): Triangular {
  let best: { key: string; d: Triangular } | undefined;
  for (const [key, d] of Object.entries(model.nodeProvisioning)) {
    if (key !== "default" && vmSize.startsWith(key) && (best === undefined || key.length > best.key.length))
      best = { key, d };
  }
  const fallback = model.nodeProvisioning["default"];
  if (best === undefined && fallback === undefined)
    throw new Error(`[INVALID_CONFIG] no provisioning latency for ${vmSize}`);
  return best?.d ?? (fallback as Triangular);
}

/**
 * Front Door marks an origin unhealthy after `sampleSize - successfulSamplesRequired + 1` consecutive failed
 * probes (azure-facts §1.1, derived from the health-probes doc's three-step process).
 */
export function failuresToUnhealthy(probe: { sampleSize: number; successfulSamplesRequired: number }): number {
  return Math.max(1, probe.sampleSize - probe.successfulSamplesRequired + 1);
}

/** Expected seconds for Front Door to stop sending traffic to an origin once its probes start failing. */
export function probeWindowSeconds(probe: {
  intervalSeconds: number;
  sampleSize: number;
  successfulSamplesRequired: number;
}): Triangular {
  const n = failuresToUnhealthy(probe);
  // The first failed probe lands 0..interval after the fault; then n-1 more intervals.
  return t((n - 1) * probe.intervalSeconds, (n - 0.5) * probe.intervalSeconds, n * probe.intervalSeconds);
}
