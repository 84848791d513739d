/** Durable registrations: orchestrations by their frozen names, and every activity bound to the composed ports. */
import * as df from "durable-functions";
import { runtime } from "../composition";
import { ACTIVITIES, ORCHESTRATIONS } from "../runbooks/contracts";
import { failoverWorkloadOrchestrator } from "../runbooks/failover-workload";

df.app.orchestration(ORCHESTRATIONS.failoverWorkload, failoverWorkloadOrchestrator);

for (const name of Object.values(ACTIVITIES)) {
  df.app.activity(name, {
    handler: async (input: unknown, context) => {
      const handler = (await runtime()).activities[name];
      if (handler === undefined) throw new Error(`[INTERNAL] activity ${name} is not composed`);
      return handler(input, context);
    },
  });
}
