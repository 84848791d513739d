/**
 * Recorded metric series, one point per grain (one virtual minute by default) per resource, metric and dimension
 * combination, as Azure Monitor platform metrics are. Serves `metrics:getBatch` and the alert evaluator.
 */

export type Aggregation = "average" | "minimum" | "maximum" | "total" | "count";

export interface MetricPoint {
  readonly at: number;
  readonly value: number;
  /** When the point can be read through the metrics API (Azure: platform metrics are available "in under a minute"). */
  readonly visibleAt: number;
}

export interface MetricDefinition {
  readonly namespace: string;
  readonly name: string;
  readonly unit: "Percent" | "Count" | "MilliSeconds";
  readonly description: string;
  readonly dimensions: ReadonlyArray<string>;
}

interface Series {
  readonly resourceId: string;
  readonly metric: string;
  readonly dims: Readonly<Record<string, string>>;
  readonly points: MetricPoint[];
}

export interface SeriesResult {
  readonly dims: Readonly<Record<string, string>>;
  readonly data: Array<{ at: number } & Partial<Record<Aggregation, number>>>;
}

export function aggregate(values: ReadonlyArray<number>, agg: Aggregation): number | undefined {
  if (values.length === 0) return agg === "count" || agg === "total" ? 0 : undefined;
  switch (agg) {
    case "average":
      return values.reduce((a, b) => a + b, 0) / values.length;
    case "minimum":
      return Math.min(...values);
    case "maximum":
      return Math.max(...values);
    case "total":
      return values.reduce((a, b) => a + b, 0);
    case "count":
      return values.length;
  }
}

/** `Dim eq 'value'` / `Dim eq '*'` clauses joined by `and` (the forms metrics:getBatch's `filter` takes). */
export interface DimensionFilter {
  readonly name: string;
  /** `*` splits by the dimension. */
  readonly values: ReadonlyArray<string>;
}

export function parseMetricFilter(filter: string | undefined): DimensionFilter[] {
  if (filter === undefined || filter.trim() === "") return [];
  const out = new Map<string, string[]>();
  for (const clause of filter.split(/\s+and\s+/i)) {
    for (const alt of clause.replace(/^\(|\)$/g, "").split(/\s+or\s+/i)) {
      const m = /^\s*([A-Za-z0-9_]+)\s+eq\s+'([^']*)'\s*$/i.exec(alt);
      if (m === null) throw new Error(`unsupported filter clause: ${alt.trim()}`);
      const list = out.get(m[1]!) ?? [];
      list.push(m[2]!);
      out.set(m[1]!, list);
    }
  }
  return [...out.entries()].map(([name, values]) => ({ name, values }));
}

export class MetricStore {
  private readonly series = new Map<string, Series>();
  private readonly definitions = new Map<string, MetricDefinition>();

  define(def: MetricDefinition): void {
    this.definitions.set(`${def.namespace.toLowerCase()}|${def.name.toLowerCase()}`, def);
  }

  definition(namespace: string, name: string): MetricDefinition | undefined {
    return this.definitions.get(`${namespace.toLowerCase()}|${name.toLowerCase()}`);
  }

  definitionsOf(namespace: string): MetricDefinition[] {
    return [...this.definitions.values()].filter((d) => d.namespace.toLowerCase() === namespace.toLowerCase());
  }

  record(
    resourceId: string,
    metric: string,
    dims: Readonly<Record<string, string>>,
    at: number,
    value: number,
    visibleAt = at,
  ): void {
    const key = `${resourceId.toLowerCase()}|${metric.toLowerCase()}|${JSON.stringify(Object.entries(dims).sort())}`;
    let s = this.series.get(key);
    if (s === undefined) {
      s = { resourceId, metric, dims, points: [] };
      this.series.set(key, s);
    }
    s.points.push({ at, value, visibleAt });
  }

  /**
   * Points of every series of `metric` on `resourceId` in [start, end), bucketed by `intervalMs`. Dimensions that
   * are split (`*`) stay separate; others are merged (point values combined per bucket with the aggregation).
   * With `asOf`, only points already available then (`visibleAt`) count, as the metrics API answers at that time.
   */
  query(
    resourceId: string,
    metric: string,
    start: number,
    end: number,
    intervalMs: number,
    aggregations: ReadonlyArray<Aggregation>,
    filters: ReadonlyArray<DimensionFilter>,
    asOf?: number,
  ): SeriesResult[] {
    const matching = [...this.series.values()].filter(
      (s) =>
        s.resourceId.toLowerCase() === resourceId.toLowerCase() &&
        s.metric.toLowerCase() === metric.toLowerCase() &&
        filters.every((f) => f.values.includes("*") || f.values.includes(s.dims[f.name] ?? "")),
    );
    const splitBy = filters.filter((f) => f.values.includes("*") || f.values.length > 1).map((f) => f.name);
    const groups = new Map<string, { dims: Record<string, string>; members: Series[] }>();
    for (const s of matching) {
      const dims: Record<string, string> = {};
      for (const d of splitBy) dims[d] = s.dims[d] ?? "";
      const key = JSON.stringify(dims);
      const g = groups.get(key) ?? { dims, members: [] };
      g.members.push(s);
      groups.set(key, g);
    }
    if (groups.size === 0 && splitBy.length === 0) groups.set("{}", { dims: {}, members: [] });
    const out: SeriesResult[] = [];
    for (const g of groups.values()) {
      const data: SeriesResult["data"] = [];
      for (let b = start; b < end; b += intervalMs) {
        // Points of the same minute from different merged series are summed for totals, averaged otherwise.
        const values = g.members.flatMap((s) =>
          s.points
            .filter((p) => p.at >= b && p.at < b + intervalMs && (asOf === undefined || p.visibleAt <= asOf))
            .map((p) => p.value),
        );
        const point: { at: number } & Partial<Record<Aggregation, number>> = { at: b };
        for (const a of aggregations) {
          const v = aggregate(values, a);
          if (v !== undefined) point[a] = v;
        }
        data.push(point);
      }
      out.push({ dims: g.dims, data });
    }
    return out;
  }

  /** Every point of the matching series in [start, end) as flat values, grouped by split dimensions. */
  window(
    resourceId: string,
    metric: string,
    start: number,
    end: number,
    filters: ReadonlyArray<DimensionFilter>,
  ): Array<{ dims: Record<string, string>; values: number[] }> {
    return this.query(resourceId, metric, start, end, Math.max(1, end - start), [], filters).map((r) => ({
      dims: { ...r.dims },
      values: [...this.series.values()]
        .filter(
          (s) =>
            s.resourceId.toLowerCase() === resourceId.toLowerCase() &&
            s.metric.toLowerCase() === metric.toLowerCase() &&
            Object.entries(r.dims).every(([k, v]) => s.dims[k] === v) &&
            filters.every((f) => f.values.includes("*") || f.values.includes(s.dims[f.name] ?? "")),
        )
        .flatMap((s) => s.points.filter((p) => p.at >= start && p.at < end).map((p) => p.value)),
    }));
  }
}
