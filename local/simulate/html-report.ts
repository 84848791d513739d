/**
 * `simulate --report <file.html>`: one self-contained page (inline SVG and CSS, no scripts, no network) with the
 * run's outcome, the RTO beside its lower bound, a Gantt-style timeline of the failover's steps, the share of traffic
 * served inside the SLO over time, and the merged world/app timeline.
 */
import type { SimulateReport } from "./run-scenario";
import { PHASES } from "./measure";

function esc(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

const COLORS: Record<string, string> = {
  detect: "#8d99ae",
  decide: "#6c757d",
  approve: "#adb5bd",
  scale: "#e76f51",
  warm: "#f4a261",
  "drain-gate": "#2a9d8f",
  "probe-window": "#52b69a",
  release: "#ced4da",
  frontdoor: "#76c893",
  propagate: "#b5e48c",
  verify: "#264653",
  "resume-training": "#9b5de5",
};

function fmt(seconds: number | null): string {
  if (seconds === null) return "—";
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return m > 0 ? `${seconds.toFixed(0)} s (${m}m ${s}s)` : `${seconds.toFixed(1)} s`;
}

export function renderHtmlReport(report: SimulateReport): string {
  const steps = report.steps.filter((s) => s.start !== null);
  const end =
    Math.max(
      60,
      report.rtoSeconds ?? 0,
      ...steps.map((s) => s.end ?? s.start ?? 0),
      ...report.groundTruth.map((g) => g.t),
    ) * 1.05;
  const width = 900;
  const left = 190;
  const row = 22;
  const x = (t: number): number => left + (Math.max(0, t) / end) * (width - left - 10);
  const ticks = Array.from({ length: 11 }, (_, i) => (end / 10) * i);
  const gantt = [
    `<svg viewBox="0 0 ${width} ${steps.length * row + 40}" width="100%" role="img" aria-label="failover steps over time">`,
    ...ticks.map(
      (t) =>
        `<line x1="${x(t)}" y1="0" x2="${x(t)}" y2="${steps.length * row + 8}" stroke="#eee"/><text x="${x(t)}" y="${steps.length * row + 24}" font-size="10" text-anchor="middle">${Math.round(t)}s</text>`,
    ),
    ...(report.rtoSeconds === null
      ? []
      : [
          `<line x1="${x(report.rtoSeconds)}" y1="0" x2="${x(report.rtoSeconds)}" y2="${steps.length * row + 8}" stroke="#d62828" stroke-dasharray="4 3"/>`,
        ]),
    ...(report.lowerBoundSeconds === null
      ? []
      : [
          `<line x1="${x(report.lowerBoundSeconds)}" y1="0" x2="${x(report.lowerBoundSeconds)}" y2="${steps.length * row + 8}" stroke="#457b9d" stroke-dasharray="2 3"/>`,
        ]),
    ...steps.map((s, i) => {
      const x0 = x(s.start ?? 0);
      const x1 = Math.max(x0 + 2, x(s.end ?? end));
      const color = s.outcome === "failed" ? "#d62828" : (COLORS[s.kind] ?? "#999");
      return `<text x="${left - 6}" y="${i * row + 15}" font-size="11" text-anchor="end">${esc(s.id)}</text><rect x="${x0}" y="${i * row + 4}" width="${x1 - x0}" height="${row - 8}" fill="${color}" opacity="${s.outcome === "skipped" ? 0.3 : 0.9}"><title>${esc(`${s.id}: ${s.start ?? "?"}s → ${s.end ?? "…"}s ${s.outcome}${s.detail === undefined ? "" : ` — ${s.detail}`}`)}</title></rect>`;
    }),
    "</svg>",
  ].join("\n");

  const workload = report.workload;
  const points = workload === null ? [] : report.groundTruth.filter((g) => g.served[workload] !== undefined);
  const chartH = 120;
  const served = [
    `<svg viewBox="0 0 ${width} ${chartH + 30}" width="100%" role="img" aria-label="traffic served inside the SLO">`,
    `<text x="${left - 6}" y="14" font-size="11" text-anchor="end">100%</text><text x="${left - 6}" y="${chartH}" font-size="11" text-anchor="end">0%</text>`,
    `<line x1="${left}" y1="${chartH}" x2="${width - 10}" y2="${chartH}" stroke="#ccc"/>`,
    `<polyline fill="none" stroke="#2a9d8f" stroke-width="2" points="${points
      .map(
        (p) =>
          `${x(p.t).toFixed(1)},${(10 + (1 - (workload === null ? 0 : (p.served[workload] ?? 0))) * (chartH - 10)).toFixed(1)}`,
      )
      .join(" ")}"/>`,
    "</svg>",
  ].join("\n");

  const phaseRows = PHASES.filter((p) => report.phases[p] > 0)
    .map((p) => `<tr><td>${p}</td><td>${fmt(report.phases[p])}</td></tr>`)
    .join("");
  const timeline = report.timeline
    .map((e) => `<tr><td>${e.t.toFixed(1)}</td><td>${e.source}</td><td>${esc(e.event)}</td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cutover simulation: ${esc(report.scenario)} (seed ${report.seed})</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}.big{font-size:20px}.ok{color:#2a9d8f}.bad{color:#d62828}code{background:#f4f4f4;padding:0 3px}</style>
</head><body>
<h1>${esc(report.scenario)} <small>seed ${report.seed}</small></h1>
<p class="big ${report.outcome === "succeeded" ? "ok" : "bad"}">${esc(report.outcome)}${report.workload === null ? "" : ` — ${esc(report.workload)} ${esc(report.scope === null ? "" : `${report.scope.region}${report.scope.zone === undefined ? "" : ` zone ${report.scope.zone}`}`)}`}</p>
<table>
<tr><th>RTO (fault → verified cutover)</th><td>${fmt(report.rtoSeconds)}</td></tr>
<tr><th>World recovered (≥ 99% served inside the SLO)</th><td>${fmt(report.worldRecoverySeconds)}</td></tr>
<tr><th>Lower bound (perfect controller, this run's waits)</th><td>${fmt(report.lowerBoundSeconds)}${report.rtoOverLowerBound === null ? "" : ` — RTO / bound ${report.rtoOverLowerBound}`}</td></tr>
<tr><th>Predicted by the plan</th><td>${fmt(report.predictedRtoSeconds)}</td></tr>
<tr><th>Failovers started</th><td>${report.failovers}</td></tr>
<tr><th>ARM writes</th><td>${report.armWrites}</td></tr>
<tr><th>Alerts fired / resolved / delivered</th><td>${report.alerts.fired} / ${report.alerts.resolved} / ${report.alerts.delivered}</td></tr>
${report.checkpointStep === undefined ? "" : `<tr><th>Training resumed from step</th><td>${report.checkpointStep ?? "—"} (work lost ${fmt(report.workLostSeconds ?? null)})</td></tr>`}
</table>
<h2>Phases (along the critical path)</h2><table>${phaseRows}</table>
<h2>Steps</h2><p>Seconds from the fault. Red dashes: RTO; blue dots: lower bound.</p>
${gantt}
<h2>Traffic served by healthy, warm capacity inside the SLO</h2>
${served}
<h2>Timeline</h2><table><tr><th>t (s)</th><th>source</th><th>event</th></tr>${timeline}</table>
</body></html>
`;
}
