/**
 * Log Analytics for the simulator: the rows the world produced (Front Door health-probe logs in
 * `AzureDiagnostics`, platform metrics exported to `AzureMetrics`), visible only after their sampled ingestion
 * delay, queried with a small subset of KQL:
 *
 *   Table | where Col op value [and …] | summarize agg(Col)[, …] by Col[, …] | project Col[, …]
 *         | order by Col [asc|desc] | take N
 *
 * with `op` one of == != > < >= <= =~ contains, values 'text', "text", numbers, ago(5m) and datetime(…), and
 * aggregations count(), avg(), min(), max(), sum(), dcount(). Anything else is a 400 `BadArgumentError` naming the
 * unsupported part (never a silent empty result).
 */
import type { LogRow } from "./world";

export type Cell = string | number | boolean | null;

export interface LogTable {
  readonly name: string;
  readonly columns: Array<{ name: string; type: "string" | "datetime" | "real" | "long" | "bool" }>;
  readonly rows: Cell[][];
}

export class KqlError extends Error {
  override readonly name = "KqlError" as const;
}

type Row = Record<string, Cell>;

const SCHEMAS: Readonly<Record<string, ReadonlyArray<string>>> = {
  AzureDiagnostics: [
    "TimeGenerated",
    "ResourceId",
    "Category",
    "POP_s",
    "originName_s",
    "origin_s",
    "region_s",
    "httpStatusCode_s",
    "result_s",
    "totalLatencyMilliseconds_s",
  ],
  AzureMetrics: ["TimeGenerated", "ResourceId", "MetricName", "Average", "Total", "Count"],
};
const TABLES = new Set(Object.keys(SCHEMAS));

export function runQuery(
  query: string,
  rows: ReadonlyArray<LogRow>,
  now: number,
  timespan: { start: number; end: number } | undefined,
): LogTable {
  const stages = splitPipes(query);
  const tableName = stages.shift()?.trim() ?? "";
  if (!TABLES.has(tableName))
    throw new KqlError(`'${tableName}' is not a table of this workspace (tables: ${[...TABLES].join(", ")})`);
  let data: Row[] = rows
    .filter((r) => r.table === tableName && r.visibleAt <= now)
    .map((r) => ({ ...r.row }))
    .filter((r) => {
      if (timespan === undefined) return true;
      const t = Date.parse(String(r["TimeGenerated"]));
      return t >= timespan.start && t <= timespan.end;
    });
  let columns: string[] = [...(SCHEMAS[tableName] ?? [])];
  for (const raw of stages) {
    const stage = raw.trim();
    const [verb, rest] = splitVerb(stage);
    switch (verb) {
      case "where":
        data = data.filter(compileWhere(rest, now));
        break;
      case "summarize": {
        const r = summarize(rest, data);
        data = r.rows;
        columns = r.columns;
        break;
      }
      case "project": {
        const cols = rest.split(",").map((c) => c.trim());
        columns = cols;
        data = data.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null])));
        break;
      }
      case "order":
      case "sort": {
        const m = /^by\s+([A-Za-z0-9_]+)(?:\s+(asc|desc))?$/i.exec(rest);
        if (m === null) throw new KqlError(`cannot parse '${stage}'`);
        const col = m[1]!;
        const dir = (m[2] ?? "desc").toLowerCase() === "asc" ? 1 : -1;
        data = [...data].sort((a, b) => dir * cmp(a[col] ?? null, b[col] ?? null));
        break;
      }
      case "take":
      case "limit": {
        const n = Number(rest);
        if (!Number.isInteger(n) || n < 0) throw new KqlError(`cannot parse '${stage}'`);
        data = data.slice(0, n);
        break;
      }
      case "top": {
        const m = /^(\d+)\s+by\s+([A-Za-z0-9_]+)(?:\s+(asc|desc))?$/i.exec(rest);
        if (m === null) throw new KqlError(`cannot parse '${stage}'`);
        const col = m[2]!;
        const dir = (m[3] ?? "desc").toLowerCase() === "asc" ? 1 : -1;
        data = [...data].sort((a, b) => dir * cmp(a[col] ?? null, b[col] ?? null)).slice(0, Number(m[1]));
        break;
      }
      default:
        throw new KqlError(`the operator '${verb}' is not supported by the simulator`);
    }
  }
  const names = data.length > 0 ? [...new Set([...columns, ...Object.keys(data[0]!)])] : columns;
  return {
    name: "PrimaryResult",
    columns: names.map((n) => ({ name: n, type: typeOf(n, data.find((r) => r[n] !== null)?.[n] ?? null) })),
    rows: data.map((r) => names.map((n) => r[n] ?? null)),
  };
}

function typeOf(name: string, v: Cell): LogTable["columns"][number]["type"] {
  if (
    name === "TimeGenerated" ||
    name.endsWith("_t") ||
    name.startsWith("min_TimeGenerated") ||
    name.startsWith("max_TimeGenerated")
  )
    return "datetime";
  if (typeof v === "number") return Number.isInteger(v) && !name.startsWith("avg_") ? "long" : "real";
  if (typeof v === "boolean") return "bool";
  return "string";
}

