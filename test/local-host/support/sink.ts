/**
 * A loopback server the sample app's activities call (real async I/O). It counts calls per name and can hold calls
 * to chosen names open until released, to keep an activity in flight.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Sink {
  readonly url: string;
  readonly hits: Map<string, number>;
  /** Calls to these names stay open until {@link release}. */
  hold(name: string): void;
  /** Resolves when a call to `name` is being held. */
  held(name: string): Promise<void>;
  release(name: string): void;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const hits = new Map<string, number>();
  const holding = new Set<string>();
  const parked = new Map<string, ServerResponse[]>();
  const heldWaiters = new Map<string, Array<() => void>>();
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "").replace(/^\/hit\//, ""));
    hits.set(name, (hits.get(name) ?? 0) + 1);
    if (holding.has(name)) {
      parked.set(name, [...(parked.get(name) ?? []), res]);
      for (const w of heldWaiters.get(name) ?? []) w();
      heldWaiters.delete(name);
      return;
    }
    res.end(`${name}#${hits.get(name) ?? 0}`);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    hold: (name) => holding.add(name),
    held: (name) =>
      (parked.get(name)?.length ?? 0) > 0
        ? Promise.resolve()
        : new Promise((ok) => heldWaiters.set(name, [...(heldWaiters.get(name) ?? []), ok])),
    release: (name) => {
      holding.delete(name);
      for (const res of parked.get(name) ?? []) res.end(`${name}#released`);
      parked.delete(name);
    },
    close: () =>
      new Promise((ok) => {
        for (const list of parked.values()) for (const res of list) res.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
