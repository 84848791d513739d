/**
 * Sample app for the local-host tests: every registration shape the real app will use (app.http with and without
 * a durableClient input, df.app.client.http/timer, app.timer, orchestrations, activities, entities) and one
 * orchestration of each durable feature. Activities that need real I/O call the loopback "sink" server whose URL
 * the test passes in SINK_URL.
 */
import { app, HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { OrchestrationContext, EntityContext } from "durable-functions";

// ---------------------------------------------------------------- plain HTTP

app.http("hello", {
  route: "hello/{name?}",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: (req: HttpRequest) => ({ body: `hello ${req.params["name"] ?? "world"}` }),
});

app.http("echo", {
  route: "echo/{id:int}",
  methods: ["POST", "PUT"],
  authLevel: "function",
  handler: async (req: HttpRequest) => {
    const text = await req.text();
    return new HttpResponse({
      status: 201,
      headers: { "x-echo-id": req.params["id"] ?? "", "content-type": "application/json" },
      cookies: [{ name: "session", value: "abc", httpOnly: true, path: "/" }],
      jsonBody: {
        method: req.method,
        id: req.params["id"],
        query: Object.fromEntries(req.query.entries()),
        contentType: req.headers.get("content-type"),
        custom: req.headers.get("x-custom"),
        body: text,
        url: req.url,
      },
    });
  },
});

app.http("binary", {
  route: "binary",
  methods: ["POST"],
  authLevel: "anonymous",
  handler: async (req: HttpRequest) => {
    const bytes = Buffer.from(await req.arrayBuffer());
    return { body: Buffer.from(bytes.reverse()), headers: { "content-type": "application/octet-stream" } };
  },
});

app.http("adminOnly", {
  route: "admin/things",
  methods: ["GET"],
  authLevel: "admin",
  handler: () => ({ body: "admin" }),
});
app.http("boom", {
  route: "boom",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: () => Promise.reject(new Error("kaboom")),
});
app.http("literalWins", { route: "items/special", methods: ["GET"], handler: () => ({ body: "literal" }) });
app.http("itemById", {
  route: "items/{id}",
  methods: ["GET"],
  handler: (req) => ({ body: `item ${req.params["id"]}` }),
});
app.http("settings", {
  route: "settings",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: () => ({ jsonBody: { sample: process.env["SAMPLE_SETTING"] ?? null } }),
});

// ---------------------------------------------------------------- durable client over HTTP (the real DurableClient)

df.app.client.http("startOrchestration", {
  route: "orchestrators/{name}/{id?}",
  methods: ["POST"],
  authLevel: "function",
  handler: async (req: HttpRequest, client: df.DurableClient) => {
    const text = await req.text();
    const input = text === "" ? undefined : (JSON.parse(text) as unknown);
    const id = req.params["id"];
    try {
      const instanceId = await client.startNew(req.params["name"] ?? "", {
        ...(input === undefined ? {} : { input }),
        ...(id === undefined ? {} : { instanceId: id }),
      });
      return client.createCheckStatusResponse(req, instanceId);
    } catch (error) {
      return { status: 409, jsonBody: { error: (error as Error).message } };
    }
  },
});

const clientInput = df.input.durableClient();

app.http("getStatus", {
  route: "status/{id}",
  methods: ["GET"],
  extraInputs: [clientInput],
  handler: async (req: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    try {
      const s = await client.getStatus(req.params["id"] ?? "", { showHistory: true, showHistoryOutput: true });
      return { jsonBody: s };
    } catch (error) {
      return { status: 404, jsonBody: { error: (error as Error).message } };
    }
  },
});

app.http("listInstances", {
  route: "instances",
  methods: ["GET"],
  extraInputs: [clientInput],
  handler: async (req: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const status = req.query.get("status");
    const list =
      status === null
        ? await client.getStatusAll()
        : await client.getStatusBy({ runtimeStatus: [status as df.OrchestrationRuntimeStatus] });
    return { jsonBody: list.map((s) => ({ instanceId: s.instanceId, runtimeStatus: s.runtimeStatus })) };
  },
});

app.http("raise", {
  route: "raise/{id}/{event}",
  methods: ["POST"],
  extraInputs: [clientInput],
  handler: async (req: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    try {
      await client.raiseEvent(req.params["id"] ?? "", req.params["event"] ?? "", await req.json());
      return { status: 202 };
    } catch (error) {
      return { status: 404, jsonBody: { error: (error as Error).message } };
    }
  },
});

app.http("terminate", {
  route: "terminate/{id}",
  methods: ["POST"],
  extraInputs: [clientInput],
  handler: async (req: HttpRequest, context: InvocationContext) => {
    await df.getClient(context).terminate(req.params["id"] ?? "", req.query.get("reason") ?? "stop");
    return { status: 202 };
  },
});

app.http("purge", {
  route: "purge/{id}",
  methods: ["DELETE"],
  extraInputs: [clientInput],
  handler: async (req: HttpRequest, context: InvocationContext) => {
    const r = await df.getClient(context).purgeInstanceHistory(req.params["id"] ?? "");
    return { jsonBody: { instancesDeleted: r.instancesDeleted } };
  },
});

app.http("signal", {
  route: "entities/{name}/{key}/{op}",
  methods: ["POST"],
  extraInputs: [clientInput],
  handler: async (req: HttpRequest, context: InvocationContext) => {
    const text = await req.text();
    await df
      .getClient(context)
      .signalEntity(
        new df.EntityId(req.params["name"] ?? "", req.params["key"] ?? ""),
        req.params["op"] ?? "",
        text === "" ? undefined : (JSON.parse(text) as unknown),
      );
    return { status: 202 };
  },
});

app.http("readEntity", {
  route: "entities/{name}/{key}",
  methods: ["GET"],
  extraInputs: [clientInput],
  handler: async (req: HttpRequest, context: InvocationContext) => {
    const r = await df
      .getClient(context)
      .readEntityState<unknown>(new df.EntityId(req.params["name"] ?? "", req.params["key"] ?? ""));
    return { jsonBody: { exists: r.entityExists, state: r.entityState ?? null } };
  },
});

// ---------------------------------------------------------------- timers

df.app.client.timer("tick", {
  schedule: "%TICK_SCHEDULE%",
  handler: async (_timer, client: df.DurableClient) => {
    await client.signalEntity(new df.EntityId("counter", "ticks"), "add", 1);
  },
});

const timerSeen: string[] = [];
app.timer("recorder", {
  schedule: "0 0 * * * *",
  handler: (timer) => {
    timerSeen.push(`${String(timer.isPastDue)}:${timer.scheduleStatus?.last ?? "?"}`);
  },
});
const startupRuns: string[] = [];
app.timer("onStartup", {
  schedule: "0 0 0 1 1 *",
  runOnStartup: true,
  handler: (timer) => {
    startupRuns.push(timer.scheduleStatus?.next ?? "?");
  },
});
app.http("startupRuns", {
  route: "startup-runs",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: () => ({ jsonBody: startupRuns }),
});
app.http("timerSeen", {
  route: "timer-seen",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: () => ({ jsonBody: timerSeen }),
});

// ---------------------------------------------------------------- activities

df.app.activity("double", { handler: (n: number) => n * 2 });

df.app.activity("describeInput", { handler: (input: unknown) => ({ type: typeof input, input }) });

const flakyAttempts = new Map<string, number>();
df.app.activity("flaky", {
  handler: (input: { key: string; failures: number }) => {
    const n = (flakyAttempts.get(input.key) ?? 0) + 1;
    flakyAttempts.set(input.key, n);
    if (n <= input.failures) throw new Error(`[TRANSIENT] attempt ${n} failed`);
    return { attempts: n };
  },
});

df.app.activity("alwaysFails", {
  handler: () => {
    throw new Error("[QUOTA_EXCEEDED] no quota left");
  },
});

/** Calls the test's loopback sink (real async I/O); the sink counts calls and may hold them open. */
df.app.activity("hit", {
  handler: async (name: string) => {
    const res = await fetch(`${process.env["SINK_URL"] ?? ""}/hit/${encodeURIComponent(name)}`, { method: "POST" });
    return { name, status: res.status, text: await res.text() };
  },
});

df.app.activity("startFromActivity", {
  extraInputs: [clientInput],
  handler: async (input: { id: string }, context: InvocationContext) => {
    return df.getClient(context).startNew("fanOut", { instanceId: input.id, input: { n: 2 } });
  },
});

// ---------------------------------------------------------------- orchestrations

df.app.orchestration("fanOut", function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ n: number }>();
  context.df.setCustomStatus({ phase: "fan-out", n: input.n });
  const tasks = Array.from({ length: input.n }, (_v, i) => context.df.callActivity("double", i + 1));
  const results = (yield context.df.Task.all(tasks)) as number[];
  context.df.setCustomStatus({ phase: "done", n: input.n });
  return results.reduce((a, b) => a + b, 0);
});

