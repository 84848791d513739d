/** The human-readable `cutover simulate` output: outcome, RTO by phase beside the lower bound, steps, timeline. */
import { PHASES } from "./measure";
import type { SimulateReport } from "./run-scenario";

function s(value: number | null): string {
  return value === null ? "—" : `${value.toFixed(value >= 100 ? 0 : 1)} s`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

export function formatReportText(report: SimulateReport, wallSeconds?: number): string {
  const lines: string[] = [];
  const scope =
    report.scope === null
      ? ""
      : ` ${report.scope.region}${report.scope.zone === undefined ? "" : ` zone ${report.scope.zone}`}`;
  lines.push(
    `Scenario ${report.scenario} (seed ${report.seed}): ${report.outcome}${report.workload === null ? "" : ` — ${report.workload}${scope}`}`,
  );
  lines.push("");
  lines.push(`  RTO (fault → verified cutover)      ${s(report.rtoSeconds)}`);
  lines.push(`  world recovered (≥ 99% inside SLO)  ${s(report.worldRecoverySeconds)}`);
  lines.push(
    `  lower bound (this run's waits)      ${s(report.lowerBoundSeconds)}${report.rtoOverLowerBound === null ? "" : `   RTO / bound ${report.rtoOverLowerBound.toFixed(3)}`}`,
  );
  lines.push(`  predicted by the plan               ${s(report.predictedRtoSeconds)}`);
  lines.push(
    `  first signal                        ${report.detection.source === null ? "—" : `${report.detection.source} after ${s(report.detection.delaySeconds)}`}   (alert ${s(report.detection.alertSeconds)}, probe ${s(report.detection.probeSeconds)})`,
  );
  lines.push(
    `  failovers started ${report.failovers}, ARM writes ${report.armWrites}, alerts fired ${report.alerts.fired} / delivered ${report.alerts.delivered}`,
  );
  if (report.checkpointStep !== undefined)
    lines.push(
      `  training resumed from step ${report.checkpointStep ?? "—"}, work lost ${s(report.workLostSeconds ?? null)}`,
    );
  lines.push("");
  lines.push("  Phases along the critical path:");
  for (const p of PHASES) if (report.phases[p] > 0) lines.push(`    ${pad(p, 10)} ${s(report.phases[p])}`);
  lines.push("");
  lines.push("  Steps (seconds from the fault):");
  for (const step of report.steps)
    lines.push(
      `    ${pad(step.id, 26)} ${pad(`${step.start ?? "?"} → ${step.end ?? "…"}`, 18)} ${pad(step.outcome, 8)} ${step.detail ?? ""}`,
    );
  if (report.failoverList.length > 1) {
    lines.push("");
    lines.push("  Failovers:");
    for (const f of report.failoverList)
      lines.push(
        `    ${f.instanceId}: ${f.outcome}${f.rtoSeconds === null ? "" : `, RTO ${s(f.rtoSeconds)}`}${f.reasons.length > 0 ? ` (${f.reasons.join("; ")})` : ""}`,
      );
  }
  if (report.failbacks.length > 0) {
    lines.push("");
    lines.push("  Failbacks:");
    for (const f of report.failbacks)
      lines.push(
        `    ${f.instanceId}: ${f.outcome}, ${f.startedAt} → ${f.endedAt ?? "…"} s, steps ${f.steps.map((x) => `${Math.round(x.share * 1000) / 10}%${x.passedAt === undefined ? "" : " ✓"}`).join(" → ")}${f.reasons.length > 0 ? ` (${f.reasons.join("; ")})` : ""}`,
        ...f.earlierAttempts.map((a, i) => `      attempt ${i + 1} ${a.outcome}: ${a.reasons.join("; ")}`),
      );
  }
  const openings = report.breakerTransitions.filter((t) => t.from === "closed" && t.to === "open").length;
  lines.push("");
  lines.push(`  Breakers: ${report.breakerTransitions.length} transition(s), ${openings} opening(s) (on the timeline)`);
  lines.push("");
  lines.push("  Timeline:");
  for (const e of report.timeline) lines.push(`    ${pad(e.t.toFixed(1), 7)} ${pad(e.source, 5)} ${e.event}`);
  if (wallSeconds !== undefined) lines.push("", `  (simulated in ${wallSeconds.toFixed(1)} s of wall time)`);
  return `${lines.join("\n")}\n`;
}
