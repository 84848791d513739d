/**
 * The local stand-in for `@azure/functions-core`, the module the real Node.js worker provides to `@azure/functions`.
 *
 * `@azure/functions` looks the module up lazily on its first `app.*()` call and caches the answer forever (a miss
 * switches the library to "test mode", where every registration is silently skipped). So the stand-in must be
 * resolvable before the app's entry file runs: {@link installFunctionsCore} proxies `Module.prototype.require`, the
 * same mechanism the real worker uses (azure-functions-nodejs-worker `setupCoreModule.ts`), so no package.json
 * dependency is needed and a deployed app never sees it.
 *
 * Registrations are captured into a {@link CaptureSession}; the registry lives on `globalThis` so that every copy of
 * this module (vitest-transformed or natively loaded) shares it.
 */
import Module from "node:module";

export type HookName = "preInvocation" | "postInvocation" | "appStart" | "appTerminate" | "log";

/** The shape `@azure/functions` passes to `registerFunction` (see its `toCoreFunctionMetadata`). */
export interface CoreFunctionMetadata {
  readonly name: string;
  readonly bindings: Record<string, CoreBindingInfo>;
  readonly retryOptions?: unknown;
}

export interface CoreBindingInfo {
  readonly type?: string;
  readonly direction?: "in" | "out" | "inout";
  readonly name?: string;
  readonly [key: string]: unknown;
}

export type CoreFunctionCallback = (...args: unknown[]) => unknown;
export type CoreHookCallback = (context: unknown) => unknown;

export interface CapturedFunction {
  readonly metadata: CoreFunctionMetadata;
  readonly callback: CoreFunctionCallback;
}

/** Everything one load of an app registered. */
export interface CaptureSession {
  readonly functions: Map<string, CapturedFunction>;
  readonly hooks: Record<HookName, CoreHookCallback[]>;
  /** System logs the library wrote through `coreApi.log` (e.g. deferred-binding notices). */
  readonly logs: Array<{ level: string; category: string; message: string }>;
}

/** The subset of `@azure/functions`' ProgrammingModel the local host calls. */
export interface CoreProgrammingModel {
  readonly name: string;
  readonly version: string;
  getInvocationModel(coreCtx: unknown): CoreInvocationModel;
}

export interface CoreInvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: CoreFunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<{ returnValue?: unknown; outputData?: unknown[] }>;
}

interface Registry {
  programmingModel: CoreProgrammingModel | undefined;
  current: CaptureSession;
  installed: boolean;
}

const REGISTRY_KEY = Symbol.for("cutover.local.functions-core.registry");

export function newCaptureSession(): CaptureSession {
  return {
    functions: new Map(),
    hooks: { preInvocation: [], postInvocation: [], appStart: [], appTerminate: [], log: [] },
    logs: [],
  };
}

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[REGISTRY_KEY];
  if (r === undefined) {
    r = { programmingModel: undefined, current: newCaptureSession(), installed: false };
    g[REGISTRY_KEY] = r;
  }
  return r;
}

class Disposable {
  static from(...items: Array<{ dispose(): void }>): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  #callback: (() => void) | undefined;
  constructor(callback: () => void) {
    this.#callback = callback;
  }
  dispose(): void {
    const cb = this.#callback;
    this.#callback = undefined;
    cb?.();
  }
}

/** The object `require('@azure/functions-core')` returns while the stand-in is installed. */
export const functionsCore = {
  version: "3.99.0-cutover-local",
  hostVersion: "4.99.0-cutover-local",
  Disposable,
  setProgrammingModel(model: CoreProgrammingModel): void {
    registry().programmingModel = model;
  },
  getProgrammingModel(): CoreProgrammingModel | undefined {
    return registry().programmingModel;
  },
  registerFunction(metadata: CoreFunctionMetadata, callback: CoreFunctionCallback): Disposable {
    const session = registry().current;
    if (session.functions.has(metadata.name)) {
      // The real worker refuses duplicates too ("A function with the name ... has already been registered").
      throw new Error(`A function with the name "${metadata.name}" has already been registered.`);
    }
    session.functions.set(metadata.name, { metadata, callback });
    return new Disposable(() => session.functions.delete(metadata.name));
  },
  registerHook(hookName: string, callback: CoreHookCallback): Disposable {
    const session = registry().current;
    if (!isHookName(hookName)) throw new RangeError(`Unrecognized hook "${hookName}"`);
    const list = session.hooks[hookName];
    list.push(callback);
    return new Disposable(() => {
      const i = list.indexOf(callback);
      if (i >= 0) list.splice(i, 1);
    });
  },
  // `app.setup({ enableHttpStream })` checks that `log` exists (host >= 4.28); the host never enables streaming.
  log(level: string, category: string, message: string): void {
    registry().current.logs.push({ level, category, message });
  },
};

function isHookName(name: string): name is HookName {
  return ["preInvocation", "postInvocation", "appStart", "appTerminate", "log"].includes(name);
}

/**
 * Makes `require('@azure/functions-core')` return {@link functionsCore} in this process. Idempotent. Must run before
 * the app (or anything else) first calls `app.*()`.
 */
export function installFunctionsCore(): void {
  const r = registry();
  if (r.installed) return;
  const proto = (Module as unknown as { prototype: { require: (id: string) => unknown } }).prototype;
  const original = proto.require;
  proto.require = new Proxy(original, {
    apply(target, thisArg, args: unknown[]) {
      if (args[0] === "@azure/functions-core") return functionsCore;
      return Reflect.apply(target, thisArg, args) as unknown;
    },
  });
  r.installed = true;
}

/**
 * Runs `load` with a fresh capture session and returns what it registered. Sessions do not nest; the programming
 * model survives across sessions because `@azure/functions` sets it only once per module instance.
 */
export async function captureRegistrations(load: () => Promise<void>): Promise<CaptureSession> {
  installFunctionsCore();
  const r = registry();
  const previous = r.current;
  const session = newCaptureSession();
  r.current = session;
  try {
    await load();
  } finally {
    r.current = previous;
  }
  return session;
}

export function currentProgrammingModel(): CoreProgrammingModel | undefined {
  return registry().programmingModel;
}
