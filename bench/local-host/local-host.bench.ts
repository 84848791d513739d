/**
 * Local-host benchmark (prints figures; asserts nothing). Run: `npm run bench:local-host`.
 * - throughput: orchestrations per second for a 10-activity fan-out (concurrent batch, and one at a time);
 * - virtual time: wall time to run one orchestration spanning 15 virtual minutes with 30 durable timers.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_EPOCH, VirtualClock } from "../../local/clock";
import { startLocalHost } from "../../local/host";

const ENTRY = join(__dirname, "app.ts");

async function main(): Promise<void> {
  const host = await startLocalHost({ entry: ENTRY, hostJsonPath: null, clock: new VirtualClock(DEFAULT_EPOCH) });
  try {
    // Warm-up (JIT, first episode).
    await host.waitForInstance(host.startNew("fanOut10"));

    const batch = 200;
    let t0 = performance.now();
    const ids = Array.from({ length: batch }, () => host.startNew("fanOut10"));
    await host.runUntilIdle();
    const batchMs = performance.now() - t0;
    const done = ids.filter((id) => host.getStatus(id)?.runtimeStatus === "Completed").length;

    const serial = 50;
    t0 = performance.now();
    for (let i = 0; i < serial; i++) await host.waitForInstance(host.startNew("fanOut10"));
    const serialMs = performance.now() - t0;

    const timerRuns: number[] = [];
    let virtualSpan = 0;
    for (let i = 0; i < 10; i++) {
      const start = host.clock.now();
      t0 = performance.now();
      const s = await host.waitForInstance(host.startNew("thirtyTimers"));
      timerRuns.push(performance.now() - t0);
      virtualSpan = Date.parse(String(s.output)) - start;
    }
    const inOrder = [...timerRuns];
    timerRuns.sort((a, b) => a - b);

    const lines = [
      `fan-out of 10 activities, ${batch} started at once: ${done}/${batch} completed in ${batchMs.toFixed(0)} ms -> ${((batch / batchMs) * 1000).toFixed(1)} orchestrations/s (${(((batch * 10) / batchMs) * 1000).toFixed(0)} activities/s)`,
      `fan-out of 10 activities, one at a time: ${serial} in ${serialMs.toFixed(0)} ms -> ${((serial / serialMs) * 1000).toFixed(1)} orchestrations/s`,
      `30 durable timers spanning ${(virtualSpan / 60_000).toFixed(1)} virtual minutes: wall per run ${inOrder.map((t) => t.toFixed(0)).join(", ")} ms (median ${timerRuns[Math.floor(timerRuns.length / 2)]!.toFixed(0)} ms)`,
    ];
    for (const l of lines) process.stdout.write(`${l}\n`);
  } finally {
    await host.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
