/**
 * One Front Door (Standard/Premium origin group, or classic backend pool) as the world sees it: the configuration
 * ARM holds (`desired`), the configuration each edge POP has applied (changes propagate to POPs over minutes), the
 * health-probe state per POP and origin, and the routing decision each POP makes.
 *
 * Mechanics (azure-facts §1.1–1.3): every POP probes every enabled origin each `intervalSeconds`; an origin is
 * healthy at a POP while at least `successfulSamplesRequired` of its last `sampleSize` probes returned 200.
 * Routing: available = enabled and healthy; lowest priority value wins; among those, origins within
 * `additionalLatencyMs` of the fastest; then split by weight. When no enabled origin is healthy, Front Door fails
 * open and spreads traffic round-robin over every enabled origin.
 */
import type { VirtualClock } from "../clock";
import type { LatencyModel } from "../../src/domain/latency-model";
import type { StreamFactory } from "./prng";
import type { SimLatency } from "./sim-latency";
import type { Timeline } from "./timeline";

export type EnabledState = "Enabled" | "Disabled";

export interface OriginConfig {
  readonly name: string;
  readonly workload: string;
  readonly region: string;
  readonly hostName: string;
  readonly enabledState: EnabledState;
  readonly weight: number;
  readonly priority: number;
}

export interface ProbeConfig {
  readonly path: string;
  readonly protocol: "Http" | "Https";
  readonly method: "HEAD" | "GET";
  readonly intervalSeconds: number;
  readonly sampleSize: number;
  readonly successfulSamplesRequired: number;
  readonly additionalLatencyMs: number;
}

export interface FrontDoorConfig {
  readonly version: number;
  readonly probe: ProbeConfig;
  readonly origins: ReadonlyMap<string, OriginConfig>;
}

export interface Pop {
  readonly name: string;
  readonly geography: string;
  readonly weight: number;
}

export interface ProbeOutcome {
  readonly ok: boolean;
  readonly status: number;
  readonly latencyMs: number;
}

export interface FrontDoorHost {
  readonly clock: VirtualClock;
  readonly rng: StreamFactory;
  readonly latency: LatencyModel;
  readonly sim: SimLatency;
  readonly timeline: Timeline;
  readonly pops: ReadonlyArray<Pop>;
  probe(origin: OriginConfig, pop: Pop): ProbeOutcome;
  propagationFactor(): number;
  onProbe(fd: FrontDoorModel, pop: Pop, origin: OriginConfig, outcome: ProbeOutcome): void;
  onHealthChanged(fd: FrontDoorModel, pop: Pop, origin: OriginConfig, healthy: boolean): void;
  onPropagated(
    fd: FrontDoorModel,
    version: number,
    requestedAt: number,
    armCompletedAt: number,
    finishedAt: number,
  ): void;
}

interface OriginProbeState {
  window: boolean[];
  healthy: boolean;
  latencyMs: number;
}

export interface RouteShare {
  readonly origin: OriginConfig;
  readonly share: number;
  readonly latencyMs: number;
}

export interface PopRoute {
  readonly pop: string;
  readonly failOpen: boolean;
  readonly shares: ReadonlyArray<RouteShare>;
}

export interface FrontDoorModelOptions {
  readonly name: string;
  readonly kind: "standard" | "classic";
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** Profile (standard) or Front Door name (classic). */
  readonly resourceName: string;
  /** Origin group (standard) or backend pool (classic). */
  readonly groupName: string;
  readonly probe: ProbeConfig;
  readonly origins: ReadonlyArray<OriginConfig>;
}

export class FrontDoorModel {
  readonly name: string;
  readonly kind: "standard" | "classic";
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly resourceName: string;
  readonly groupName: string;
  private desiredConfig: FrontDoorConfig;
  private readonly applied = new Map<string, FrontDoorConfig>();
  private readonly health = new Map<string, Map<string, OriginProbeState>>();
  private readonly armCompletesAt = new Map<number, number>();
  private readonly propagatedAt = new Map<number, number>();
  private readonly originVersion = new Map<string, number>();
  private groupVersion = 0;
  private readonly probeTimers = new Map<string, { cancel(): void }>();
  /** Probe outcomes since the metrics recorder last read them, per origin. */
  readonly probeCounters = new Map<string, { ok: number; total: number }>();

