/**
 * The start path with the single active shift per workload: precedence manual > automatic > practice, joins that need
 * no shift, escalation, preemption asking the replaced run to abort, lazy retirement of finished runs, and
 * compare-and-swap on the shift blob — with in-memory fakes of the Durable client and the two stores.
 */
import type { DurableClient } from "durable-functions";
import { describe, expect, it } from "vitest";
import type { ControlStore } from "../../../src/adapters/control-store";
import type { ScopeClaim, StateStore } from "../../../src/adapters/state-store";
import { parseShiftState } from "../../../src/domain/shift";
import {
  acquireShift,
  endFinishedShift,
  startFailback,
  startOrJoinFailover,
  type FailoverServiceDeps,
  type StartRequest,
} from "../../../src/http/failover-service";
import type { Scope } from "../../../src/runbooks/contracts";
import { fakeStatusAndStart } from "../support/fake-durable";
import { exampleTopology } from "../support/topology-fixtures";

const T0 = Date.UTC(2030, 0, 1);

class World {
  now = T0;
  readonly instances = new Map<string, { runtimeStatus: string; lastUpdatedTime: number }>();
  readonly started: string[] = [];
  readonly events: Array<{ id: string; name: string }> = [];
  readonly claims = new Map<string, { claim: ScopeClaim; etag: string }>();
  readonly shifts = new Map<string, { value: unknown; etag: string }>();
  /** Makes the next shift write lose its compare-and-swap (another writer got there first). */
  loseNextShiftWrite = false;
  shiftWrites = 0;
  private etags = 0;

  client(): DurableClient {
    const fake = {
      ...fakeStatusAndStart(this, { onStart: (id) => void this.started.push(id) }),
      raiseEvent: (id: string, name: string) => {
        this.events.push({ id, name });
        return Promise.resolve();
      },
    };
    return fake as unknown as DurableClient;
  }

  state(): StateStore {
    const key = (w: string, r: string, z: string | undefined): string => `${w}/${r}/${z ?? "all"}`;
    const fake = {
      readClaim: (w: string, r: string, z: string | undefined) => Promise.resolve(this.claims.get(key(w, r, z))),
      writeClaim: (w: string, r: string, z: string | undefined, claim: ScopeClaim, etag: string | undefined) => {
        const current = this.claims.get(key(w, r, z));
        if (current?.etag !== etag) return Promise.resolve(false);
        this.claims.set(key(w, r, z), { claim, etag: `e${++this.etags}` });
        return Promise.resolve(true);
      },
    };
    return fake as unknown as StateStore;
  }

  control(): ControlStore {
    const fake = {
      readShift: (w: string) => Promise.resolve(this.shifts.get(w)),
      writeShift: (w: string, value: unknown, etag: string | undefined) => {
        this.shiftWrites++;
        if (this.loseNextShiftWrite) {
          this.loseNextShiftWrite = false;
          this.shifts.set(w, { value: this.shifts.get(w)?.value ?? value, etag: `e${++this.etags}` });
          return Promise.resolve(false);
        }
        if (this.shifts.get(w)?.etag !== etag) return Promise.resolve(false);
        this.shifts.set(w, { value: JSON.parse(JSON.stringify(value)) as unknown, etag: `e${++this.etags}` });
        return Promise.resolve(true);
      },
    };
    return fake as unknown as ControlStore;
  }

  deps(): FailoverServiceDeps {
    return {
      client: this.client(),
      state: this.state(),
      now: () => this.now,
      cooldownSeconds: 600,
      control: this.control(),
    };
  }

  finish(id: string): void {
    this.instances.set(id, { runtimeStatus: "Completed", lastUpdatedTime: this.now });
  }

  activeShift(workload = "chat"): string | undefined {
    const stored = this.shifts.get(workload);
    return stored === undefined ? undefined : parseShiftState(stored.value).active?.id;
  }
}

const topology = exampleTopology();

function request(
  scope: Scope,
  kind: "alert" | "probe" | "drill",
  precedence?: "manual" | "automatic" | "practice",
): StartRequest {
  const at = new Date(T0).toISOString();
  return {
    workload: "chat",
    scope,
    mode: "live",
    trigger: { kind, reference: `${kind}-1`, detectedAt: at, receivedAt: at },
    topology,
    options: {},
    ...(precedence === undefined ? {} : { precedence }),
  };
}

