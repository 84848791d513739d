import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_EPOCH, VirtualClock } from "../../local/clock";
import type { LocalHostError } from "../../local/host";
import { startLocalHost, type LocalHost } from "../../local/host";
import { json } from "./support/json";
import { DURABLE_APP } from "./support/paths";

const MINUTE = 60_000;

async function readTicks(host: LocalHost): Promise<unknown> {
  return await json(fetch(`${host.baseUrl}/api/entities/counter/ticks?code=k`));
}

describe("timer triggers and the virtual clock", () => {
  let host: LocalHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it("fires a six-field NCRONTAB schedule (resolved from %SETTING%) only as virtual time passes", async () => {
    host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 */5 * * * *" },
      functionKey: "k",
      clock: new VirtualClock(DEFAULT_EPOCH),
      hostJsonPath: null,
    });
    await host.runUntilIdle();
    expect(await readTicks(host)).toEqual({ exists: false, state: null });
    await host.advanceTime(15 * MINUTE);
    expect(await readTicks(host)).toEqual({ exists: true, state: 3 });
    await host.advanceTime(4 * MINUTE + 59_000);
    expect(await readTicks(host)).toEqual({ exists: true, state: 3 });
    await host.advanceTime(1000);
    expect(await readTicks(host)).toEqual({ exists: true, state: 4 });
  });

  it("passes the timer payload the worker passes (camel-cased schedule status)", async () => {
    host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 0 0 1 1 *" },
      clock: new VirtualClock(DEFAULT_EPOCH),
      hostJsonPath: null,
    });
    await host.advanceTime(2 * 3600_000);
    const seen = (await json(fetch(`${host.baseUrl}/api/timer-seen`))) as string[];
    expect(seen).toEqual(["false:2030-01-01T00:00:00.000Z", "false:2030-01-01T01:00:00.000Z"]);
  });

  it("runs runOnStartup timers once when the host starts", async () => {
    host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 0 0 1 1 *" },
      clock: new VirtualClock(DEFAULT_EPOCH),
      hostJsonPath: null,
    });
    await host.runUntilIdle();
    expect(await json(fetch(`${host.baseUrl}/api/startup-runs`))).toEqual(["2031-01-01T00:00:00.000Z"]);
  });

  it("refuses a schedule that is not six-field NCRONTAB, naming the function", async () => {
    const error = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "*/5 * * * *" },
      hostJsonPath: null,
    }).catch((e: unknown) => e);
    expect((error as LocalHostError).code).toBe("INVALID_SCHEDULE");
    expect((error as Error).message).toContain('timer "tick"');
  });

  it("runs a 15-minute scenario in the background auto-advance mode, interleaved with world events on the same clock", async () => {
    const clock = new VirtualClock(DEFAULT_EPOCH);
    host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 */5 * * * *" },
      functionKey: "k",
      clock,
      hostJsonPath: null,
    });
    const h = host;
    // A "simulator" world event: at +7 min it POSTs an external event to the app (real loopback I/O, tracked).
    const id = h.startNew("approval");
    const worldEventAt = DEFAULT_EPOCH + 7 * MINUTE;
    clock.schedule(worldEventAt, () => {
      void clock.track(
        fetch(`${h.baseUrl}/api/raise/${id}/Approval?code=k`, {
          method: "POST",
          body: JSON.stringify({ at: clock.now() }),
          headers: { "content-type": "application/json" },
        }),
      );
    });
    const until = DEFAULT_EPOCH + 15 * MINUTE;
    h.startAutoAdvance({ until });
    const s = await h.waitForInstance(id);
    expect(s.output).toEqual({
      decision: "approved",
      by: { at: worldEventAt },
      at: new Date(worldEventAt).toISOString(),
    });
    // Keep going to the horizon: the 5-minute ticks keep firing, never past `until`.
    while (h.clock.now() < until || h.clock.nextDueTime() === until) await h.settle();
    await h.stopAutoAdvance();
    await h.settle();
    expect(h.clock.now()).toBe(until);
    expect(await readTicks(h)).toEqual({ exists: true, state: 3 });
  });

  it("runUntilIdle with advanceTimers stops when no durable timer is pending, even with recurring triggers", async () => {
    host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "*/30 * * * * *" },
      functionKey: "k",
      clock: new VirtualClock(DEFAULT_EPOCH),
      hostJsonPath: null,
    });
    const id = host.startNew("timers", { input: { count: 2, intervalMs: 90_000 } });
    await host.runUntilIdle({ advanceTimers: true });
    expect(host.getStatus(id)!.runtimeStatus).toBe("Completed");
    expect(host.clock.now()).toBe(DEFAULT_EPOCH + 180_000);
    expect(await readTicks(host)).toEqual({ exists: true, state: 6 });
  });

  it("reports an instance that can never finish instead of hanging", async () => {
    host = await startLocalHost({ entry: DURABLE_APP, env: { TICK_SCHEDULE: "0 0 0 1 1 *" }, hostJsonPath: null });
    const id = host.startNew("waitsForever");
    const error = await host
      .waitForInstance(id, { timeoutVirtualMs: 3600_000, stuckAfterWallMs: 200 })
      .catch((e: unknown) => e);
    expect((error as LocalHostError).code).toMatch(/^(STUCK|TIMEOUT)$/);
  });
});
