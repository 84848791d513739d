/**
 * The simulated world: AKS pools and their nodes, one inference endpoint per workload region, the Front Doors in
 * front of them, active faults, recorded metrics and log rows — all on the shared virtual clock. It answers the
 * ground truth ("at virtual time t, what fraction of requests is served by healthy, warm capacity inside the
 * latency SLO") and records every sampled wait so a benchmark can compute a perfect controller's lower bound.
 *
 * State that ARM reports (provisioningState, operation status, deploymentStatus) is computed from `clock.now()`;
 * the wall clock is never read for world state. All randomness comes from named seeded streams.
 */
import type { VirtualClock } from "../clock";
import {
  latencyModelFor,
  nodeProvisioningFor,
  type LatencyModel,
  type Triangular,
} from "../../src/domain/latency-model";
import type { Topology, Workload } from "../../src/domain/topology";
import {
  allocationError,
  clusterKey,
  insufficientVcpuQuota,
  operationNotAllowed,
  preconditionFailed,
  poolKey,
  quotaExceeded,
  readyNodes,
  type ArmErrorBody,
  type PoolOperation,
  type SimNode,
  type SimPool,
} from "./aks";
import { FrontDoorModel, type OriginConfig, type Pop, type ProbeOutcome } from "./front-door";
import { MetricStore } from "./metric-store";
import { StreamFactory, type RandomStream } from "./prng";
import { faultSchema, type Fault, type FaultInput, type LoadedScenario, type Scenario } from "./scenario";
import { simLatencyFor, type SimLatency } from "./sim-latency";
import { Timeline } from "./timeline";

export type GateState = "open" | "drained";
/** Where simulated endpoints read Cutover's health gate: a URL template or a function. */
export type GateSource =
  { readonly urlTemplate: string } | ((workload: string, region: string) => GateState | Promise<GateState>);

export type EndpointStatus = "ok" | "down" | "no-capacity" | "cold" | "loading" | "stale" | "degraded" | "drained";

export interface EndpointHealth {
  /** HTTP status: 200 ok, 503 otherwise; 0 = unreachable (connection reset) from this vantage. */
  readonly code: 200 | 503 | 0;
  readonly status: EndpointStatus | "unreachable";
  readonly modelVersion: string | null;
  readonly expectedVersion: string;
  readonly latencyMs: number | null;
  readonly readyGpus: number;
}

export interface ActiveFault {
  readonly id: string;
  readonly fault: Fault;
  readonly startedAt: number;
  readonly endsAt: number | undefined;
  hits: number;
}

/** Waits the world sampled in this run: the pieces a perfect controller could not avoid. Times are epoch ms. */
export interface SampledWaits {
  readonly faults: Array<{
    id: string;
    kind: string;
    at: number;
    detectableAt: number | null;
    clearedAt: number | null;
  }>;
  readonly nodeProvisioning: Array<{
    pool: string;
    node: string;
    requestedAt: number;
    readyAt: number;
    seconds: number;
  }>;
  readonly allocationFailures: Array<{
    pool: string;
    code: string;
    requestedAt: number;
    failedAt: number;
    seconds: number;
  }>;
  readonly modelLoads: Array<{
    workload: string;
    region: string;
    version: string;
    startedAt: number;
    loadedAt: number;
    seconds: number;
  }>;
  /** From an endpoint's health check failing (fault, drain, …) to Front Door marking it unhealthy at a POP. */
  readonly probeWindows: Array<{
    frontDoor: string;
    origin: string;
    pop: string;
    failingSince: number;
    unhealthyAt: number;
    seconds: number;
  }>;
  readonly propagations: Array<{
    frontDoor: string;
    version: number;
    /** When the change was accepted through ARM. */
    requestedAt: number;
    armCompletedAt: number;
    finishedAt: number;
    seconds: number;
  }>;
  readonly alertNotifications: Array<{
    rule: string;
    condition: "Fired" | "Resolved";
    decidedAt: number;
    deliveredAt: number | null;
  }>;
}

export interface RegionTruth {
  readonly trafficShare: number;
  /** Fraction of the traffic routed here that is served well (warm, expected version, capacity, latency). */
  readonly goodFraction: number;
  readonly readyGpus: number;
  readonly neededGpus: number;
  readonly endpoint: EndpointStatus;
}

export interface GroundTruth {
  readonly workload: string;
  readonly at: number;
  /** Fraction of all requests served by healthy, warm capacity inside the latency SLO. */
  readonly servedWithinSlo: number;
  readonly failOpenPops: ReadonlyArray<string>;
  readonly regions: Readonly<Record<string, RegionTruth>>;
  /** Request-weighted latency percentiles of served requests (ms), null when nothing is served. */
  readonly latencyMs: { readonly p50: number | null; readonly p95: number | null; readonly p99: number | null };
  /** Percentage of requests that fail (no capacity, down, not loaded). */
  readonly percent5xx: number;
}

export interface WorldOptions {
  readonly loaded: LoadedScenario;
  readonly clock: VirtualClock;
  /** Seconds between metric points. Default 60 (Azure Monitor's PT1M grain). */
  readonly metricGrainSeconds?: number;
  /** Virtual seconds between an endpoint's gate polls. Default 5. */
  readonly gatePollSeconds?: number;
  /** Nominal requests per second per workload (RequestCount metric). Default 100. */
  readonly requestsPerSecond?: number;
}

interface EndpointState {
  readonly workload: Workload;
  readonly region: string;
  loadedVersion: string | null;
  loading: { version: string; startedAt: number; doneAt: number; cancel(): void } | undefined;
  readonly baseLatencyMs: number;
  readonly probeLatencyMs: number;
  gate: GateState;
  /** The version the serving pods ran before the endpoint lost all capacity (they reload it when nodes return). */
  lostVersion: string | null;
  lastStatus: EndpointStatus;
  failingSince: number | null;
}

export interface LogRow {
  readonly table: "AzureDiagnostics" | "AzureMetrics";
  readonly visibleAt: number;
  readonly row: Readonly<Record<string, string | number | boolean | null>>;
}

const ORIGIN_DOWN_STATUSES: ReadonlySet<EndpointStatus> = new Set(["down", "no-capacity", "cold", "loading"]);

export class World {
  readonly clock: VirtualClock;
  readonly startedAt: number;
  readonly topology: Topology;
  readonly scenario: Scenario;
  readonly latency: LatencyModel;
  readonly sim: SimLatency;
  readonly rng: StreamFactory;
  readonly timeline: Timeline;
  readonly metrics = new MetricStore();
  readonly pops: ReadonlyArray<Pop>;
  readonly subscriptionId: string;
  readonly logRows: LogRow[] = [];

  private readonly pools = new Map<string, SimPool>();
  private readonly clusters = new Map<
    string,
    { resourceGroup: string; name: string; region: string; workload: string }
  >();
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly frontDoors = new Map<string, FrontDoorModel>();
  private readonly operations = new Map<string, PoolOperation>();
  private readonly abortOps = new Map<string, { poolKey: string; endsAt: number }>();
  private readonly faults = new Map<string, ActiveFault>();
  private readonly faultHistory: ActiveFault[] = [];
  private readonly quotaUsed = new Map<string, number>();
  private readonly popRtt = new Map<string, number>();
  private readonly waits: SampledWaits = {
    faults: [],
    nodeProvisioning: [],
    allocationFailures: [],
    modelLoads: [],
    probeWindows: [],
    propagations: [],
    alertNotifications: [],
  };
  private faultSeq = 0;
  private opSeq = 0;
  private etagSeq = 0;
  private gateSource: GateSource | undefined;
  private gateTimers: Array<{ cancel(): void }> = [];
  private readonly gatePollMs: number;
  private readonly grainMs: number;
  private readonly rps: number;
  private readonly timers: Array<{ cancel(): void }> = [];
  private stopped = false;
  private readonly listeners = new Set<(world: World) => void>();

