/**
 * The `bench/alerts` load generator, a child process of ./run.ts (so that its own work does not run on the event loop
 * that serves the webhook). Two plans:
 * - `open-loop`: posts at a fixed rate whatever the answers do, and measures each request from the moment it was due
 *   (so queueing inside the app shows up: no coordinated omission) as well as from the moment it was sent;
 * - `storm`: posts `count` alerts with at most `concurrency` in flight.
 */
import { performance } from "node:perf_hooks";
import { scopedAlert, unmappedAlert, type AlertScope } from "./payloads";

export type LoadPlan =
  | {
      readonly kind: "open-loop";
      readonly url: string;
      readonly ratePerSecond: number;
      readonly seconds: number;
      /** Scopes the mapped alerts spread over. */
      readonly scopes: ReadonlyArray<AlertScope>;
      readonly firedAt: string;
    }
  | {
      readonly kind: "storm";
      readonly url: string;
      readonly count: number;
      readonly concurrency: number;
      readonly scope: AlertScope;
      /** Alert rules that fire for the incident (alerts cycle through them, each with its own alert id). */
      readonly rules: ReadonlyArray<string>;
      readonly firedAt: string;
    };

export type AlertKind = "fired" | "resolved" | "unmapped";

export interface Sample {
  readonly kind: AlertKind;
  /** ms from the start of the plan when the request was due (open loop) or sent (storm). */
  readonly dueAt: number;
  /** ms the request left after it was due. */
  readonly lateMs: number;
  /** ms from sending to the whole answer. */
  readonly serviceMs: number;
  readonly status: number;
  /** `outcome` of the 202 answer (`started`, `joined`, `ignored`, `resolved`, `rejected`), or an error text. */
  readonly outcome: string;
}

export interface LoadResult {
  readonly samples: ReadonlyArray<Sample>;
  readonly wallMs: number;
  readonly cpuMs: number;
}

async function post(url: string, body: string): Promise<{ status: number; outcome: string }> {
  try {
    const response = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    let outcome = `http ${response.status}`;
    try {
      const value = JSON.parse(text) as { outcome?: unknown; error?: unknown };
      if (typeof value.outcome === "string") outcome = value.outcome;
      else if (typeof value.error === "string") outcome = `http ${response.status}: ${value.error}`;
    } catch {
      // not JSON: keep the status
    }
    return { status: response.status, outcome };
  } catch (error) {
    const cause =
      error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
    const code = cause?.code ?? cause?.message;
    const why = typeof code === "string" ? ` (${code})` : "";
    return { status: 0, outcome: error instanceof Error ? `${error.name}: ${error.message}${why}` : String(error) };
  }
}

/** The i-th alert of the open-loop mix: 50% Fired and 15% Resolved over the scopes, 35% about unknown resources. */
function openLoopAlert(plan: Extract<LoadPlan, { kind: "open-loop" }>, i: number): { kind: AlertKind; body: string } {
  const slot = i % 20;
  const scope = plan.scopes[Math.floor(i / 20) % plan.scopes.length]!;
  const rule = `load-${scope.workload}-${scope.region}${scope.zone === undefined ? "" : `-z${scope.zone}`}`;
  if (slot < 10)
    return { kind: "fired", body: scopedAlert(scope, { rule, condition: "Fired", firedAt: plan.firedAt }) };
  if (slot < 13)
    return { kind: "resolved", body: scopedAlert(scope, { rule, condition: "Resolved", firedAt: plan.firedAt }) };
  return {
    kind: "unmapped",
    body: unmappedAlert({ rule: `load-unmapped-${i % 7}`, condition: "Fired", firedAt: plan.firedAt }, i),
  };
}

async function openLoop(plan: Extract<LoadPlan, { kind: "open-loop" }>): Promise<Sample[]> {
  const total = Math.round(plan.ratePerSecond * plan.seconds);
  const interval = 1000 / plan.ratePerSecond;
  const alerts = Array.from({ length: total }, (_, i) => openLoopAlert(plan, i));
  const samples: Sample[] = [];
  const inFlight: Array<Promise<void>> = [];
  const t0 = performance.now() + 20;
  await new Promise<void>((resolve) => {
    let i = 0;
    const tick = (): void => {
      const now = performance.now();
      while (i < total && t0 + i * interval <= now) {
        const due = t0 + i * interval;
        const alert = alerts[i]!;
        const sentAt = performance.now();
        inFlight.push(
          post(plan.url, alert.body).then((r) => {
            samples.push({
              kind: alert.kind,
              dueAt: due - t0,
              lateMs: sentAt - due,
              serviceMs: performance.now() - sentAt,
              ...r,
            });
          }),
        );
        i++;
      }
      if (i < total) setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()));
      else resolve();
    };
    setTimeout(tick, 20);
  });
  await Promise.all(inFlight);
  return samples;
}

async function storm(plan: Extract<LoadPlan, { kind: "storm" }>): Promise<Sample[]> {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= plan.count) return;
      const rule = plan.rules[i % plan.rules.length]!;
      const body = scopedAlert(plan.scope, { rule, condition: "Fired", firedAt: plan.firedAt, severity: "Sev0" });
      const sentAt = performance.now();
      const r = await post(plan.url, body);
      samples.push({ kind: "fired", dueAt: sentAt - t0, lateMs: 0, serviceMs: performance.now() - sentAt, ...r });
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, () => worker()));
  return samples;
}

async function run(plan: LoadPlan): Promise<LoadResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const samples = plan.kind === "open-loop" ? await openLoop(plan) : await storm(plan);
  const used = process.cpuUsage(cpu);
  return { samples, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

if (require.main === module) {
  process.once("message", (plan: LoadPlan) => {
    void run(plan).then(
      (result) => process.send?.(result, () => process.exit(0)),
      (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exit(1);
      },
    );
  });
}
