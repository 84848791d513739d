/**
 * Property-based tests of the single active shift: for any sequence of requests, ends, renewals and expiries (random
 * kinds, scopes, ids, times to live; non-decreasing time), the active shift is never replaced by a lower precedence,
 * recorded shifts never overlap and never outlive their expiry, and refusals change nothing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createShiftState,
  endShift,
  expireShift,
  PRECEDENCE,
  renewShift,
  requestShift,
  scopeContains,
  type ShiftKind,
  type ShiftState,
} from "../../../src/domain/shift";

const MIN = 60_000;
const IDS = ["r1", "r2", "r3", "r4", "r5", "r6"];
const scopeArb = fc.oneof(
  fc.record({ region: fc.constantFrom("eastus2", "westus3") }),
  fc.record({ region: fc.constantFrom("eastus2", "westus3"), zone: fc.constantFrom("1" as const, "2" as const) }),
);

type Op =
  | { op: "request"; dt: number; id: string; kind: ShiftKind; scope: { region: string; zone?: "1" | "2" }; ttl: number }
  | { op: "end"; dt: number; id: string }
  | { op: "renew"; dt: number; id: string; ttl: number }
  | { op: "expire"; dt: number };

const dt = fc.integer({ min: 0, max: 40 * MIN });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("request" as const),
      dt,
      id: fc.constantFrom(...IDS),
      kind: fc.constantFrom<ShiftKind>("manual", "automatic", "practice"),
      scope: scopeArb,
      ttl: fc.integer({ min: 1, max: 120 * MIN }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("end" as const), dt, id: fc.constantFrom(...IDS) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("renew" as const),
      dt,
      id: fc.constantFrom(...IDS),
      ttl: fc.integer({ min: 1, max: 300 * MIN }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("expire" as const), dt }) },
);

describe("shift properties", () => {
  it("never lets a lower precedence replace a higher one; shifts never overlap or outlive their expiry", () => {
    let preemptions = 0;
    let refusals = 0;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200, size: "max" }), (ops) => {
        const violations: string[] = [];
        const check = (ok: boolean, what: string): void => {
          if (!ok) violations.push(what);
        };
        let state: ShiftState = createShiftState("chat", 0);
        let now = 0;
        ops.forEach((o, step) => {
          now += o.dt;
          const at = `step ${step} (${o.op} at ${now})`;
          // What was active at `now` before the call (after lazy expiry).
          const wasActive = state.active !== undefined && now < state.active.expiresAt ? state.active : undefined;
          let after: ShiftState;
          switch (o.op) {
            case "request": {
              const r = requestShift(
                state,
                { id: o.id, kind: o.kind, scope: o.scope, ttlMs: Math.min(o.ttl, 120 * MIN) },
                now,
              );
              after = r.state;
              if (r.decision.outcome === "refused") {
                refusals++;
                check(wasActive !== undefined && r.decision.holder === wasActive, `${at}: refused without a holder`);
                check(after.active === wasActive, `${at}: a refusal changed the active shift`);
              }
              if (r.decision.outcome === "preempted" || r.decision.outcome === "escalated") preemptions++;
              break;
            }
            case "end":
              after = endShift(state, o.id, now).state;
              break;
            case "renew":
              after = renewShift(state, o.id, now, o.ttl).state;
              break;
            case "expire":
              after = expireShift(state, now);
              break;
          }
          const active = after.active;
          // At most one active shift (by construction), and never an expired one.
          check(active === undefined || active.expiresAt > now, `${at}: active shift already expired`);
          check(active === undefined || active.precedence === PRECEDENCE[active.kind], `${at}: wrong precedence`);
          // A live shift replaced in one call: only by a request of higher precedence, or an escalation.
          if (wasActive !== undefined && active !== undefined && active.id !== wasActive.id) {
            const higher = active.precedence > wasActive.precedence;
            const escalation =
              active.precedence === wasActive.precedence && scopeContains(active.scope, wasActive.scope);
            check(o.op === "request" && (higher || escalation), `${at}: ${wasActive.kind} replaced by ${active.kind}`);
          }
          state = after;
        });
        // Recorded shifts (the bounded tail, in order) never overlap and never outlive their expiry.
        for (const h of state.history)
          check(h.shift.startedAt <= h.endedAt && h.endedAt <= h.shift.expiresAt, `${h.shift.id} outlived its expiry`);
        const intervals = [
          ...state.history.map((h) => [h.shift.startedAt, h.endedAt] as const),
          ...(state.active === undefined ? [] : [[state.active.startedAt, Infinity] as const]),
        ];
        for (let i = 1; i < intervals.length; i++)
          check(intervals[i]![0] >= intervals[i - 1]![1], `shifts ${i - 1} and ${i} overlap`);
        expect(violations).toEqual([]);
      }),
      { numRuns: 500 },
    );
    expect(preemptions).toBeGreaterThan(50);
    expect(refusals).toBeGreaterThan(50);
  });
});
