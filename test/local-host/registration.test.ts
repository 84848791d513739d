import { afterEach, describe, expect, it } from "vitest";
import { startLocalHost, LocalHostError, type LocalHost } from "../../local/host";
import { DURABLE_APP, EMPTY_APP, UNSUPPORTED_APP } from "./support/paths";

const env = { TICK_SCHEDULE: "0 */5 * * * *", SINK_URL: "http://127.0.0.1:9" };

describe("registration capture", () => {
  let host: LocalHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it("captures every registration with its metadata, as the worker sees it", async () => {
    host = await startLocalHost({ entry: DURABLE_APP, env, hostJsonPath: null });
    const regs = host.registrations;
    const echo = regs.get("echo")!;
    expect(echo.kind).toBe("http");
    expect(echo.route).toBe("echo/{id:int}");
    expect(echo.methods).toEqual(["POST", "PUT"]);
    expect(echo.authLevel).toBe("function");
    expect(echo.metadata.bindings["$return"]).toMatchObject({ type: "http", direction: "out" });
    expect(regs.get("hello")!.authLevel).toBe("anonymous");
    // df.app.client.http adds a durableClient input; app.http with extraInputs has the identical binding.
    expect(regs.get("startOrchestration")!.durableClientInputs).toHaveLength(1);
    expect(regs.get("getStatus")!.durableClientInputs).toHaveLength(1);
    expect(regs.get("hello")!.durableClientInputs).toHaveLength(0);
    expect(regs.get("tick")).toMatchObject({ kind: "timer", schedule: "%TICK_SCHEDULE%", runOnStartup: false });
    expect(regs.get("fanOut")!.kind).toBe("orchestration");
    expect(regs.get("double")!.kind).toBe("activity");
    expect(regs.get("counter")!.kind).toBe("entity");
    expect(regs.get("counter")!.durableClientInputs).toHaveLength(1);
    expect(regs.get("fanOut")!.trigger.type).toBe("orchestrationTrigger");
  });

  it("refuses an entry that registers nothing, with a clear message", async () => {
    const error = await startLocalHost({ entry: EMPTY_APP, hostJsonPath: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalHostError);
    expect((error as LocalHostError).code).toBe("NO_FUNCTIONS");
    expect((error as Error).message).toMatch(/registered no functions/);
  });

  it("refuses a trigger type it cannot run and names it", async () => {
    const error = await startLocalHost({ entry: UNSUPPORTED_APP, hostJsonPath: null }).catch((e: unknown) => e);
    expect((error as LocalHostError).code).toBe("UNSUPPORTED_BINDING");
    expect((error as Error).message).toContain('function "queueWorker" uses trigger type "queueTrigger"');
    expect((error as Error).message).not.toContain('"fine"');
  });

  it("reports a missing entry file", async () => {
    const error = await startLocalHost({ entry: "/nonexistent/dist/index.js", hostJsonPath: null }).catch(
      (e: unknown) => e,
    );
    expect((error as LocalHostError).code).toBe("ENTRY_NOT_FOUND");
  });

  it("loads an entry through an import thunk", async () => {
    const byPath = await startLocalHost({ entry: DURABLE_APP, env, hostJsonPath: null });
    const expected = [...byPath.registrations.keys()].sort();
    await byPath.stop();
    host = await startLocalHost({ entry: () => import("./apps/durable-app/index.js"), env, hostJsonPath: null });
    expect([...host.registrations.keys()].sort()).toEqual(expected);
    const res = await fetch(`${host.baseUrl}/api/hello/thunk`);
    expect(await res.text()).toBe("hello thunk");
  });

  it("reloads fresh module state for a second host on the same entry", async () => {
    const first = await startLocalHost({ entry: DURABLE_APP, env, hostJsonPath: null });
    const count = first.registrations.size;
    await first.stop();
    host = await startLocalHost({ entry: DURABLE_APP, env, hostJsonPath: null });
    expect(host.registrations.size).toBe(count);
  });
});
