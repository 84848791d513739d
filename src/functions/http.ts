/** HTTP routes (all under /api). Thin registrations: the handlers live in src/http/. */
import { app } from "@azure/functions";
import * as df from "durable-functions";
import { alertsHandler, listAlertsHandler } from "../http/alerts";
import { breakersHandler } from "../http/breakers";
import { abortHandler, approveHandler, drillsHandler, failbackHandler, getFailoverHandler } from "../http/failovers";
import { gatesHandler } from "../http/gates";
import { planHandler } from "../http/plan";
import { practiceHandler } from "../http/practice";
import { shiftsHandler } from "../http/shifts";

const durableClient = df.input.durableClient();

app.http("alerts", {
  route: "alerts",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [durableClient],
  handler: alertsHandler,
});
app.http("listAlerts", { route: "alerts", methods: ["GET"], authLevel: "function", handler: listAlertsHandler });
app.http("drills", {
  route: "drills",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [durableClient],
  handler: drillsHandler,
});
app.http("getFailover", {
  route: "failovers/{id}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [durableClient],
  handler: getFailoverHandler,
});
app.http("approveFailover", {
  route: "failovers/{id}/approve",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [durableClient],
  handler: approveHandler,
});
app.http("abortFailover", {
  route: "failovers/{id}/abort",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [durableClient],
  handler: abortHandler,
});
app.http("failbackFailover", {
  route: "failovers/{id}/failback",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [durableClient],
  handler: failbackHandler,
});
app.http("plan", { route: "plan", methods: ["GET"], authLevel: "function", handler: planHandler });
app.http("gates", {
  route: "gates/{workload}/{region}",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: gatesHandler,
});
app.http("breakers", {
  route: "breakers/{workload}/{region}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [durableClient],
  handler: breakersHandler,
});
app.http("practice", {
  route: "practice/{workload}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [durableClient],
  handler: practiceHandler,
});
app.http("shifts", {
  route: "shifts/{workload}",
  methods: ["GET"],
  authLevel: "function",
  handler: shiftsHandler,
});
