/**
 * Alert records are group-committed (src/adapters/state-store.ts): concurrent records of one day go to the table in
 * entity group transactions, every record is stored, and a record the table refuses fails alone, with its own error,
 * while the records batched with it are stored. Overlapping reads of one scope claim share one blob request, and a
 * read after a write sees it. Real Azurite, real SDK clients; requests counted by a pipeline policy (table) and node:http's diagnostics channel (blob).
 */
import { TableClient } from "@azure/data-tables";
import { subscribe } from "node:diagnostics_channel";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../../../local/azurite";
import { ALERT_TABLE, STATE_CONTAINER, StateStore, type AlertRecord } from "../../../src/adapters/state-store";

let azurite: Azurite;
/** HTTP requests this process sent to Azurite's blob endpoint. */
let blobRequestCount = 0;
beforeAll(async () => {
  azurite = await startAzurite();
  const blobHost = new URL(azurite.blobEndpoint).host;
  subscribe("http.client.request.start", (message) => {
    const host = (message as { request?: { getHeader?: (name: string) => unknown } }).request?.getHeader?.("host");
    if (host === blobHost) blobRequestCount++;
  });
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});

function store(): { state: StateStore; requests: () => number; blobRequests: () => number } {
  const table = TableClient.fromConnectionString(azurite.connectionString, ALERT_TABLE, {
    allowInsecureConnection: true,
  });
  let requests = 0;
  table.pipeline.addPolicy({
    name: "count-requests",
    sendRequest: (request, next) => {
      requests++;
      return next(request);
    },
  });
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
    STATE_CONTAINER,
  );
  return { state: new StateStore(container, table), requests: () => requests, blobRequests: () => blobRequestCount };
}

function record(day: string, n: number, reason = "test"): AlertRecord {
  return {
    receivedAt: `${day}T10:00:00.000Z`,
    alertId: `alert-${n}`,
    rule: "rule",
    condition: "Fired",
    severity: "Sev1",
    outcome: "ignored",
    targets: "",
    instanceIds: "",
    reason,
  };
}

describe("alert records: group commit", () => {
  it("300 concurrent records are all stored, in far fewer table requests than records", async () => {
    const { state, requests } = store();
    await state.init();
    const before = requests();
    await Promise.all(Array.from({ length: 300 }, (_, n) => state.recordAlert(record("2030-01-02", n), `row-${n}`)));
    const used = requests() - before;
    const stored = await state.listAlerts("2030-01-02");
    expect(stored.map((r) => r.alertId).sort()).toEqual(Array.from({ length: 300 }, (_, n) => `alert-${n}`).sort());
    expect(used).toBeLessThan(30);
  });

  it("records of different days go to their own partitions, each stored", async () => {
    const { state } = store();
    await Promise.all([
      ...Array.from({ length: 20 }, (_, n) => state.recordAlert(record("2030-01-03", n), `a-${n}`)),
      ...Array.from({ length: 20 }, (_, n) => state.recordAlert(record("2030-01-04", n), `b-${n}`)),
    ]);
    expect(await state.listAlerts("2030-01-03")).toHaveLength(20);
    expect(await state.listAlerts("2030-01-04")).toHaveLength(20);
  });

  it("a record the table refuses fails alone; the records batched with it are stored", async () => {
    const { state } = store();
    await state.init();
    // Keep one write in flight so that the rest queue up and go as one transaction that includes the bad row key.
    const results = await Promise.allSettled([
      state.recordAlert(record("2030-01-05", 0), "first"),
      ...Array.from({ length: 10 }, (_, n) => state.recordAlert(record("2030-01-05", n + 1), `ok-${n}`)),
      state.recordAlert(record("2030-01-05", 99), "bad/row#key"),
      ...Array.from({ length: 10 }, (_, n) => state.recordAlert(record("2030-01-05", n + 11), `ok2-${n}`)),
    ]);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(String((rejected[0] as PromiseRejectedResult).reason)).toMatch(/record alert alert-99/);
    const stored = await state.listAlerts("2030-01-05");
    expect(stored).toHaveLength(21);
    expect(stored.map((r) => r.alertId)).not.toContain("alert-99");
  });
});

describe("scope claims: overlapping reads", () => {
  const claim = (generation: number) => ({
    generation,
    instanceId: `failover-chat-eastus2-all-${generation}`,
    claimedAt: "2030-01-01T00:00:00.000Z",
    trigger: "alert a",
  });

  it("20 overlapping reads of one claim make one blob request; reads of another claim make their own", async () => {
    const { state, blobRequests } = store();
    await state.init();
    expect(await state.writeClaim("chat", "eastus2", undefined, claim(1), undefined)).toBe(true);
    const before = blobRequests();
    const reads = await Promise.all([
      ...Array.from({ length: 20 }, () => state.readClaim("chat", "eastus2", undefined)),
      state.readClaim("chat", "eastus2", "1"),
    ]);
    expect(blobRequests() - before).toBe(2);
    expect(reads.slice(0, 20).map((r) => r?.claim.generation)).toEqual(Array<number>(20).fill(1));
    expect(reads[20]).toBeUndefined();
  });

  it("a read that starts after a write finished sees the write", async () => {
    const { state, blobRequests } = store();
    await state.init();
    const first = await state.readClaim("chat", "westus3", undefined);
    expect(await state.writeClaim("chat", "westus3", undefined, claim(2), first?.etag)).toBe(true);
    const before = blobRequests();
    expect((await state.readClaim("chat", "westus3", undefined))?.claim.generation).toBe(2);
    expect((await state.readClaim("chat", "westus3", undefined))?.claim.generation).toBe(2);
    expect(blobRequests() - before).toBe(2);
  });
});