  constructor(options: WorldOptions) {
    this.clock = options.clock;
    this.startedAt = options.clock.now();
    this.topology = options.loaded.topology;
    this.scenario = options.loaded.scenario;
    this.subscriptionId = this.topology.subscriptionId;
    this.latency = latencyModelFor(this.scenario.profile);
    this.sim = simLatencyFor(this.scenario.profile);
    this.rng = new StreamFactory(this.scenario.seed);
    this.timeline = new Timeline(this.startedAt);
    this.pops = this.scenario.pops;
    this.gatePollMs = (options.gatePollSeconds ?? 5) * 1000;
    this.grainMs = (options.metricGrainSeconds ?? 60) * 1000;
    this.rps = options.requestsPerSecond ?? 100;

    this.seedPools();
    this.seedEndpoints();
    this.seedFrontDoors();
    this.defineMetrics();
    // Metrics first: a grain that ends when a fault starts records the state before the fault.
    this.scheduleMetrics(this.startedAt + this.grainMs);
    for (const f of this.scenario.faults) this.scheduleFault(f);
  }

  // ---------------------------------------------------------------- seeding

  private seedPools(): void {
    for (const w of this.topology.workloads) {
      for (const [region, entry] of Object.entries(w.regions)) {
        if (entry.cluster === undefined) continue;
        const ck = clusterKey(entry.cluster.resourceGroup, entry.cluster.name);
        if (!this.clusters.has(ck))
          this.clusters.set(ck, {
            resourceGroup: entry.cluster.resourceGroup,
            name: entry.cluster.name,
            region,
            workload: w.name,
          });
        for (const p of entry.gpuPools) {
          const key = poolKey(entry.cluster.resourceGroup, entry.cluster.name, p.name);
          const nodes: SimNode[] = [];
          for (let i = 0; i < p.current; i++) nodes.push({ name: nodeName(p.name, i), readyAt: this.startedAt - 1 });
          this.pools.set(key, {
            key,
            subscriptionId: this.subscriptionId,
            resourceGroup: entry.cluster.resourceGroup,
            cluster: entry.cluster.name,
            name: p.name,
            region,
            zone: p.zone,
            vmSize: p.vmSize,
            workload: w.name,
            mode: "User",
            minCount: p.min,
            maxCount: p.max,
            nodes,
            count: p.current,
            provisioningState: "Succeeded",
            operation: undefined,
            nodeSeq: p.current,
            createdAt: this.startedAt,
            etag: this.nextEtag(),
          });
        }
      }
    }
  }

  private seedEndpoints(): void {
    const cold = new Set(this.scenario.coldEndpoints.map((c) => `${c.workload}/${c.region}`));
    for (const w of this.topology.workloads) {
      if (w.kind !== "inference") continue;
      for (const region of Object.keys(w.regions)) {
        const key = `${w.name}/${region}`;
        const rng = this.rng.stream(`endpoint/${key}`);
        const e: EndpointState = {
          workload: w,
          region,
          loadedVersion: null,
          loading: undefined,
          baseLatencyMs: Math.round(w.slo.latencyMs * rng.triangular(this.sim.endpointLatencyFractionOfSlo)),
          probeLatencyMs: Math.round(rng.triangular(this.sim.probeLatencyMs)),
          gate: "open",
          lostVersion: null,
          lastStatus: "ok",
          failingSince: null,
        };
        this.endpoints.set(key, e);
        if (this.readyGpus(w.name, region) > 0 && !cold.has(key)) e.loadedVersion = w.model.version;
        e.lastStatus = this.endpointHealth(w.name, region).status as EndpointStatus;
        if (e.lastStatus !== "ok") e.failingSince = this.startedAt;
      }
    }
    for (const pop of this.pops)
      for (const r of Object.keys(this.topology.regions)) {
        const rng = this.rng.stream(`network/${pop.name}/${r}`);
        const same = this.topology.regions[r]?.geography === pop.geography;
        this.popRtt.set(
          `${pop.name}/${r}`,
          Math.round(rng.triangular(same ? this.sim.popRttSameGeoMs : this.sim.popRttCrossGeoMs)),
        );
      }
  }

  private seedFrontDoors(): void {
    for (const [name, fd] of Object.entries(this.topology.frontDoors)) {
      const origins: OriginConfig[] = [];
      for (const w of this.topology.workloads) {
        if (w.frontDoor !== name) continue;
        for (const [region, entry] of Object.entries(w.regions)) {
          if (entry.origin === undefined) continue;
          origins.push({
            name: entry.origin,
            workload: w.name,
            region,
            hostName: entry.endpoint === undefined ? entry.origin : new URL(entry.endpoint.healthUrl).hostname,
            enabledState: "Enabled",
            weight: entry.weight,
            priority: entry.priority,
          });
        }
      }
      const model = new FrontDoorModel(
        {
          clock: this.clock,
          rng: this.rng,
          latency: this.latency,
          sim: this.sim,
          timeline: this.timeline,
          pops: this.pops,
          probe: (o, pop) => this.probeOrigin(o, pop),
          propagationFactor: () => this.propagationFactor(),
          onProbe: (m, pop, o, r) => this.recordProbeLog(m, pop, o, r),
          onHealthChanged: (m, pop, o, healthy) => this.onOriginHealth(m, pop, o, healthy),
          onPropagated: (m, version, requestedAt, armAt, at) =>
            this.waits.propagations.push({
              frontDoor: m.name,
              version,
              requestedAt,
              armCompletedAt: armAt,
              finishedAt: at,
              seconds: (at - armAt) / 1000,
            }),
        },
        {
          name,
          kind: fd.kind,
          subscriptionId: this.subscriptionId,
          resourceGroup: fd.resourceGroup,
          resourceName: fd.kind === "standard" ? fd.profile : fd.frontDoorName,
          groupName: fd.kind === "standard" ? fd.originGroup : fd.backendPool,
          probe: { ...fd.probe },
          origins,
        },
      );
      this.frontDoors.set(name, model);
    }
  }

  // ---------------------------------------------------------------- queries