  constructor(
    private readonly host: FrontDoorHost,
    options: FrontDoorModelOptions,
  ) {
    this.name = options.name;
    this.kind = options.kind;
    this.subscriptionId = options.subscriptionId;
    this.resourceGroup = options.resourceGroup;
    this.resourceName = options.resourceName;
    this.groupName = options.groupName;
    this.desiredConfig = {
      version: 0,
      probe: options.probe,
      origins: new Map(options.origins.map((o) => [o.name, o])),
    };
    const start = host.clock.now();
    this.armCompletesAt.set(0, start);
    this.propagatedAt.set(0, start);
    for (const o of options.origins) this.originVersion.set(o.name, 0);
    for (const pop of host.pops) {
      this.applied.set(pop.name, this.desiredConfig);
      const states = new Map<string, OriginProbeState>();
      for (const o of options.origins) {
        const r = host.probe(o, pop);
        states.set(o.name, {
          window: Array<boolean>(options.probe.sampleSize).fill(r.ok),
          healthy: r.ok,
          latencyMs: r.latencyMs,
        });
      }
      this.health.set(pop.name, states);
      // Each POP probes on its own phase, so POPs converge at slightly different times (azure-facts §1.1).
      const phase = host.rng.stream(`frontdoor/${this.name}/phase/${pop.name}`).next();
      this.scheduleProbe(pop, start + phase * options.probe.intervalSeconds * 1000);
    }
  }

  get resourceId(): string {
    return this.kind === "standard"
      ? `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.Cdn/profiles/${this.resourceName}`
      : `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.Network/frontdoors/${this.resourceName}`;
  }

  desired(): FrontDoorConfig {
    return this.desiredConfig;
  }

  appliedAt(pop: string): FrontDoorConfig | undefined {
    return this.applied.get(pop);
  }

  /**
   * Accepts a configuration change through ARM: the ARM operation completes after a sampled delay, then the change
   * reaches each POP after a sampled propagation (minutes). Returns the new version and when ARM completes.
   */
  change(next: { probe?: ProbeConfig; origins?: ReadonlyMap<string, OriginConfig> }): {
    version: number;
    armCompletesAt: number;
  } {
    const now = this.host.clock.now();
    const version = this.desiredConfig.version + 1;
    const origins = next.origins ?? this.desiredConfig.origins;
    const probe = next.probe ?? this.desiredConfig.probe;
    if (next.probe !== undefined && JSON.stringify(next.probe) !== JSON.stringify(this.desiredConfig.probe))
      this.groupVersion = version;
    for (const [name, o] of origins) {
      const before = this.desiredConfig.origins.get(name);
      if (before === undefined || JSON.stringify(before) !== JSON.stringify(o)) this.originVersion.set(name, version);
    }
    this.desiredConfig = { version, probe, origins };
    const rng = this.host.rng.stream(`frontdoor/${this.name}/changes`);
    const armSeconds = rng.triangular(this.host.latency.frontDoorArmUpdate);
    const propagationSeconds = rng.triangular(this.host.latency.frontDoorPropagation) * this.host.propagationFactor();
    const fractions = this.host.pops.map(() => rng.between(0.3, 1));
    const maxFraction = Math.max(...fractions);
    const armAt = now + armSeconds * 1000;
    this.armCompletesAt.set(version, armAt);
    const config = this.desiredConfig;
    this.host.timeline.add(now, "frontdoor-change-accepted", { frontDoor: this.name, version });
    this.host.clock.schedule(
      armAt,
      () => this.host.timeline.add(armAt, "frontdoor-arm-completed", { frontDoor: this.name, version }),
      `frontdoor ${this.name} arm v${version}`,
    );
    let remaining = this.host.pops.length;
    this.host.pops.forEach((pop, i) => {
      const at = armAt + ((fractions[i] ?? 1) / maxFraction) * propagationSeconds * 1000;
      this.host.clock.schedule(
        at,
        () => {
          this.applyAt(pop, config, at);
          remaining--;
          if (remaining === 0) {
            this.propagatedAt.set(version, at);
            this.host.timeline.add(at, "propagation-finished", {
              frontDoor: this.name,
              version,
              seconds: Math.round((at - armAt) / 1000),
            });
            this.host.onPropagated(this, version, now, armAt, at);
          }
        },
        `frontdoor ${this.name} propagate v${version} ${pop.name}`,
      );
    });
    return { version, armCompletesAt: armAt };
  }

  private applyAt(pop: Pop, config: FrontDoorConfig, at: number): void {
    const current = this.applied.get(pop.name);
    if (current !== undefined && current.version >= config.version) return;
    this.applied.set(pop.name, config);
    const states = this.health.get(pop.name) ?? new Map<string, OriginProbeState>();
    for (const o of config.origins.values()) {
      const s = states.get(o.name);
      if (s === undefined) {
        // A new origin starts healthy; its probes decide from then on.
        states.set(o.name, { window: Array<boolean>(config.probe.sampleSize).fill(true), healthy: true, latencyMs: 0 });
      } else if (s.window.length !== config.probe.sampleSize) {
        const last = s.window[s.window.length - 1] ?? true;
        s.window = Array<boolean>(config.probe.sampleSize).fill(last);
      }
    }
    this.health.set(pop.name, states);
    if (current !== undefined && current.probe.intervalSeconds !== config.probe.intervalSeconds) {
      this.probeTimers.get(pop.name)?.cancel();
      this.scheduleProbe(pop, at + config.probe.intervalSeconds * 1000);
    }
    this.host.timeline.add(at, "frontdoor-config-applied", {
      frontDoor: this.name,
      pop: pop.name,
      version: config.version,
    });
  }

