/** Sample app with a trigger type the local host cannot run (the host must refuse it and name it). */
import { app } from "@azure/functions";

app.http("fine", { route: "fine", handler: () => ({ body: "ok" }) });
app.storageQueue("queueWorker", { queueName: "work", connection: "AzureWebJobsStorage", handler: () => undefined });
