/**
 * Composition root: the one place that reads settings and builds what the functions need (config → credential →
 * clients → adapters → activities). Everything is built lazily and cached per process, so a cold start pays only for
 * what the first invocation uses.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import type { InvocationContext } from "@azure/functions";
import { TableClient } from "@azure/data-tables";
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import { BlobServiceClient } from "@azure/storage-blob";
import { createFailoverActivities } from "./activities/failover";
import { createTrainingActivities, type TrainingActivities } from "./activities/training";
import { AmlTrainingJobs } from "./adapters/aml-jobs";
import { BlobRunFence } from "./adapters/checkpoint-fence";
import { BlobCheckpointStore } from "./adapters/checkpoint-store";
import type { FailoverPorts } from "./activities/ports";
import { AksPoolsAdapter } from "./adapters/aks-pools";
import { AzureClients } from "./adapters/azure-clients";
import { BlobAccounts } from "./adapters/blob-accounts";
import { ControlStore } from "./adapters/control-store";
import { EndpointAdapter } from "./adapters/endpoints";
import { FrontDoorAdapter } from "./adapters/front-door";
import { KubeNodesAdapter } from "./adapters/kube-nodes";
import { ModelStoreAdapter } from "./adapters/model-store";
import { MonitorAdapter, readGpuReadiness, type GpuReadiness } from "./adapters/monitor";
import { ALERT_TABLE, STATE_CONTAINER, StateStore } from "./adapters/state-store";
import { readSettings, type SettingsResult } from "./config/settings";
import { formatProblem, loadTopologyFile, type TopologyLoadResult } from "./config/topology-loader";
import { parseBreakerConfig, type BreakerConfigInput } from "./domain/circuit-breaker";
import { CutoverError } from "./domain/errors";
import type { Topology } from "./domain/topology";

/** Azurite's published development key (not a secret); every local account uses it. */
const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/**
 * Clock seam for the in-process local host: when it sets `globalThis[Symbol.for("cutover.clock")]` to an object
 * with `now()`, activities and HTTP handlers read its virtual time, so their records line up with the orchestrations'
 * `currentUtcDateTime`. In Azure nothing sets it and the real clock is used.
 */
export const CLOCK_SYMBOL = Symbol.for("cutover.clock");

/**
 * Local simulation seam: when the simulate runner sets `globalThis[Symbol.for("cutover.localStorageReachable")]` to
 * `(account) => boolean`, storage accounts mapped to Azurite refuse connections while it returns false (the
 * simulator's regional outages). Consulted only with CUTOVER_LOCAL_BLOB_ORIGIN.
 */
export const STORAGE_REACHABLE_SYMBOL = Symbol.for("cutover.localStorageReachable");

function localStorageReachable(account: string): boolean {
  const fn = (globalThis as Record<symbol, ((account: string) => boolean) | undefined>)[STORAGE_REACHABLE_SYMBOL];
  return fn === undefined ? true : fn(account);
}

export function now(): number {
  const clock = (globalThis as Record<symbol, { now(): number } | undefined>)[CLOCK_SYMBOL];
  return clock === undefined ? Date.now() : clock.now();
}

let settingsCache: SettingsResult | undefined;
const topologyCache = new Map<string, Promise<TopologyLoadResult>>();
let runtimeCache: Promise<Runtime> | undefined;

export function settings(): SettingsResult {
  settingsCache ??= readSettings(process.env);
  return settingsCache;
}

/** Where the topology comes from, or why it cannot be found. */
export function topologyPath():
  { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string } {
  const s = settings();
  if (!s.ok) return { ok: false, reason: s.problems.map((p) => `${p.name}: ${p.message}`).join("; ") };
  const configured = s.values.CUTOVER_TOPOLOGY_PATH;
  if (configured === undefined) return { ok: false, reason: "CUTOVER_TOPOLOGY_PATH is not set" };
  return { ok: true, path: isAbsolute(configured) ? configured : resolve(process.cwd(), configured) };
}

