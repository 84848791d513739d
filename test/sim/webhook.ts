import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A loopback webhook that records JSON bodies and answers with scripted statuses (then 200). */
export async function startWebhook(
  statuses: number[] = [],
): Promise<{ url: string; bodies: unknown[]; statuses: number[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const answered: number[] = [];
  const queue = [...statuses];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      bodies.push(JSON.parse(text) as unknown);
      const status = queue.shift() ?? 200;
      answered.push(status);
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/alerts`,
    bodies,
    statuses: answered,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
