/** Durable registrations: orchestrations by their frozen names, and every activity bound to the composed ports. */
import * as df from "durable-functions";
import { runtime } from "../composition";
import { ACTIVITIES, ORCHESTRATIONS } from "../runbooks/contracts";
import { failbackWorkloadOrchestrator } from "../runbooks/failback-workload";
import { failoverWorkloadOrchestrator } from "../runbooks/failover-workload";
import { HEALTH_ORCHESTRATIONS } from "../runbooks/health-contracts";
import { resumeTrainingOrchestrator } from "../runbooks/resume-training";
import { TRAINING_ACTIVITIES, TRAINING_ORCHESTRATIONS } from "../runbooks/training-contracts";

df.app.orchestration(ORCHESTRATIONS.failoverWorkload, failoverWorkloadOrchestrator);
df.app.orchestration(HEALTH_ORCHESTRATIONS.failbackWorkload, failbackWorkloadOrchestrator);
df.app.orchestration(TRAINING_ORCHESTRATIONS.resumeTraining, resumeTrainingOrchestrator);

for (const key of Object.keys(TRAINING_ACTIVITIES) as Array<keyof typeof TRAINING_ACTIVITIES>) {
  df.app.activity(TRAINING_ACTIVITIES[key], {
    handler: async (input: unknown, context) => (await runtime()).trainingActivities[key](input, context),
  });
}

for (const name of Object.values(ACTIVITIES)) {
  df.app.activity(name, {
    handler: async (input: unknown, context) => {
      const handler = (await runtime()).activities[name];
      if (handler === undefined) throw new Error(`[INTERNAL] activity ${name} is not composed`);
      return handler(input, context);
    },
  });
}
