/**
 * Alert evidence reaches the breaker entities with one `record` signal in flight per breaker
 * (src/http/alerts.ts `EvidenceCourier`): the first alert's evidence goes at once, evidence arriving meanwhile goes in
 * the next signal as one list, nothing is lost or duplicated, and a failed signal fails exactly the callers whose
 * evidence it carried.
 */
import type { DurableClient, EntityId } from "durable-functions";
import { describe, expect, it } from "vitest";
import type { BreakerConfigInput } from "../../../src/domain/circuit-breaker";
import { alertEvidence, type AlertEvidence } from "../../../src/domain/probe-evidence";
import { EvidenceCourier } from "../../../src/http/alerts";
import type { RecordInput } from "../../../src/runbooks/health-contracts";

interface Sent {
  readonly key: string;
  readonly operation: string;
  readonly input: RecordInput;
  settle(error?: Error): void;
}

function fakeClient(): { client: DurableClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    signalEntity: (entity: EntityId, operation: string, input: RecordInput) =>
      new Promise<void>((resolve, reject) => {
        sent.push({
          key: entity.key,
          operation,
          input,
          settle: (error) => (error === undefined ? resolve() : reject(error)),
        });
      }),
  };
  return { client: client as unknown as DurableClient, sent };
}

const CONFIG: BreakerConfigInput = { consecutiveFailures: 2 };
const T0 = Date.UTC(2030, 0, 1);

function evidence(n: number): AlertEvidence {
  return alertEvidence({ at: T0 + n, alertId: `alert-${n}`, condition: "Fired", rule: "r", severity: "Sev1" });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("evidence courier", () => {
  it("sends the first evidence at once and what arrives meanwhile as one list, then nothing more", async () => {
    const { client, sent } = fakeClient();
    const courier = new EvidenceCourier();
    const done: number[] = [];
    const first = courier.deliver(client, "chat:eastus2", CONFIG, T0, evidence(0)).then(() => done.push(0));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.input).toEqual({ now: T0, config: CONFIG, evidence: [evidence(0)] });
    const rest = [1, 2, 3, 4, 5].map((n) =>
      courier.deliver(client, "chat:eastus2", CONFIG, T0 + 10 * n, evidence(n)).then(() => done.push(n)),
    );
    await tick();
    expect(sent).toHaveLength(1);
    sent[0]!.settle();
    await first;
    expect(sent).toHaveLength(2);
    expect(sent[1]!.operation).toBe("record");
    expect(sent[1]!.input).toEqual({ now: T0 + 50, config: CONFIG, evidence: [1, 2, 3, 4, 5].map(evidence) });
    await tick();
    expect(done).toEqual([0]);
    sent[1]!.settle();
    await Promise.all(rest);
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
    await tick();
    expect(sent).toHaveLength(2);
  });

  it("keeps breakers apart: each has its own signal in flight", () => {
    const { client, sent } = fakeClient();
    const courier = new EvidenceCourier();
    void courier.deliver(client, "chat:eastus2", CONFIG, T0, evidence(0));
    void courier.deliver(client, "chat:westus3", CONFIG, T0, evidence(1));
    expect(sent.map((s) => [s.key, s.input.evidence.length])).toEqual([
      ["chat:eastus2", 1],
      ["chat:westus3", 1],
    ]);
  });

  it("a failed signal fails the callers it carried, and the next batch still goes", async () => {
    const { client, sent } = fakeClient();
    const courier = new EvidenceCourier();
    const first = courier.deliver(client, "k:r", CONFIG, T0, evidence(0));
    const second = courier.deliver(client, "k:r", CONFIG, T0, evidence(1));
    sent[0]!.settle(new Error("host down"));
    await expect(first).rejects.toThrow("host down");
    expect(sent).toHaveLength(2);
    sent[1]!.settle();
    await expect(second).resolves.toBeUndefined();
  });

  it("never puts more than 500 items (the record operation's limit) in one signal", async () => {
    const { client, sent } = fakeClient();
    const courier = new EvidenceCourier();
    const all = Array.from({ length: 1201 }, (_, n) => courier.deliver(client, "k:r", CONFIG, T0, evidence(n)));
    for (let i = 0; i < 4; i++) {
      sent[i]!.settle();
      await tick();
    }
    await Promise.all(all);
    expect(sent.map((s) => s.input.evidence.length)).toEqual([1, 500, 500, 200]);
  });
});
