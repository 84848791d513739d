/**
 * Two views of a {@link PlanResult}: a stable JSON object (what `cutover plan --json` prints and what an HTTP
 * readiness endpoint can return) and a readable text report with tables.
 *
 * The JSON view is a contract: every workload entry has `workload`, `status`, `target` (null when refused), `pools`,
 * `steps` and `predictedRtoSeconds` (null when refused), so a consumer never has to branch on missing keys. Absent
 * optional values are `null`, never dropped. Pure: no I/O.
 */
import { describeScope } from "./planner";
import type { PlanResult, PlanStep, PoolChange, WorkloadPlan, WorkloadRefusal } from "./plan";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function stepJson(s: PlanStep): Json {
  return {
    id: s.id,
    kind: s.kind,
    after: [...s.after],
    expectedSeconds: s.expectedSeconds,
    countsForRto: s.countsForRto,
    region: s.region ?? null,
    zone: s.zone ?? null,
    pool: s.pool ?? null,
    detail: s.detail ?? null,
  };
}

function poolJson(p: PoolChange): Json {
  return {
    region: p.region,
    pool: p.pool,
    zone: p.zone,
    vmSize: p.vmSize,
    from: p.from,
    to: p.to,
    ...(p.spare === undefined ? {} : { spare: p.spare }),
    cluster: { ...p.cluster },
    fallbacks: p.fallbacks.map((c) => ({
      region: c.region,
      pool: c.pool,
      zone: c.zone,
      vmSize: c.vmSize,
      from: c.from,
      to: c.to,
      hedgeable: c.hedgeable,
      why: c.why,
      cluster: { ...c.cluster },
    })),
  };
}

function workloadJson(w: WorkloadPlan | WorkloadRefusal): Json {
  if (w.status === "refused")
    return {
      workload: w.workload,
      status: "refused",
      kind: w.kind,
      reasons: [...w.reasons],
      target: null,
      targets: [],
      pools: [],
      traffic: null,
      warmups: [],
      training: null,
      steps: [],
      criticalPath: [],
      predictedRtoSeconds: null,
      notes: [],
      loads: [],
    };
  return {
    workload: w.workload,
    status: "ok",
    kind: w.kind,
    reasons: [],
    target: { region: w.target.region, zones: [...w.target.zones] },
    targets: w.targets.map((t) => ({ region: t.region, zones: [...t.zones] })),
    pools: w.pools.map(poolJson),
    traffic:
      w.traffic === undefined
        ? null
        : {
            frontDoor: w.traffic.frontDoor,
            kind: w.traffic.kind,
            drain: w.traffic.drain.map((d) => ({ region: d.region, origin: d.origin })),
            take: w.traffic.take.map((t) => ({
              region: t.region,
              origin: t.origin,
              weight: t.weight,
              priority: t.priority,
            })),
          },
    warmups: w.warmups.map((x) => ({
      region: x.region,
      model: x.model,
      version: x.version,
      copyFrom: x.copyFrom ?? null,
    })),
    training:
      w.training === undefined
        ? null
        : { hub: w.training.hub, secondary: w.training.secondary, runId: w.training.runId },
    steps: w.steps.map(stepJson),
    criticalPath: [...w.criticalPath],
    predictedRtoSeconds: w.predictedRtoSeconds,
    notes: [...w.notes],
    loads: (w.loads ?? []).map((l) => ({
      region: l.region,
      beforeGpus: l.beforeGpus,
      loadGpus: l.loadGpus,
      gpus: l.gpus,
    })),
  };
}

/** The JSON view of a plan result (see the module comment for its guarantees). */
export function planToJson(result: PlanResult): { [key: string]: Json } {
  return {
    status: result.status,
    scope: { region: result.scope.region, zone: result.scope.zone ?? null },
    reasons: [...result.reasons],
    notes: [...(result.notes ?? [])],
    predictedRtoSeconds: result.predictedRtoSeconds,
    workloads: result.workloads.map(workloadJson),
  };
}