df.app.orchestration("timers", function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ count: number; intervalMs: number }>();
  const seen: string[] = [context.df.currentUtcDateTime.toISOString()];
  for (let i = 0; i < input.count; i++) {
    const at = new Date(context.df.currentUtcDateTime.getTime() + input.intervalMs);
    yield context.df.createTimer(at);
    seen.push(context.df.currentUtcDateTime.toISOString());
    context.df.setCustomStatus({ fired: i + 1 });
  }
  return seen;
});

df.app.orchestration("approval", function* (context: OrchestrationContext) {
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + 3600_000);
  const timeout = context.df.createTimer(deadline);
  const approval = context.df.waitForExternalEvent("Approval");
  context.df.setCustomStatus("waiting");
  const winner = yield context.df.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    return { decision: "approved", by: approval.result, at: context.df.currentUtcDateTime.toISOString() };
  }
  return { decision: "timeout", at: context.df.currentUtcDateTime.toISOString() };
});

df.app.orchestration("child", function* (context: OrchestrationContext) {
  const x = context.df.getInput<number>();
  const doubled = (yield context.df.callActivity("double", x)) as number;
  return { child: context.df.instanceId, parent: context.df.parentInstanceId ?? null, doubled };
});

df.app.orchestration("parent", function* (context: OrchestrationContext) {
  const a = (yield context.df.callSubOrchestrator("child", 5)) as unknown;
  const b = (yield context.df.callSubOrchestrator("child", 7, "explicit-child-id")) as unknown;
  let failed: string | null = null;
  try {
    yield context.df.callSubOrchestrator("failing", undefined);
  } catch (error) {
    failed = (error as Error).message;
  }
  return { a, b, failed };
});

