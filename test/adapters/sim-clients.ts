/** Builds Cutover's production adapters pointed at a running simulator (endpoint, CA, fake credential). */
import { AzureClients } from "../../src/adapters/azure-clients";
import type { Simulator } from "../../local/sim/simulator";

export function clientsFor(sim: Simulator, retries = 0): AzureClients {
  return new AzureClients({
    credential: sim.credential,
    armEndpoint: sim.armEndpoint,
    metricsEndpoint: sim.metricsEndpoint,
    logsEndpoint: sim.logsEndpoint,
    caPem: sim.caPem,
    retryOptions: { maxRetries: retries, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
  });
}
