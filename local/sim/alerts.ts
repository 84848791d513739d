/**
 * Azure Monitor metric alert rules over the world's recorded metrics: evaluated every `evaluationFrequency` over
 * `windowSize`, stateful by default (fires once, resolves after three consecutive clean evaluations —
 * azure-facts §3.1), and notified to a webhook as Common Alert Schema payloads (§3.3) with `customProperties`,
 * after a sampled dispatch delay. Webhook retries follow action groups (§3.4): on 408/429/503/504 or a network
 * error, retried after 5, 20, 5, 40 and 5 seconds.
 */
import { aggregate, type Aggregation, type DimensionFilter } from "./metric-store";
import { isoDurationSeconds, type MetricAlertRule } from "./scenario";
import type { World } from "./world";

export interface AlertNotification {
  readonly rule: string;
  readonly condition: "Fired" | "Resolved";
  readonly payload: CommonAlertPayload;
  /** Virtual time the evaluator decided. */
  readonly decidedAt: number;
  /** Virtual time the webhook accepted it, or null. */
  deliveredAt: number | null;
  attempts: number;
  lastStatus: number | null;
}

export interface CommonAlertPayload {
  readonly schemaId: "azureMonitorCommonAlertSchema";
  readonly data: {
    readonly essentials: Record<string, unknown>;
    readonly alertContext: Record<string, unknown>;
    readonly customProperties: Record<string, string> | null;
  };
}

interface SeriesState {
  fired: boolean;
  alertId: string;
  firedAt: number;
  clean: number;
}

const RETRY_DELAYS_S = [5, 20, 5, 40, 5];
const RETRYABLE = new Set([408, 429, 503, 504]);

export class AlertEvaluator {
  private readonly states = new Map<string, SeriesState>();
  private readonly timers: Array<{ cancel(): void }> = [];
  readonly notifications: AlertNotification[] = [];
  private webhook: string | undefined;
  private stopped = false;

  constructor(
    private readonly world: World,
    private readonly rules: ReadonlyArray<MetricAlertRule>,
  ) {
    for (const rule of rules)
      this.schedule(rule, world.startedAt + isoDurationSeconds(rule.evaluationFrequency) * 1000);
  }

  setWebhook(url: string | undefined): void {
    this.webhook = url;
  }

  private schedule(rule: MetricAlertRule, at: number): void {
    this.timers.push(
      this.world.clock.schedule(
        at,
        () => {
          this.evaluate(rule);
          if (!this.stopped) this.schedule(rule, at + isoDurationSeconds(rule.evaluationFrequency) * 1000);
        },
        `alert ${rule.name}`,
      ),
    );
  }

