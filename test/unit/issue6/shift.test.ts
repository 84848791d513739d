import { describe, expect, it } from "vitest";
import {
  activeShift,
  createShiftState,
  endShift,
  expireShift,
  parseShiftState,
  renewShift,
  requestShift,
  type ShiftKind,
  type ShiftRequest,
  type ShiftState,
} from "../../../src/domain/shift";

const MIN = 60_000;
const T0 = Date.parse("2030-01-01T00:00:00Z");

function req(id: string, kind: ShiftKind, region = "eastus2", zone?: "1" | "2" | "3", ttlMs = 30 * MIN): ShiftRequest {
  return { id, kind, scope: zone === undefined ? { region } : { region, zone }, ttlMs };
}

function holding(id: string, kind: ShiftKind, region = "eastus2", zone?: "1" | "2" | "3"): ShiftState {
  const r = requestShift(createShiftState("chat", T0), req(id, kind, region, zone), T0);
  expect(r.decision.outcome).toBe("granted");
  return r.state;
}

describe("requestShift", () => {
  it("grants a free workload and records who, why and until when", () => {
    const r = requestShift(
      createShiftState("chat", T0),
      { ...req("f1", "automatic"), by: "breaker", reason: "opened" },
      T0,
    );
    expect(r.decision).toEqual({
      outcome: "granted",
      shift: {
        id: "f1",
        kind: "automatic",
        precedence: 2,
        scope: { region: "eastus2" },
        startedAt: T0,
        expiresAt: T0 + 30 * MIN,
        by: "breaker",
        reason: "opened",
      },
    });
    expect(r.state.active?.id).toBe("f1");
  });

  it("lets a higher precedence preempt a lower one and records the preemption", () => {
    const r = requestShift(holding("drill-1", "practice"), req("f1", "automatic"), T0 + MIN);
    expect(r.decision).toMatchObject({ outcome: "preempted", shift: { id: "f1" }, replaced: { id: "drill-1" } });
    expect(r.state.active?.id).toBe("f1");
    expect(r.state.history).toEqual([
      {
        shift: expect.objectContaining({ id: "drill-1" }),
        endedAt: T0 + MIN,
        end: "preempted",
        detail: "preempted by f1",
      },
    ]);
    const manual = requestShift(r.state, req("op-1", "manual", "westus3"), T0 + 2 * MIN);
    expect(manual.decision).toMatchObject({ outcome: "preempted", replaced: { id: "f1" } });
  });

  it("refuses a lower precedence and leaves the holder untouched", () => {
    const held = holding("op-1", "manual");
    for (const kind of ["automatic", "practice"] as const) {
      const r = requestShift(held, req(`x-${kind}`, kind), T0 + MIN);
      expect(r.decision).toMatchObject({ outcome: "refused", reason: "held-by-higher", holder: { id: "op-1" } });
      expect(r.state.active).toEqual(held.active);
      expect(r.state.history).toEqual([]);
    }
    const drill = requestShift(holding("f1", "automatic"), req("d1", "practice"), T0 + MIN);
    expect(drill.decision).toMatchObject({
      outcome: "refused",
      reason: "held-by-higher",
      detail:
        "practice d1 for eastus2 refused: automatic f1 for eastus2 holds the workload until 2030-01-01T00:30:00.000Z (higher precedence)",
    });
  });

  it("joins an equal-precedence request for the same scope (exactly one run per failure)", () => {
    const held = holding("f1", "automatic", "eastus2", "2");
    const r = requestShift(held, req("f2", "automatic", "eastus2", "2"), T0 + MIN);
    expect(r.decision).toEqual({ outcome: "joined", shift: held.active });
    expect(r.state.active).toEqual(held.active);
    // The same id again (a retried start) joins too, whatever it asks for.
    expect(requestShift(held, req("f1", "automatic", "westus3"), T0 + MIN).decision.outcome).toBe("joined");
  });

  it("refuses an equal-precedence request for another scope", () => {
    const r = requestShift(holding("f1", "automatic", "eastus2"), req("f2", "automatic", "westus3"), T0 + MIN);
    expect(r.decision).toMatchObject({ outcome: "refused", reason: "held-by-equal", holder: { id: "f1" } });
    // A zone inside a region already shifted does not replace the region run either.
    const zone = requestShift(holding("f1", "automatic", "eastus2"), req("f2", "automatic", "eastus2", "1"), T0 + MIN);
    expect(zone.decision).toMatchObject({ outcome: "refused", reason: "held-by-equal" });
  });

  it("escalates from a zone to its whole region at equal precedence", () => {
    const r = requestShift(holding("fz", "automatic", "eastus2", "1"), req("fr", "automatic", "eastus2"), T0 + MIN);
    expect(r.decision).toMatchObject({ outcome: "escalated", shift: { id: "fr" }, replaced: { id: "fz" } });
    expect(r.state.history[0]).toMatchObject({ end: "escalated", detail: "escalated by fr" });
  });

  it("rejects malformed requests and time to live beyond the kind's maximum", () => {
    const s = createShiftState("chat", T0);
    expect(() => requestShift(s, { id: "", kind: "sudo" as never, scope: { region: "" }, ttlMs: 0 }, T0)).toThrow(
      /^\[INVALID_INPUT\] shift request: id: .*; kind: .*; scope\.region: .*; ttlMs: /,
    );
    expect(() => requestShift(s, req("d", "practice", "eastus2", undefined, 3 * 60 * MIN), T0)).toThrow(
      "ttlMs 10800000 exceeds the practice maximum of 7200000 ms",
    );
    expect(() => requestShift(s, req("d", "practice"), -1)).toThrow(/now: expected epoch milliseconds/);
  });
});