/** `871 s (14m 31s)`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return `${seconds} s (${m}m ${String(s).padStart(2, "0")}s)`;
}

/** Left-aligned columns separated by two spaces; the header row first. */
export function table(rows: ReadonlyArray<ReadonlyArray<string>>, indent = "    "): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
  );
}

function workloadText(w: WorkloadPlan): string[] {
  const lines: string[] = [];
  const zones = w.target.zones.length === 0 ? "" : ` zones ${w.target.zones.join(", ")}`;
  lines.push(
    `${w.workload} (${w.kind}) → ${w.target.region}${zones}: predicted RTO ${formatSeconds(w.predictedRtoSeconds)}`,
  );
  if (w.pools.length > 0) {
    lines.push("  GPU pools (set-to counts)");
    lines.push(
      ...table([
        ["REGION", "POOL", "ZONE", "VM SIZE", "FROM", "TO", "FALLBACKS (set-to)"],
        ...w.pools.map((p) => [
          p.region,
          p.pool,
          p.zone,
          p.vmSize,
          String(p.from),
          p.spare === undefined ? String(p.to) : `${p.to} (${p.spare} spare)`,
          p.fallbacks.map((f) => `${f.region}/${f.pool}→${f.to}`).join(", ") || "none",
        ]),
      ]),
    );
  } else if (w.kind === "inference") lines.push("  GPU pools: no change");
  const loads = new Map((w.loads ?? []).map((l) => [l.region, l]));
  if (w.traffic !== undefined) {
    lines.push(`  Traffic (${w.traffic.frontDoor}, ${w.traffic.kind} Front Door)`);
    lines.push(
      ...table([
        ["ACTION", "ORIGIN", "REGION", "WEIGHT", "PRIORITY", "LOAD (GPUs)"],
        ...w.traffic.drain.map((d) => ["drain", d.origin, d.region, "-", "-", "0"]),
        ...w.traffic.take.map((t) => {
          const l = loads.get(t.region);
          return [
            "take",
            t.origin,
            t.region,
            String(t.weight),
            String(t.priority),
            l === undefined ? "?" : `${l.loadGpus} of ${l.gpus} held`,
          ];
        }),
      ]),
    );
  } else if (w.kind === "inference") lines.push("  Traffic: no change");
  if (w.training !== undefined)
    lines.push(`  Training: resume ${w.training.runId} in ${w.training.secondary} (hub ${w.training.hub})`);
  const critical = new Set(w.criticalPath);
  lines.push("  Steps (* on the critical path; ~ does not count for RTO)");
  lines.push(
    ...table(
      [
        ["", "STEP", "AFTER", "EXPECTED", "DETAIL"],
        ...w.steps.map((s) => [
          critical.has(s.id) ? "*" : s.countsForRto ? "" : "~",
          s.id,
          s.after.join(", ") || "-",
          `${s.expectedSeconds} s`,
          s.detail ?? "",
        ]),
      ],
      "  ",
    ),
  );
  lines.push(`  Critical path: ${w.criticalPath.join(" → ")}`);
  for (const note of w.notes) lines.push(`  note: ${note}`);
  return lines;
}

/** The readable report `cutover plan` prints by default. */
export function formatPlanText(result: PlanResult): string {
  const lines: string[] = [];
  const scope = describeScope(result.scope);
  const planned = result.workloads.filter((w): w is WorkloadPlan => w.status === "ok");
  lines.push(
    result.status === "ok"
      ? `Failover plan for a failure of ${scope}: OK, predicted RTO ${formatSeconds(result.predictedRtoSeconds)}`
      : `Failover plan for a failure of ${scope}: REFUSED`,
  );
  if (result.reasons.length > 0) {
    lines.push("Refused:");
    for (const reason of result.reasons) lines.push(`  - ${reason}`);
  }
  for (const w of planned) lines.push("", ...workloadText(w));
  if ((result.notes ?? []).length > 0) {
    lines.push("", "Notes:");
    for (const note of result.notes ?? []) lines.push(`  - ${note}`);
  }
  return lines.join("\n") + "\n";
}