function splitPipes(q: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | null = null;
  for (const ch of q) {
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "|") {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out.filter((s) => s.trim() !== "");
}

function splitVerb(stage: string): [string, string] {
  const m = /^([a-z-]+)\s*(.*)$/is.exec(stage);
  if (m === null) throw new KqlError(`cannot parse '${stage}'`);
  return [m[1]!.toLowerCase(), m[2]!.trim()];
}

function literal(text: string, now: number): Cell {
  const t = text.trim();
  let m = /^'(.*)'$/s.exec(t) ?? /^"(.*)"$/s.exec(t);
  if (m !== null) return m[1]!;
  m = /^ago\((\d+(?:\.\d+)?)(d|h|m|s|ms)\)$/i.exec(t);
  if (m !== null) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[
      m[2]!.toLowerCase() as "d" | "h" | "m" | "s" | "ms"
    ];
    return new Date(now - Number(m[1]) * unit).toISOString();
  }
  m = /^datetime\((.+)\)$/i.exec(t);
  if (m !== null) return new Date(Date.parse(m[1]!.replace(/^["']|["']$/g, ""))).toISOString();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t === "true" || t === "false") return t === "true";
  throw new KqlError(`cannot read the value ${t}`);
}

function cmp(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const da = Date.parse(String(a));
  const db = Date.parse(String(b));
  if (!Number.isNaN(da) && !Number.isNaN(db) && /^\d{4}-/.test(String(a)) && /^\d{4}-/.test(String(b))) return da - db;
  return String(a) < String(b) ? -1 : 1;
}

function compileWhere(expr: string, now: number): (r: Row) => boolean {
  const clauses = expr.split(/\s+and\s+/i).map((c) => {
    const m = /^([A-Za-z0-9_]+)\s*(==|!=|>=|<=|=~|>|<|contains)\s*(.+)$/i.exec(c.trim());
    if (m === null) throw new KqlError(`cannot parse the condition '${c.trim()}'`);
    const col = m[1]!;
    const op = m[2]!.toLowerCase();
    const value = literal(m[3]!, now);
    return (r: Row): boolean => {
      const v = r[col] ?? null;
      switch (op) {
        case "==":
          return cmp(v, value) === 0;
        case "!=":
          return cmp(v, value) !== 0;
        case ">":
          return cmp(v, value) > 0;
        case "<":
          return cmp(v, value) < 0;
        case ">=":
          return cmp(v, value) >= 0;
        case "<=":
          return cmp(v, value) <= 0;
        case "=~":
          return String(v).toLowerCase() === String(value).toLowerCase();
        default:
          return String(v).toLowerCase().includes(String(value).toLowerCase());
      }
    };
  });
  return (r) => clauses.every((c) => c(r));
}

function summarize(rest: string, data: Row[]): { rows: Row[]; columns: string[] } {
  const m = /^(.*?)(?:\s+by\s+(.+))?$/is.exec(rest);
  const aggText = m?.[1]?.trim() ?? "";
  const by = (m?.[2] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const aggs = aggText.split(",").map((a) => {
    const am = /^(?:([A-Za-z0-9_]+)\s*=\s*)?(count|avg|min|max|sum|dcount)\(([A-Za-z0-9_]*)\)$/i.exec(a.trim());
    if (am === null) throw new KqlError(`unsupported aggregation '${a.trim()}'`);
    const fn = am[2]!.toLowerCase();
    const col = am[3] ?? "";
    return { name: am[1] ?? (fn === "count" ? "count_" : `${fn}_${col}`), fn, col };
  });
  const groups = new Map<string, Row[]>();
  for (const r of data) {
    const key = JSON.stringify(by.map((b) => r[b] ?? null));
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  const rowsOut = [...groups.values()].map((g) => {
    const out: Row = {};
    for (const b of by) out[b] = g[0]?.[b] ?? null;
    for (const a of aggs) {
      const values = g.map((r) => r[a.col] ?? null).filter((v) => v !== null);
      const nums = values.map(Number).filter((v) => !Number.isNaN(v));
      switch (a.fn) {
        case "count":
          out[a.name] = g.length;
          break;
        case "dcount":
          out[a.name] = new Set(values.map(String)).size;
          break;
        case "avg":
          out[a.name] = nums.length === 0 ? null : nums.reduce((x, y) => x + y, 0) / nums.length;
          break;
        case "sum":
          out[a.name] = nums.reduce((x, y) => x + y, 0);
          break;
        case "min":
          out[a.name] = values.length === 0 ? null : ([...values].sort(cmp)[0] ?? null);
          break;
        default:
          out[a.name] = values.length === 0 ? null : ([...values].sort(cmp)[values.length - 1] ?? null);
      }
    }
    return out;
  });
  return { rows: rowsOut, columns: [...by, ...aggs.map((a) => a.name)] };
}