/** Loads (once per path) and returns the topology named by CUTOVER_TOPOLOGY_PATH. */
export function loadTopology(): Promise<TopologyLoadResult> | { readonly ok: false; readonly reason: string } {
  const where = topologyPath();
  if (!where.ok) return where;
  let pending = topologyCache.get(where.path);
  if (pending === undefined) {
    pending = loadTopologyFile(where.path);
    topologyCache.set(where.path, pending);
  }
  return pending;
}

export async function requireTopology(): Promise<Topology> {
  const pending = loadTopology();
  const result = "then" in pending ? await pending : pending;
  if (result.ok) return result.topology;
  throw new CutoverError(
    "INVALID_CONFIG",
    "problems" in result
      ? `topology ${result.source}: ${result.problems.map(formatProblem).join("; ")}`
      : result.reason,
  );
}

export interface Runtime {
  readonly topology: Topology;
  readonly state: StateStore;
  readonly ports: FailoverPorts;
  readonly activities: Record<string, (input: unknown, context: InvocationContext) => Promise<unknown>>;
  readonly trainingActivities: TrainingActivities;
  readonly cooldownSeconds: number;
  readonly pollSeconds: number;
  readonly confirmAlerts: boolean;
  /** Shifts and practice logs (compare-and-swap blobs). */
  readonly control: ControlStore;
  /** Health probes, breakers and failback (issue #6). */
  readonly health: HealthSettings;
}

/** What the probe timer, the breakers and the failback check are configured with. */
export interface HealthSettings {
  readonly mode: "act" | "observe" | "off";
  readonly vantages: ReadonlyArray<string>;
  readonly quorum: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** Validated configuration inputs of the workload-region and zone breakers (entities parse them again). */
  readonly regionBreaker: BreakerConfigInput;
  readonly zoneBreaker: BreakerConfigInput;
  readonly failback: {
    readonly mode: "auto" | "off";
    readonly soakSeconds: number;
    readonly holdSeconds: number;
    readonly approval: "before-start" | "every-step" | "none";
  };
  /** GPU readiness of a cluster from Azure Monitor (`gpu_ready_nodes`). */
  readonly gpuReadiness: (
    subscriptionId: string,
    cluster: { readonly resourceGroup: string; readonly name: string },
    region: string,
  ) => Promise<GpuReadiness | undefined>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `override` over `base`, recursively for plain objects (arrays and scalars replace). */
function merge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? merge(b, v) : v;
  }
  return out;
}

/**
 * Breaker configurations. Workload-region breakers judge probes from the configured vantages (N of M); the window
 * holds at least 20 entries per vantage (3 min at 10 s is 18). Zone breakers judge one GPU-readiness point per minute
 * from Azure Monitor: 2 bad points in a row open, within a 5-minute window. `CUTOVER_BREAKER_CONFIG` overrides the
 * regional one; both are validated here so that a bad setting fails the app's start, not a probe round.
 */
export function breakerConfigs(
  vantages: ReadonlyArray<string>,
  quorum: number,
  override: unknown,
): { region: BreakerConfigInput; zone: BreakerConfigInput } {
  if (override !== undefined && !isRecord(override))
    throw new CutoverError("INVALID_CONFIG", "CUTOVER_BREAKER_CONFIG: expected a JSON object");
  const region = merge(
    {
      window: { maxEntries: Math.max(60, 20 * vantages.length) },
      quorum: { required: quorum, vantages: [...vantages] },
    },
    override ?? {},
  ) as BreakerConfigInput;
  const zone: BreakerConfigInput = {
    window: { durationMs: 300_000, maxEntries: 30 },
    consecutiveFailures: 2,
    minimumCalls: 3,
    quorum: { required: 1, vantages: [] },
  };
  parseBreakerConfig(region);
  parseBreakerConfig(zone);
  return { region, zone };
}

