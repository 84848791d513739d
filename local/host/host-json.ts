/**
 * Reads the parts of host.json the local host honours: the Durable task hub name (with `%SETTING%` expansion, as
 * the Functions host does), `overridableExistingInstanceStates`, the HTTP route prefix, and the activity
 * concurrency limit.
 */
import { existsSync, readFileSync } from "node:fs";
import { LocalHostError } from "./errors";

/** host.json `extensions.durableTask.overridableExistingInstanceStates`. */
export type OverridableStates = "NonRunningStates" | "AnyState";

export interface HostJsonSettings {
  readonly hubName: string;
  readonly overridableExistingInstanceStates: OverridableStates;
  readonly routePrefix: string;
  readonly maxConcurrentActivityFunctions: number;
}

/** Replaces every `%NAME%` with `env[NAME]`; an unknown setting is an error, like the Functions host's. */
export function expandSettings(value: string, env: Readonly<Record<string, string | undefined>>, what: string): string {
  return value.replace(/%([^%]+)%/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined || v === "") {
      throw new LocalHostError("INVALID_OPTIONS", `${what} refers to app setting %${name}%, which is not set`);
    }
    return v;
  });
}

const DEFAULT_HUB = "TestHubName";

export function readHostJson(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): HostJsonSettings {
  let raw: unknown = {};
  if (path !== undefined && existsSync(path)) {
    try {
      raw = JSON.parse(readFileSync(path, "utf8")) as unknown;
    } catch (error) {
      throw new LocalHostError("INVALID_HOST_JSON", `${path} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const root = isRecord(raw) ? raw : {};
  const extensions = isRecord(root["extensions"]) ? root["extensions"] : {};
  const durable = isRecord(extensions["durableTask"]) ? extensions["durableTask"] : {};
  const http = isRecord(extensions["http"]) ? extensions["http"] : {};

  const hubRaw = durable["hubName"];
  const hubName =
    typeof hubRaw === "string" && hubRaw !== "" ? expandSettings(hubRaw, env, "host.json hubName") : DEFAULT_HUB;
  if (!/^[A-Za-z][A-Za-z0-9]{2,44}$/.test(hubName)) {
    throw new LocalHostError(
      "INVALID_HOST_JSON",
      `task hub name ${JSON.stringify(hubName)} is invalid: expected 3-45 letters and digits, starting with a letter`,
    );
  }
  const overridable = durable["overridableExistingInstanceStates"];
  let overridableExistingInstanceStates: OverridableStates = "NonRunningStates";
  if (overridable !== undefined) {
    if (overridable !== "NonRunningStates" && overridable !== "AnyState") {
      throw new LocalHostError(
        "INVALID_HOST_JSON",
        `overridableExistingInstanceStates must be "NonRunningStates" or "AnyState" (got ${JSON.stringify(overridable)})`,
      );
    }
    overridableExistingInstanceStates = overridable;
  }
  const prefixRaw = http["routePrefix"];
  const routePrefix = typeof prefixRaw === "string" ? prefixRaw.replace(/^\/+|\/+$/g, "") : "api";
  const maxRaw = durable["maxConcurrentActivityFunctions"];
  const maxConcurrentActivityFunctions = typeof maxRaw === "number" && maxRaw > 0 ? Math.floor(maxRaw) : 10 * 2;
  return { hubName, overridableExistingInstanceStates, routePrefix, maxConcurrentActivityFunctions };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
