/**
 * Single active shift per workload, with precedence: at any moment at most one run may move a workload's traffic and
 * capacity, and who wins is decided by kind — `manual` (an operator) > `automatic` (an alert or a breaker) >
 * `practice` (a scheduled drill).
 *
 * Why: two runbooks moving the same workload at once undo each other (one drains the origin the other restores), and a
 * drill must never get in the way of a real incident nor an incident in the way of an operator who took control.
 *
 * Decisions (see docs/breaker.md, "Shifts"):
 * - A higher precedence request **preempts** a lower active shift: the caller must cancel the preempted run.
 * - A lower precedence request is **refused** (`held-by-higher`) and never changes the active shift.
 * - At equal precedence, a request for the same scope (or with the active shift's id) **joins** it: duplicate alerts
 *   and a breaker opening for the same failure land on one run (the exactly-once rule). A request for a scope that
 *   strictly contains the active one (the whole region while one of its zones is shifted) **escalates**: the zone run
 *   is replaced by the region run, because a zone outage that spread to the region must not wait for the zone run to
 *   expire. Any other equal-precedence request is **refused** (`held-by-equal`).
 * - Every shift has an expiry (a time to live capped per kind); an expired shift is no longer active at any call made
 *   at or after its expiry. The probe timer ends the shift of a finished run; runs do not renew theirs yet
 *   ({@link renewShift} is not called by any runbook; docs/breaker.md, "Shifts").
 *
 * Invariants (property-tested): at most one active shift; the active shift is never replaced by one of lower
 * precedence; recorded shifts never overlap in time and never outlive their expiry. Functions are pure (`now` is
 * epoch ms, the state's clock never goes backwards) and the state is small plain JSON (history is bounded), so it can be
 * a Durable Entity's state.
 */
import { z } from "zod";
import { CutoverError } from "./errors";
import { formatPath, zoneSchema } from "./topology";

export type ShiftKind = "manual" | "automatic" | "practice";
export const SHIFT_KINDS: ReadonlyArray<ShiftKind> = ["manual", "automatic", "practice"];

/** Higher wins. */
export const PRECEDENCE: Readonly<Record<ShiftKind, number>> = { manual: 3, automatic: 2, practice: 1 };

const ms = z.number().int().min(0);
const kindSchema = z.enum(["manual", "automatic", "practice"]);
export const shiftScopeSchema = z.strictObject({ region: z.string().min(1), zone: zoneSchema.optional() });
export type ShiftScope = z.infer<typeof shiftScopeSchema>;

export const shiftSchema = z.strictObject({
  /** The run's id (e.g. the failover instance id or the drill id). */
  id: z.string().min(1).max(200),
  kind: kindSchema,
  precedence: z.number().int().min(1).max(3),
  scope: shiftScopeSchema,
  startedAt: ms,
  expiresAt: ms,
  by: z.string().max(200).optional(),
  reason: z.string().max(500).optional(),
});
export type Shift = z.infer<typeof shiftSchema>;

export const shiftRecordSchema = z.strictObject({
  shift: shiftSchema,
  endedAt: ms,
  end: z.enum(["ended", "expired", "preempted", "escalated"]),
  /** The preempting/escalating shift's id, or the outcome given to `endShift`. */
  detail: z.string().max(500).optional(),
});
export type ShiftRecord = z.infer<typeof shiftRecordSchema>;

export const shiftStateSchema = z.strictObject({
  version: z.literal(1),
  workload: z.string().min(1),
  /** Latest time seen; never goes backwards. */
  clock: ms,
  active: shiftSchema.optional(),
  /** Finished shifts, oldest first, bounded by `historyLimit`. */
  history: z.array(shiftRecordSchema),
});
export type ShiftState = z.infer<typeof shiftStateSchema>;

export const shiftOptionsSchema = z
  .strictObject({
    /**
     * Longest time to live per kind. An automatic failover's objective is minutes (RTO ≤ 15 min) but Front Door
     * propagation can take 20 min (azure-facts §1.3) and the runbook waits on approvals: 4 h.
     * A drill is bounded by its window: 2 h. An operator's shift: 24 h.
     */
    maxTtlMs: z
      .strictObject({ manual: ms.min(1), automatic: ms.min(1), practice: ms.min(1) })
      .default({ manual: 86_400_000, automatic: 14_400_000, practice: 7_200_000 }),
    historyLimit: z.number().int().min(1).max(1000).default(50),
  })
  .prefault({});
