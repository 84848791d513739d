/**
 * Composition root: the one place that reads settings and builds what the functions need. Everything is built
 * lazily and cached per process, so that a function app cold start pays only for what the first invocation uses.
 */
import { isAbsolute, resolve } from "node:path";
import { loadTopologyFile, type TopologyLoadResult } from "./config/topology-loader";
import { readSettings, type SettingsResult } from "./config/settings";

let settingsCache: SettingsResult | undefined;
const topologyCache = new Map<string, Promise<TopologyLoadResult>>();

export function settings(): SettingsResult {
  settingsCache ??= readSettings(process.env);
  return settingsCache;
}

/** Where the topology comes from, or why it cannot be found. */
export function topologyPath():
  { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string } {
  const s = settings();
  if (!s.ok) return { ok: false, reason: s.problems.map((p) => `${p.name}: ${p.message}`).join("; ") };
  const configured = s.values.CUTOVER_TOPOLOGY_PATH;
  if (configured === undefined) return { ok: false, reason: "CUTOVER_TOPOLOGY_PATH is not set" };
  return { ok: true, path: isAbsolute(configured) ? configured : resolve(process.cwd(), configured) };
}

/** Loads (once per path) and returns the topology named by CUTOVER_TOPOLOGY_PATH. */
export function loadTopology(): Promise<TopologyLoadResult> | { readonly ok: false; readonly reason: string } {
  const where = topologyPath();
  if (!where.ok) return where;
  let pending = topologyCache.get(where.path);
  if (pending === undefined) {
    pending = loadTopologyFile(where.path);
    topologyCache.set(where.path, pending);
  }
  return pending;
}

/** Forgets cached settings and topology (tests, and a host that reloads the app). */
export function resetComposition(): void {
  settingsCache = undefined;
  topologyCache.clear();
}
