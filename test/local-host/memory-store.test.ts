/**
 * MemoryHistoryStore encodes an instance's history incrementally (bench/rto speed-up). It must still behave exactly
 * like storing `JSON.stringify(record)` at every put: what `load()` returns is the record as it was at its last put.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppendOnlyJsonArray } from "../../local/host/append-only-json";
import { MemoryHistoryStore, type HistoryEvent, type InstanceRecord } from "../../local/host/store";

function event(i: number, extra: Record<string, unknown> = {}): HistoryEvent {
  return {
    EventType: 4,
    EventId: i,
    IsPlayed: false,
    Timestamp: new Date(1_900_000_000_000 + i).toISOString(),
    ...extra,
  };
}

function record(id: string): InstanceRecord {
  return {
    instanceId: id,
    name: "orchestrator",
    executionId: "e1",
    version: "",
    input: JSON.stringify({ a: 1 }),
    runtimeStatus: "Pending",
    createdTime: 1,
    lastUpdatedTime: 1,
    output: null,
    customStatus: null,
    parent: null,
    history: [],
    inbox: [],
    known: [],
    nextSeq: 0,
    timers: [],
    activities: [],
    retries: [],
    episodes: 0,
  };
}

/** What the store did before: the whole record as JSON text at every put. */
function naive(r: InstanceRecord): InstanceRecord {
  return JSON.parse(JSON.stringify(r)) as InstanceRecord;
}

describe("AppendOnlyJsonArray", () => {
  it("equals JSON.stringify of the array without brackets, as it grows, and starts over for another array", () => {
    const json = new AppendOnlyJsonArray<unknown>();
    const items: unknown[] = [];
    expect(json.itemsJson(items)).toBe("");
    for (const v of [1, "two", { three: [3] }, null, 'quote " and \\ backslash']) {
      items.push(v);
      expect(json.itemsJson(items)).toBe(JSON.stringify(items).slice(1, -1));
    }
    const other = [{ x: 1 }];
    expect(json.itemsJson(other)).toBe('{"x":1}');
    const shorter = items.slice(0, 2);
    expect(json.itemsJson(shorter)).toBe(JSON.stringify(shorter).slice(1, -1));
  });
});

describe("MemoryHistoryStore", () => {
  it("loads each record as it was at its last put, not as it is now", async () => {
    const store = new MemoryHistoryStore();
    const r = record("a");
    r.history.push(event(0), event(1, { Input: '{"cutover-history-slot-9f4c1e0a7d2b":1}' }));
    await store.putInstance(r);
    const atPut = naive(r);
    r.history.push(event(2));
    r.runtimeStatus = "Running";
    expect((await store.load()).instances).toEqual([atPut]);
    await store.putInstance(r);
    expect((await store.load()).instances).toEqual([naive(r)]);
  });

  it("takes a new execution's history (continue-as-new replaces the array)", async () => {
    const store = new MemoryHistoryStore();
    const r = record("b");
    r.history.push(event(0), event(1), event(2));
    await store.putInstance(r);
    r.history = [event(9)];
    r.executionId = "e2";
    await store.putInstance(r);
    expect((await store.load()).instances).toEqual([naive(r)]);
  });

  it("still refuses what JSON cannot hold, at the put", () => {
    const store = new MemoryHistoryStore();
    const r = record("c");
    r.history.push(event(0, { Result: 10n }));
    expect(() => store.putInstance(r)).toThrow(TypeError);
  });

  it("agrees with storing the whole record as JSON at every put (random appends, changes, puts, restarts)", async () => {
    type Step =
      | { kind: "append"; id: number; n: number }
      | { kind: "status"; id: number; episodes: number }
      | { kind: "put"; id: number }
      | { kind: "newExecution"; id: number }
      | { kind: "delete"; id: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant("append" as const), id: fc.nat(2), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant("status" as const), id: fc.nat(2), episodes: fc.nat(50) }),
      fc.record({ kind: fc.constant("put" as const), id: fc.nat(2) }),
      fc.record({ kind: fc.constant("newExecution" as const), id: fc.nat(2) }),
      fc.record({ kind: fc.constant("delete" as const), id: fc.nat(2) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const store = new MemoryHistoryStore();
        const live = [record("i0"), record("i1"), record("i2")];
        const expected = new Map<string, InstanceRecord>();
        let seq = 0;
        for (const s of steps) {
          const r = live[s.id]!;
          if (s.kind === "append") for (let i = 0; i < s.n; i++) r.history.push(event(seq++, { Name: `x${seq}` }));
          else if (s.kind === "status") r.episodes = s.episodes;
          else if (s.kind === "newExecution") r.history = [];
          else if (s.kind === "put") {
            await store.putInstance(r);
            expected.set(r.instanceId, naive(r));
          } else {
            await store.deleteInstance(r.instanceId);
            expected.delete(r.instanceId);
          }
        }
        const loaded = (await store.load()).instances.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
        expect(loaded).toEqual([...expected.values()].sort((a, b) => a.instanceId.localeCompare(b.instanceId)));
      }),
      { numRuns: 200 },
    );
  });
});