  /** Registers a callback run after every world change (the alert evaluator and tests use it). */
  onChange(listener: (world: World) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  frontDoor(name: string): FrontDoorModel | undefined {
    return this.frontDoors.get(name);
  }

  frontDoorList(): FrontDoorModel[] {
    return [...this.frontDoors.values()];
  }

  /** Front Door by its ARM coordinates (case-insensitive). */
  findFrontDoor(kind: "standard" | "classic", resourceGroup: string, resourceName: string): FrontDoorModel | undefined {
    return this.frontDoorList().find(
      (f) =>
        f.kind === kind &&
        f.resourceGroup.toLowerCase() === resourceGroup.toLowerCase() &&
        f.resourceName.toLowerCase() === resourceName.toLowerCase(),
    );
  }

  pool(resourceGroup: string, cluster: string, name: string): SimPool | undefined {
    return this.pools.get(poolKey(resourceGroup, cluster, name));
  }

  poolsOf(resourceGroup: string, cluster: string): SimPool[] {
    const prefix = `${clusterKey(resourceGroup, cluster)}/`;
    return [...this.pools.values()].filter((p) => p.key.startsWith(prefix));
  }

  cluster(
    resourceGroup: string,
    name: string,
  ): { resourceGroup: string; name: string; region: string; workload: string } | undefined {
    return this.clusters.get(clusterKey(resourceGroup, name));
  }

  clusterList(): Array<{ resourceGroup: string; name: string; region: string; workload: string }> {
    return [...this.clusters.values()];
  }

  operation(id: string): PoolOperation | undefined {
    return this.operations.get(id);
  }

  abortOperation(id: string): { poolKey: string; endsAt: number } | undefined {
    return this.abortOps.get(id);
  }

  activeFaults(): ActiveFault[] {
    return [...this.faults.values()];
  }

  sampledWaits(): SampledWaits {
    return structuredClone(this.waits);
  }

  /** Seconds since the scenario started (virtual). */
  elapsedSeconds(): number {
    return (this.clock.now() - this.startedAt) / 1000;
  }

  private zoneDown(region: string, zone: string | undefined): boolean {
    for (const f of this.faults.values()) {
      if (f.fault.kind === "region-down" && f.fault.region === region) return true;
      if (f.fault.kind === "zone-down" && f.fault.region === region && f.fault.zone === zone) return true;
    }
    return false;
  }

  regionDown(region: string): boolean {
    return [...this.faults.values()].some((f) => f.fault.kind === "region-down" && f.fault.region === region);
  }

  /** Whether a pool's nodes are reachable (their zone and region are up); the Kubernetes API reads it. */
  nodesReachable(pool: SimPool): boolean {
    return !this.zoneDown(pool.region, pool.zone);
  }

  /** Ready nodes of a pool that are also reachable (their zone and region are up). */
  servingNodes(pool: SimPool): number {
    return this.nodesReachable(pool) ? readyNodes(pool, this.clock.now()) : 0;
  }

  readyGpus(workload: string, region: string): number {
    let gpus = 0;
    for (const p of this.pools.values()) {
      if (p.workload !== workload || p.region !== region) continue;
      gpus += this.servingNodes(p) * (this.topology.capabilityMatrix.skus[p.vmSize]?.gpus ?? 1);
    }
    return gpus;
  }

  private endpointLatency(e: EndpointState): number {
    let ms = e.baseLatencyMs;
    for (const f of this.faults.values()) {
      const fault = f.fault;
      if (fault.kind !== "degraded-latency" || fault.region !== e.region) continue;
      if (fault.workload !== undefined && fault.workload !== e.workload.name) continue;
      ms = ms * fault.factor + fault.addMs;
    }
    return Math.round(ms);
  }

  private partitioned(region: string, vantage: string | undefined, pop: string | undefined): boolean {
    for (const f of this.faults.values()) {
      if (f.fault.kind !== "vantage-partition" || f.fault.region !== region) continue;
      if (vantage !== undefined && f.fault.vantagePoints.includes(vantage)) return true;
      if (pop !== undefined && f.fault.pops.includes(pop)) return true;
    }
    return false;
  }

  /** What the endpoint's health check answers now, as seen from a vantage point or POP (both optional). */
  endpointHealth(workload: string, region: string, from: { vantage?: string; pop?: string } = {}): EndpointHealth {
    const e = this.endpoints.get(`${workload}/${region}`);
    if (e === undefined) throw new Error(`[NOT_FOUND] no inference endpoint for ${workload} in ${region}`);
    const readyGpus = this.readyGpus(workload, region);
    const base = { expectedVersion: e.workload.model.version, readyGpus };
    if (this.partitioned(region, from.vantage, from.pop))
      return { ...base, code: 0, status: "unreachable", modelVersion: null, latencyMs: null };
    const status = this.endpointStatus(e, readyGpus);
    const latencyMs =
      e.loadedVersion === null || status === "down" || status === "no-capacity" ? null : this.endpointLatency(e);
    return {
      ...base,
      code: status === "ok" ? 200 : 503,
      status,
      modelVersion: status === "down" ? null : e.loadedVersion,
      latencyMs,
    };
  }

  private endpointStatus(e: EndpointState, readyGpus: number): EndpointStatus {
    if (this.regionDown(e.region)) return "down";
    if (readyGpus === 0) return "no-capacity";
    if (e.loading !== undefined) return "loading";
    if (e.loadedVersion === null) return "cold";
    if (e.loadedVersion !== e.workload.model.version && !this.staleHiddenFromHealth(e)) return "stale";
    if (this.endpointLatency(e) > e.workload.slo.latencyMs) return "degraded";
    if (e.gate === "drained") return "drained";
    return "ok";
  }

  /** A `status-only` stale-model fault: the health check does not compare the loaded version with the expected one. */
  private staleHiddenFromHealth(e: EndpointState): boolean {
    for (const f of this.faults.values())
      if (
        f.fault.kind === "stale-model" &&
        f.fault.healthCheck === "status-only" &&
        f.fault.workload === e.workload.name &&
        f.fault.region === e.region &&
        e.loadedVersion === f.fault.version
      )
        return true;
    return false;
  }

  private probeOrigin(o: OriginConfig, pop: Pop): ProbeOutcome {
    const e = this.endpoints.get(`${o.workload}/${o.region}`);
    const rtt = this.popRtt.get(`${pop.name}/${o.region}`) ?? 50;
    if (e === undefined) return { ok: false, status: 0, latencyMs: rtt };
    const h = this.endpointHealth(o.workload, o.region, { pop: pop.name });
    const faulted = this.endpointFaultForProbe(o);
    const ok = h.code === 200 && faulted === undefined;
    return { ok, status: faulted ?? h.code, latencyMs: rtt + e.probeLatencyMs };
  }

  private endpointFaultForProbe(o: OriginConfig): number | undefined {
    for (const f of this.faults.values()) {
      const fault = f.fault;
      if ((fault.kind !== "http-error" && fault.kind !== "timeout") || fault.target !== "endpoint") continue;
      if (fault.match?.workload !== undefined && fault.match.workload !== o.workload) continue;
      if (fault.match?.region !== undefined && fault.match.region !== o.region) continue;
      if (!this.rng.stream(`endpoint-faults/probes/${f.id}`).chance(fault.rate)) continue;
      return fault.kind === "http-error" ? fault.status : 0;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- endpoints: warm-up, gate

  /**
   * A warm-up request: with ready nodes it starts loading `version` (default: the expected version) and answers
   * `loading` until the sampled load time has passed, then `ready`.
   */
  warmup(
    workload: string,
    region: string,
    request: { version?: string; start: boolean },
  ): { code: 200 | 202 | 503; body: Record<string, unknown> } {
    const e = this.endpoints.get(`${workload}/${region}`);
    if (e === undefined) throw new Error(`[NOT_FOUND] no inference endpoint for ${workload} in ${region}`);
    const now = this.clock.now();
    const version = request.version ?? e.workload.model.version;
    if (this.regionDown(region)) return { code: 503, body: { status: "down" } };
    const readyGpus = this.readyGpus(workload, region);
    if (readyGpus === 0) return { code: 503, body: { status: "no-capacity", readyGpus } };
    if (e.loading !== undefined) {
      if (e.loading.version === version || !request.start)
        return {
          code: 202,
          body: {
            status: "loading",
            modelVersion: e.loading.version,
            readyInSeconds: Math.max(0, (e.loading.doneAt - now) / 1000),
          },
        };
      e.loading.cancel();
      e.loading = undefined;
    }
    if (e.loadedVersion === version || (!request.start && e.loadedVersion !== null))
      return {
        code: 200,
        body: { status: "ready", modelVersion: e.loadedVersion, latencyMs: this.endpointLatency(e) },
      };
    if (!request.start) return { code: 503, body: { status: "cold", modelVersion: null } };
    const seconds = this.startLoad(e, version, "warmup");
    return { code: 202, body: { status: "loading", modelVersion: version, readyInSeconds: seconds } };
  }

  /** Starts loading `version` on the endpoint (a warm-up, or pods restarting after lost capacity came back). */
  private startLoad(e: EndpointState, version: string, reason: "warmup" | "restart"): number {
    const now = this.clock.now();
    const workload = e.workload.name;
    const region = e.region;
    const rng = this.rng.stream(`model-load/${workload}/${region}`);
    const seconds =
      e.workload.model.sizeGb * rng.triangular(this.latency.modelLoadSecondsPerGb) +
      rng.triangular(this.latency.engineStartup);
    const doneAt = now + seconds * 1000;
    e.loadedVersion = null;
    const handle = this.clock.schedule(
      doneAt,
      () => {
        e.loading = undefined;
        e.loadedVersion = version;
        this.timeline.add(doneAt, "model-loaded", { workload, region, version, seconds: round1(seconds) });
        this.waits.modelLoads.push({ workload, region, version, startedAt: now, loadedAt: doneAt, seconds });
        this.changed();
      },
      `model load ${workload}/${region}`,
    );
    e.loading = { version, startedAt: now, doneAt, cancel: () => handle.cancel() };
    this.timeline.add(now, "model-load-started", { workload, region, version, reason });
    this.changed();
    return seconds;
  }

  /** Sets (or clears) where endpoints read the health gate; polls every few virtual seconds while set. */
  setGateSource(source: GateSource | undefined): void {
    for (const t of this.gateTimers) t.cancel();
    this.gateTimers = [];
    this.gateSource = source;
    if (source === undefined) {
      for (const e of this.endpoints.values()) this.applyGate(e, "open");
      return;
    }
    for (const e of this.endpoints.values()) this.scheduleGatePoll(e, this.clock.now());
  }

  private scheduleGatePoll(e: EndpointState, at: number): void {
    const handle = this.clock.schedule(
      at,
      () => {
        this.pollGate(e);
        if (!this.stopped && this.gateSource !== undefined) this.scheduleGatePoll(e, at + this.gatePollMs);
      },
      `gate poll ${e.workload.name}/${e.region}`,
    );
    this.gateTimers.push(handle);
  }

  private pollGate(e: EndpointState): void {
    const source = this.gateSource;
    if (source === undefined) return;
    const w = e.workload.name;
    if (typeof source === "function") {
      const r = source(w, e.region);
      if (typeof r === "string") this.applyGate(e, r);
      else void this.clock.track(r.then((s) => this.applyGate(e, s)).catch(() => undefined));
      return;
    }
    const url = source.urlTemplate
      .replaceAll("{workload}", encodeURIComponent(w))
      .replaceAll("{region}", encodeURIComponent(e.region));
    // A gate that cannot be read keeps its last value: Cutover being unreachable must not drain every origin.
    const work = fetch(url, { signal: AbortSignal.timeout(5000) })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 200) this.applyGate(e, "open");
        else if (res.status === 503) this.applyGate(e, "drained");
      })
      .catch(() => undefined);
    void this.clock.track(work);
  }

