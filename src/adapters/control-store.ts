/**
 * Cutover's control documents in its state account (the same `cutover` container as gates, claims and reports): the
 * active shift per workload and the practice-run log per workload, each one small JSON blob written with etag
 * compare-and-swap, so that concurrent writers (HTTP handlers, timers, several instances) never lose an update; and a
 * listing of the scope claims (written by the state store) for the failback check.
 */
import { RestError } from "@azure/core-rest-pipeline";
import type { ContainerClient } from "@azure/storage-blob";
import { CutoverError } from "../domain/errors";
import type { Zone } from "../domain/topology";
import { toCutoverError } from "./rest-errors";
import type { ScopeClaim } from "./state-store";

export interface Versioned<T> {
  readonly value: T;
  readonly etag: string;
}

export interface ClaimEntry {
  readonly workload: string;
  readonly region: string;
  readonly zone?: Zone;
  readonly claim: ScopeClaim;
}

function segment(value: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(value))
    throw new CutoverError("INVALID_INPUT", `unsafe name segment ${JSON.stringify(value)}`);
  return value;
}

async function text(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (stream === undefined) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

export class ControlStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly container: ContainerClient) {}

  private init(): Promise<void> {
    this.ready ??= this.container
      .createIfNotExists()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.ready = undefined;
        throw toCutoverError(error, "initialise the control store");
      });
    return this.ready;
  }

  private async read<T>(name: string): Promise<Versioned<T> | undefined> {
    await this.init();
    try {
      const response = await this.container.getBlobClient(name).download();
      return { value: JSON.parse(await text(response.readableStreamBody)) as T, etag: response.etag ?? "" };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw toCutoverError(error, `read ${name}`);
    }
  }

  /** Writes only if the blob still has `etag` (or, with none, does not exist yet). False: someone else won. */
  private async write(name: string, value: unknown, etag: string | undefined): Promise<boolean> {
    await this.init();
    const body = JSON.stringify(value);
    try {
      await this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
        blobHTTPHeaders: { blobContentType: "application/json" },
        conditions: etag === undefined ? { ifNoneMatch: "*" } : { ifMatch: etag },
      });
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return false;
      throw toCutoverError(error, `write ${name}`);
    }
  }

  readShift(workload: string): Promise<Versioned<unknown> | undefined> {
    return this.read(`shifts/${segment(workload)}.json`);
  }

  writeShift(workload: string, state: unknown, etag: string | undefined): Promise<boolean> {
    return this.write(`shifts/${segment(workload)}.json`, state, etag);
  }

  readPractice(workload: string): Promise<Versioned<unknown> | undefined> {
    return this.read(`practice/${segment(workload)}.json`);
  }

  writePractice(workload: string, log: unknown, etag: string | undefined): Promise<boolean> {
    return this.write(`practice/${segment(workload)}.json`, log, etag);
  }

  /** Every scope claim (`claims/<workload>/<region>/<zone|all>.json`), for the failback check. */
  async listClaims(): Promise<ClaimEntry[]> {
    await this.init();
    const out: ClaimEntry[] = [];
    try {
      for await (const blob of this.container.listBlobsFlat({ prefix: "claims/" })) {
        const m = /^claims\/([^/]+)\/([^/]+)\/([^/]+)\.json$/.exec(blob.name);
        if (m === null) continue;
        const found = await this.read<ScopeClaim>(blob.name);
        if (found === undefined) continue;
        const zone = m[3] === "all" ? undefined : (m[3] as Zone);
        out.push({
          workload: m[1] as string,
          region: m[2] as string,
          ...(zone === undefined ? {} : { zone }),
          claim: found.value,
        });
      }
    } catch (error) {
      throw toCutoverError(error, "list claims");
    }
    return out;
  }
}
