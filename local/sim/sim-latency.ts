/**
 * Distributions only the simulator needs (the shared ones live in src/domain/latency-model.ts and are used as they
 * are). Seconds unless the name says otherwise. Every value cites azure-facts.md (../shared/reference) or is
 * labelled as a modelling choice.
 */
import type { LatencyProfile, Triangular } from "../../src/domain/latency-model";

export interface SimLatency {
  /**
   * VMSS allocation attempt before an allocation error is reported. azure-facts §2.1 decomposition: "VMSS
   * allocation (1–3 min, or failure)".
   */
  readonly allocationAttempt: Triangular;
  /** Scale-down of an agent pool (cordon, drain, delete VMs). Modelling choice: 30–120 s. */
  readonly scaleDown: Triangular;
  /** Abort of a running agent-pool operation: Canceling → Canceled. Modelling choice: 5–30 s. */
  readonly abortCancel: Triangular;
  /** Platform metrics "available in under a minute in the metrics database" (azure-facts §3.1). */
  readonly metricAvailability: Triangular;
  /** Resource logs end-to-end ingestion "3–10 min" (azure-facts §3.2, data-ingestion-time). */
  readonly logIngestion: Triangular;
  /**
   * Round trip from a Front Door POP to an origin in the same geography, ms. azure-facts §9.1 gives < 2 ms between
   * zones of a region; POP-to-region distances inside a geography are a modelling choice: 8–40 ms.
   */
  readonly popRttSameGeoMs: Triangular;
  /** POP to an origin in another geography (transatlantic), ms. Modelling choice: 70–140 ms. */
  readonly popRttCrossGeoMs: Triangular;
  /**
   * Inference latency of a healthy endpoint as a fraction of the workload's latency SLO. Modelling choice: a
   * healthy deployment is sized to run at 35–60 % of its SLO.
   */
  readonly endpointLatencyFractionOfSlo: Triangular;
  /** Health-probe response time of a healthy origin, ms (Front Door measures it per POP). Modelling choice. */
  readonly probeLatencyMs: Triangular;
}

const t = (min: number, mode: number, max: number): Triangular => ({ min, mode, max });

export const DEFAULT_SIM_LATENCY: SimLatency = {
  allocationAttempt: t(60, 90, 180),
  scaleDown: t(30, 60, 120),
  abortCancel: t(5, 10, 30),
  metricAvailability: t(20, 40, 60),
  logIngestion: t(180, 300, 600),
  popRttSameGeoMs: t(8, 20, 40),
  popRttCrossGeoMs: t(70, 95, 140),
  endpointLatencyFractionOfSlo: t(0.35, 0.45, 0.6),
  probeLatencyMs: t(5, 15, 40),
};

/** The waits (not the network or ratio figures) scale with the profile, like the shared model's (0.5 / 1.6). */
export function simLatencyFor(profile: LatencyProfile): SimLatency {
  if (profile === "typical") return DEFAULT_SIM_LATENCY;
  const f = profile === "fast" ? 0.5 : 1.6;
  const s = (d: Triangular): Triangular => t(d.min * f, d.mode * f, d.max * f);
  return {
    ...DEFAULT_SIM_LATENCY,
    allocationAttempt: s(DEFAULT_SIM_LATENCY.allocationAttempt),
    scaleDown: s(DEFAULT_SIM_LATENCY.scaleDown),
    abortCancel: s(DEFAULT_SIM_LATENCY.abortCancel),
    metricAvailability: s(DEFAULT_SIM_LATENCY.metricAvailability),
    logIngestion: s(DEFAULT_SIM_LATENCY.logIngestion),
  };
}