  private applyGate(e: EndpointState, state: GateState): void {
    if (e.gate === state) return;
    e.gate = state;
    this.timeline.add(this.clock.now(), "gate-changed", { workload: e.workload.name, region: e.region, state });
    this.changed();
  }

  gateState(workload: string, region: string): GateState | undefined {
    return this.endpoints.get(`${workload}/${region}`)?.gate;
  }

  // ---------------------------------------------------------------- AKS

  private quotaLeft(
    region: string,
    family: string,
  ): { left: number | undefined; code: "QuotaExceeded" | "ErrCode_InsufficientVCPUQuota" } {
    for (const f of this.faults.values())
      if (
        f.fault.kind === "quota-exceeded" &&
        f.fault.region === region &&
        (f.fault.family === undefined || f.fault.family === family)
      )
        return { left: f.fault.remainingVcpus, code: f.fault.code };
    const initial = this.topology.capabilityMatrix.quotas[region]?.[family];
    if (initial === undefined) return { left: undefined, code: "ErrCode_InsufficientVCPUQuota" };
    return { left: initial - (this.quotaUsed.get(`${region}/${family}`) ?? 0), code: "ErrCode_InsufficientVCPUQuota" };
  }

  private allocationFailureFor(
    pool: SimPool,
  ): "ZonalAllocationFailed" | "AllocationFailed" | "OverconstrainedAllocationRequest" | undefined {
    if (this.regionDown(pool.region)) return "AllocationFailed";
    if (this.zoneDown(pool.region, pool.zone)) return "ZonalAllocationFailed";
    for (const f of this.faults.values()) {
      const fault = f.fault;
      if (fault.kind !== "allocation-failure" || fault.region !== pool.region) continue;
      if (fault.zone !== undefined && fault.zone !== pool.zone) continue;
      if (fault.vmSize !== undefined && fault.vmSize !== pool.vmSize) continue;
      return fault.code ?? (pool.zone === undefined ? "AllocationFailed" : "ZonalAllocationFailed");
    }
    if (pool.zone !== undefined) {
      const skus = this.topology.capabilityMatrix.availability[pool.region]?.[pool.zone as "1" | "2" | "3"] ?? [];
      if (!skus.includes(pool.vmSize)) return "ZonalAllocationFailed";
    } else {
      const any = Object.values(this.topology.capabilityMatrix.availability[pool.region] ?? {}).some((s) =>
        (s ?? []).includes(pool.vmSize),
      );
      if (!any) return "AllocationFailed";
    }
    return undefined;
  }

