/**
 * Inference endpoints over HTTP: the health check Front Door and Cutover's probes use, and the warm-up call.
 *
 * Wire contract (docs/simulator.md has the full one): `GET <healthUrl>` → 200 when ready (503 otherwise), with an
 * optional JSON body `{ modelVersion, latencyMs }`; `POST <warmupUrl>` with `{ model, modelVersion }` → 202 while the model
 * loads, 200 `{ modelVersion, latencyMs }` when it serves. A server that returns no JSON (vLLM's `/health`, KServe's
 * `/v2/health/ready`) still works: status alone decides health, and latency is measured.
 */
import type { EndpointHealth, EndpointPort, ModelRef, WarmupResult } from "../activities/ports";

export interface EndpointAdapterOptions {
  /** Per-request timeout (ms). Default 5000. */
  readonly timeoutMs?: number;
  /** Header naming the probe vantage point, if any. */
  readonly vantage?: string;
}

async function readJson(response: Response): Promise<Record<string, unknown> | undefined> {
  const text = await response.text();
  if (text.trim() === "") return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export class EndpointAdapter implements EndpointPort {
  private readonly timeoutMs: number;

  constructor(private readonly options: EndpointAdapterOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  private headers(): Record<string, string> {
    return this.options.vantage === undefined ? {} : { "x-cutover-vantage": this.options.vantage };
  }

  async health(healthUrl: string): Promise<EndpointHealth> {
    const started = performance.now();
    try {
      const response = await fetch(healthUrl, { headers: this.headers(), signal: AbortSignal.timeout(this.timeoutMs) });
      const body = await readJson(response);
      const measured = Math.round(performance.now() - started);
      const modelVersion = typeof body?.["modelVersion"] === "string" ? body["modelVersion"] : undefined;
      const latencyMs = typeof body?.["latencyMs"] === "number" ? body["latencyMs"] : measured;
      const detail = typeof body?.["reason"] === "string" ? body["reason"] : undefined;
      const state = typeof body?.["status"] === "string" ? body["status"] : undefined;
      return {
        status: response.status,
        latencyMs,
        ...(state === undefined ? {} : { state }),
        ...(modelVersion === undefined ? {} : { modelVersion }),
        ...(detail === undefined ? {} : { detail }),
      };
    } catch (error) {
      return { status: 0, detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  }

  async warmup(warmupUrl: string, model: ModelRef): Promise<WarmupResult> {
    try {
      const response = await fetch(warmupUrl, {
        method: "POST",
        headers: { "content-type": "application/json", ...this.headers() },
        body: JSON.stringify({ model: model.name, modelVersion: model.version }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = await readJson(response);
      if (response.status === 202)
        return { kind: "loading", detail: typeof body?.["detail"] === "string" ? body["detail"] : "model loading" };
      if (response.status === 200) {
        const version = body?.["modelVersion"];
        const latency = body?.["latencyMs"];
        if (typeof version !== "string" || typeof latency !== "number")
          return { kind: "error", status: 200, detail: "warm-up answered 200 without modelVersion and latencyMs" };
        return { kind: "ready", modelVersion: version, latencyMs: latency };
      }
      const reason =
        typeof body?.["reason"] === "string"
          ? body["reason"]
          : typeof body?.["detail"] === "string"
            ? body["detail"]
            : "";
      return { kind: "error", status: response.status, detail: reason || `HTTP ${response.status}` };
    } catch (error) {
      return {
        kind: "error",
        status: 0,
        detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
  }
}