  /** The rule's target resource id and metric namespace. */
  target(rule: MetricAlertRule): {
    resourceId: string;
    namespace: string;
    resourceGroup: string;
    resourceType: string;
  } {
    const w = this.world;
    let resourceId: string;
    if ("frontDoor" in rule.target) {
      const fd = w.frontDoor(rule.target.frontDoor);
      if (fd === undefined)
        throw new Error(`[INVALID_INPUT] alert ${rule.name}: no Front Door ${rule.target.frontDoor}`);
      resourceId = fd.resourceId;
    } else if ("cluster" in rule.target) {
      const wl = w.topology.workloads.find((x) => "cluster" in rule.target && x.name === rule.target.cluster.workload);
      const c = "cluster" in rule.target ? wl?.regions[rule.target.cluster.region]?.cluster : undefined;
      if (c === undefined) throw new Error(`[INVALID_INPUT] alert ${rule.name}: no cluster`);
      resourceId = `/subscriptions/${w.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
    } else resourceId = rule.target.resourceId;
    const m = /\/resourceGroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\//i.exec(resourceId);
    const resourceType = m?.[2] ?? "";
    return { resourceId, namespace: rule.metric.namespace ?? resourceType, resourceGroup: m?.[1] ?? "", resourceType };
  }

  private evaluate(rule: MetricAlertRule): void {
    const w = this.world;
    const now = w.clock.now();
    const { resourceId } = this.target(rule);
    const grain = 60_000;
    const delay = w.stream(`alerts/${rule.name}/availability`).triangular(w.sim.metricAvailability) * 1000;
    const end = Math.floor((now - delay) / grain) * grain;
    const start = end - isoDurationSeconds(rule.windowSize) * 1000;
    const filters: DimensionFilter[] = rule.metric.dimensions.map((d) => ({ name: d.name, values: d.values }));
    const agg = rule.metric.aggregation.toLowerCase() as Aggregation;
    for (const series of w.metrics.window(resourceId, rule.metric.name, start, end, filters)) {
      const value = aggregate(series.values, agg);
      if (value === undefined || series.values.length === 0) continue;
      const breach = compare(value, rule.operator, rule.threshold);
      const key = `${rule.name}|${JSON.stringify(series.dims)}`;
      const state = this.states.get(key) ?? { fired: false, alertId: "", firedAt: 0, clean: 0 };
      this.states.set(key, state);
      if (breach) {
        state.clean = 0;
        if (!state.fired || !rule.autoMitigate) {
          state.fired = true;
          state.alertId = w.stream(`alerts/${rule.name}/ids`).guid();
          state.firedAt = now;
          this.notify(rule, "Fired", state, series.dims, value, start, end);
        }
      } else if (state.fired && rule.autoMitigate) {
        state.clean++;
        if (state.clean >= 3) {
          state.fired = false;
          state.clean = 0;
          this.notify(rule, "Resolved", state, series.dims, value, start, end);
        }
      }
    }
  }

  private notify(
    rule: MetricAlertRule,
    condition: "Fired" | "Resolved",
    state: SeriesState,
    dims: Record<string, string>,
    value: number,
    windowStart: number,
    windowEnd: number,
  ): void {
    const w = this.world;
    const now = w.clock.now();
    const target = this.target(rule);
    const iso = (ms: number): string => new Date(ms).toISOString();
    const payload: CommonAlertPayload = {
      schemaId: "azureMonitorCommonAlertSchema",
      data: {
        essentials: {
          alertId: `/subscriptions/${w.subscriptionId}/providers/Microsoft.AlertsManagement/alerts/${state.alertId}`,
          alertRule: rule.name,
          alertRuleID: `/subscriptions/${w.subscriptionId}/resourceGroups/${target.resourceGroup}/providers/microsoft.insights/metricAlerts/${rule.name}`,
          severity: `Sev${rule.severity}`,
          signalType: "Metric",
          monitorCondition: condition,
          monitoringService: "Platform",
          alertTargetIDs: [target.resourceId.toLowerCase()],
          configurationItems: [target.resourceId.split("/").pop() ?? ""],
          originAlertId: `${w.subscriptionId}_${target.resourceGroup}_microsoft.insights_metricAlerts_${rule.name}_${state.firedAt}`,
          firedDateTime: iso(state.firedAt),
          ...(condition === "Resolved" ? { resolvedDateTime: iso(now) } : {}),
          description: rule.description,
          essentialsVersion: "1.0",
          alertContextVersion: "1.0",
          targetResourceType: target.resourceType.toLowerCase(),
          targetResourceGroup: target.resourceGroup,
        },
        alertContext: {
          properties: null,
          conditionType: "SingleResourceMultipleMetricCriteria",
          condition: {
            windowSize: rule.windowSize,
            allOf: [
              {
                metricName: rule.metric.name,
                metricNamespace: target.namespace,
                operator: rule.operator,
                threshold: String(rule.threshold),
                timeAggregation: rule.metric.aggregation,
                dimensions: Object.entries(dims).map(([name, v]) => ({ name, value: v })),
                metricValue: value,
                webTestName: null,
              },
            ],
            windowStartTime: iso(windowStart),
            windowEndTime: iso(windowEnd),
          },
        },
        customProperties: Object.keys(rule.customProperties).length === 0 ? null : { ...rule.customProperties },
      },
    };
    const n: AlertNotification = {
      rule: rule.name,
      condition,
      payload,
      decidedAt: now,
      deliveredAt: null,
      attempts: 0,
      lastStatus: null,
    };
    this.notifications.push(n);
    w.timeline.add(now, condition === "Fired" ? "alert-fired" : "alert-resolved", {
      rule: rule.name,
      dimensions: JSON.stringify(dims),
      value: Math.round(value * 1000) / 1000,
    });
    w.recordAlertWait(rule.name, condition, now, null);
    const dispatch = w.stream(`alerts/${rule.name}/dispatch`).triangular(w.latency.alertDispatch) * 1000;
    this.timers.push(w.clock.scheduleIn(dispatch, () => this.attempt(n), `alert send ${rule.name}`));
  }

  private attempt(n: AlertNotification): void {
    const w = this.world;
    const url = this.webhook;
    n.attempts++;
    if (url === undefined) {
      w.timeline.add(w.clock.now(), "alert-delivery-failed", {
        rule: n.rule,
        condition: n.condition,
        reason: "no webhook set",
      });
      return;
    }
    const work = fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(n.payload),
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      })
      .catch(() => 0)
      .then((status) => {
        n.lastStatus = status;
        const now = w.clock.now();
        if (status >= 200 && status < 300) {
          n.deliveredAt = now;
          w.timeline.add(now, "alert-delivered", { rule: n.rule, condition: n.condition, status, attempt: n.attempts });
          w.recordAlertWait(n.rule, n.condition, n.decidedAt, now);
          return;
        }
        const delay = RETRY_DELAYS_S[n.attempts - 1];
        if ((status === 0 || RETRYABLE.has(status)) && delay !== undefined && !this.stopped) {
          this.timers.push(w.clock.scheduleIn(delay * 1000, () => this.attempt(n), `alert retry ${n.rule}`));
          return;
        }
        w.timeline.add(now, "alert-delivery-failed", {
          rule: n.rule,
          condition: n.condition,
          status,
          attempt: n.attempts,
        });
      });
    void w.clock.track(work);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
  }
}

function compare(value: number, op: MetricAlertRule["operator"], threshold: number): boolean {
  switch (op) {
    case "GreaterThan":
      return value > threshold;
    case "GreaterThanOrEqual":
      return value >= threshold;
    case "LessThan":
      return value < threshold;
    case "LessThanOrEqual":
      return value <= threshold;
    case "Equals":
      return value === threshold;
  }
}