df.app.orchestration("retrying", function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ key: string; failures: number }>();
  const start = context.df.currentUtcDateTime.getTime();
  const retry = new df.RetryOptions(1000, 4);
  retry.backoffCoefficient = 2;
  const r = (yield context.df.callActivityWithRetry("flaky", retry, input)) as { attempts: number };
  // A task yielded after the retries must still correlate (sequence numbers allocated during retries).
  const after = (yield context.df.callActivity("double", 21)) as number;
  return { attempts: r.attempts, after, elapsedMs: context.df.currentUtcDateTime.getTime() - start };
});

df.app.orchestration("flakyChild", function* (context: OrchestrationContext) {
  return (yield context.df.callActivity("flaky", context.df.getInput<unknown>())) as unknown;
});

df.app.orchestration("subRetry", function* (context: OrchestrationContext) {
  const r = (yield context.df.callSubOrchestratorWithRetry("flakyChild", new df.RetryOptions(1000, 3), {
    key: `${context.df.instanceId}-sub`,
    failures: 1,
  })) as unknown;
  const after = (yield context.df.callActivity("double", 4)) as number;
  return { r, after };
});

df.app.orchestration("retryExhausted", function* (context: OrchestrationContext) {
  try {
    yield context.df.callActivityWithRetry("alwaysFails", new df.RetryOptions(500, 2), null);
    return "unexpected";
  } catch (error) {
    return { caught: (error as Error).message };
  }
});

