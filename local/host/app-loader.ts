/**
 * Loads an app's entry the way the Node.js worker does (with `@azure/functions-core` resolvable first), captures
 * every registration with its metadata, and refuses an app the local host cannot run, naming what is wrong.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, resolve, sep } from "node:path";
import {
  captureRegistrations,
  currentProgrammingModel,
  type CaptureSession,
  type CoreBindingInfo,
  type CoreFunctionCallback,
  type CoreFunctionMetadata,
  type CoreProgrammingModel,
} from "../functions-core";
import { LocalHostError } from "./errors";

/** A path to a JS file (compiled app) or a TS file (loaded through tsx), or a thunk that imports the app. */
export type AppEntry = string | (() => Promise<unknown>);

export type RegistrationKind = "http" | "timer" | "activity" | "orchestration" | "entity";

export type AuthLevel = "anonymous" | "function" | "admin";

/** One captured function, classified by its trigger. */
export interface Registration {
  readonly name: string;
  readonly kind: RegistrationKind;
  readonly triggerBindingName: string;
  readonly trigger: CoreBindingInfo;
  /** Binding names of `durableClient` extra inputs (the host supplies the client data for them). */
  readonly durableClientInputs: ReadonlyArray<string>;
  readonly metadata: CoreFunctionMetadata;
  readonly callback: CoreFunctionCallback;
  /** http only: the route template (defaults to the function name), upper-cased methods and the auth level. */
  readonly route?: string;
  readonly methods?: ReadonlyArray<string>;
  readonly authLevel?: AuthLevel;
  /** timer only. */
  readonly schedule?: string;
  readonly runOnStartup?: boolean;
}

export interface LoadedApp {
  readonly registrations: ReadonlyMap<string, Registration>;
  readonly session: CaptureSession;
  readonly programmingModel: CoreProgrammingModel;
}

const TRIGGER_KINDS: Record<string, RegistrationKind> = {
  httptrigger: "http",
  timertrigger: "timer",
  activitytrigger: "activity",
  orchestrationtrigger: "orchestration",
  entitytrigger: "entity",
};

const HOST_DIR = resolve(__dirname, "..");

let tsxRegistered = false;
function ensureTsx(req: NodeJS.Require): void {
  if (tsxRegistered) return;
  const api = req("tsx/cjs/api") as { register: () => () => void };
  // Global (non-namespaced) registration: a namespaced tsx require would load a second copy of @azure/functions.
  api.register();
  tsxRegistered = true;
}

/** The directory whose modules are "the app": the nearest folder with a package.json above the entry. */
function appRoot(entryPath: string): string {
  let dir = dirname(entryPath);
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dirname(entryPath);
}

/**
 * Forgets the app's own modules (never node_modules, never the host's) so that a second host in the same process
 * loads fresh module state and re-registers its functions.
 */
function forgetAppModules(req: NodeJS.Require, root: string): void {
  for (const key of Object.keys(req.cache)) {
    if (!key.startsWith(root + sep)) continue;
    if (key.includes(`${sep}node_modules${sep}`)) continue;
    if (key.startsWith(HOST_DIR + sep)) continue;
    delete req.cache[key];
  }
}

