/**
 * Schema primitives shared by the topology and the domain modules it embeds (practice schedules), kept in a leaf
 * module so that `topology.ts` can import those modules without an import cycle: a module that uses `zoneSchema` while
 * it is being evaluated must not import it from a module that imports it back. `topology.ts` re-exports everything
 * here, so existing imports keep working.
 */
import { z } from "zod";

export const ZONES = ["1", "2", "3"] as const;
export const zoneSchema = z.enum(ZONES);
export type Zone = z.infer<typeof zoneSchema>;

/** A zod issue path as people read it: `workloads[0].regions.eastus2.gpuPools[1].min`, or `(root)`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}
