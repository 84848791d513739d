/**
 * Invokes a captured function exactly the way the Node.js worker does: through the captured ProgrammingModel with
 * an RPC-shaped invocation request, running the app's pre/post-invocation hooks around it. Conversions (HTTP
 * request objects, timer camel-casing, durable client JSON, response bodies) therefore come from the real
 * `@azure/functions` library, not from the host.
 */
import { randomUUID } from "node:crypto";
import type { CaptureSession, CoreFunctionCallback, CoreProgrammingModel } from "../functions-core";
import type { Registration } from "./app-loader";

/** RPC typed data, as the host sends it (a subset of `RpcTypedData`). */
export type RpcData =
  | { readonly string: string }
  | { readonly json: string }
  | { readonly bytes: Uint8Array }
  | { readonly http: Record<string, unknown> };

export interface RpcTypedDataOut {
  readonly string?: string | null;
  readonly json?: string | null;
  readonly bytes?: Uint8Array | null;
  readonly int?: number | null;
  readonly double?: number | null;
  readonly http?: RpcHttpOut | null;
}

export interface RpcHttpOut {
  readonly statusCode?: string;
  readonly headers?: Record<string, string>;
  readonly cookies?: ReadonlyArray<Record<string, unknown>>;
  readonly body?: RpcTypedDataOut | null;
}

export interface InvocationLog {
  readonly level: string;
  readonly category: string;
  readonly message: string;
}

export interface InvokeResult {
  readonly returnValue: RpcTypedDataOut | null | undefined;
  readonly outputData: ReadonlyArray<{ name: string; data: unknown }>;
}

export interface InvokerOptions {
  readonly programmingModel: CoreProgrammingModel;
  readonly session: CaptureSession;
  readonly onLog?: (functionName: string, log: InvocationLog) => void;
}

/** Thrown when the function (or a hook) threw; `cause` is the original error. */
export class FunctionInvocationError extends Error {
  override readonly name = "FunctionInvocationError" as const;
  readonly functionName: string;
  constructor(functionName: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.functionName = functionName;
  }
}

export class Invoker {
  readonly #options: InvokerOptions;
  readonly #appHookData: Record<string, unknown> = {};

  constructor(options: InvokerOptions) {
    this.#options = options;
  }

  async runAppHooks(name: "appStart" | "appTerminate"): Promise<void> {
    for (const hook of [...this.#options.session.hooks[name]]) {
      await hook({ hookData: {}, appHookData: this.#appHookData, functionAppDirectory: process.cwd() });
    }
  }

  /**
   * @param triggerData the trigger's RPC data; `extraInputs` maps binding names to RPC data (durable client input).
   */
  async invoke(
    registration: Registration,
    triggerData: RpcData | undefined,
    extraInputs: ReadonlyMap<string, RpcData> = new Map(),
    triggerMetadata: Record<string, RpcData> = {},
  ): Promise<InvokeResult> {
    const invocationId = randomUUID();
    const inputData: Array<{ name: string; data: RpcData | undefined }> = [
      { name: registration.triggerBindingName, data: triggerData },
    ];
    for (const [name, data] of extraInputs) inputData.push({ name, data });
    const onLog = this.#options.onLog;
    const coreCtx: Record<string, unknown> = {
      invocationId,
      metadata: { ...registration.metadata, functionId: registration.name },
      request: { invocationId, functionId: registration.name, inputData, triggerMetadata },
      state: undefined,
      log: (level: string, category: string, message: string) => {
        onLog?.(registration.name, { level, category, message });
        for (const hook of this.#options.session.hooks.log) {
          try {
            hook({
              level,
              category,
              message,
              invocationContext: undefined,
              hookData: {},
              appHookData: this.#appHookData,
            });
          } catch {
            // A failing log hook must not fail the invocation (the worker ignores it too).
          }
        }
      },
    };
    const model = this.#options.programmingModel.getInvocationModel(coreCtx);
    const { context, inputs } = await model.getArguments();
    const hookData: Record<string, unknown> = {};
    const pre: Record<string, unknown> = {
      invocationContext: context,
      inputs,
      functionCallback: registration.callback,
      hookData,
      appHookData: this.#appHookData,
    };
    coreCtx["state"] = "preInvocationHooks";
    try {
      for (const hook of [...this.#options.session.hooks.preInvocation]) await hook(pre);
    } catch (error) {
      throw new FunctionInvocationError(registration.name, error);
    }
    coreCtx["state"] = "invocation";
    let result: unknown;
    let error: unknown;
    try {
      result = await model.invokeFunction(
        context,
        pre["inputs"] as unknown[],
        pre["functionCallback"] as CoreFunctionCallback,
      );
    } catch (e) {
      error = e;
    }
    coreCtx["state"] = "postInvocationHooks";
    const post: Record<string, unknown> = {
      invocationContext: context,
      inputs: pre["inputs"],
      result,
      error,
      hookData,
      appHookData: this.#appHookData,
    };
    try {
      for (const hook of [...this.#options.session.hooks.postInvocation]) await hook(post);
    } catch (hookError) {
      throw new FunctionInvocationError(registration.name, hookError);
    }
    if (post["error"] !== undefined && post["error"] !== null) {
      throw new FunctionInvocationError(registration.name, post["error"]);
    }
    coreCtx["state"] = undefined;
    const response = await model.getResponse(context, post["result"]);
    return {
      returnValue: response.returnValue as RpcTypedDataOut | null | undefined,
      outputData: (response.outputData ?? []) as Array<{ name: string; data: unknown }>,
    };
  }
}

/** Reads an RPC return value back as the JSON text the Durable extension would store. */
export function rpcToJsonText(data: RpcTypedDataOut | null | undefined): string {
  if (data === null || data === undefined) return "null";
  if (typeof data.json === "string") return data.json;
  if (typeof data.string === "string") return JSON.stringify(data.string);
  if (typeof data.int === "number") return JSON.stringify(data.int);
  if (typeof data.double === "number") return JSON.stringify(data.double);
  if (data.bytes !== undefined && data.bytes !== null)
    return JSON.stringify(Buffer.from(data.bytes).toString("base64"));
  return "null";
}

/** Reads an RPC return value as a JS value (orchestrator and entity state objects). */
export function rpcToValue(data: RpcTypedDataOut | null | undefined): unknown {
  return JSON.parse(rpcToJsonText(data)) as unknown;
}
