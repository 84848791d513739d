/** Tiny app for the local-host benchmark: a 10-activity fan-out and a 30-timer orchestration. */
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";

df.app.activity("square", { handler: (n: number) => n * n });

df.app.orchestration("fanOut10", function* (context: OrchestrationContext) {
  const results = (yield context.df.Task.all(
    Array.from({ length: 10 }, (_v, i) => context.df.callActivity("square", i)),
  )) as number[];
  return results.reduce((a, b) => a + b, 0);
});

df.app.orchestration("thirtyTimers", function* (context: OrchestrationContext) {
  for (let i = 0; i < 30; i++) {
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 30_000));
    context.df.setCustomStatus({ fired: i + 1 });
  }
  return context.df.currentUtcDateTime.toISOString();
});
