/**
 * Run sightings on the start path (src/http/failover-service.ts): a request that joins a run this process saw active
 * within min(cooldown, 30 s) skips the claim read and the status call, and every answer stays what it would have been
 * without sightings. The property test runs the same random sequences of requests, Resolved look-ups, finished runs
 * and clock jumps through two worlds, one with sightings and one without, and compares every answer. And the start path
 * under a herd of identical requests (what an alert storm is once nothing staggers it): one run, started once, no
 * request failing on the shift's compare-and-swap; a claimed run that is missing is started by someone else only after
 * the grace.
 */
import fc from "fast-check";
import type { DurableClient } from "durable-functions";
import { describe, expect, it } from "vitest";
import type { ControlStore } from "../../../src/adapters/control-store";
import type { ScopeClaim, StateStore } from "../../../src/adapters/state-store";
import {
  activeFailover,
  MAX_SIGHTING_MS,
  RunSightings,
  START_GRACE_MS,
  startOrJoinFailover,
  type FailoverServiceDeps,
  type StartRequest,
} from "../../../src/http/failover-service";
import type { Scope } from "../../../src/runbooks/contracts";
import { fakeStatusAndStart } from "../support/fake-durable";
import { exampleTopology } from "../support/topology-fixtures";

const T0 = Date.UTC(2030, 0, 1);
const topology = exampleTopology();

class World {
  now = T0;
  readonly instances = new Map<string, { runtimeStatus: string; lastUpdatedTime: number }>();
  readonly claims = new Map<string, { claim: ScopeClaim; etag: string }>();
  statusCalls = 0;
  claimReads = 0;
  private etags = 0;

  constructor(
    readonly cooldownSeconds: number,
    readonly sightings: RunSightings | undefined,
  ) {}

  deps(): FailoverServiceDeps {
    const key = (w: string, r: string, z: string | undefined): string => `${w}/${r}/${z ?? "all"}`;
    const client = fakeStatusAndStart(this, { onStatus: () => void this.statusCalls++ });
    const state = {
      readClaim: (w: string, r: string, z: string | undefined) => {
        this.claimReads++;
        return Promise.resolve(this.claims.get(key(w, r, z)));
      },
      writeClaim: (w: string, r: string, z: string | undefined, claim: ScopeClaim, etag: string | undefined) => {
        if (this.claims.get(key(w, r, z))?.etag !== etag) return Promise.resolve(false);
        this.claims.set(key(w, r, z), { claim, etag: `e${++this.etags}` });
        return Promise.resolve(true);
      },
    };
    return {
      client: client as unknown as DurableClient,
      state: state as unknown as StateStore,
      now: () => this.now,
      cooldownSeconds: this.cooldownSeconds,
      ...(this.sightings === undefined ? {} : { sightings: this.sightings }),
    };
  }

  /** Finishes the n-th running instance (in id order), if any. */
  finishNth(n: number): void {
    const running = [...this.instances.entries()].filter(([, i]) => i.runtimeStatus === "Running").sort();
    const picked = running[n % Math.max(1, running.length)];
    if (picked !== undefined) this.instances.set(picked[0], { runtimeStatus: "Completed", lastUpdatedTime: this.now });
  }
}

function request(scope: Scope): StartRequest {
  const at = new Date(T0).toISOString();
  return {
    workload: "chat",
    scope,
    mode: "live",
    trigger: { kind: "alert", reference: "a-1", detectedAt: at, receivedAt: at },
    topology,
    options: {},
  };
}

const SCOPES: Scope[] = [{ region: "eastus2" }, { region: "eastus2", zone: "1" }, { region: "eastus2", zone: "2" }];

