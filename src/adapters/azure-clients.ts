/**
 * Builds the Azure SDK clients Cutover uses, with one set of options: credential, endpoint overrides (the Azure
 * simulator sets its own), an extra trusted CA (the simulator's self-signed certificate), and retry/poll tuning.
 * Production passes only the credential. See ../shared/reference/local-testing-feasibility.md §5 for why the
 * simulator is reached over https with a trusted CA (the bearer policy refuses plain http).
 */
import { CdnManagementClient } from "@azure/arm-cdn";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { FrontDoorManagementClient } from "@azure/arm-frontdoor";
import type { TokenCredential } from "@azure/core-auth";
import {
  createHttpHeaders,
  RestError,
  type PipelinePolicy,
  type PipelineRetryOptions,
} from "@azure/core-rest-pipeline";
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { MetricsClient } from "@azure/monitor-query-metrics";

export interface AzureClientOptions {
  readonly credential: TokenCredential;
  /** ARM endpoint; default https://management.azure.com. */
  readonly armEndpoint?: string;
  /** Metrics endpoint; default https://<region>.metrics.monitor.azure.com. */
  readonly metricsEndpoint?: string;
  /** Log Analytics endpoint including /v1; default https://api.loganalytics.io/v1. */
  readonly logsEndpoint?: string;
  /** PEM of an extra CA to trust (local simulator only). */
  readonly caPem?: string;
  readonly retryOptions?: PipelineRetryOptions;
  /** Poll interval for LROs the adapters wait on (ms). */
  readonly updateIntervalInMs?: number;
  /** Clock for the throttle gate (epoch ms); the virtual clock in the local host. Default Date.now. */
  readonly now?: () => number;
}

/**
 * Honours ARM throttling across every request this process makes, not just the one that got the 429: after a 429 with
 * `Retry-After: N`, requests to the same host fail fast with a 429 of their own (carrying the time still to wait)
 * until N seconds have passed, instead of spending the subscription's token bucket again. The caller (a runbook step)
 * backs off by the Retry-After it reads from the error.
 */
export function throttleGatePolicy(now: () => number): PipelinePolicy {
  const until = new Map<string, number>();
  return {
    name: "cutoverThrottleGate",
    async sendRequest(request, next) {
      const host = new URL(request.url).host;
      const blockedUntil = until.get(host) ?? 0;
      const wait = blockedUntil - now();
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        throw new RestError(`Throttled: waiting ${seconds}s more after a 429 from ${host} (Retry-After)`, {
          code: "TooManyRequests",
          statusCode: 429,
          request,
          response: { request, status: 429, headers: createHttpHeaders({ "retry-after": String(seconds) }) },
        });
      }
      const response = await next(request);
      if (response.status === 429) {
        const header = Number(response.headers.get("retry-after"));
        if (Number.isFinite(header) && header > 0)
          until.set(host, Math.max(until.get(host) ?? 0, now() + header * 1000));
      }
      return response;
    },
  };
}

export class AzureClients {
  private readonly containerService = new Map<string, ContainerServiceClient>();
  private readonly cdn = new Map<string, CdnManagementClient>();
  private readonly frontDoor = new Map<string, FrontDoorManagementClient>();
  private readonly metrics = new Map<string, MetricsClient>();
  private logs: LogsQueryClient | undefined;

  constructor(readonly options: AzureClientOptions) {
    this.gate = throttleGatePolicy(options.now ?? Date.now);
  }

  private readonly gate: PipelinePolicy;

  private common(): {
    tlsOptions?: { ca: string };
    retryOptions?: PipelineRetryOptions;
    additionalPolicies: Array<{ policy: PipelinePolicy; position: "perCall" }>;
  } {
    const out: {
      tlsOptions?: { ca: string };
      retryOptions?: PipelineRetryOptions;
      additionalPolicies: Array<{ policy: PipelinePolicy; position: "perCall" }>;
    } = { additionalPolicies: [{ policy: this.gate, position: "perCall" }] };
    if (this.options.caPem !== undefined) out.tlsOptions = { ca: this.options.caPem };
    if (this.options.retryOptions !== undefined) out.retryOptions = this.options.retryOptions;
    return out;
  }

  aks(subscriptionId: string): ContainerServiceClient {
    let client = this.containerService.get(subscriptionId);
    if (client === undefined) {
      client = new ContainerServiceClient(this.options.credential, subscriptionId, {
        ...this.common(),
        ...(this.options.armEndpoint === undefined ? {} : { endpoint: this.options.armEndpoint }),
      });
      this.containerService.set(subscriptionId, client);
    }
    return client;
  }

  cdnClient(subscriptionId: string): CdnManagementClient {
    let client = this.cdn.get(subscriptionId);
    if (client === undefined) {
      client = new CdnManagementClient(this.options.credential, subscriptionId, {
        ...this.common(),
        ...(this.options.armEndpoint === undefined ? {} : { endpoint: this.options.armEndpoint }),
      });
      this.cdn.set(subscriptionId, client);
    }
    return client;
  }

  frontDoorClient(subscriptionId: string): FrontDoorManagementClient {
    let client = this.frontDoor.get(subscriptionId);
    if (client === undefined) {
      client = new FrontDoorManagementClient(this.options.credential, subscriptionId, {
        ...this.common(),
        ...(this.options.armEndpoint === undefined ? {} : { endpoint: this.options.armEndpoint }),
      });
      this.frontDoor.set(subscriptionId, client);
    }
    return client;
  }

  metricsClient(region: string): MetricsClient {
    const endpoint = this.options.metricsEndpoint ?? `https://${region}.metrics.monitor.azure.com`;
    let client = this.metrics.get(endpoint);
    if (client === undefined) {
      client = new MetricsClient(endpoint, this.options.credential, this.common());
      this.metrics.set(endpoint, client);
    }
    return client;
  }

  logsClient(): LogsQueryClient {
    this.logs ??= new LogsQueryClient(this.options.credential, {
      ...this.common(),
      ...(this.options.logsEndpoint === undefined ? {} : { endpoint: this.options.logsEndpoint }),
    });
    return this.logs;
  }
}
