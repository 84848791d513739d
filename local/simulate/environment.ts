/**
 * A whole Cutover world on one machine and one virtual clock: real Azurite (the app's state account, the model
 * stores and checkpoint stores of the topology, each an Azurite account), the Azure simulator seeded from a scenario
 * (ARM, Monitor, Front Door data plane, inference endpoints, alerts), and the app itself — its own registered
 * functions — in the in-process local host, wired to both exactly as it would be to Azure: alerts arrive at
 * `POST /api/alerts`, origins poll `GET /api/gates/...`, activities call ARM through the real SDK clients.
 *
 * Used by `cutover simulate`, `cutover dev --scenario`, the end-to-end tests and `bench/rto`. Never deployed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { stringify } from "yaml";
import { DEV_KEY, startAzurite, type Azurite, type AzuriteOptions } from "../azurite";
import { VirtualClock } from "../clock";
import { MemoryHistoryStore, startLocalHost, type AppEntry, type HistoryStore, type LocalHost } from "../host";
import { loadScenarioOrThrow, type LoadedScenario } from "../sim/scenario";
import { startSimulator, type Simulator } from "../sim/simulator";
import { seedEvents, seedTrainingRun } from "../training/training-scenario";
import { accountNameOf } from "../../src/adapters/blob-accounts";
import { MODEL_MANIFEST } from "../../src/adapters/model-store";
import { CLOCK_SYMBOL, STORAGE_REACHABLE_SYMBOL, resetComposition } from "../../src/composition";
import type { CheckpointLocation, ModelStore, Topology } from "../../src/domain/topology";

export interface SimulationOptions {
  /** A scenario file path, or a loaded scenario. */
  readonly scenario: string | LoadedScenario;
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  /** The app: compiled `dist/src/index.js` for the CLI, `src/index.ts` (or a thunk) under vitest. */
  readonly entry: AppEntry;
  /** Seconds between polls inside runbooks (virtual). Default 5. */
  readonly pollSeconds?: number;
  /** Extra app settings (tests). */
  readonly env?: Readonly<Record<string, string>>;
  /** Histories survive a host restart when the same store is passed again (crash tests). */
  readonly store?: HistoryStore;
  /** Seconds between ground-truth samples (virtual). Default 5. */
  readonly sampleSeconds?: number;
  /**
   * Starts the Azurite the simulation uses: a new one per simulation by default; a long-lived process running many
   * simulations passes an `AzuritePool`'s `acquire` (./azurite-pool.ts), which hands out the same one emptied.
   */
  readonly azurite?: (options: AzuriteOptions) => Promise<Azurite>;
  /** Loopback port of the app (0: any free port, the default). */
  readonly port?: number;
  /** Function key the app accepts (random by default). */
  readonly functionKey?: string;
}

export interface GroundTruthSample {
  /** Virtual epoch ms. */
  readonly at: number;
  readonly served: Readonly<Record<string, number>>;
}

/** Azurite's published development key: every local account uses it (it is not a secret). */
export const LOCAL_ACCOUNT_KEY = DEV_KEY;

function storageLocations(topology: Topology): Array<{ region: string; location: ModelStore | CheckpointLocation }> {
  const out: Array<{ region: string; location: ModelStore | CheckpointLocation }> = [];
  for (const w of topology.workloads)
    for (const [region, entry] of Object.entries(w.regions)) {
      if (entry.modelStore !== undefined) out.push({ region, location: entry.modelStore });
      if (entry.checkpoints !== undefined) out.push({ region, location: entry.checkpoints });
    }
  return out;
}

export class Simulation {
  readonly samples: GroundTruthSample[] = [];
  #host: LocalHost;
  #stopped = false;
  readonly #cleanup: Array<() => Promise<void> | void>;

  constructor(
    readonly loaded: LoadedScenario,
    readonly clock: VirtualClock,
    readonly sim: Simulator,
    readonly azurite: Azurite,
    host: LocalHost,
    readonly store: HistoryStore,
    readonly env: Readonly<Record<string, string>>,
    private readonly entry: AppEntry,
    cleanup: Array<() => Promise<void> | void>,
  ) {
    this.#host = host;
    this.#cleanup = cleanup;
  }

  get host(): LocalHost {
    return this.#host;
  }

  /** Virtual epoch ms at which the scenario started (fault times are relative to it). */
  get startedAt(): number {
    return this.sim.world.startedAt;
  }

  /** Calls an app route with the function key; returns status and parsed JSON. */
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = `${this.#host.baseUrl}${path}${path.includes("?") ? "&" : "?"}code=${encodeURIComponent(this.#host.functionKey)}`;
    const response = await fetch(url, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await response.text();
    return { status: response.status, json: parseOrText(text) };
  }

