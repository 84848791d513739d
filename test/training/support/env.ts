/**
 * Shared set-up for the training tests: one Azurite per test file with the two checkpoint accounts of the example
 * topology's `pretrain` workload, the production adapters wired to it, and small helpers.
 */
import { InvocationContext } from "@azure/functions";
import { startAzurite, type Azurite } from "../../../local/azurite";
import { azuriteResolver, type AzuriteResolver } from "../../../local/training/azurite-resolver";
import { BlobCheckpointStore } from "../../../src/adapters/checkpoint-store";
import { BlobRunFence } from "../../../src/adapters/checkpoint-fence";
import type { CheckpointLocation } from "../../../src/domain/topology";

export const HUB_ACCOUNT = {
  name: "stckpteastus2",
  key: Buffer.from("cutover-test-key-eastus2-0123456789").toString("base64"),
};
export const SECONDARY_ACCOUNT = {
  name: "stckptwestus3",
  key: Buffer.from("cutover-test-key-westus3-0123456789").toString("base64"),
};

export function location(account: string, container: string, prefix = ""): CheckpointLocation {
  return { accountUrl: `https://${account}.blob.core.windows.net`, container, prefix };
}

export interface TrainingEnv {
  readonly azurite: Azurite;
  readonly resolver: AzuriteResolver;
  readonly store: BlobCheckpointStore;
  readonly fence: BlobRunFence;
}

export async function startTrainingEnv(): Promise<TrainingEnv> {
  const azurite = await startAzurite({ accounts: [HUB_ACCOUNT, SECONDARY_ACCOUNT] });
  const resolver = azuriteResolver({
    connectionStringFor: (account, key) => azurite.connectionStringFor(account, key),
    accounts: [HUB_ACCOUNT, SECONDARY_ACCOUNT],
  });
  return {
    azurite,
    resolver,
    store: new BlobCheckpointStore({ resolveContainer: resolver.resolve }),
    fence: new BlobRunFence({ resolveContainer: resolver.resolve }),
  };
}

export function invocationContext(name = "test"): InvocationContext {
  return new InvocationContext({ functionName: name, invocationId: `inv-${name}`, logHandler: () => undefined });
}

let counter = 0;
/** A fresh container per test so tests never see each other's blobs. */
export async function freshLocations(
  env: TrainingEnv,
  prefix = "runs",
): Promise<{ hub: CheckpointLocation; secondary: CheckpointLocation }> {
  counter += 1;
  const container = `ckpt-${process.pid}-${counter}`;
  const hub = location(HUB_ACCOUNT.name, container, prefix);
  const secondary = location(SECONDARY_ACCOUNT.name, container, prefix);
  await env.resolver.ensureContainers([hub, secondary]);
  return { hub, secondary };
}

/** Deterministic pseudo-random bytes (shard contents). */
export function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