  private scheduleProbe(pop: Pop, at: number): void {
    const handle = this.host.clock.schedule(
      at,
      () => {
        this.probeRound(pop);
        const interval = (this.applied.get(pop.name) ?? this.desiredConfig).probe.intervalSeconds;
        this.scheduleProbe(pop, at + interval * 1000);
      },
      `frontdoor ${this.name} probe ${pop.name}`,
    );
    this.probeTimers.set(pop.name, handle);
  }

  private probeRound(pop: Pop): void {
    const config = this.applied.get(pop.name) ?? this.desiredConfig;
    const states = this.health.get(pop.name);
    if (states === undefined) return;
    for (const o of config.origins.values()) {
      if (o.enabledState !== "Enabled") continue;
      const s = states.get(o.name);
      if (s === undefined) continue;
      const r = this.host.probe(o, pop);
      this.host.onProbe(this, pop, o, r);
      const c = this.probeCounters.get(o.name) ?? { ok: 0, total: 0 };
      c.total++;
      if (r.ok) c.ok++;
      this.probeCounters.set(o.name, c);
      s.window.push(r.ok);
      while (s.window.length > config.probe.sampleSize) s.window.shift();
      if (r.ok) s.latencyMs = r.latencyMs;
      const successes = s.window.filter(Boolean).length;
      const healthy = successes >= config.probe.successfulSamplesRequired;
      if (healthy !== s.healthy) {
        s.healthy = healthy;
        this.host.timeline.add(this.host.clock.now(), healthy ? "origin-healthy" : "origin-unhealthy", {
          frontDoor: this.name,
          pop: pop.name,
          origin: o.name,
          region: o.region,
        });
        this.host.onHealthChanged(this, pop, o, healthy);
      }
    }
  }

  isHealthy(pop: string, origin: string): boolean {
    return this.health.get(pop)?.get(origin)?.healthy ?? false;
  }

  /** Where a POP sends this Front Door's traffic now, with each origin's share (sums to 1, or 0 with none). */
  route(pop: Pop): PopRoute {
    const config = this.applied.get(pop.name) ?? this.desiredConfig;
    const enabled = [...config.origins.values()].filter((o) => o.enabledState === "Enabled");
    const states = this.health.get(pop.name);
    const latencyOf = (o: OriginConfig): number => states?.get(o.name)?.latencyMs ?? 0;
    const available = enabled.filter((o) => states?.get(o.name)?.healthy === true);
    if (available.length === 0) {
      return {
        pop: pop.name,
        failOpen: enabled.length > 0,
        shares: enabled.map((o) => ({ origin: o, share: 1 / enabled.length, latencyMs: latencyOf(o) })),
      };
    }
    const best = Math.min(...available.map((o) => o.priority));
    const tier = available.filter((o) => o.priority === best);
    const fastest = Math.min(...tier.map(latencyOf));
    const band = tier.filter((o) => latencyOf(o) <= fastest + config.probe.additionalLatencyMs);
    const total = band.reduce((a, o) => a + o.weight, 0);
    return {
      pop: pop.name,
      failOpen: false,
      shares: band.map((o) => ({ origin: o, share: o.weight / total, latencyMs: latencyOf(o) })),
    };
  }

  /** ARM provisioning state of the latest change. */
  provisioningState(): "Updating" | "Succeeded" {
    const at = this.armCompletesAt.get(this.desiredConfig.version) ?? 0;
    return this.host.clock.now() < at ? "Updating" : "Succeeded";
  }

  /** `deploymentStatus` of an origin (or the group when `origin` is undefined): Succeeded once propagated. */
  deploymentStatus(origin?: string): "NotStarted" | "InProgress" | "Succeeded" {
    const version = origin === undefined ? this.groupVersion : (this.originVersion.get(origin) ?? 0);
    const now = this.host.clock.now();
    const arm = this.armCompletesAt.get(version) ?? 0;
    if (now < arm) return "NotStarted";
    const done = this.propagatedAt.get(version);
    // A later version that finished propagating carries this one with it.
    const laterDone = [...this.propagatedAt.entries()].some(([v, at]) => v >= version && at <= now);
    return (done !== undefined && done <= now) || laterDone ? "Succeeded" : "InProgress";
  }

  /** Per POP and origin: healthy or not (for snapshots). */
  healthView(): Record<string, Record<string, boolean>> {
    const out: Record<string, Record<string, boolean>> = {};
    for (const [pop, states] of this.health) {
      out[pop] = {};
      for (const [o, s] of states) out[pop][o] = s.healthy;
    }
    return out;
  }

  stop(): void {
    for (const t of this.probeTimers.values()) t.cancel();
  }
}