export type ShiftOptions = z.infer<typeof shiftOptionsSchema>;
export type ShiftOptionsInput = z.input<typeof shiftOptionsSchema>;
export const DEFAULT_SHIFT_OPTIONS: ShiftOptions = shiftOptionsSchema.parse({});

export const shiftRequestSchema = z.strictObject({
  id: z.string().min(1).max(200),
  kind: kindSchema,
  scope: shiftScopeSchema,
  /** How long the shift lasts unless renewed or ended; at most `maxTtlMs[kind]`. */
  ttlMs: ms.min(1),
  by: z.string().max(200).optional(),
  reason: z.string().max(500).optional(),
});
export type ShiftRequest = z.input<typeof shiftRequestSchema>;

export type ShiftDecision =
  | { readonly outcome: "granted"; readonly shift: Shift }
  | { readonly outcome: "joined"; readonly shift: Shift }
  | { readonly outcome: "preempted"; readonly shift: Shift; readonly replaced: Shift }
  | { readonly outcome: "escalated"; readonly shift: Shift; readonly replaced: Shift }
  | {
      readonly outcome: "refused";
      readonly reason: "held-by-higher" | "held-by-equal";
      readonly holder: Shift;
      readonly detail: string;
    };

export interface ShiftResult<D> {
  readonly state: ShiftState;
  readonly decision: D;
}

function invalid(what: string, error: z.ZodError): CutoverError {
  return new CutoverError(
    "INVALID_INPUT",
    `${what}: ${error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")}`,
  );
}

function assertTime(now: number): void {
  if (!Number.isSafeInteger(now) || now < 0)
    throw new CutoverError("INVALID_INPUT", `now: expected epoch milliseconds (a non-negative integer), got ${now}`);
}

export function createShiftState(workload: string, now: number): ShiftState {
  assertTime(now);
  if (workload === "") throw new CutoverError("INVALID_INPUT", "workload: required");
  return { version: 1, workload, clock: now, history: [] };
}

/** Parses stored shift state (entity state is data written by a previous version). */
export function parseShiftState(value: unknown): ShiftState {
  const parsed = shiftStateSchema.safeParse(value);
  if (!parsed.success) throw invalid("shift state", parsed.error);
  return parsed.data;
}

function scopeText(scope: ShiftScope): string {
  return scope.zone === undefined ? scope.region : `${scope.region} zone ${scope.zone}`;
}

function sameScope(a: ShiftScope, b: ShiftScope): boolean {
  return a.region === b.region && a.zone === b.zone;
}

/** The whole region strictly contains any one of its zones. */
export function scopeContains(outer: ShiftScope, inner: ShiftScope): boolean {
  return outer.region === inner.region && outer.zone === undefined && inner.zone !== undefined;
}

function record(state: ShiftState, entry: ShiftRecord, options: ShiftOptions): ShiftRecord[] {
  const history = [...state.history, entry];
  return history.slice(Math.max(0, history.length - options.historyLimit));
}

/** Moves the clock to `now` and retires the active shift if it has expired. */
export function expireShift(state: ShiftState, now: number, options: ShiftOptions = DEFAULT_SHIFT_OPTIONS): ShiftState {
  assertTime(now);
  const clock = Math.max(state.clock, now);
  const active = state.active;
  if (active === undefined || clock < active.expiresAt) return { ...state, clock };
  const { active: _expired, ...rest } = state;
  return {
    ...rest,
    clock,
    history: record(state, { shift: active, endedAt: active.expiresAt, end: "expired" }, options),
  };
}

/**
 * Asks for the workload's shift. Throws `CutoverError("INVALID_INPUT")` for a malformed request or a time to live
 * beyond the kind's maximum; every other outcome is returned (see {@link ShiftDecision}).
 */
