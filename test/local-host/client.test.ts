import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalHost, type LocalHost } from "../../local/host";
import { json } from "./support/json";
import { DURABLE_APP } from "./support/paths";

/** Every DurableClient operation goes through the app's real `DurableClient` (HTTP functions in the sample app). */
describe("the app's real DurableClient against the Durable HTTP API", () => {
  let host: LocalHost;
  const api = (path: string): string => `${host.baseUrl}/api/${path}${path.includes("?") ? "&" : "?"}code=fkey`;
  beforeAll(async () => {
    host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 0 0 1 1 *" },
      functionKey: "fkey",
      hostJsonPath: null,
    });
  });
  afterAll(async () => {
    await host.stop();
  });

  it("startNew + createCheckStatusResponse: 202 with links that resolve", async () => {
    const res = await fetch(api("orchestrators/fanOut/client-1"), { method: "POST", body: JSON.stringify({ n: 4 }) });
    expect(res.status).toBe(202);
    const links = await json(res);
    expect(links.id).toBe("client-1");
    expect(res.headers.get("location")).toBe(links.statusQueryGetUri);
    expect(links.statusQueryGetUri.startsWith(`${host.baseUrl}/runtime/webhooks/durabletask/instances/client-1?`)).toBe(
      true,
    );
    await host.waitForInstance("client-1");
    const status = await fetch(links.statusQueryGetUri);
    expect(status.status).toBe(200);
    expect(await json(status)).toMatchObject({
      instanceId: "client-1",
      runtimeStatus: "Completed",
      output: 20,
      input: { n: 4 },
    });
    // The webhook API refuses a wrong key.
    expect((await fetch(links.statusQueryGetUri.replace(/code=[^&]+/, "code=bad"))).status).toBe(401);
  });

  it("status link answers 202 with Location while running, and raiseEvent/terminate links work", async () => {
    const res = await fetch(api("orchestrators/approval/client-2"), { method: "POST" });
    const links = await json(res);
    await host.runUntilIdle();
    const running = await fetch(links.statusQueryGetUri);
    expect(running.status).toBe(202);
    expect(running.headers.get("location")).toBe(links.statusQueryGetUri);
    const raise = await fetch(links.sendEventPostUri.replace("{eventName}", "Approval"), {
      method: "POST",
      body: JSON.stringify("via-link"),
      headers: { "content-type": "application/json" },
    });
    expect(raise.status).toBe(202);
    expect((await host.waitForInstance("client-2", { advanceTimers: false })).output).toMatchObject({ by: "via-link" });
    // Finished instance: raising again is 410 Gone, as in the extension.
    const again = await fetch(links.sendEventPostUri.replace("{eventName}", "Approval"), {
      method: "POST",
      body: "1",
      headers: { "content-type": "application/json" },
    });
    expect(again.status).toBe(410);
  });

  it("the extension's webhook start route works with the system key and refuses other keys", async () => {
    const system = new URL(
      String((host.clientData()["managementUrls"] as Record<string, string>)["statusQueryGetUri"]),
    );
    const key = system.searchParams.get("code") ?? "";
    const start = `${host.baseUrl}/runtime/webhooks/durabletask/orchestrators/fanOut/webhook-1`;
    expect((await fetch(`${start}?code=fkey`, { method: "POST", body: "{}" })).status).toBe(401);
    const res = await fetch(`${start}?code=${key}`, { method: "POST", body: JSON.stringify({ n: 2 }) });
    expect(res.status).toBe(202);
    expect((await json(res)).id).toBe("webhook-1");
    expect((await host.waitForInstance("webhook-1")).output).toBe(6);
  });

  it("getStatus with custom status and history", async () => {
    await fetch(api("orchestrators/retrying/client-3"), {
      method: "POST",
      body: JSON.stringify({ key: "c3", failures: 1 }),
    });
    await host.waitForInstance("client-3");
    const body = await json(fetch(api("status/client-3")));
    expect(body).toMatchObject({ name: "retrying", instanceId: "client-3", runtimeStatus: "Completed" });
    expect(body.output).toEqual({ attempts: 2, after: 42, elapsedMs: 1000 });
    // The status API (what the client calls) returns the history as `historyEvents`.
    const raw = await json(
      fetch(`${host.baseUrl}/durabletask/instances/client-3?showHistory=true&showHistoryOutput=true`),
    );
    const types = raw.historyEvents.map((e: { EventType: string }) => e.EventType);
    expect(types[0]).toBe("ExecutionStarted");
    expect(types).toContain("TaskFailed");
    expect(types).toContain("TimerFired");
    expect(types.at(-1)).toBe("ExecutionCompleted");
    expect(raw.historyEvents.find((e: { EventType: string }) => e.EventType === "TaskCompleted").FunctionName).toBe(
      "flaky",
    );

    const custom = await fetch(api("orchestrators/waitsForever/client-3b"), { method: "POST" });
    expect(custom.status).toBe(202);
    await host.runUntilIdle();
    expect((await json(fetch(api("status/client-3b")))).customStatus).toEqual({ waiting: true });
    expect((await fetch(api("status/does-not-exist"))).status).toBe(404);
  });

  it("raiseEvent, terminate and purge through the client", async () => {
    await fetch(api("orchestrators/waitsForever/client-4"), { method: "POST" });
    await host.runUntilIdle();
    expect((await fetch(api("raise/client-4/other"), { method: "POST", body: "{}" })).status).toBe(202);
    expect((await fetch(api("raise/missing/other"), { method: "POST", body: "{}" })).status).toBe(404);
    expect((await fetch(api("terminate/client-4?reason=bye"), { method: "POST" })).status).toBe(202);
    await host.runUntilIdle();
    expect(host.getStatus("client-4")).toMatchObject({ runtimeStatus: "Terminated", output: "bye" });
    const purged = await json(fetch(api("purge/client-4"), { method: "DELETE" }));
    expect(purged).toEqual({ instancesDeleted: 1 });
    expect(host.getStatus("client-4")).toBeUndefined();
    expect(await json(fetch(api("purge/client-4"), { method: "DELETE" }))).toEqual({ instancesDeleted: 0 });
  });

  it("getStatusAll / getStatusBy", async () => {
    const all = await json(fetch(api("instances")));
    expect(all.map((s: { instanceId: string }) => s.instanceId)).toContain("client-1");
    const running = await json(fetch(api("instances?status=Running")));
    expect(running).toEqual([{ instanceId: "client-3b", runtimeStatus: "Running" }]);
  });

  it("signalEntity and readEntityState", async () => {
    expect(await json(fetch(api("entities/counter/k1")))).toEqual({ exists: false, state: null });
    await fetch(api("entities/counter/k1/add"), { method: "POST", body: "3" });
    await fetch(api("entities/counter/k1/add"), { method: "POST", body: "4" });
    await host.runUntilIdle();
    expect(await json(fetch(api("entities/counter/k1")))).toEqual({ exists: true, state: 7 });
  });

  it("startNew on an existing id follows overridableExistingInstanceStates (NonRunningStates)", async () => {
    await fetch(api("orchestrators/waitsForever/dup"), { method: "POST" });
    await host.runUntilIdle();
    const second = await fetch(api("orchestrators/fanOut/dup"), { method: "POST", body: JSON.stringify({ n: 1 }) });
    expect(second.status).toBe(409);
    expect((await json(second)).error).toContain("An Orchestration instance with the status Running already exists.");
    // A completed instance may be replaced: a new execution with the new input.
    await fetch(api("orchestrators/fanOut/dup-done"), { method: "POST", body: JSON.stringify({ n: 1 }) });
    await host.waitForInstance("dup-done");
    const third = await fetch(api("orchestrators/fanOut/dup-done"), { method: "POST", body: JSON.stringify({ n: 2 }) });
    expect(third.status).toBe(202);
    expect((await host.waitForInstance("dup-done")).output).toBe(6);
    // An unknown orchestrator is refused.
    const unknown = await fetch(api("orchestrators/noSuchThing"), { method: "POST" });
    expect((await json(unknown)).error).toContain("400");
  });
});

describe("overridableExistingInstanceStates from host.json", () => {
  it("AnyState lets startNew replace a running instance", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lh-hostjson-"));
    const hostJson = join(dir, "host.json");
    writeFileSync(
      hostJson,
      JSON.stringify({
        version: "2.0",
        extensions: { durableTask: { hubName: "%HUB%", overridableExistingInstanceStates: "AnyState" } },
      }),
    );
    const host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 0 0 1 1 *", HUB: "ExpandedHub" },
      functionKey: "fkey",
      hostJsonPath: hostJson,
    });
    try {
      expect(host.hubName).toBe("ExpandedHub");
      expect(host.clientData()["taskHubName"]).toBe("ExpandedHub");
      await fetch(`${host.baseUrl}/api/orchestrators/waitsForever/same?code=fkey`, { method: "POST" });
      await host.runUntilIdle();
      const res = await fetch(`${host.baseUrl}/api/orchestrators/fanOut/same?code=fkey`, {
        method: "POST",
        body: JSON.stringify({ n: 2 }),
      });
      expect(res.status).toBe(202);
      expect(await host.waitForInstance("same")).toMatchObject({ name: "fanOut", output: 6 });
    } finally {
      await host.stop();
    }
  });
});