describe("run sightings", () => {
  it("a run seen active is joined again without reading the claim or the status", async () => {
    const w = new World(600, new RunSightings());
    const first = await startOrJoinFailover(w.deps(), request({ region: "eastus2" }));
    expect(first.outcome).toBe("started");
    const [reads, calls] = [w.claimReads, w.statusCalls];
    w.now += 5_000;
    for (let i = 0; i < 10; i++)
      expect(await startOrJoinFailover(w.deps(), request({ region: "eastus2" }))).toEqual({
        outcome: "joined",
        instanceId: first.instanceId,
      });
    expect([w.claimReads - reads, w.statusCalls - calls]).toEqual([0, 0]);
    // A zone of that region is covered by it, also without any read.
    expect(await startOrJoinFailover(w.deps(), request({ region: "eastus2", zone: "1" }))).toMatchObject({
      outcome: "joined",
      instanceId: first.instanceId,
    });
    expect([w.claimReads - reads, w.statusCalls - calls]).toEqual([0, 0]);
  });

  it("without sightings every request reads the claim and the status", async () => {
    const w = new World(600, undefined);
    await startOrJoinFailover(w.deps(), request({ region: "eastus2" }));
    const [reads, calls] = [w.claimReads, w.statusCalls];
    for (let i = 0; i < 3; i++) await startOrJoinFailover(w.deps(), request({ region: "eastus2" }));
    expect([w.claimReads - reads, w.statusCalls - calls]).toEqual([3, 3]);
  });

  it("a sighting is trusted for min(cooldown, 30 s) only: a run finished after that is not joined", async () => {
    const w = new World(10, new RunSightings());
    const first = await startOrJoinFailover(w.deps(), request({ region: "eastus2" }));
    w.now += 1_000;
    w.finishNth(0);
    w.now += 10_000; // 11 s after the sighting; the run finished 10 s ago = the cooldown.
    const next = await startOrJoinFailover(w.deps(), request({ region: "eastus2" }));
    expect(next.outcome).toBe("started");
    expect(next.instanceId).not.toBe(first.instanceId);

    const long = new World(3600, new RunSightings());
    await startOrJoinFailover(long.deps(), request({ region: "eastus2" }));
    long.now += MAX_SIGHTING_MS;
    const calls = long.statusCalls;
    await startOrJoinFailover(long.deps(), request({ region: "eastus2" }));
    expect(long.statusCalls - calls).toBe(1);
  });

  it("a Resolved look-up always asks for the status (the run must be active now), skipping only the claim read", async () => {
    const w = new World(600, new RunSightings());
    const first = await startOrJoinFailover(w.deps(), request({ region: "eastus2" }));
    const [reads, calls] = [w.claimReads, w.statusCalls];
    expect(await activeFailover(w.deps(), "chat", { region: "eastus2" })).toBe(first.instanceId);
    w.finishNth(0);
    expect(await activeFailover(w.deps(), "chat", { region: "eastus2" })).toBeUndefined();
    expect([w.claimReads - reads, w.statusCalls - calls]).toEqual([0, 2]);
  });

  it("answers exactly as without sightings, whatever the sequence of requests, finishes and clock jumps", async () => {
    type Op =
      | { kind: "request"; scope: number }
      | { kind: "resolved"; scope: number }
      | { kind: "finish"; n: number }
      | { kind: "advance"; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("request" as const), scope: fc.integer({ min: 0, max: SCOPES.length - 1 }) }),
      fc.record({ kind: fc.constant("resolved" as const), scope: fc.integer({ min: 0, max: SCOPES.length - 1 }) }),
      fc.record({ kind: fc.constant("finish" as const), n: fc.nat(5) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 45_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1, 5, 20, 40, 600),
        fc.array(op, { maxLength: 60 }),
        async (cooldown, ops) => {
          const plain = new World(cooldown, undefined);
          const seen = new World(cooldown, new RunSightings());
          const answers: { plain: unknown[]; seen: unknown[] } = { plain: [], seen: [] };
          for (const o of ops) {
            for (const [name, w] of [
              ["plain", plain],
              ["seen", seen],
            ] as const) {
              if (o.kind === "advance") w.now += o.ms;
              if (o.kind === "finish") w.finishNth(o.n);
              if (o.kind === "request")
                answers[name].push(await startOrJoinFailover(w.deps(), request(SCOPES[o.scope]!)));
              if (o.kind === "resolved") answers[name].push(await activeFailover(w.deps(), "chat", SCOPES[o.scope]!));
            }
          }
          expect(answers.seen).toEqual(answers.plain);
          expect(seen.statusCalls + seen.claimReads).toBeLessThanOrEqual(plain.statusCalls + plain.claimReads);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("start path under a herd of identical requests", () => {
  /** A world with shifts whose runs finish as soon as they start (a failover that is not confirmed). */
  function herdWorld(): { deps: FailoverServiceDeps; world: World; starts: () => number } {
    const world = new World(600, new RunSightings());
    const base = world.deps();
    let starts = 0;
    let shift: { value: unknown; etag: string } | undefined;
    let etags = 0;
    const control = {
      readShift: () => Promise.resolve(shift),
      writeShift: (_w: string, value: unknown, etag: string | undefined) => {
        if (shift?.etag !== etag) return Promise.resolve(false);
        shift = { value: JSON.parse(JSON.stringify(value)) as unknown, etag: `s${++etags}` };
        return Promise.resolve(true);
      },
    };
    const client = base.client as unknown as { startNew: (n: string, o: { instanceId: string }) => Promise<string> };
    const startNew = client.startNew;
    const deps: FailoverServiceDeps = {
      ...base,
      control: control as unknown as ControlStore,
      client: {
        ...(base.client as object),
        startNew: async (name: string, options: { instanceId: string }) => {
          await new Promise((r) => setImmediate(r));
          const id = await startNew(name, options);
          starts++;
          world.instances.set(options.instanceId, { runtimeStatus: "Completed", lastUpdatedTime: world.now });
          return id;
        },
      } as unknown as DurableClient,
    };
    return { deps, world, starts: () => starts };
  }

  it("50 identical requests at once start one run once, and every one is answered", async () => {
    const { deps, starts } = herdWorld();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => startOrJoinFailover(deps, request({ region: "eastus2", zone: "1" }))),
    );
    expect(answers.filter((a) => a.outcome === "started")).toHaveLength(1);
    expect(answers.filter((a) => a.outcome === "joined")).toHaveLength(49);
    expect(new Set(answers.map((a) => a.instanceId)).size).toBe(1);
    expect(starts()).toBe(1);
  });

  it("a claim whose run is missing is started by another request only after the grace (its claimant crashed)", async () => {
    const { deps, world, starts } = herdWorld();
    world.claims.set("chat/eastus2/all", {
      claim: { generation: 1, instanceId: "failover-x", claimedAt: new Date(world.now).toISOString(), trigger: "t" },
      etag: "c1",
    });
    expect(await startOrJoinFailover(deps, request({ region: "eastus2" }))).toMatchObject({
      outcome: "joined",
      instanceId: "failover-x",
    });
    expect(starts()).toBe(0);
    world.now += START_GRACE_MS;
    expect(await startOrJoinFailover(deps, request({ region: "eastus2" }))).toEqual({
      outcome: "started",
      instanceId: "failover-x",
    });
    expect(starts()).toBe(1);
  });
});
