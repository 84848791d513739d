/**
 * Blob service clients for the storage accounts the topology names (model stores, checkpoint stores) and for
 * Cutover's own state account. In Azure every account is reached at its URL with the managed identity. Locally,
 * `CUTOVER_LOCAL_BLOB_ORIGIN` maps each account to the Azurite account of the same name (Azurite serves several
 * accounts at `<origin>/<account>`), authenticated with the given key.
 */
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient, StorageSharedKeyCredential, type IHttpClient } from "@azure/storage-blob";
import { CutoverError } from "../domain/errors";

export interface BlobAccountsOptions {
  readonly credential: TokenCredential;
  /**
   * Local only: Azurite blob origin (e.g. http://127.0.0.1:10000) and the key every local account uses; and, for the
   * simulator, whether an account is reachable now (a regional outage makes its region's accounts refuse connections).
   */
  readonly local?: { readonly origin: string; readonly key: string; readonly reachable?: (account: string) => boolean };
}

/** An HTTP client that refuses every connection: an account the local simulation says is down. */
function refusing(account: string): IHttpClient {
  return {
    sendRequest: () =>
      Promise.reject(
        Object.assign(new Error(`connect ECONNREFUSED: storage account ${account} is unreachable (simulated outage)`), {
          code: "ECONNREFUSED",
        }),
      ),
  };
}

export function accountNameOf(accountUrl: string): string {
  const url = new URL(accountUrl);
  const host = url.hostname;
  // https://<account>.blob.core.windows.net, or http://127.0.0.1:10000/<account> (Azurite path style)
  if (host === "127.0.0.1" || host === "localhost") {
    const first = url.pathname.split("/").find((p) => p !== "");
    if (first === undefined) throw new CutoverError("INVALID_CONFIG", `no account name in ${accountUrl}`);
    return first;
  }
  const name = host.split(".")[0];
  if (name === undefined || name === "") throw new CutoverError("INVALID_CONFIG", `no account name in ${accountUrl}`);
  return name;
}

export class BlobAccounts {
  private readonly cache = new Map<string, BlobServiceClient>();

  constructor(private readonly options: BlobAccountsOptions) {}

  /** The client for an account. Call it per operation: locally, an account's reachability can change. */
  service(accountUrl: string): BlobServiceClient {
    const local = this.options.local;
    const name = local === undefined ? "" : accountNameOf(accountUrl);
    const down = local?.reachable !== undefined && !local.reachable(name);
    const key = `${accountUrl}|${down ? "down" : "up"}`;
    let client = this.cache.get(key);
    if (client === undefined) {
      if (local !== undefined) {
        client = new BlobServiceClient(
          `${local.origin.replace(/\/$/, "")}/${name}`,
          new StorageSharedKeyCredential(name, local.key),
          {
            retryOptions: { maxTries: down ? 1 : 2, retryDelayInMs: 20, maxRetryDelayInMs: 200 },
            ...(down ? { httpClient: refusing(name) } : {}),
          },
        );
      } else {
        client = new BlobServiceClient(accountUrl, this.options.credential);
      }
      this.cache.set(key, client);
    }
    return client;
  }
}