  /**
   * Starts a create-or-update of an agent pool (set-to `count`). Returns the ARM outcome: an error with its HTTP
   * status, or the started operation. Allocation failures surface when the operation fails, quota at once.
   */
  putAgentPool(
    resourceGroup: string,
    clusterName: string,
    name: string,
    body: { count?: number; vmSize?: string; zones?: string[]; mode?: string; minCount?: number; maxCount?: number },
    conditions: { readonly ifMatch?: string; readonly ifNoneMatch?: string } = {},
  ):
    | { ok: false; status: number; error: ArmErrorBody }
    | { ok: true; created: boolean; pool: SimPool; operation: PoolOperation } {
    const now = this.clock.now();
    const cluster = this.cluster(resourceGroup, clusterName);
    if (cluster === undefined)
      return {
        ok: false,
        status: 404,
        error: {
          code: "ResourceNotFound",
          message: `The Resource 'Microsoft.ContainerService/managedClusters/${clusterName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        },
      };
    if (!/^[a-z][a-z0-9]{0,11}$/.test(name))
      return {
        ok: false,
        status: 400,
        error: {
          code: "InvalidParameter",
          message: `The value of parameter agentPoolName is invalid: "${name}" must match ^[a-z][a-z0-9]{0,11}$.`,
        },
      };
    if (body.count !== undefined && (!Number.isInteger(body.count) || body.count < 0 || body.count > 1000))
      return {
        ok: false,
        status: 400,
        error: {
          code: "InvalidParameter",
          message: `The value of parameter properties.count is invalid: ${String(body.count)}. Allowed values must be in the range of 0 to 1000 (inclusive) for user pools.`,
        },
      };
    let pool = this.pool(resourceGroup, clusterName, name);
    const created = pool === undefined;
    const failed = preconditionFailed(pool?.etag, conditions);
    if (failed !== undefined) return { ok: false, status: 412, error: failed };
    if (pool !== undefined) {
      if (pool.operation !== undefined && !pool.operation.finalized)
        return { ok: false, status: 409, error: operationNotAllowed(pool) };
      if (body.vmSize !== undefined && body.vmSize !== pool.vmSize)
        return {
          ok: false,
          status: 400,
          error: { code: "PropertyChangeNotAllowed", message: "Changing property 'vmSize' is not allowed." },
        };
      if (
        body.zones !== undefined &&
        JSON.stringify(body.zones) !== JSON.stringify(pool.zone === undefined ? [] : [pool.zone])
      )
        return {
          ok: false,
          status: 400,
          error: { code: "PropertyChangeNotAllowed", message: "Changing property 'availabilityZones' is not allowed." },
        };
    } else {
      if (body.vmSize === undefined)
        return {
          ok: false,
          status: 400,
          error: {
            code: "InvalidParameter",
            message: "The value of parameter properties.vmSize is invalid: a new agent pool needs a VM size.",
          },
        };
      const zone = body.zones?.[0];
      if ((body.zones?.length ?? 0) > 1)
        return {
          ok: false,
          status: 400,
          error: {
            code: "InvalidParameter",
            message: "The simulator models zone-aligned pools only: give at most one availability zone.",
          },
        };
      pool = {
        key: poolKey(resourceGroup, clusterName, name),
        subscriptionId: this.subscriptionId,
        resourceGroup: cluster.resourceGroup,
        cluster: cluster.name,
        name,
        region: cluster.region,
        zone,
        vmSize: body.vmSize,
        workload: cluster.workload,
        mode: body.mode === "System" ? "System" : "User",
        minCount: body.minCount,
        maxCount: body.maxCount,
        nodes: [],
        count: 0,
        provisioningState: "Creating",
        operation: undefined,
        nodeSeq: 0,
        createdAt: now,
        etag: "",
      };
    }
    const from = pool.nodes.length;
    const to = body.count ?? (created ? 1 : pool.count);
    const delta = to - from;
    const sku = this.topology.capabilityMatrix.skus[pool.vmSize];
    if (delta > 0 && sku !== undefined) {
      const { left, code } = this.quotaLeft(pool.region, sku.family);
      const requested = delta * sku.vcpus;
      if (left !== undefined && requested > left) {
        const error =
          code === "QuotaExceeded"
            ? quotaExceeded(
                left + this.currentVcpus(pool.region, sku.family),
                this.currentVcpus(pool.region, sku.family),
                requested,
              )
            : insufficientVcpuQuota(pool.region, left, requested);
        return { ok: false, status: 400, error };
      }
    }
    const rng = this.rng.stream(`aks/${pool.key}`);
    const accept = rng.triangular(this.latency.armAccept) * 1000;
    const id = this.nextOperationId();
    let operation: PoolOperation;
    const failure = delta > 0 ? this.allocationFailureFor(pool) : undefined;
    if (failure !== undefined) {
      const endsAt = now + accept + rng.triangular(this.sim.allocationAttempt) * 1000;
      operation = {
        id,
        poolKey: pool.key,
        kind: created ? "create" : "scale",
        startedAt: now,
        endsAt,
        outcome: { status: "Failed", error: allocationError(failure) },
        adding: [],
        removingCount: 0,
        fromCount: from,
        toCount: to,
        finalized: false,
      };
    } else if (delta > 0) {
      const provisioning = nodeProvisioningFor(this.latency, pool.vmSize);
      const adding: SimNode[] = [];
      for (let i = 0; i < delta; i++) {
        const readyAt = now + accept + rng.triangular(provisioning) * 1000;
        adding.push({ name: nodeName(pool.name, pool.nodeSeq++), readyAt });
      }
      const endsAt = Math.max(...adding.map((n) => n.readyAt));
      operation = {
        id,
        poolKey: pool.key,
        kind: created ? "create" : "scale",
        startedAt: now,
        endsAt,
        outcome: { status: "Succeeded" },
        adding,
        removingCount: 0,
        fromCount: from,
        toCount: to,
        finalized: false,
      };
      if (sku !== undefined)
        this.quotaUsed.set(
          `${pool.region}/${sku.family}`,
          (this.quotaUsed.get(`${pool.region}/${sku.family}`) ?? 0) + delta * sku.vcpus,
        );
      pool.nodes.push(...adding);
      for (const n of adding) {
        this.waits.nodeProvisioning.push({
          pool: pool.key,
          node: n.name,
          requestedAt: now,
          readyAt: n.readyAt,
          seconds: (n.readyAt - now) / 1000,
        });
        this.clock.schedule(
          n.readyAt,
          () => {
            if (!pool.nodes.includes(n)) return;
            this.timeline.add(n.readyAt, "node-ready", { pool: pool.key, node: n.name, zone: pool.zone ?? null });
            this.changed();
          },
          `node ready ${n.name}`,
        );
      }
    } else {
      const endsAt = now + accept + (delta < 0 ? rng.triangular(this.sim.scaleDown) * 1000 : 0);
      operation = {
        id,
        poolKey: pool.key,
        kind: created ? "create" : "scale",
        startedAt: now,
        endsAt,
        outcome: { status: "Succeeded" },
        adding: [],
        removingCount: -delta,
        fromCount: from,
        toCount: to,
        finalized: false,
      };
    }
    pool.operation = operation;
    pool.count = to;
    pool.provisioningState = created ? "Creating" : "Scaling";
    if (body.minCount !== undefined) pool.minCount = body.minCount;
    if (body.maxCount !== undefined) pool.maxCount = body.maxCount;
    if (created) this.pools.set(pool.key, pool);
    this.operations.set(id, operation);
    this.timeline.add(now, "pool-operation-started", { pool: pool.key, operation: id, from, to });
    const p = pool;
    this.clock.schedule(operation.endsAt, () => this.finishOperation(p, operation), `pool op ${id}`);
    pool.etag = this.nextEtag();
    return { ok: true, created, pool, operation };
  }

  private currentVcpus(region: string, family: string): number {
    let v = 0;
    for (const p of this.pools.values()) {
      const sku = this.topology.capabilityMatrix.skus[p.vmSize];
      if (p.region === region && sku?.family === family) v += p.nodes.length * sku.vcpus;
    }
    return v;
  }

  private finishOperation(pool: SimPool, op: PoolOperation): void {
    if (op.finalized || op.canceledAt !== undefined) return;
    op.finalized = true;
    const at = op.endsAt;
    if (op.outcome.status === "Failed") {
      pool.count = pool.nodes.length;
      pool.provisioningState = "Failed";
      this.timeline.add(at, "pool-operation-failed", { pool: pool.key, operation: op.id, code: op.outcome.error.code });
      this.waits.allocationFailures.push({
        pool: pool.key,
        code: op.outcome.error.code,
        requestedAt: op.startedAt,
        failedAt: at,
        seconds: (at - op.startedAt) / 1000,
      });
    } else {
      if (op.removingCount > 0) {
        const removed = pool.nodes.splice(pool.nodes.length - op.removingCount, op.removingCount);
        const sku = this.topology.capabilityMatrix.skus[pool.vmSize];
        if (sku !== undefined) {
          const k = `${pool.region}/${sku.family}`;
          this.quotaUsed.set(k, (this.quotaUsed.get(k) ?? 0) - removed.length * sku.vcpus);
        }
      }
      pool.provisioningState = "Succeeded";
      this.timeline.add(at, "pool-operation-succeeded", { pool: pool.key, operation: op.id, count: pool.nodes.length });
    }
    this.changed();
  }

  /** Aborts the pool's running operation: 409 when nothing runs; otherwise Canceling, then Canceled. */
  abortAgentPool(
    resourceGroup: string,
    clusterName: string,
    name: string,
  ): { ok: false; status: number; error: ArmErrorBody } | { ok: true; abortId: string } {
    const pool = this.pool(resourceGroup, clusterName, name);
    if (pool === undefined)
      return {
        ok: false,
        status: 404,
        error: { code: "NotFound", message: `Agent pool ${name} not found in managed cluster ${clusterName}.` },
      };
    const op = pool.operation;
    const now = this.clock.now();
    if (op === undefined || op.finalized || op.canceledAt !== undefined)
      return {
        ok: false,
        status: 409,
        error: {
          code: "OperationNotAllowed",
          message: `There is no running operation to abort on agent pool ${name}: the latest operation has already finished.`,
        },
      };
    const rng = this.rng.stream(`aks/${pool.key}`);
    const endsAt = now + rng.triangular(this.sim.abortCancel) * 1000;
    op.canceledAt = now;
    op.cancelEndsAt = endsAt;
    // Cancellation stops provisioning; nodes already Ready stay (abort does not roll back, azure-facts §2.4).
    pool.nodes = pool.nodes.filter((n) => n.readyAt <= now);
    pool.count = pool.nodes.length;
    pool.provisioningState = "Canceling";
    const abortId = this.nextOperationId();
    pool.etag = this.nextEtag();
    this.abortOps.set(abortId, { poolKey: pool.key, endsAt });
    this.clock.schedule(
      endsAt,
      () => {
        op.finalized = true;
        pool.provisioningState = "Canceled";
        this.timeline.add(endsAt, "pool-operation-canceled", { pool: pool.key, operation: op.id });
        this.changed();
      },
      `abort ${op.id}`,
    );
    this.changed();
    return { ok: true, abortId };
  }

  operationStatus(op: PoolOperation): "InProgress" | "Succeeded" | "Failed" | "Canceling" | "Canceled" {
    const now = this.clock.now();
    if (op.canceledAt !== undefined)
      return op.cancelEndsAt !== undefined && now >= op.cancelEndsAt ? "Canceled" : "Canceling";
    if (now < op.endsAt) return "InProgress";
    return op.outcome.status;
  }

  /** Deterministic GUID-shaped etags from a counter (no random stream: adding etags changes no sampled wait). */
  private nextEtag(): string {
    this.etagSeq++;
    return `${this.etagSeq.toString(16).padStart(8, "0")}-e7a9-4c0d-9b1f-${(this.etagSeq * 2654435761).toString(16).slice(-12).padStart(12, "0")}`;
  }

  private nextOperationId(): string {
    this.opSeq++;
    const r = this.rng.stream("operation-ids");
    return r.guid().replace(/^.{8}/, this.opSeq.toString(16).padStart(8, "0"));
  }

  // ---------------------------------------------------------------- faults

  private propagationFactor(): number {
    let f = 1;
    for (const a of this.faults.values()) if (a.fault.kind === "slow-propagation") f *= a.fault.factor;
    return f;
  }

  /** Schedules a fault from a scenario entry (its `at` is relative to the scenario start). */
  scheduleFault(input: FaultInput): string {
    const fault = faultSchema.parse(input);
    const id = fault.id ?? `${fault.kind}-${++this.faultSeq}`;
    const at = Math.max(this.clock.now(), this.startedAt + fault.at * 1000);
    this.clock.schedule(at, () => this.startFault(id, fault), `fault ${id}`);
    return id;
  }

  /** Starts a fault now (its `at` is ignored). */
  injectFault(input: FaultInput): string {
    const fault = faultSchema.parse(input);
    const id = fault.id ?? `${fault.kind}-${++this.faultSeq}`;
    this.startFault(id, fault);
    return id;
  }

  clearFault(id: string): boolean {
    const f = this.faults.get(id);
    if (f === undefined) return false;
    this.faults.delete(id);
    const now = this.clock.now();
    const w = this.waits.faults.find((x) => x.id === id && x.clearedAt === null);
    if (w !== undefined) w.clearedAt = now;
    if (f.fault.kind === "stale-model") {
      const e = this.endpoints.get(`${f.fault.workload}/${f.fault.region}`);
      if (e !== undefined && e.loadedVersion === f.fault.version && e.loading === undefined)
        e.loadedVersion = e.workload.model.version;
    }
    if (f.fault.kind === "zone-down" || f.fault.kind === "region-down")
      this.timeline.add(now, "nodes-restored", {
        region: f.fault.region,
        zone: f.fault.kind === "zone-down" ? f.fault.zone : null,
      });
    this.timeline.add(now, "fault-cleared", { id, kind: f.fault.kind });
    this.changed();
    return true;
  }

  private startFault(id: string, fault: Fault): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const endsAt = fault.durationSeconds === undefined ? undefined : now + fault.durationSeconds * 1000;
    const active: ActiveFault = { id, fault, startedAt: now, endsAt, hits: 0 };
    this.faults.set(id, active);
    this.faultHistory.push(active);
    const detail: Record<string, string | number | null> = { id, kind: fault.kind };
    if ("region" in fault && fault.region !== undefined) detail["region"] = fault.region;
    if ("zone" in fault && fault.zone !== undefined) detail["zone"] = fault.zone;
    this.timeline.add(now, "fault-started", detail);
    this.waits.faults.push({ id, kind: fault.kind, at: now, detectableAt: null, clearedAt: null });
    if (fault.kind === "stale-model") {
      const e = this.endpoints.get(`${fault.workload}/${fault.region}`);
      if (e !== undefined && e.loadedVersion !== null) e.loadedVersion = fault.version;
    }
    if (fault.kind === "zone-down" || fault.kind === "region-down")
      this.timeline.add(now, "nodes-lost", {
        region: fault.region,
        zone: fault.kind === "zone-down" ? fault.zone : null,
      });
    if (endsAt !== undefined) this.clock.schedule(endsAt, () => this.clearFault(id), `fault end ${id}`);
    this.changed(id);
  }

  /** For the HTTP layer: the first active http-error/timeout fault that hits this request (rate drawn), if any. */
  httpFaultFor(
    target: "arm" | "metrics" | "logs" | "endpoint",
    request: { method: string; path: string; workload?: string; region?: string },
  ): ActiveFault | undefined {
    for (const f of this.faults.values()) {
      const fault = f.fault;
      if ((fault.kind !== "http-error" && fault.kind !== "timeout") || fault.target !== target) continue;
      const m = fault.match;
      if (m?.method !== undefined && m.method !== request.method.toUpperCase()) continue;
      if (m?.pathContains !== undefined && !request.path.toLowerCase().includes(m.pathContains.toLowerCase())) continue;
      if (m?.workload !== undefined && m.workload !== request.workload) continue;
      if (m?.region !== undefined && m.region !== request.region) continue;
      if (fault.count !== undefined && f.hits >= fault.count) continue;
      if (!this.rng.stream(`http-faults/${f.id}`).chance(fault.rate)) continue;
      f.hits++;
      return f;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- change tracking

  private changed(faultId?: string): void {
    const now = this.clock.now();
    for (const e of this.endpoints.values()) {
      const readyGpus = this.readyGpus(e.workload.name, e.region);
      if (readyGpus === 0 && (e.loadedVersion !== null || e.loading !== undefined)) {
        // Kubernetes reschedules the serving pods when capacity returns: remember what they were running.
        e.lostVersion = e.loading?.version ?? e.loadedVersion;
        e.loading?.cancel();
        e.loading = undefined;
        e.loadedVersion = null;
        this.timeline.add(now, "model-unloaded", { workload: e.workload.name, region: e.region });
      } else if (readyGpus > 0 && e.loadedVersion === null && e.loading === undefined && e.lostVersion !== null) {
        const version = e.lostVersion;
        e.lostVersion = null;
        this.startLoad(e, version, "restart");
        return;
      }
      const status = this.endpointStatus(e, readyGpus);
      if (status !== e.lastStatus) {
        this.timeline.add(now, "endpoint-health-changed", {
          workload: e.workload.name,
          region: e.region,
          from: e.lastStatus,
          to: status,
        });
        if (e.lastStatus === "ok") e.failingSince = now;
        if (status === "ok") e.failingSince = null;
        e.lastStatus = status;
        if (faultId !== undefined && status !== "ok") {
          const w = this.waits.faults.find((x) => x.id === faultId);
          if (w !== undefined && w.detectableAt === null) w.detectableAt = now;
        }
      }
    }
    for (const l of this.listeners) l(this);
  }

  private onOriginHealth(fd: FrontDoorModel, pop: Pop, o: OriginConfig, healthy: boolean): void {
    if (healthy) return;
    const e = this.endpoints.get(`${o.workload}/${o.region}`);
    const since = e?.failingSince ?? null;
    if (since !== null) {
      const at = this.clock.now();
      this.waits.probeWindows.push({
        frontDoor: fd.name,
        origin: o.name,
        pop: pop.name,
        failingSince: since,
        unhealthyAt: at,
        seconds: (at - since) / 1000,
      });
    }
  }

  /** Called by the alert evaluator when it decides and when it delivers. */
  recordAlertWait(rule: string, condition: "Fired" | "Resolved", decidedAt: number, deliveredAt: number | null): void {
    const existing = this.waits.alertNotifications.find(
      (a) => a.rule === rule && a.condition === condition && a.decidedAt === decidedAt,
    );
    if (existing !== undefined) existing.deliveredAt = deliveredAt;
    else this.waits.alertNotifications.push({ rule, condition, decidedAt, deliveredAt });
  }

  // ---------------------------------------------------------------- ground truth

  /** The ground truth for one inference workload at the current virtual time. */
  groundTruth(workloadName: string): GroundTruth {
    const w = this.topology.workloads.find((x) => x.name === workloadName);
    if (w === undefined || w.kind !== "inference" || w.frontDoor === undefined)
      throw new Error(`[NOT_FOUND] ${workloadName} is not an inference workload of the topology`);
    const fd = this.frontDoors.get(w.frontDoor);
    if (fd === undefined) throw new Error(`[NOT_FOUND] Front Door ${w.frontDoor} is not simulated`);
    const popTotal = this.pops.reduce((a, p) => a + p.weight, 0);
    const routes = this.pops.map((pop) => ({ pop, weight: pop.weight / popTotal, route: fd.route(pop) }));
    const share = new Map<string, number>();
    for (const r of routes)
      for (const s of r.route.shares)
        if (s.origin.workload === w.name)
          share.set(s.origin.region, (share.get(s.origin.region) ?? 0) + r.weight * s.share);
    const regions: Record<string, RegionTruth> = {};
    const capacityFactor = new Map<string, number>();
    for (const region of Object.keys(w.regions)) {
      const readyGpus = this.readyGpus(w.name, region);
      const neededGpus = w.capacity.gpus * (share.get(region) ?? 0);
      capacityFactor.set(region, neededGpus <= 0 ? 1 : Math.min(1, readyGpus / neededGpus));
      regions[region] = {
        trafficShare: share.get(region) ?? 0,
        goodFraction: 0,
        readyGpus,
        neededGpus: round3(neededGpus),
        endpoint: this.endpointHealth(w.name, region).status as EndpointStatus,
      };
    }
    let good = 0;
    let failed = 0;
    const samples: Array<{ ms: number; weight: number }> = [];
    const goodByRegion = new Map<string, number>();
    for (const r of routes) {
      for (const s of r.route.shares) {
        if (s.origin.workload !== w.name) continue;
        const weight = r.weight * s.share;
        const region = s.origin.region;
        const e = this.endpoints.get(`${w.name}/${region}`);
        const h = this.endpointHealth(w.name, region, { pop: r.pop.name });
        const serving = e !== undefined && h.code !== 0 && !ORIGIN_DOWN_STATUSES.has(h.status as EndpointStatus);
        if (!serving || e === undefined) {
          failed += weight;
          continue;
        }
        const cf = capacityFactor.get(region) ?? 0;
        failed += weight * (1 - cf);
        const latency = (this.popRtt.get(`${r.pop.name}/${region}`) ?? 50) + this.endpointLatency(e);
        samples.push({ ms: latency, weight: weight * cf });
        const correct = e.loadedVersion === w.model.version;
        if (correct && latency <= w.slo.latencyMs) {
          good += weight * cf;
          goodByRegion.set(region, (goodByRegion.get(region) ?? 0) + weight * cf);
        }
      }
    }
    for (const [region, t] of Object.entries(regions))
      regions[region] = {
        ...t,
        goodFraction: t.trafficShare > 0 ? round3((goodByRegion.get(region) ?? 0) / t.trafficShare) : 0,
        trafficShare: round3(t.trafficShare),
      };
    return {
      workload: w.name,
      at: this.clock.now(),
      servedWithinSlo: round3(good),
      failOpenPops: routes.filter((r) => r.route.failOpen).map((r) => r.pop.name),
      regions,
      latencyMs: percentiles(samples),
      percent5xx: round3(failed * 100),
    };
  }

  // ---------------------------------------------------------------- metrics and logs

  private defineMetrics(): void {
    const cdn = "Microsoft.Cdn/profiles";
    const classic = "Microsoft.Network/frontdoors";
    const aks = "Microsoft.ContainerService/managedClusters";
    const d = this.metrics.define.bind(this.metrics);
    d({
      namespace: cdn,
      name: "OriginHealthPercentage",
      unit: "Percent",
      description: "The percentage of successful health probes from AFD to origins.",
      dimensions: ["Origin", "OriginGroup"],
    });
    d({
      namespace: cdn,
      name: "Percentage5XX",
      unit: "Percent",
      description: "The percentage of all the client requests for which the response status code is 5XX.",
      dimensions: [],
    });
    d({
      namespace: cdn,
      name: "TotalLatency",
      unit: "MilliSeconds",
      description:
        "The total time from the client request received by AFD until the last response byte sent from AFD to the client.",
      dimensions: [],
    });
    d({
      namespace: cdn,
      name: "RequestCount",
      unit: "Count",
      description: "The number of client requests served by the HTTP/S proxy.",
      dimensions: [],
    });
    for (const p of ["P50", "P95", "P99"])
      d({
        namespace: cdn,
        name: `Latency${p}`,
        unit: "MilliSeconds",
        description: `Simulator extension: ${p} of TotalLatency over the grain.`,
        dimensions: [],
      });
    d({
      namespace: classic,
      name: "BackendHealthPercentage",
      unit: "Percent",
      description: "The percentage of successful health probes from the HTTP/S proxy to backends.",
      dimensions: ["Backend", "BackendPool"],
    });
    d({
      namespace: classic,
      name: "TotalLatency",
      unit: "MilliSeconds",
      description:
        "The time calculated from when the client request was received by the HTTP/S proxy until the client acknowledged the last response byte.",
      dimensions: [],
    });
    d({
      namespace: classic,
      name: "RequestCount",
      unit: "Count",
      description: "The number of client requests served by the HTTP/S proxy.",
      dimensions: [],
    });
    d({
      namespace: classic,
      name: "Percentage5XX",
      unit: "Percent",
      description: "Simulator extension: percentage of client requests answered 5XX.",
      dimensions: [],
    });
    d({
      namespace: aks,
      name: "gpu_ready_nodes",
      unit: "Count",
      description: "Simulator metric: Ready and reachable GPU nodes (DCGM/kube-state-metrics in a real cluster).",
      dimensions: ["agentpool", "zone"],
    });
    d({
      namespace: aks,
      name: "gpu_utilization_percentage",
      unit: "Percent",
      description:
        "Simulator metric: GPU utilisation from the routed load over ready GPUs (DCGM_FI_DEV_GPU_UTIL in a real cluster).",
      dimensions: ["zone"],
    });
  }

  private scheduleMetrics(at: number): void {
    // One millisecond before the grain ends, so that a fault starting exactly at the boundary lands in the next grain.
    const handle = this.clock.schedule(
      at - 1,
      () => {
        this.recordMetrics(at);
        if (!this.stopped) this.scheduleMetrics(at + this.grainMs);
      },
      "metrics grain",
    );
    this.timers.push(handle);
  }

  /** Records one point per series for the grain that ends at `at` (stamped at the grain's start). */
  private recordMetrics(at: number): void {
    const stamp = at - this.grainMs;
    const availability = this.rng.stream("metric-availability").triangular(this.sim.metricAvailability) * 1000;
    const emit = (resourceId: string, metric: string, dims: Record<string, string>, value: number): void => {
      this.metrics.record(resourceId, metric, dims, stamp, value, at + availability);
      this.logRows.push({
        table: "AzureMetrics",
        visibleAt: at + availability + 180_000,
        row: {
          TimeGenerated: new Date(stamp).toISOString(),
          ResourceId: resourceId.toUpperCase(),
          MetricName: metric,
          Average: value,
          Total: value,
          Count: 1,
          ...Object.fromEntries(Object.entries(dims).map(([k, v]) => [`${k}_s`, v])),
        },
      });
    };
    const truths = new Map<string, GroundTruth>();
    for (const w of this.topology.workloads)
      if (w.kind === "inference" && w.frontDoor !== undefined) truths.set(w.name, this.groundTruth(w.name));
    for (const fd of this.frontDoors.values()) {
      const standard = fd.kind === "standard";
      for (const o of fd.desired().origins.values()) {
        const c = fd.probeCounters.get(o.name);
        const pct =
          c === undefined || c.total === 0
            ? (100 * this.pops.filter((p) => fd.isHealthy(p.name, o.name)).length) / Math.max(1, this.pops.length)
            : (100 * c.ok) / c.total;
        emit(
          fd.resourceId,
          standard ? "OriginHealthPercentage" : "BackendHealthPercentage",
          standard ? { Origin: o.name, OriginGroup: fd.groupName } : { Backend: o.hostName, BackendPool: fd.groupName },
          round3(pct),
        );
      }
      fd.probeCounters.clear();
      const wl = [...truths.values()].filter(
        (t) => this.topology.workloads.find((w) => w.name === t.workload)?.frontDoor === fd.name,
      );
      if (wl.length > 0) {
        const p5 = wl.reduce((a, t) => a + t.percent5xx, 0) / wl.length;
        emit(fd.resourceId, "Percentage5XX", {}, round3(p5));
        emit(fd.resourceId, "RequestCount", {}, Math.round(this.rps * (this.grainMs / 1000) * wl.length));
        const p50s = wl.map((t) => t.latencyMs.p50).filter((x): x is number => x !== null);
        if (p50s.length > 0)
          emit(fd.resourceId, "TotalLatency", {}, round3(p50s.reduce((a, b) => a + b, 0) / p50s.length));
        if (standard)
          for (const [name, key] of [
            ["LatencyP50", "p50"],
            ["LatencyP95", "p95"],
            ["LatencyP99", "p99"],
          ] as const) {
            const v = wl.map((t) => t.latencyMs[key]).filter((x): x is number => x !== null);
            if (v.length > 0) emit(fd.resourceId, name, {}, Math.max(...v));
          }
      }
    }
    for (const c of this.clusters.values()) {
      const resourceId = `/subscriptions/${this.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
      const byZone = new Map<string, number>();
      for (const p of this.poolsOf(c.resourceGroup, c.name)) {
        const n = this.servingNodes(p);
        emit(resourceId, "gpu_ready_nodes", { agentpool: p.name, zone: p.zone ?? "none" }, n);
        byZone.set(
          p.zone ?? "none",
          (byZone.get(p.zone ?? "none") ?? 0) + n * (this.topology.capabilityMatrix.skus[p.vmSize]?.gpus ?? 1),
        );
      }
      const t = truths.get(c.workload)?.regions[c.region];
      const totalGpus = [...byZone.values()].reduce((a, b) => a + b, 0);
      for (const [zone, gpus] of byZone) {
        const util =
          t === undefined || totalGpus === 0 || gpus === 0 ? 0 : Math.min(100, (100 * t.neededGpus) / totalGpus);
        emit(resourceId, "gpu_utilization_percentage", { zone }, round3(util));
      }
    }
    for (const l of this.listeners) l(this);
  }

  private recordProbeLog(fd: FrontDoorModel, pop: Pop, o: OriginConfig, r: ProbeOutcome): void {
    const now = this.clock.now();
    if (this.logRows.length > 200_000) return;
    const delay = this.rng.stream(`log-ingestion/${fd.name}/${pop.name}`).triangular(this.sim.logIngestion) * 1000;
    this.logRows.push({
      table: "AzureDiagnostics",
      visibleAt: now + delay,
      row: {
        TimeGenerated: new Date(now).toISOString(),
        ResourceId: fd.resourceId.toUpperCase(),
        Category: "FrontDoorHealthProbeLog",
        POP_s: pop.name,
        originName_s: o.hostName,
        origin_s: o.name,
        region_s: o.region,
        httpStatusCode_s: String(r.status),
        result_s: r.ok ? "OriginHealthy" : "OriginUnhealthy",
        totalLatencyMilliseconds_s: String(r.latencyMs),
      },
    });
  }

  // ---------------------------------------------------------------- snapshots

  /** A JSON-safe picture of the world now: pools, endpoints, origin health per POP, ground truth, faults. */
  snapshot(): WorldSnapshot {
    const now = this.clock.now();
    return {
      at: now,
      t: (now - this.startedAt) / 1000,
      pools: [...this.pools.values()].map((p) => ({
        key: p.key,
        region: p.region,
        zone: p.zone ?? null,
        vmSize: p.vmSize,
        count: p.count,
        nodes: p.nodes.length,
        readyNodes: readyNodes(p, now),
        servingNodes: this.servingNodes(p),
        provisioningState: p.provisioningState,
      })),
      endpoints: [...this.endpoints.values()].map((e) => {
        const h = this.endpointHealth(e.workload.name, e.region);
        return {
          workload: e.workload.name,
          region: e.region,
          status: h.status,
          modelVersion: h.modelVersion,
          latencyMs: h.latencyMs,
          readyGpus: h.readyGpus,
          gate: e.gate,
        };
      }),
      frontDoors: this.frontDoorList().map((f) => ({
        name: f.name,
        version: f.desired().version,
        provisioningState: f.provisioningState(),
        origins: [...f.desired().origins.values()].map((o) => ({ ...o, deploymentStatus: f.deploymentStatus(o.name) })),
        health: f.healthView(),
      })),
      groundTruth: this.topology.workloads.filter((w) => w.kind === "inference").map((w) => this.groundTruth(w.name)),
      faults: this.activeFaults().map((f) => ({ id: f.id, kind: f.fault.kind, startedAt: f.startedAt })),
    };
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    for (const t of this.gateTimers) t.cancel();
    for (const f of this.frontDoors.values()) f.stop();
    for (const e of this.endpoints.values()) e.loading?.cancel();
  }

  /** For diagnostics: a stream by name (tests use it to show streams are independent). */
  stream(name: string): RandomStream {
    return this.rng.stream(name);
  }

  /** The shared latency model distribution used for a VM size (documentation and benchmarks). */
  provisioningDistribution(vmSize: string): Triangular {
    return nodeProvisioningFor(this.latency, vmSize);
  }
}

export interface WorldSnapshot {
  readonly at: number;
  readonly t: number;
  readonly pools: ReadonlyArray<Record<string, string | number | null>>;
  readonly endpoints: ReadonlyArray<Record<string, string | number | null>>;
  readonly frontDoors: ReadonlyArray<Record<string, unknown>>;
  readonly groundTruth: ReadonlyArray<GroundTruth>;
  readonly faults: ReadonlyArray<{ id: string; kind: string; startedAt: number }>;
}

function nodeName(pool: string, i: number): string {
  return `aks-${pool}-31415926-vmss${i.toString(36).padStart(6, "0")}`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Weighted percentiles of a mixture in which each component spreads 0.8×–2× around its latency. */
function percentiles(samples: ReadonlyArray<{ ms: number; weight: number }>): GroundTruth["latencyMs"] {
  const points: Array<{ ms: number; w: number }> = [];
  for (const s of samples)
    for (const [f, w] of [
      [0.8, 0.5],
      [1, 0.3],
      [1.5, 0.15],
      [2, 0.05],
    ] as const)
      if (s.weight > 0) points.push({ ms: s.ms * f, w: s.weight * w });
  const total = points.reduce((a, p) => a + p.w, 0);
  if (total <= 0) return { p50: null, p95: null, p99: null };
  points.sort((a, b) => a.ms - b.ms);
  const q = (p: number): number => {
    let acc = 0;
    for (const pt of points) {
      acc += pt.w;
      if (acc / total >= p) return Math.round(pt.ms);
    }
    return Math.round(points[points.length - 1]?.ms ?? 0);
  };
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}
