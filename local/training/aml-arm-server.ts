/**
 * A minimal loopback https server that answers Azure ML job ARM calls from {@link AmlJobsSimulator}, so the real
 * `@azure/arm-machinelearning` client can be pointed at it (endpoint + `tlsOptions.ca`, see
 * local-testing-feasibility §5.2 (a)). The certificate is generated at start-up (selfsigned) and never written to
 * the repository. Until the simulator's own ARM server routes Machine Learning paths, tests and the training
 * scenario use this one.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TokenCredential } from "@azure/core-auth";
import type { AmlJobsSimulator } from "../sim/aml-jobs";

export interface AmlArmServer {
  /** https origin, e.g. https://127.0.0.1:50123 */
  readonly endpoint: string;
  readonly caPem: string;
  /** A credential returning a fake token (the server does not check it, but requires the header). */
  readonly credential: TokenCredential;
  /** Options for the ML client: endpoint, trust of the generated certificate, fast retries. */
  readonly clientOptions: {
    readonly endpoint: string;
    readonly tlsOptions: { readonly ca: string };
    readonly retryOptions: {
      readonly maxRetries: number;
      readonly retryDelayInMs: number;
      readonly maxRetryDelayInMs: number;
    };
  };
  stop(): Promise<void>;
}

export async function startAmlArmServer(sim: AmlJobsSimulator): Promise<AmlArmServer> {
  const selfsigned = await import("selfsigned");
  const pems = await selfsigned.generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    curve: "P-256",
    extensions: [
      { name: "basicConstraints", cA: false },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  });
  const server: Server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "https://127.0.0.1");
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[decodeURIComponent(k)] = v;
      let body: unknown;
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        body = text === "" ? undefined : (JSON.parse(text) as unknown);
      } catch {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ error: { code: "InvalidRequestContent", message: "The request content was invalid." } }),
        );
        return;
      }
      if (req.headers.authorization?.startsWith("Bearer ") !== true) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "AuthenticationFailed", message: "Authentication failed." } }));
        return;
      }
      const answer = sim.handle({ method: req.method ?? "GET", path: url.pathname, query, body }) ?? {
        status: 404,
        body: { error: { code: "InvalidResourceType", message: `not served: ${req.method} ${url.pathname}` } },
      };
      const headers: Record<string, string> = { ...answer.headers, "x-ms-request-id": `sim-${sim.requests.length}` };
      if (answer.body !== undefined) headers["content-type"] = "application/json";
      res.writeHead(answer.status, headers);
      res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    caPem: pems.cert,
    credential: { getToken: () => Promise.resolve({ token: "sim-token", expiresOnTimestamp: Date.now() + 3_600_000 }) },
    clientOptions: {
      endpoint,
      tlsOptions: { ca: pems.cert },
      retryOptions: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
