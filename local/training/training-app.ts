/**
 * Registers the training-resume runbook and its activities with the Functions programming model, built from the
 * ports given. Used as (part of) an entry for the local host by the training scenario and the tests; the production
 * registration lives with the lead's `src/functions/` wiring and composition root.
 */
import * as df from "durable-functions";
import { createTrainingActivities } from "../../src/activities/training";
import type { TrainingPorts } from "../../src/activities/training-ports";
import { resumeTrainingOrchestrator } from "../../src/runbooks/resume-training";
import { TRAINING_ACTIVITIES, TRAINING_ORCHESTRATIONS } from "../../src/runbooks/training-contracts";

export function registerTrainingFunctions(ports: TrainingPorts): void {
  const activities = createTrainingActivities(ports);
  df.app.orchestration(TRAINING_ORCHESTRATIONS.resumeTraining, resumeTrainingOrchestrator);
  for (const key of Object.keys(TRAINING_ACTIVITIES) as Array<keyof typeof TRAINING_ACTIVITIES>) {
    const handler = activities[key];
    df.app.activity(TRAINING_ACTIVITIES[key], { handler: (input: unknown, context) => handler(input, context) });
  }
}
