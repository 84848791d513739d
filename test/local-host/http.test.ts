import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalHost, type LocalHost } from "../../local/host";
import { json } from "./support/json";
import { DURABLE_APP } from "./support/paths";

describe("HTTP triggers", () => {
  let host: LocalHost;
  beforeAll(async () => {
    host = await startLocalHost({
      entry: DURABLE_APP,
      env: { TICK_SCHEDULE: "0 */5 * * * *", SAMPLE_SETTING: "from-env" },
      functionKey: "fkey",
      masterKey: "mkey",
      hostJsonPath: null,
    });
  });
  afterAll(async () => {
    await host.stop();
  });

  it("serves /api/<route> with optional route parameters", async () => {
    expect(await (await fetch(`${host.baseUrl}/api/hello/ada`)).text()).toBe("hello ada");
    expect(await (await fetch(`${host.baseUrl}/api/hello`)).text()).toBe("hello world");
    expect(await (await fetch(`${host.baseUrl}/api/HELLO/Case`)).text()).toBe("hello Case");
  });

  it("answers 404 for unknown routes and for route constraints that do not match", async () => {
    expect((await fetch(`${host.baseUrl}/api/nope`)).status).toBe(404);
    expect((await fetch(`${host.baseUrl}/api/echo/abc?code=fkey`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${host.baseUrl}/elsewhere`)).status).toBe(404);
  });

  it("answers 405 with Allow when the route exists but the method does not", async () => {
    const res = await fetch(`${host.baseUrl}/api/hello/x`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });

  it("prefers a literal route over a parameterised one", async () => {
    expect(await (await fetch(`${host.baseUrl}/api/items/special?code=fkey`)).text()).toBe("literal");
    expect(await (await fetch(`${host.baseUrl}/api/items/42?code=fkey`)).text()).toBe("item 42");
  });

  it("enforces authLevel function with the code query or the x-functions-key header", async () => {
    const url = `${host.baseUrl}/api/echo/7`;
    expect((await fetch(url, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${url}?code=wrong`, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${url}?code=fkey`, { method: "POST" })).status).toBe(201);
    expect((await fetch(url, { method: "POST", headers: { "x-functions-key": "fkey" } })).status).toBe(201);
    expect((await fetch(`${url}?code=mkey`, { method: "POST" })).status).toBe(201);
  });

  it("enforces authLevel admin with the master key only", async () => {
    const url = `${host.baseUrl}/api/admin/things`;
    expect((await fetch(`${url}?code=fkey`)).status).toBe(401);
    expect((await fetch(`${url}?code=mkey`)).status).toBe(200);
  });

  it("converts the request (method, params, query, headers, body) and the response (status, headers, cookies, body)", async () => {
    const res = await fetch(`${host.baseUrl}/api/echo/7?code=fkey&x=1&y=two`, {
      method: "PUT",
      headers: { "content-type": "text/plain", "x-custom": "custom-value" },
      body: "payload text",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-echo-id")).toBe("7");
    expect(res.headers.get("set-cookie")).toBe("session=abc; Path=/; HttpOnly");
    const body = await json(res);
    expect(body).toMatchObject({
      method: "PUT",
      id: "7",
      query: { code: "fkey", x: "1", y: "two" },
      contentType: "text/plain",
      custom: "custom-value",
      body: "payload text",
    });
    expect(body.url).toBe(`${host.baseUrl}/api/echo/7?code=fkey&x=1&y=two`);
  });

  it("passes binary bodies through unchanged", async () => {
    const res = await fetch(`${host.baseUrl}/api/binary`, { method: "POST", body: new Uint8Array([0, 1, 2, 255]) });
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([255, 2, 1, 0]);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
  });

  it("answers 500 when the function throws", async () => {
    expect((await fetch(`${host.baseUrl}/api/boom`)).status).toBe(500);
    expect(host.eventLog.some((e) => e.kind === "warning" && e.name === "boom" && /kaboom/.test(e.message ?? ""))).toBe(
      true,
    );
  });

  it("applies env before the entry runs and records requests with keys redacted", async () => {
    expect(await json(fetch(`${host.baseUrl}/api/settings`))).toEqual({ sample: "from-env" });
    const logged = host.requestLog.find((r) => r.path.startsWith("/api/echo/7?code="));
    expect(logged?.path).toContain("code=***");
    expect(logged?.path).not.toContain("fkey");
    expect(logged?.target).toBe("echo");
  });
});