function isLoopback(url: string | undefined): boolean {
  if (url === undefined) return false;
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

/** A fixed token, for the local Azure simulator only (refused unless every Azure endpoint is loopback). */
class SimulatorCredential implements TokenCredential {
  getToken(): Promise<AccessToken> {
    return Promise.resolve({ token: "cutover-simulator-token", expiresOnTimestamp: Date.now() + 3600_000 });
  }
}

async function build(): Promise<Runtime> {
  const s = settings();
  if (!s.ok) throw new CutoverError("INVALID_CONFIG", s.problems.map((p) => `${p.name}: ${p.message}`).join("; "));
  const v = s.values;
  const topology = await requireTopology();
  const mode = v.CUTOVER_CREDENTIAL ?? "managed-identity";
  let credential: TokenCredential;
  if (mode === "simulator") {
    if (!isLoopback(v.CUTOVER_ARM_ENDPOINT))
      throw new CutoverError(
        "INVALID_CONFIG",
        "CUTOVER_CREDENTIAL=simulator needs CUTOVER_ARM_ENDPOINT on loopback (127.0.0.1)",
      );
    credential = new SimulatorCredential();
  } else if (mode === "default") credential = new DefaultAzureCredential();
  else
    credential =
      v.AZURE_CLIENT_ID === undefined
        ? new ManagedIdentityCredential()
        : new ManagedIdentityCredential({ clientId: v.AZURE_CLIENT_ID });

  const simulation = v.CUTOVER_LOCAL_SIMULATION === true;
  const caPem = v.CUTOVER_TLS_CA_FILE === undefined ? undefined : readFileSync(v.CUTOVER_TLS_CA_FILE, "utf8");
  const clients = new AzureClients({
    credential,
    ...(v.CUTOVER_ARM_ENDPOINT === undefined ? {} : { armEndpoint: v.CUTOVER_ARM_ENDPOINT }),
    ...(v.CUTOVER_METRICS_ENDPOINT === undefined ? {} : { metricsEndpoint: v.CUTOVER_METRICS_ENDPOINT }),
    ...(v.CUTOVER_LOGS_ENDPOINT === undefined ? {} : { logsEndpoint: v.CUTOVER_LOGS_ENDPOINT }),
    ...(caPem === undefined ? {} : { caPem }),
    now,
    // In simulation the runbook retries in virtual time (honouring Retry-After); SDK sleeps would be wall time.
    ...(simulation ? { retryOptions: { maxRetries: 0 } } : {}),
  });
  const updateIntervalInMs = simulation ? 5 : 2000;

  let container;
  let table: TableClient;
  if (v.CUTOVER_STATE_CONNECTION_STRING !== undefined) {
    container = BlobServiceClient.fromConnectionString(v.CUTOVER_STATE_CONNECTION_STRING).getContainerClient(
      STATE_CONTAINER,
    );
    table = TableClient.fromConnectionString(v.CUTOVER_STATE_CONNECTION_STRING, ALERT_TABLE, {
      allowInsecureConnection: true,
    });
  } else if (v.CUTOVER_STATE_ACCOUNT_URL !== undefined) {
    container = new BlobServiceClient(v.CUTOVER_STATE_ACCOUNT_URL, credential).getContainerClient(STATE_CONTAINER);
    const tableUrl = v.CUTOVER_STATE_ACCOUNT_URL.replace(".blob.", ".table.");
    table = new TableClient(tableUrl, ALERT_TABLE, credential);
  } else {
    throw new CutoverError(
      "INVALID_CONFIG",
      "set CUTOVER_STATE_ACCOUNT_URL (Azure) or CUTOVER_STATE_CONNECTION_STRING (local)",
    );
  }
  const state = new StateStore(container, table);
  const accounts = new BlobAccounts({
    credential,
    ...(v.CUTOVER_LOCAL_BLOB_ORIGIN === undefined
      ? {}
      : { local: { origin: v.CUTOVER_LOCAL_BLOB_ORIGIN, key: AZURITE_KEY, reachable: localStorageReachable } }),
  });
  const ports: FailoverPorts = {
    pools: new AksPoolsAdapter(clients, updateIntervalInMs),
    nodes: new KubeNodesAdapter(clients, { timeoutMs: simulation ? 2000 : 5000 }),
    frontDoor: new FrontDoorAdapter(clients, updateIntervalInMs),
    gates: state,
    models: new ModelStoreAdapter(accounts, now),
    endpoints: new EndpointAdapter({ timeoutMs: simulation ? 2000 : 5000 }),
    metrics: new MonitorAdapter(clients, now),
    reports: state,
    now,
  };
  const resolveContainer = (location: { accountUrl: string; container: string }) =>
    accounts.service(location.accountUrl).getContainerClient(location.container);
  const trainingActivities = createTrainingActivities({
    checkpoints: new BlobCheckpointStore({ resolveContainer }),
    fence: new BlobRunFence({ resolveContainer }),
    jobs: new AmlTrainingJobs({
      credential,
      clientOptions: {
        ...(v.CUTOVER_ARM_ENDPOINT === undefined ? {} : { endpoint: v.CUTOVER_ARM_ENDPOINT }),
        ...(caPem === undefined ? {} : { tlsOptions: { ca: caPem } }),
        ...(simulation ? { retryOptions: { maxRetries: 0 } } : {}),
      },
      updateIntervalInMs,
    }),
  });
  const vantages = v.CUTOVER_PROBE_VANTAGES ?? [
    process.env["REGION_NAME"]?.replace(/[^A-Za-z0-9._:-]/g, "") || "cutover",
  ];
  const quorum = v.CUTOVER_PROBE_QUORUM ?? 1;
  if (quorum > vantages.length)
    throw new CutoverError(
      "INVALID_CONFIG",
      `CUTOVER_PROBE_QUORUM: ${quorum} exceeds the ${vantages.length} vantage(s) in CUTOVER_PROBE_VANTAGES`,
    );
  const breakers = breakerConfigs(vantages, quorum, v.CUTOVER_BREAKER_CONFIG);
  return {
    topology,
    state,
    ports,
    activities: createFailoverActivities(ports),
    trainingActivities,
    cooldownSeconds: v.CUTOVER_AUTO_COOLDOWN_SECONDS ?? 1800,
    pollSeconds: v.CUTOVER_POLL_INTERVAL_SECONDS ?? 15,
    confirmAlerts: v.CUTOVER_ALERT_CONFIRM ?? false,
    control: new ControlStore(container),
    health: {
      mode: v.CUTOVER_PROBE_MODE ?? "act",
      vantages,
      quorum,
      timeoutMs: v.CUTOVER_PROBE_TIMEOUT_MS ?? 3000,
      concurrency: v.CUTOVER_PROBE_CONCURRENCY ?? 16,
      regionBreaker: breakers.region,
      zoneBreaker: breakers.zone,
      failback: {
        mode: v.CUTOVER_FAILBACK_MODE ?? "auto",
        soakSeconds: v.CUTOVER_FAILBACK_SOAK_SECONDS ?? 1800,
        holdSeconds: v.CUTOVER_FAILBACK_HOLD_SECONDS ?? 300,
        approval: v.CUTOVER_FAILBACK_APPROVAL ?? "before-start",
      },
      gpuReadiness: (subscriptionId, cluster, region) =>
        readGpuReadiness(clients, now, subscriptionId, cluster, region),
    },
  };
}

/** The process-wide runtime, built on first use. A failed build is not cached, so a fixed setting takes effect. */
export function runtime(): Promise<Runtime> {
  runtimeCache ??= build().catch((error: unknown) => {
    runtimeCache = undefined;
    throw error;
  });
  return runtimeCache;
}

/** Forgets cached settings, topology and clients (tests, and a host that reloads the app). */
export function resetComposition(): void {
  settingsCache = undefined;
  topologyCache.clear();
  runtimeCache = undefined;
}
