/**
 * Maps checkpoint locations of a topology (`https://<account>.blob.core.windows.net`) onto accounts of a local
 * Azurite, so the production adapters run unchanged against real Blob semantics (ETags, conditions, listings).
 * An account can be marked unreachable to model a regional storage outage: its requests then fail at once with a
 * connection error, as they would against a dark region (no retries, so tests stay fast).
 */
import { BlobServiceClient, type ContainerClient, type IHttpClient } from "@azure/storage-blob";
import type { CheckpointLocation } from "../../src/domain/topology";
import type { ContainerResolver } from "../../src/adapters/checkpoint-store";

export interface AzuriteAccount {
  readonly name: string;
  readonly key: string;
}

export interface AzuriteResolverOptions {
  readonly connectionStringFor: (account: string, key: string) => string;
  readonly accounts: ReadonlyArray<AzuriteAccount>;
}

export interface AzuriteResolver {
  readonly resolve: ContainerResolver;
  setReachable(account: string, reachable: boolean): void;
  /** Creates every location's container if missing. */
  ensureContainers(locations: ReadonlyArray<CheckpointLocation>): Promise<void>;
}

/** The storage account name of a location: the first label of the account URL's host. */
export function accountOf(location: CheckpointLocation): string {
  const host = new URL(location.accountUrl).hostname;
  return host.split(".")[0] ?? host;
}

const refusing: IHttpClient = {
  sendRequest: () =>
    Promise.reject(
      Object.assign(new Error("connect ECONNREFUSED (simulated regional outage)"), {
        name: "RestError",
        code: "ECONNREFUSED",
      }),
    ),
};

export function azuriteResolver(options: AzuriteResolverOptions): AzuriteResolver {
  const keys = new Map(options.accounts.map((a) => [a.name, a.key]));
  const down = new Set<string>();
  const services = new Map<string, BlobServiceClient>();
  const service = (account: string): BlobServiceClient => {
    const key = keys.get(account);
    if (key === undefined)
      throw new Error(`[INVALID_CONFIG] no Azurite account ${account} (known: ${[...keys.keys()].join(", ")})`);
    const cacheKey = `${account}|${down.has(account) ? "down" : "up"}`;
    let s = services.get(cacheKey);
    if (s === undefined) {
      s = BlobServiceClient.fromConnectionString(options.connectionStringFor(account, key), {
        retryOptions: { maxTries: down.has(account) ? 1 : 3, retryDelayInMs: 20, maxRetryDelayInMs: 200 },
        ...(down.has(account) ? { httpClient: refusing } : {}),
      });
      services.set(cacheKey, s);
    }
    return s;
  };
  const resolve = (location: CheckpointLocation): ContainerClient =>
    service(accountOf(location)).getContainerClient(location.container);
  return {
    resolve,
    setReachable(account, reachable) {
      if (reachable) down.delete(account);
      else down.add(account);
    },
    async ensureContainers(locations) {
      for (const location of locations) await resolve(location).createIfNotExists();
    },
  };
}
