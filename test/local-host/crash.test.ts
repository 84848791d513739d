import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_EPOCH, VirtualClock } from "../../local/clock";
import { startAzurite } from "../../local/azurite";
import {
  TableHistoryStore,
  FileHistoryStore,
  MemoryHistoryStore,
  startLocalHost,
  EventType,
  type HistoryStore,
  type LocalHost,
} from "../../local/host";
import { startSink, type Sink } from "./support/sink";
import { DURABLE_APP } from "./support/paths";

const MINUTE = 60_000;

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe("crash safety: a new host over the same store finishes what a stopped host started", () => {
  let sink: Sink;
  const hosts: LocalHost[] = [];
  beforeEach(async () => {
    sink = await startSink();
  });
  afterEach(async () => {
    for (const h of hosts) await h.stop();
    hosts.length = 0;
    await sink.close();
  });

  async function start(store: HistoryStore, clock?: VirtualClock): Promise<LocalHost> {
    const h = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 0 0 1 1 *", SINK_URL: sink.url },
      store,
      ...(clock === undefined ? {} : { clock }),
      hostJsonPath: null,
    });
    hosts.push(h);
    return h;
  }

  it("re-runs the in-flight activity, not the completed ones (memory store)", async () => {
    const store = new MemoryHistoryStore();
    const first = await start(store, new VirtualClock(DEFAULT_EPOCH));
    sink.hold("fan-held");
    const id = first.startNew("crashable", { instanceId: "crash-1" });
    await first.runUntilIdle(); // "quick" ran; now waiting on the 5-minute timer
    void first.advanceTime(5 * MINUTE).catch(() => undefined);
    await sink.held("fan-held");
    await until(() => first.getRecord(id)!.activities.some((a) => a.name === "hit" && a.result !== undefined));
    await first.stop(); // "crash": fan-a finished and is stored, fan-held is still in flight

    sink.release("fan-held"); // the dead host's call now returns, but nothing may be written for it
    const second = await start(store, new VirtualClock(first.clock.now()));
    const s = await second.waitForInstance(id);
    expect(s.runtimeStatus).toBe("Completed");
    expect(Object.fromEntries(sink.hits)).toEqual({ quick: 1, "fan-a": 1, "fan-held": 2, last: 1 });
    expect(s.output).toEqual(["quick#1", "fan-a#1", "fan-held#2", "last#1"]);
    const history = second.getRecord(id)!.history;
    expect(history.filter((e) => e.EventType === EventType.TimerFired)).toHaveLength(1);
    expect(history.filter((e) => e.EventType === EventType.TaskCompleted)).toHaveLength(4);
  });

  it("keeps pending durable timers and completed work across a restart (file store)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lh-store-"));
    const first = await start(new FileHistoryStore(dir), new VirtualClock(DEFAULT_EPOCH));
    const id = first.startNew("crashable", { instanceId: "crash-2" });
    await first.runUntilIdle(); // waiting on the timer
    expect(first.getRecord(id)!.timers).toHaveLength(1);
    await first.stop();

    // A fresh store object over the same directory, and no clock: the host resumes at the stored time.
    const second = await start(new FileHistoryStore(dir));
    expect(second.clock.now()).toBeGreaterThanOrEqual(DEFAULT_EPOCH);
    const s = await second.waitForInstance(id);
    expect(s.output).toEqual(["quick#1", "fan-a#1", "fan-held#1", "last#1"]);
    expect(sink.hits.get("quick")).toBe(1);
    const fired = second.getRecord(id)!.history.find((e) => e.EventType === EventType.TimerFired)!;
    expect(fired["FireAt"]).toBe(new Date(DEFAULT_EPOCH + 5 * MINUTE).toISOString());
  });

  it("finishes entity operations and events queued before the stop", async () => {
    const store = new MemoryHistoryStore();
    const first = await start(store, new VirtualClock(DEFAULT_EPOCH));
    const id = first.startNew("waitsForever", { instanceId: "crash-3" });
    await first.runUntilIdle();
    await first.stop();
    const second = await start(store, new VirtualClock(first.clock.now()));
    expect(second.getStatus(id)!.runtimeStatus).toBe("Running");
    const res = await fetch(`${second.baseUrl}/durabletask/instances/${id}/raiseEvent/never`, {
      method: "POST",
      body: JSON.stringify("late"),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(202);
    expect((await second.waitForInstance(id)).output).toBe("never");
  });
});

describe("crash safety with the Azurite table store", () => {
  it("finishes an orchestration started by a stopped host, from rows in Azurite", async () => {
    const azurite = await startAzurite();
    const sink = await startSink();
    const hosts: LocalHost[] = [];
    try {
      const open = async (clock?: VirtualClock): Promise<LocalHost> => {
        const h = await startLocalHost({
          entry: DURABLE_APP,
          env: { TICK_SCHEDULE: "0 0 0 1 1 *", SINK_URL: sink.url },
          store: new TableHistoryStore({ connectionString: azurite.connectionString, tableName: "LocalHostCrash" }),
          ...(clock === undefined ? {} : { clock }),
          hostJsonPath: null,
        });
        hosts.push(h);
        return h;
      };
      const first = await open(new VirtualClock(DEFAULT_EPOCH));
      const id = first.startNew("crashable", { instanceId: "crash-table", input: { big: "x".repeat(70_000) } });
      await first.runUntilIdle(); // waits on the timer; the row holds more than one 64 KiB property
      await first.stop();
      const second = await open();
      expect(second.clock.now()).toBe(DEFAULT_EPOCH);
      const s = await second.waitForInstance(id);
      expect(s.output).toEqual(["quick#1", "fan-a#1", "fan-held#1", "last#1"]);
      expect(sink.hits.get("quick")).toBe(1);
    } finally {
      for (const h of hosts) await h.stop();
      await sink.close();
      await azurite.stop();
    }
  });
});