/** Expands a package.json `main` that ends in a simple `*` glob (e.g. `dist/src/functions/*.js`). */
export function expandMain(root: string, main: string): string[] {
  if (!main.includes("*")) return [resolve(root, main)];
  const dir = resolve(root, dirname(main));
  const pattern = main.slice(main.lastIndexOf("/") + 1);
  if (dirname(main).includes("*")) {
    throw new LocalHostError(
      "INVALID_OPTIONS",
      `package.json main ${JSON.stringify(main)}: only a * in the file name is supported`,
    );
  }
  const re = new RegExp("^" + pattern.split("*").map(escapeRe).join("[^/]*") + "$");
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export async function loadApp(entry: AppEntry): Promise<LoadedApp> {
  const session = await captureRegistrations(async () => {
    if (typeof entry === "function") {
      try {
        await entry();
      } catch (error) {
        throw new LocalHostError("ENTRY_FAILED", `the app's entry failed to load: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return;
    }
    const path = resolve(entry);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new LocalHostError(
        "ENTRY_NOT_FOUND",
        `the app's entry ${path} does not exist${path.includes(`${sep}dist${sep}`) ? " (run `npm run build`)" : ""}`,
      );
    }
    const req = createRequire(path);
    const ext = extname(path);
    if (ext === ".ts" || ext === ".cts" || ext === ".mts") ensureTsx(req);
    forgetAppModules(req, appRoot(path));
    try {
      req(path);
    } catch (error) {
      throw new LocalHostError("ENTRY_FAILED", `the app's entry ${path} failed to load: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
  return { ...classify(session), session };
}

function classify(session: CaptureSession): Omit<LoadedApp, "session"> {
  if (session.functions.size === 0) {
    throw new LocalHostError(
      "NO_FUNCTIONS",
      "the app's entry registered no functions. Import every registration module from the entry file; if " +
        '"@azure/functions" printed "Switching ... to test mode", it was used before the local host installed ' +
        "@azure/functions-core (start the host before importing the app).",
    );
  }
  const programmingModel = currentProgrammingModel();
  if (programmingModel === undefined) {
    throw new LocalHostError("TEST_MODE", "functions were registered but no programming model was set");
  }
  const registrations = new Map<string, Registration>();
  const problems: string[] = [];
  for (const [name, { metadata, callback }] of session.functions) {
    const entries = Object.entries(metadata.bindings);
    const triggers = entries.filter(([, b]) => typeof b.type === "string" && /trigger$/i.test(b.type));
    const [trigger] = triggers;
    if (trigger === undefined || triggers.length !== 1) {
      problems.push(`function "${name}" has ${triggers.length} trigger bindings (expected exactly one)`);
      continue;
    }
    const [triggerBindingName, triggerBinding] = trigger;
    const type = String(triggerBinding.type);
    const kind = TRIGGER_KINDS[type.toLowerCase()];
    if (kind === undefined) {
      problems.push(`function "${name}" uses trigger type "${type}", which the local host cannot run`);
      continue;
    }
    const durableClientInputs: string[] = [];
    for (const [bindingName, binding] of entries) {
      if (bindingName === triggerBindingName || binding.direction !== "in") continue;
      const t = String(binding.type).toLowerCase();
      if (t === "durableclient" || t === "orchestrationclient") durableClientInputs.push(bindingName);
      else
        problems.push(
          `function "${name}" has an extra input of type "${String(binding.type)}", which the local host cannot supply`,
        );
    }
    const base = { name, kind, triggerBindingName, trigger: triggerBinding, durableClientInputs, metadata, callback };
    if (kind === "http") {
      const methods = Array.isArray(triggerBinding["methods"])
        ? (triggerBinding["methods"] as unknown[]).map((m) => String(m).toUpperCase())
        : ["GET", "POST"];
      const authRaw = (
        typeof triggerBinding["authLevel"] === "string" ? triggerBinding["authLevel"] : "anonymous"
      ).toLowerCase();
      const authLevel: AuthLevel = authRaw === "function" || authRaw === "admin" ? authRaw : "anonymous";
      const route =
        typeof triggerBinding["route"] === "string" && triggerBinding["route"] !== "" ? triggerBinding["route"] : name;
      registrations.set(name, { ...base, route, methods, authLevel });
    } else if (kind === "timer") {
      const schedule = triggerBinding["schedule"];
      if (typeof schedule !== "string" || schedule === "") {
        problems.push(`timer function "${name}" has no schedule`);
        continue;
      }
      registrations.set(name, { ...base, schedule, runOnStartup: triggerBinding["runOnStartup"] === true });
    } else {
      registrations.set(name, base);
    }
  }
  if (problems.length > 0) {
    throw new LocalHostError(
      "UNSUPPORTED_BINDING",
      `the local host cannot run this app:\n  - ${problems.join("\n  - ")}`,
    );
  }
  return { registrations, programmingModel };
}