  /**
   * Runs the world until `done()` holds (checked after every chunk of virtual time) or `maxVirtualMs` passes.
   * Everything due inside a chunk runs in order; HTTP calls, activities and webhooks finish before time moves on.
   */
  async runUntil(
    done: () => boolean | Promise<boolean>,
    options: { maxVirtualMs: number; chunkMs?: number },
  ): Promise<boolean> {
    const deadline = this.clock.now() + options.maxVirtualMs;
    const chunk = options.chunkMs ?? 15_000;
    for (;;) {
      if (await done()) return true;
      if (this.clock.now() >= deadline) return false;
      await this.#host.runUntilIdle({ advanceTimers: true, until: Math.min(deadline, this.clock.now() + chunk) });
    }
  }

  /** Stops the host abruptly and starts a new one over the same store, clock and world (a crash and restart). */
  async restartHost(): Promise<void> {
    await this.#host.stop();
    this.#host = await startApp(this.entry, this.clock, this.store, this.env);
    this.wire();
  }

  /** Points the simulator's alert webhook and origin gates at the (current) host. */
  wire(): void {
    this.sim.setAlertWebhook(`${this.#host.baseUrl}/api/alerts?code=${encodeURIComponent(this.#host.functionKey)}`);
    this.sim.setGateSource({ urlTemplate: `${this.#host.baseUrl}/api/gates/{workload}/{region}` });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const errors: unknown[] = [];
    for (const step of [() => this.#host.stop(), ...this.#cleanup]) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  }
}

function parseOrText(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface AppOptions {
  readonly port?: number | undefined;
  readonly functionKey?: string | undefined;
}

async function startApp(
  entry: AppEntry,
  clock: VirtualClock,
  store: HistoryStore,
  env: Readonly<Record<string, string>>,
  options: AppOptions = {},
): Promise<LocalHost> {
  return startLocalHost({
    entry,
    clock,
    store,
    env,
    beforeLoad: () => resetComposition(),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.functionKey === undefined ? {} : { functionKey: options.functionKey }),
  });
}

/** Resolves a scenario name (`zone-outage`) to the shipped file, or takes a path as is. */
export function scenarioPath(nameOrPath: string, examplesDir: string): string {
  return /[/\\]|\.ya?ml$/.test(nameOrPath) ? nameOrPath : join(examplesDir, "scenarios", `${nameOrPath}.yaml`);
}

export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  let loaded = typeof options.scenario === "string" ? await loadScenarioOrThrow(options.scenario) : options.scenario;
  if (options.seed !== undefined) loaded = { ...loaded, scenario: { ...loaded.scenario, seed: options.seed } };
  const cleanup: Array<() => Promise<void> | void> = [];
  const globals = globalThis as Record<symbol, unknown>;
  try {
    // Storage: one Azurite, one account per storage account the topology names (all with the development key).
    const locations = storageLocations(loaded.topology);
    const accountNames = [...new Set(locations.map((l) => accountNameOf(l.location.accountUrl)))];
    const azurite = await (options.azurite ?? startAzurite)({
      accounts: accountNames.map((name) => ({ name, key: LOCAL_ACCOUNT_KEY })),
    });
    cleanup.unshift(() => azurite.stop());
    const blobOrigin = new URL(azurite.blobEndpoint).origin;
    const service = (accountUrl: string): BlobServiceClient => {
      const name = accountNameOf(accountUrl);
      return new BlobServiceClient(`${blobOrigin}/${name}`, new StorageSharedKeyCredential(name, LOCAL_ACCOUNT_KEY));
    };
    for (const { location } of locations)
      await service(location.accountUrl).getContainerClient(location.container).createIfNotExists();

    const clock = new VirtualClock();
    const start = clock.now();
    await seedModelStores(loaded, service);
    for (const w of loaded.topology.workloads) {
      if (w.training === undefined || loaded.scenario.checkpoints[w.name] === undefined) continue;
      const earliest = Math.min(0, ...seedEvents(loaded, w).map((e) => e.at));
      const startClock = new VirtualClock(start + earliest * 1000 - 60_000);
      await seedTrainingRun({
        loaded,
        workload: w,
        resolveContainer: (l) => service(l.accountUrl).getContainerClient(l.container),
        clock: startClock,
        start,
      });
    }

    const sim = await startSimulator({ scenario: loaded, clock });
    cleanup.unshift(() => sim.stop());

    // A regional outage in the simulator also takes that region's storage accounts down.
    const accountRegions = new Map(locations.map((l) => [accountNameOf(l.location.accountUrl), l.region]));
    globals[STORAGE_REACHABLE_SYMBOL] = (account: string): boolean => {
      const region = accountRegions.get(account);
      return region === undefined || !sim.world.regionDown(region);
    };
    globals[CLOCK_SYMBOL] = clock;
    cleanup.push(() => {
      delete globals[STORAGE_REACHABLE_SYMBOL];
      delete globals[CLOCK_SYMBOL];
    });

    const dir = mkdtempSync(join(tmpdir(), "cutover-simulate-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const topologyPath = join(dir, "topology.yaml");
    writeFileSync(topologyPath, stringify(sim.effectiveTopology()));
    const env: Record<string, string> = {
      CUTOVER_TOPOLOGY_PATH: topologyPath,
      CUTOVER_TASK_HUB: "CutoverSim",
      CUTOVER_CREDENTIAL: "simulator",
      CUTOVER_ARM_ENDPOINT: sim.armEndpoint,
      CUTOVER_METRICS_ENDPOINT: sim.metricsEndpoint,
      CUTOVER_LOGS_ENDPOINT: sim.logsEndpoint,
      CUTOVER_TLS_CA_FILE: sim.caFile,
      CUTOVER_STATE_CONNECTION_STRING: azurite.connectionString,
      CUTOVER_LOCAL_BLOB_ORIGIN: blobOrigin,
      CUTOVER_LOCAL_SIMULATION: "true",
      CUTOVER_POLL_INTERVAL_SECONDS: String(options.pollSeconds ?? 5),
      CUTOVER_AUTO_COOLDOWN_SECONDS: "1800",
      // Cutover's own probes every 10 s, from the scenario's vantage points when it names some.
      CUTOVER_PROBE_SCHEDULE: "*/10 * * * * *",
      // Failback is opt-in per scenario (settings: { CUTOVER_FAILBACK_MODE: auto }): it follows a recovery by tens of
      // virtual minutes, which scenarios about the failover itself need not simulate.
      CUTOVER_FAILBACK_MODE: "off",
      ...(loaded.scenario.vantagePoints.length > 0
        ? { CUTOVER_PROBE_VANTAGES: loaded.scenario.vantagePoints.join(",") }
        : {}),
      ...loaded.scenario.settings,
      ...options.env,
    };
    const store = options.store ?? new MemoryHistoryStore();
    const host = await startApp(options.entry, clock, store, env, {
      port: options.port,
      functionKey: options.functionKey,
    });
    const simulation = new Simulation(loaded, clock, sim, azurite, host, store, env, options.entry, cleanup);
    simulation.wire();

    // Ground truth, sampled on the virtual clock (deterministic: it runs inside clock advances).
    const inference = loaded.topology.workloads
      .filter((w) => w.kind === "inference" && w.frontDoor !== undefined)
      .map((w) => w.name);
    const every = (options.sampleSeconds ?? 5) * 1000;
    const sample = (): void => {
      const served: Record<string, number> = {};
      for (const name of inference) served[name] = sim.world.groundTruth(name).servedWithinSlo;
      simulation.samples.push({ at: clock.now(), served });
      clock.scheduleIn(every, sample, "ground-truth sample");
    };
    sample();
    return simulation;
  } catch (error) {
    for (const step of cleanup) await Promise.resolve(step()).catch(() => undefined);
    throw error;
  }
}

/** Writes each model version the scenario lists into that region's store: weights first, the manifest last. */
async function seedModelStores(
  loaded: LoadedScenario,
  service: (accountUrl: string) => BlobServiceClient,
): Promise<void> {
  for (const [workloadName, regions] of Object.entries(loaded.scenario.modelStores)) {
    const workload = loaded.topology.workloads.find((w) => w.name === workloadName);
    if (workload === undefined) continue;
    for (const [region, versions] of Object.entries(regions)) {
      const store = workload.regions[region]?.modelStore;
      if (store === undefined) continue;
      const container = service(store.accountUrl).getContainerClient(store.container);
      for (const version of versions) {
        const folder = `${store.prefix}${workload.model.name}/${version}/`;
        const files: Array<[string, string]> = [
          ["config.json", JSON.stringify({ model: workload.model.name, version })],
          ["model-00001-of-00002.safetensors", `weights ${workload.model.name} ${version} part 1`],
          ["model-00002-of-00002.safetensors", `weights ${workload.model.name} ${version} part 2`],
          [MODEL_MANIFEST, JSON.stringify({ model: workload.model.name, version, sizeGb: workload.model.sizeGb })],
        ];
        for (const [name, body] of files)
          await container.getBlockBlobClient(folder + name).upload(body, Buffer.byteLength(body));
      }
    }
  }
}