export function requestShift(
  state: ShiftState,
  request: ShiftRequest,
  now: number,
  options: ShiftOptions = DEFAULT_SHIFT_OPTIONS,
): ShiftResult<ShiftDecision> {
  const parsed = shiftRequestSchema.safeParse(request);
  if (!parsed.success) throw invalid("shift request", parsed.error);
  const r = parsed.data;
  const max = options.maxTtlMs[r.kind];
  if (r.ttlMs > max)
    throw new CutoverError(
      "INVALID_INPUT",
      `shift request: ttlMs ${r.ttlMs} exceeds the ${r.kind} maximum of ${max} ms`,
    );

  const s = expireShift(state, now, options);
  const shift: Shift = {
    id: r.id,
    kind: r.kind,
    precedence: PRECEDENCE[r.kind],
    scope: r.scope,
    startedAt: s.clock,
    expiresAt: s.clock + r.ttlMs,
    ...(r.by === undefined ? {} : { by: r.by }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
  };
  const active = s.active;
  if (active === undefined) return { state: { ...s, active: shift }, decision: { outcome: "granted", shift } };
  if (active.id === r.id || (active.precedence === shift.precedence && sameScope(active.scope, shift.scope)))
    return { state: s, decision: { outcome: "joined", shift: active } };

  const replace = (end: "preempted" | "escalated"): ShiftResult<ShiftDecision> => ({
    state: {
      ...s,
      active: shift,
      history: record(s, { shift: active, endedAt: s.clock, end, detail: `${end} by ${shift.id}` }, options),
    },
    decision: { outcome: end, shift, replaced: active },
  });
  if (shift.precedence > active.precedence) return replace("preempted");
  if (shift.precedence === active.precedence && scopeContains(shift.scope, active.scope)) return replace("escalated");
  const higher = active.precedence > shift.precedence;
  return {
    state: s,
    decision: {
      outcome: "refused",
      reason: higher ? "held-by-higher" : "held-by-equal",
      holder: active,
      detail:
        `${r.kind} ${r.id} for ${scopeText(r.scope)} refused: ${active.kind} ${active.id} for ${scopeText(active.scope)} ` +
        `holds the workload until ${new Date(active.expiresAt).toISOString()}` +
        (higher ? " (higher precedence)" : " (equal precedence; end it first)"),
    },
  };
}

export type EndDecision = { readonly outcome: "ended"; readonly shift: Shift } | { readonly outcome: "not-active" };

/** Ends the shift `id` if it is the active one (explicit end by the run that holds it). */
export function endShift(
  state: ShiftState,
  id: string,
  now: number,
  outcome?: string,
  options: ShiftOptions = DEFAULT_SHIFT_OPTIONS,
): ShiftResult<EndDecision> {
  const s = expireShift(state, now, options);
  const active = s.active;
  if (active?.id !== id) return { state: s, decision: { outcome: "not-active" } };
  const { active: _ended, ...rest } = s;
  return {
    state: {
      ...rest,
      history: record(
        s,
        { shift: active, endedAt: s.clock, end: "ended", ...(outcome === undefined ? {} : { detail: outcome }) },
        options,
      ),
    },
    decision: { outcome: "ended", shift: active },
  };
}

export type RenewDecision = { readonly outcome: "renewed"; readonly shift: Shift } | { readonly outcome: "not-active" };

/** Extends the active shift `id` to `now + ttlMs` (never shortens it; `ttlMs` capped by the kind's maximum). */
export function renewShift(
  state: ShiftState,
  id: string,
  now: number,
  ttlMs: number,
  options: ShiftOptions = DEFAULT_SHIFT_OPTIONS,
): ShiftResult<RenewDecision> {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
    throw new CutoverError("INVALID_INPUT", `ttlMs: expected a positive integer, got ${ttlMs}`);
  const s = expireShift(state, now, options);
  const active = s.active;
  if (active?.id !== id) return { state: s, decision: { outcome: "not-active" } };
  const expiresAt = Math.max(active.expiresAt, s.clock + Math.min(ttlMs, options.maxTtlMs[active.kind]));
  const shift = { ...active, expiresAt };
  return { state: { ...s, active: shift }, decision: { outcome: "renewed", shift } };
}

/** The active shift at `now`, if any (without changing state). */
export function activeShift(state: ShiftState, now: number): Shift | undefined {
  const active = state.active;
  return active !== undefined && Math.max(state.clock, now) < active.expiresAt ? active : undefined;
}