df.app.orchestration("eternal", function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ count: number; until: number }>();
  if (input.count >= input.until) return { finalCount: input.count, version: context.df.instanceId };
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 60_000));
  context.df.continueAsNew({ count: input.count + 1, until: input.until });
  return undefined;
});

df.app.orchestration("entityCaller", function* (context: OrchestrationContext) {
  const id = new df.EntityId("counter", context.df.getInput<string>());
  context.df.signalEntity(id, "add", 5);
  const afterAdd = (yield context.df.callEntity(id, "add", 10)) as number;
  const value = (yield context.df.callEntity(id, "get")) as number;
  let failure: string | null = null;
  try {
    yield context.df.callEntity(id, "explode");
  } catch (error) {
    failure = (error as Error).message;
  }
  const afterFailure = (yield context.df.callEntity(id, "get")) as number;
  return { afterAdd, value, failure, afterFailure };
});

df.app.orchestration("failing", function* (context: OrchestrationContext) {
  yield context.df.callActivity("alwaysFails", null);
  return "unreachable";
});

let nonDeterministicRuns = 0;
df.app.orchestration("nonDeterministic", function* (context: OrchestrationContext) {
  // Deliberately broken: module state changes the schedule between the first run and its replay.
  nonDeterministicRuns++;
  yield context.df.callActivity(nonDeterministicRuns === 1 ? "double" : "describeInput", 1);
  yield context.df.callActivity("double", 2);
  return "should not complete";
});

df.app.orchestration("waitsForever", function* (context: OrchestrationContext) {
  context.df.setCustomStatus({ waiting: true });
  yield context.df.waitForExternalEvent("never");
  return "never";
});

df.app.orchestration("crashable", function* (context: OrchestrationContext) {
  const quick = (yield context.df.callActivity("hit", "quick")) as { text: string };
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 5 * 60_000));
  const fan = (yield context.df.Task.all([
    context.df.callActivity("hit", "fan-a"),
    context.df.callActivity("hit", "fan-held"),
  ])) as Array<{ text: string }>;
  const last = (yield context.df.callActivity("hit", "last")) as { text: string };
  return [quick.text, ...fan.map((f) => f.text), last.text];
});

df.app.orchestration("inputs", function* (context: OrchestrationContext) {
  const a = (yield context.df.callActivity("describeInput", "a string")) as unknown;
  const b = (yield context.df.callActivity("describeInput", { k: 1 })) as unknown;
  const c = (yield context.df.callActivity("describeInput")) as unknown;
  return { a, b, c, input: context.df.getInput<unknown>() };
});

df.app.orchestration("startsAnother", function* (context: OrchestrationContext) {
  const id = (yield context.df.callActivity("startFromActivity", { id: `${context.df.instanceId}-started` })) as string;
  return id;
});

// ---------------------------------------------------------------- entities

df.app.entity("counter", {
  extraInputs: [clientInput],
  // The SDK awaits the handler (`Entity.handle` does `yield Promise.resolve(this.fn(context))`) though its type says void.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  handler: async (context: EntityContext<number>) => {
    const value = context.df.getState(() => 0) ?? 0;
    switch (context.df.operationName) {
      case "add":
        context.df.setState(value + (context.df.getInput<number>() ?? 0));
        context.df.return(value + (context.df.getInput<number>() ?? 0));
        break;
      case "get":
        context.df.return(value);
        break;
      case "explode":
        context.df.setState(-1000);
        throw new Error("exploded");
      case "forward":
        context.df.signalEntity(new df.EntityId("counter", "forwarded"), "add", value);
        break;
      case "startOrchestration": {
        const id = await df
          .getClient(context)
          .startNew("fanOut", { instanceId: context.df.getInput<string>() ?? "from-entity", input: { n: 3 } });
        context.df.setState(value);
        context.df.return(id);
        break;
      }
      default:
        throw new Error(`unknown operation ${context.df.operationName}`);
    }
  },
});
