import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EPOCH, VirtualClock } from "../../local/clock";
import { startLocalHost, EventType, type LocalHost } from "../../local/host";
import { startSink, type Sink } from "./support/sink";
import { json } from "./support/json";
import { DURABLE_APP } from "./support/paths";

describe("durable orchestrations and entities", () => {
  let host: LocalHost;
  let sink: Sink;
  beforeAll(async () => {
    sink = await startSink();
    host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 0 0 1 1 *", SINK_URL: sink.url },
      functionKey: "fkey",
      hostJsonPath: null,
    });
  });
  afterAll(async () => {
    await host.stop();
    await sink.close();
  });

  it("runs a fan-out/fan-in with custom status", async () => {
    const id = host.startNew("fanOut", { input: { n: 10 } });
    const s = await host.waitForInstance(id);
    expect(s.runtimeStatus).toBe("Completed");
    expect(s.output).toBe(110);
    expect(s.customStatus).toEqual({ phase: "done", n: 10 });
    const rec = host.getRecord(id)!;
    const scheduled = rec.history.filter((e) => e.EventType === EventType.TaskScheduled);
    expect(scheduled.map((e) => e.EventId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Results come back in scheduling order, whatever order the activities finished in.
    const completed = rec.history.filter((e) => e.EventType === EventType.TaskCompleted);
    expect(completed.map((e) => e["TaskScheduledId"])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("fires durable timers on the virtual clock; currentUtcDateTime follows it", async () => {
    const start = host.clock.now();
    const id = host.startNew("timers", { input: { count: 3, intervalMs: 60_000 } });
    const s = await host.waitForInstance(id);
    expect(s.output).toEqual([0, 1, 2, 3].map((i) => new Date(start + i * 60_000).toISOString()));
    expect(host.clock.now()).toBe(start + 180_000);
    expect(s.customStatus).toEqual({ fired: 3 });
  });

  it("does not fire a timer before its time when time is advanced manually", async () => {
    const id = host.startNew("timers", { input: { count: 1, intervalMs: 30_000 } });
    await host.runUntilIdle();
    await host.advanceTime(29_999);
    expect(host.getStatus(id)!.runtimeStatus).toBe("Running");
    await host.advanceTime(1);
    expect(host.getStatus(id)!.runtimeStatus).toBe("Completed");
  });

  it("delivers external events and cancels the losing timer", async () => {
    const id = host.startNew("approval");
    await host.runUntilIdle();
    expect(host.getStatus(id)!.customStatus).toBe("waiting");
    const res = await fetch(`${host.baseUrl}/api/raise/${id}/Approval?code=fkey`, {
      method: "POST",
      body: JSON.stringify({ user: "ada" }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(202);
    const s = await host.waitForInstance(id, { advanceTimers: false });
    expect(s.output).toMatchObject({ decision: "approved", by: { user: "ada" } });
    expect(host.getRecord(id)!.timers).toEqual([]);
  });

  it("lets the durable timer win a race when no event comes", async () => {
    const before = host.clock.now();
    const id = host.startNew("approval");
    const s = await host.waitForInstance(id);
    expect(s.output).toEqual({ decision: "timeout", at: new Date(before + 3600_000).toISOString() });
  });

  it("runs sub-orchestrations (generated and explicit ids) and reports a failed one to the parent", async () => {
    const id = host.startNew("parent", { instanceId: "parent-1" });
    const s = await host.waitForInstance(id);
    expect(s.runtimeStatus).toBe("Completed");
    const out = s.output as { a: unknown; b: unknown; failed: string };
    expect(out.a).toEqual({ child: "parent-1:0", parent: "parent-1", doubled: 10 });
    expect(out.b).toEqual({ child: "explicit-child-id", parent: "parent-1", doubled: 14 });
    expect(out.failed).toContain("[QUOTA_EXCEEDED] no quota left");
    expect(host.getStatus("explicit-child-id")!.runtimeStatus).toBe("Completed");
  });

  it("retries with callActivityWithRetry on durable timers (backoff) and keeps later tasks correlated", async () => {
    const id = host.startNew("retrying", { input: { key: "r1", failures: 2 } });
    const s = await host.waitForInstance(id);
    expect(s.runtimeStatus).toBe("Completed");
    // Two failures: waits of 1000 ms then 2000 ms (backoff 2) of virtual time.
    expect(s.output).toEqual({ attempts: 3, after: 42, elapsedMs: 3000 });
    const h = host.getRecord(id)!.history;
    expect(h.filter((e) => e.EventType === EventType.TaskFailed)).toHaveLength(2);
    expect(h.filter((e) => e.EventType === EventType.TimerFired)).toHaveLength(2);
  });

  it("retries a failed sub-orchestration with callSubOrchestratorWithRetry (a new child per attempt)", async () => {
    const id = host.startNew("subRetry", { instanceId: "sr" });
    const s = await host.waitForInstance(id);
    expect(s.output).toEqual({ r: { attempts: 2 }, after: 8 });
    expect(host.getStatus("sr:0")!.runtimeStatus).toBe("Failed");
    expect(host.getStatus("sr:2")!.runtimeStatus).toBe("Completed");
  });

  it("fails the task after the last retry, with the activity's message", async () => {
    const id = host.startNew("retryExhausted");
    const s = await host.waitForInstance(id);
    expect((s.output as { caught: string }).caught).toContain(
      "Activity function 'alwaysFails' failed: [QUOTA_EXCEEDED] no quota left",
    );
  });

  it("fails an orchestration whose activity fails unhandled", async () => {
    const id = host.startNew("failing");
    const s = await host.waitForInstance(id);
    expect(s.runtimeStatus).toBe("Failed");
    expect(String(s.output)).toContain("Orchestrator function 'failing' failed");
    expect(String(s.output)).toContain("[QUOTA_EXCEEDED]");
  });

  it("continues as new with a fresh history", async () => {
    const id = host.startNew("eternal", { input: { count: 0, until: 3 } });
    const s = await host.waitForInstance(id);
    expect(s.output).toEqual({ finalCount: 3, version: id });
    const rec = host.getRecord(id)!;
    expect(rec.history.filter((e) => e.EventType === EventType.ExecutionStarted)).toHaveLength(1);
    expect(JSON.parse(rec.input!)).toEqual({ count: 3, until: 3 });
  });

  it("terminates a running instance", async () => {
    const id = host.startNew("waitsForever");
    await host.runUntilIdle();
    const res = await fetch(`${host.baseUrl}/api/terminate/${id}?code=fkey&reason=enough`, { method: "POST" });
    expect(res.status).toBe(202);
    await host.runUntilIdle();
    const s = host.getStatus(id)!;
    expect(s.runtimeStatus).toBe("Terminated");
    expect(s.output).toBe("enough");
  });

  it("passes activity inputs the way the extension does (strings, objects, none)", async () => {
    const id = host.startNew("inputs", { input: "top" });
    const s = await host.waitForInstance(id);
    expect(s.output).toEqual({
      a: { type: "string", input: "a string" },
      b: { type: "object", input: { k: 1 } },
      c: { type: "undefined" },
      input: "top",
    });
  });

  it("calls and signals entities, rolls back a failed operation, and reports its failure to the caller", async () => {
    const id = host.startNew("entityCaller", { input: "c1" });
    const s = await host.waitForInstance(id);
    expect(s.runtimeStatus).toBe("Completed");
    const out = s.output as { afterAdd: number; value: number; failure: string; afterFailure: number };
    expect(out.afterAdd).toBe(15);
    expect(out.value).toBe(15);
    expect(out.failure).toContain("explode");
    expect(out.afterFailure).toBe(15);
  });

  it("signals entities from entities and starts orchestrations from entities and activities", async () => {
    await fetch(`${host.baseUrl}/api/entities/counter/fwd/add?code=fkey`, { method: "POST", body: "4" });
    await fetch(`${host.baseUrl}/api/entities/counter/fwd/forward?code=fkey`, { method: "POST" });
    await fetch(`${host.baseUrl}/api/entities/counter/fwd/startOrchestration?code=fkey`, {
      method: "POST",
      body: JSON.stringify("entity-started"),
    });
    await host.runUntilIdle();
    const read = await json(fetch(`${host.baseUrl}/api/entities/counter/forwarded?code=fkey`));
    expect(read).toEqual({ exists: true, state: 4 });
    expect((await host.waitForInstance("entity-started")).output).toBe(12);
    const viaActivity = host.startNew("startsAnother", { instanceId: "sa" });
    expect((await host.waitForInstance(viaActivity)).output).toBe("sa-started");
    expect((await host.waitForInstance("sa-started")).output).toBe(6);
  });
});

describe("non-determinism detection", () => {
  it("fails an orchestrator whose replay schedules something else (negative control)", async () => {
    const host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 0 0 1 1 *" },
      hostJsonPath: null,
    });
    try {
      const id = host.startNew("nonDeterministic");
      const s = await host.waitForInstance(id);
      expect(s.runtimeStatus).toBe("Failed");
      expect(String(s.output)).toMatch(
        /^Non-Deterministic workflow detected: A previous execution of this orchestration scheduled an activity task named 'double' with sequence number 0, but the current replay execution instead produced an activity task named 'describeInput'/,
      );
      expect(host.eventLog.some((e) => e.kind === "non-determinism" && e.instanceId === id)).toBe(true);
      // The deterministic orchestrations in the same app are not flagged.
      const ok = host.startNew("fanOut", { input: { n: 3 } });
      expect((await host.waitForInstance(ok)).runtimeStatus).toBe("Completed");
    } finally {
      await host.stop();
    }
  });
});

describe("determinism of the host itself", () => {
  async function run(): Promise<unknown> {
    const sink = await startSink();
    const host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 0 0 1 1 *", SINK_URL: sink.url },
      clock: new VirtualClock(DEFAULT_EPOCH),
      hostJsonPath: null,
    });
    try {
      const ids = [
        host.startNew("fanOut", { instanceId: "d-fan", input: { n: 6 } }),
        host.startNew("timers", { instanceId: "d-timers", input: { count: 4, intervalMs: 45_000 } }),
        host.startNew("retrying", { instanceId: "d-retry", input: { key: "d", failures: 1 } }),
        host.startNew("parent", { instanceId: "d-parent" }),
      ];
      for (const id of ids) await host.waitForInstance(id);
      return ids.map((id) => host.getRecord(id)!.history);
    } finally {
      await host.stop();
      await sink.close();
    }
  }

  it("gives the same histories (timestamps included) for the same inputs", async () => {
    const first = await run();
    const second = await run();
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });
});
