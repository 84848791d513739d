/**
 * Figures for streamed checkpoint hashing (prints, never asserts): writes one large shard to Azurite through the
 * reference writer's streaming upload, then validates it with the production adapter, sampling this process's
 * memory to show the shard never sits in memory. Run: `npx tsx local/training/bench-hash.ts [MiB]` (default 256).
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { startAzurite } from "../azurite";
import { BlobCheckpointStore } from "../../src/adapters/checkpoint-store";
import { judgeShardDigests, manifestSchema, stepPath } from "../../src/domain/checkpoint";
import { accountOf, azuriteResolver } from "./azurite-resolver";
import { CheckpointWriter } from "./checkpoint-writer";

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 256);
  const location = { accountUrl: "https://stckptbench.blob.core.windows.net", container: "checkpoints", prefix: "" };
  const account = { name: accountOf(location), key: randomBytes(32).toString("base64") };
  const azurite = await startAzurite({ accounts: [account] });
  try {
    const resolver = azuriteResolver({
      connectionStringFor: (a, k) => azurite.connectionStringFor(a, k),
      accounts: [account],
    });
    await resolver.ensureContainers([location]);
    const chunk = randomBytes(1024 * 1024);
    const source = (): Readable =>
      Readable.from(
        (function* () {
          for (let i = 0; i < mib; i++) yield chunk;
        })(),
      );
    let peakRss = 0;
    let peakHeap = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 20);
    const base = process.memoryUsage();

    const writer = new CheckpointWriter({
      resolveContainer: resolver.resolve,
      location,
      region: "bench",
      runId: "bench",
      epoch: 1,
    });
    let t = performance.now();
    const written = await writer.writeCheckpoint(1, [{ path: "big.bin", data: source }]);
    const writeMs = performance.now() - t;
    if (written.status !== "committed") throw new Error(JSON.stringify(written));

    const store = new BlobCheckpointStore({ resolveContainer: resolver.resolve });
    const facts = await store.readFacts(location, "bench", 1);
    const manifest = manifestSchema.parse(JSON.parse(facts.manifest!.text));
    t = performance.now();
    const digests = await store.hashShards(location, "bench", 1, manifest.shards);
    const hashMs = performance.now() - t;
    clearInterval(sampler);
    const verdict = judgeShardDigests(1, manifest.shards, digests);
    const out = {
      shardMiB: mib,
      blob: `${stepPath("", "bench", 1)}big.bin`,
      writeMiBps: Math.round((mib / writeMs) * 1000),
      hashMiBps: Math.round((mib / hashMs) * 1000),
      verdictOk: verdict.ok,
      baselineRssMiB: Math.round(base.rss / 2 ** 20),
      peakRssMiB: Math.round(peakRss / 2 ** 20),
      peakHeapUsedMiB: Math.round(peakHeap / 2 ** 20),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await azurite.stop();
  }
}

void main();
