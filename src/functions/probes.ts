/**
 * Timer registrations of Cutover's own health signals: the probe round (`%CUTOVER_PROBE_SCHEDULE%`, every 10 s by
 * default) and the practice-run scheduler (every minute; each workload's own schedule lives in the topology).
 */
import { app } from "@azure/functions";
import * as df from "durable-functions";
import { practiceRunsHandler } from "../health/practice-timer";
import { probeHealthHandler } from "../health/probe-timer";

app.timer("probeHealth", {
  schedule: "%CUTOVER_PROBE_SCHEDULE%",
  extraInputs: [df.input.durableClient()],
  handler: probeHealthHandler,
});

app.timer("practiceRuns", {
  schedule: "0 * * * * *",
  extraInputs: [df.input.durableClient()],
  handler: practiceRunsHandler,
});
