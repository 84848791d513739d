/**
 * Starts Azurite (the npm package) as a child process on loopback with ports chosen by the OS, and stops it.
 * Always with `--disableTelemetry` (our machines have no internet and nothing may try to reach it) and
 * `--skipApiVersionCheck` (storage-blob 12.32 sends a newer x-ms-version than Azurite 3.35 knows).
 * See ../shared/reference/local-testing-feasibility.md §6.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DEV_ACCOUNT = "devstoreaccount1";
export const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteOptions {
  /** Keep data in memory (default) or in this folder. */
  readonly location?: string;
  /** Extra accounts as `name:key` pairs, besides devstoreaccount1 (AZURITE_ACCOUNTS). */
  readonly accounts?: ReadonlyArray<{ readonly name: string; readonly key: string }>;
  /** Milliseconds to wait for the three services to listen (real time). Default 30 s. */
  readonly startTimeoutMs?: number;
}

export interface Azurite {
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  readonly tableEndpoint: string;
  /** Connection string for devstoreaccount1. */
  readonly connectionString: string;
  connectionStringFor(account: string, key: string): string;
  stop(): Promise<void>;
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const bin = require.resolve("azurite/dist/src/azurite.js");
  const args = [
    bin,
    "--silent",
    "--disableTelemetry",
    "--skipApiVersionCheck",
    "--loose",
    "--blobHost",
    "127.0.0.1",
    "--blobPort",
    "0",
    "--queueHost",
    "127.0.0.1",
    "--queuePort",
    "0",
    "--tableHost",
    "127.0.0.1",
    "--tablePort",
    "0",
    ...(options.location === undefined ? ["--inMemoryPersistence"] : ["--location", options.location]),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (options.accounts !== undefined && options.accounts.length > 0) {
    env.AZURITE_ACCOUNTS = [{ name: DEV_ACCOUNT, key: DEV_KEY }, ...options.accounts]
      .map((a) => `${a.name}:${a.key}`)
      .join(";");
  }
  // Azurite writes a debug log and its metadata next to the working directory unless told otherwise.
  const cwd = mkdtempSync(join(tmpdir(), "cutover-azurite-"));
  const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  const ports = await waitForPorts(child, options.startTimeoutMs ?? 30_000);
  const blob = `http://127.0.0.1:${ports.blob}`;
  const queue = `http://127.0.0.1:${ports.queue}`;
  const table = `http://127.0.0.1:${ports.table}`;
  const connectionStringFor = (account: string, key: string): string =>
    `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};BlobEndpoint=${blob}/${account};QueueEndpoint=${queue}/${account};TableEndpoint=${table}/${account};`;
  return {
    blobEndpoint: `${blob}/${DEV_ACCOUNT}`,
    queueEndpoint: `${queue}/${DEV_ACCOUNT}`,
    tableEndpoint: `${table}/${DEV_ACCOUNT}`,
    connectionString: connectionStringFor(DEV_ACCOUNT, DEV_KEY),
    connectionStringFor,
    stop: () => stopChild(child),
  };
}

function waitForPorts(child: ChildProcess, timeoutMs: number): Promise<{ blob: number; queue: number; table: number }> {
  return new Promise((resolve, reject) => {
    const found: Partial<Record<"blob" | "queue" | "table", number>> = {};
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Azurite did not start within ${timeoutMs} ms. Output:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const m of output.matchAll(
        /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/g,
      )) {
        found[m[1]!.toLowerCase() as "blob" | "queue" | "table"] = Number(m[2]);
      }
      if (found.blob !== undefined && found.queue !== undefined && found.table !== undefined) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve({ blob: found.blob, queue: found.queue, table: found.table });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited early with code ${String(code)}. Output:\n${output}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
