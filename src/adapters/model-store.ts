/**
 * Model stores in Blob storage. Contract: a model version lives under `<prefix><model>/<version>/`, and is complete
 * when its `manifest.json` exists (written last). A missing version is copied server-side (Copy Blob from URL, the
 * service does the transfer) from another region's store; the manifest is copied only after every other blob
 * finished, so a half-copied model is never mistaken for a complete one.
 */
import {
  BlobSASPermissions,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlobClient,
  type ContainerClient,
} from "@azure/storage-blob";
import type { ModelRef, ModelStatus, ModelStorePort } from "../activities/ports";
import type { ModelStore } from "../domain/topology";
import type { BlobAccounts } from "./blob-accounts";
import { toCutoverError } from "./rest-errors";

export const MODEL_MANIFEST = "manifest.json";

function folder(store: ModelStore, model: ModelRef): string {
  return `${store.prefix}${model.name}/${model.version}/`;
}

export class ModelStoreAdapter implements ModelStorePort {
  constructor(
    private readonly accounts: BlobAccounts,
    private readonly now: () => number,
  ) {}

  private container(store: ModelStore): ContainerClient {
    return this.accounts.service(store.accountUrl).getContainerClient(store.container);
  }

  async status(store: ModelStore, model: ModelRef): Promise<ModelStatus> {
    const container = this.container(store);
    const prefix = folder(store, model);
    try {
      if (await container.getBlobClient(prefix + MODEL_MANIFEST).exists()) return { kind: "present" };
      let pending = 0;
      let failed = 0;
      let total = 0;
      for await (const blob of container.listBlobsFlat({ prefix, includeCopy: true })) {
        total++;
        if (blob.properties.copyStatus === "pending") pending++;
        if (blob.properties.copyStatus === "failed" || blob.properties.copyStatus === "aborted") failed++;
      }
      if (failed > 0) return { kind: "failed", detail: `${failed} of ${total} blobs failed to copy` };
      if (total > 0)
        return {
          kind: "copying",
          detail: `${total - pending} of ${total} blobs copied${pending === 0 ? ", finalizing" : ""}`,
        };
      return { kind: "absent" };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return { kind: "absent" };
      throw toCutoverError(error, `read model store ${store.accountUrl}/${store.container}`);
    }
  }

  async beginCopy(source: ModelStore, target: ModelStore, model: ModelRef): Promise<void> {
    const from = this.container(source);
    const to = this.container(target);
    const sourcePrefix = folder(source, model);
    const targetPrefix = folder(target, model);
    try {
      await to.createIfNotExists();
      let allDone = true;
      let manifest: BlobClient | undefined;
      for await (const blob of from.listBlobsFlat({ prefix: sourcePrefix })) {
        const relative = blob.name.slice(sourcePrefix.length);
        const src = from.getBlobClient(blob.name);
        if (relative === MODEL_MANIFEST) {
          manifest = src;
          continue;
        }
        const dst = to.getBlobClient(targetPrefix + relative);
        const props = await dst.getProperties().catch(() => undefined);
        if (
          props?.copyStatus === "success" ||
          (props !== undefined &&
            props.copyStatus === undefined &&
            props.contentLength === blob.properties.contentLength)
        )
          continue;
        allDone = false;
        if (props?.copyStatus === "pending") continue;
        await dst.beginCopyFromURL(await this.readableUrl(src));
      }
      if (allDone && manifest !== undefined) {
        const dst = to.getBlockBlobClient(targetPrefix + MODEL_MANIFEST);
        const body = await manifest.downloadToBuffer();
        await dst.uploadData(body, { blobHTTPHeaders: { blobContentType: "application/json" } });
      }
    } catch (error) {
      throw toCutoverError(
        error,
        `copy ${model.name}@${model.version} from ${source.accountUrl} to ${target.accountUrl}`,
      );
    }
  }

  /** A URL the destination service can read: a short-lived read SAS (shared key locally, user delegation in Azure). */
  private async readableUrl(blob: BlobClient): Promise<string> {
    const credential = blob.credential;
    const expiresOn = new Date(this.now() + 2 * 3600_000);
    if (credential instanceof StorageSharedKeyCredential) {
      return blob.generateSasUrl({
        permissions: BlobSASPermissions.parse("r"),
        expiresOn,
        startsOn: new Date(this.now() - 5 * 60_000),
      });
    }
    const service = this.accounts.service(`${new URL(blob.url).origin}`);
    const startsOn = new Date(this.now() - 5 * 60_000);
    const key = await service.getUserDelegationKey(startsOn, expiresOn);
    const sas = generateBlobSASQueryParameters(
      {
        containerName: blob.containerName,
        blobName: blob.name,
        permissions: BlobSASPermissions.parse("r"),
        startsOn,
        expiresOn,
      },
      key,
      blob.accountName,
    );
    return `${blob.url}?${sas.toString()}`;
  }
}