describe("start path with the single active shift", () => {
  it("an automatic failover holds the workload: practice and other automatic scopes are refused and change nothing", async () => {
    const w = new World();
    const first = await startOrJoinFailover(w.deps(), request({ region: "eastus2" }, "probe"));
    expect(first).toEqual({ outcome: "started", instanceId: "failover-chat-eastus2-all-1" });
    const claims = new Map(w.claims);
    const practice = await startOrJoinFailover(w.deps(), request({ region: "westus3" }, "drill", "practice"));
    expect(practice).toMatchObject({ outcome: "refused", instanceId: "failover-chat-eastus2-all-1" });
    expect(practice.detail).toMatch(/higher precedence/);
    const other = await startOrJoinFailover(w.deps(), request({ region: "westus3" }, "alert"));
    expect(other).toMatchObject({ outcome: "refused", detail: expect.stringMatching(/equal precedence/) as unknown });
    expect(w.started).toEqual(["failover-chat-eastus2-all-1"]);
    expect(w.claims).toEqual(claims);
    expect(w.events).toEqual([]);
  });

  it("duplicates join without touching the shift; a zone of a region being failed over joins the region's run", async () => {
    const w = new World();
    await startOrJoinFailover(w.deps(), request({ region: "eastus2" }, "alert"));
    const writes = w.shiftWrites;
    expect(await startOrJoinFailover(w.deps(), request({ region: "eastus2" }, "probe"))).toEqual({
      outcome: "joined",
      instanceId: "failover-chat-eastus2-all-1",
    });
    expect(await startOrJoinFailover(w.deps(), request({ region: "eastus2", zone: "1" }, "probe"))).toMatchObject({
      outcome: "joined",
      instanceId: "failover-chat-eastus2-all-1",
      detail: "covered by the eastus2 failover",
    });
    expect(w.shiftWrites).toBe(writes);
    expect(w.started).toHaveLength(1);
  });

  it("a manual drill preempts an automatic run, which is asked to abort; a region run escalates over its zone run", async () => {
    const w = new World();
    await startOrJoinFailover(w.deps(), request({ region: "eastus2", zone: "1" }, "probe"));
    const region = await startOrJoinFailover(w.deps(), request({ region: "eastus2" }, "alert"));
    expect(region).toMatchObject({ outcome: "started", replaced: "failover-chat-eastus2-1-1" });
    expect(w.events).toEqual([{ id: "failover-chat-eastus2-1-1", name: "abort" }]);
    const manual = await startOrJoinFailover(w.deps(), request({ region: "westus3" }, "drill"));
    expect(manual).toMatchObject({ outcome: "started", replaced: "failover-chat-eastus2-all-1" });
    expect(w.events.at(-1)).toEqual({ id: "failover-chat-eastus2-all-1", name: "abort" });
    expect(w.activeShift()).toBe("failover-chat-westus3-all-1");
    // The aborted run compensates and finishes; a duplicate within its cooldown still joins it…
    w.finish("failover-chat-eastus2-all-1");
    expect((await startOrJoinFailover(w.deps(), request({ region: "eastus2" }, "probe"))).outcome).toBe("joined");
    // …and nothing automatic overrides the operator while the drill runs.
    w.now += 3_600_000; // the eastus2 run's cooldown is over
    expect(await startOrJoinFailover(w.deps(), request({ region: "eastus2" }, "probe"))).toMatchObject({
      outcome: "refused",
      instanceId: "failover-chat-westus3-all-1",
    });
  });

  it("a finished run's shift is ended by the next request; every shift also expires", async () => {
    const w = new World();
    await startOrJoinFailover(w.deps(), request({ region: "eastus2" }, "alert"));
    w.finish("failover-chat-eastus2-all-1");
    const practice = await startOrJoinFailover(w.deps(), request({ region: "westus3" }, "drill", "practice"));
    expect(practice).toEqual({ outcome: "started", instanceId: "failover-chat-westus3-all-1" });
    const history = parseShiftState(w.shifts.get("chat")!.value).history;
    expect(history.at(-1)).toMatchObject({
      end: "ended",
      detail: "run Completed",
      shift: { id: "failover-chat-eastus2-all-1" },
    });
  });

  it("the minute sweep ends a finished run's shift and leaves a running one alone", async () => {
    const w = new World();
    const deps = { client: w.client(), now: () => w.now, control: w.control() };
    await startOrJoinFailover(w.deps(), request({ region: "eastus2" }, "alert"));
    expect(await endFinishedShift(deps, "chat")).toBeUndefined();
    expect(w.activeShift()).toBe("failover-chat-eastus2-all-1");
    w.finish("failover-chat-eastus2-all-1");
    expect(await endFinishedShift(deps, "chat")).toBe("failover-chat-eastus2-all-1");
    expect(w.activeShift()).toBeUndefined();
    expect(parseShiftState(w.shifts.get("chat")!.value).history).toEqual([
      expect.objectContaining({ end: "ended", detail: "run Completed" }),
    ]);
    expect(await endFinishedShift(deps, "chat-lite")).toBeUndefined();
  });

  it("retries the shift's compare-and-swap when another writer won", async () => {
    const w = new World();
    w.loseNextShiftWrite = true;
    const decision = await acquireShift({ client: w.client(), now: () => w.now, control: w.control() }, "chat", {
      id: "drill-1",
      kind: "manual",
      scope: { region: "eastus2" },
    });
    // The write that won granted the shift to this same run: the retry finds it held by drill-1 and joins it (it is
    // not ended for its run not being started yet, which is what a herd of identical requests needs).
    expect(decision.outcome).toBe("joined");
    expect(w.shiftWrites).toBe(1);
    expect(w.activeShift()).toBe("drill-1");
  });

  it("starts a failback at most once per failover", async () => {
    const w = new World();
    const input = {
      workload: "chat",
      scope: { region: "eastus2" },
      failoverInstanceId: "failover-chat-eastus2-all-1",
      poolsBefore: [],
      startedBy: "test",
      topology,
    };
    const deps = { client: w.client(), now: () => w.now, control: w.control() };
    const ask = {
      workload: "chat",
      scope: { region: "eastus2" },
      failoverInstanceId: "failover-chat-eastus2-all-1",
      precedence: "automatic" as const,
      input,
    };
    expect(await startFailback(deps, ask)).toEqual({
      outcome: "started",
      instanceId: "failback-failover-chat-eastus2-all-1",
    });
    expect(await startFailback(deps, ask)).toEqual({
      outcome: "joined",
      instanceId: "failback-failover-chat-eastus2-all-1",
    });
    expect(w.started).toEqual(["failback-failover-chat-eastus2-all-1"]);
  });
});