describe("expiry, end and renewal", () => {
  it("expires a shift at its expiry time, recording it as expired then", () => {
    const held = holding("f1", "automatic");
    expect(activeShift(held, T0 + 30 * MIN - 1)?.id).toBe("f1");
    expect(activeShift(held, T0 + 30 * MIN)).toBeUndefined();
    const s = expireShift(held, T0 + 45 * MIN);
    expect(s.active).toBeUndefined();
    expect(s.history).toEqual([{ shift: held.active, endedAt: T0 + 30 * MIN, end: "expired" }]);
    // A lower precedence is granted once the higher one has expired.
    expect(requestShift(held, req("d1", "practice"), T0 + 30 * MIN).decision.outcome).toBe("granted");
  });

  it("ends only the active shift, by its id", () => {
    const held = holding("f1", "automatic");
    expect(endShift(held, "other", T0 + MIN).decision).toEqual({ outcome: "not-active" });
    const r = endShift(held, "f1", T0 + 5 * MIN, "succeeded");
    expect(r.decision).toMatchObject({ outcome: "ended", shift: { id: "f1" } });
    expect(r.state.active).toBeUndefined();
    expect(r.state.history).toEqual([{ shift: held.active, endedAt: T0 + 5 * MIN, end: "ended", detail: "succeeded" }]);
  });

  it("renews the active shift, never shortening it and never beyond the kind's maximum", () => {
    const held = holding("f1", "automatic");
    const r = renewShift(held, "f1", T0 + 20 * MIN, 60 * MIN);
    expect(r.decision).toMatchObject({ outcome: "renewed", shift: { expiresAt: T0 + 80 * MIN } });
    expect(renewShift(r.state, "f1", T0 + 21 * MIN, MIN).state.active?.expiresAt).toBe(T0 + 80 * MIN);
    expect(renewShift(held, "f1", T0, 24 * 60 * MIN).state.active?.expiresAt).toBe(T0 + 4 * 60 * MIN);
    expect(renewShift(held, "f1", T0 + 31 * MIN, MIN).decision).toEqual({ outcome: "not-active" });
    expect(() => renewShift(held, "f1", T0, 0)).toThrow(/ttlMs: expected a positive integer/);
  });

  it("never lets its clock go backwards", () => {
    const held = holding("f1", "automatic");
    const later = expireShift(held, T0 + 10 * MIN);
    const r = requestShift(later, req("op", "manual"), T0);
    expect(r.decision).toMatchObject({ outcome: "preempted", shift: { startedAt: T0 + 10 * MIN } });
  });
});

describe("state", () => {
  it("is plain JSON, parses back, and keeps a bounded history", () => {
    let s = createShiftState("chat", T0);
    for (let i = 0; i < 120; i++) {
      s = requestShift(s, req(`d${i}`, "practice"), T0 + i * MIN).state;
      s = endShift(s, `d${i}`, T0 + i * MIN + 1).state;
    }
    expect(s.history).toHaveLength(50);
    expect(s.history[49]?.shift.id).toBe("d119");
    expect(parseShiftState(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(() => parseShiftState({ version: 2 })).toThrow(/\[INVALID_INPUT\] shift state: version: /);
  });
});
