/**
 * Route templates as the Functions host reads them (ASP.NET Core routing): literal segments matched
 * case-insensitively, `{name}`, optional `{name?}`, constrained `{id:int}`, catch-all `{*rest}`, and segments that
 * mix literals and parameters (`{name}.{ext}`). More specific templates win, as in ASP.NET.
 */

export interface CompiledRoute<T> {
  readonly template: string;
  readonly value: T;
  match(path: string): Record<string, string> | undefined;
  /** Lower sorts first: literal segments before parameters, before optional ones, before catch-alls. */
  readonly precedence: ReadonlyArray<number>;
}

interface ParamSpec {
  readonly name: string;
  readonly optional: boolean;
  readonly catchAll: boolean;
  readonly constraints: ReadonlyArray<string>;
}

const PARAM_RE = /\{([^{}]+)\}/g;

function parseParam(body: string): ParamSpec {
  let text = body.trim();
  const catchAll = text.startsWith("*");
  if (catchAll) text = text.replace(/^\*+/, "");
  let optional = false;
  if (text.endsWith("?")) {
    optional = true;
    text = text.slice(0, -1);
  }
  // Default values (`{name=x}`) make a parameter optional.
  const eq = text.indexOf("=");
  if (eq >= 0) {
    optional = true;
    text = text.slice(0, eq);
  }
  const [name = "", ...constraints] = splitConstraints(text);
  if (name === "") throw new Error(`route parameter "{${body}}" has no name`);
  return { name, optional, catchAll, constraints };
}

/** Splits `id:int:min(1)` on colons that are not inside parentheses (regex constraints may contain colons). */
function splitConstraints(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === ":" && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function satisfies(value: string, constraint: string): boolean {
  const m = /^(\w+)(?:\((.*)\))?$/s.exec(constraint);
  if (m === null) return true;
  const kind = (m[1] ?? "").toLowerCase();
  const arg = m[2] ?? "";
  const num = Number(value);
  switch (kind) {
    case "int":
    case "long":
      return /^-?\d+$/.test(value);
    case "double":
    case "float":
    case "decimal":
      return value.trim() !== "" && Number.isFinite(num);
    case "bool":
      return /^(true|false)$/i.test(value);
    case "alpha":
      return /^[a-z]+$/i.test(value);
    case "guid":
      return /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(value);
    case "datetime":
      return !Number.isNaN(Date.parse(value));
    case "minlength":
      return value.length >= Number(arg);
    case "maxlength":
      return value.length <= Number(arg);
    case "length": {
      const [a, b] = arg.split(",").map(Number);
      return b === undefined ? value.length === a : value.length >= (a ?? 0) && value.length <= b;
    }
    case "min":
      return Number.isFinite(num) && num >= Number(arg);
    case "max":
      return Number.isFinite(num) && num <= Number(arg);
    case "range": {
      const [a, b] = arg.split(",").map(Number);
      return Number.isFinite(num) && num >= (a ?? -Infinity) && num <= (b ?? Infinity);
    }
    case "regex":
      return new RegExp(arg, "i").test(value);
    default:
      return true;
  }
}

export function compileRoute<T>(template: string, value: T): CompiledRoute<T> {
  const trimmed = template.replace(/^\/+|\/+$/g, "");
  const segments = trimmed === "" ? [] : trimmed.split("/");
  const params: ParamSpec[] = [];
  const precedence: number[] = [];
  let pattern = "^";
  segments.forEach((segment) => {
    const whole = /^\{([^{}]+)\}$/.exec(segment);
    if (whole !== null) {
      const spec = parseParam(whole[1] ?? "");
      params.push(spec);
      precedence.push(spec.catchAll ? 4 : spec.optional ? 3 : spec.constraints.length > 0 ? 1 : 2);
      const capture = spec.catchAll ? "(.*)" : "([^/]+)";
      pattern += spec.optional || spec.catchAll ? `(?:/${capture})?` : `/${capture}`;
      return;
    }
    let segPattern = "";
    let last = 0;
    let hasParam = false;
    for (const m of segment.matchAll(PARAM_RE)) {
      hasParam = true;
      segPattern += escapeRe(segment.slice(last, m.index));
      const spec = parseParam(m[1] ?? "");
      params.push(spec);
      segPattern += spec.optional ? "([^/]*?)" : "([^/]+?)";
      last = (m.index ?? 0) + m[0].length;
    }
    segPattern += escapeRe(segment.slice(last));
    precedence.push(hasParam ? 1 : 0);
    pattern += `/${segPattern}`;
  });
  pattern += "/?$";
  const re = new RegExp(pattern, "i");
  return {
    template,
    value,
    precedence,
    match(path: string): Record<string, string> | undefined {
      const normalized = path === "" ? "" : path.startsWith("/") ? path : `/${path}`;
      const m = re.exec(normalized);
      if (m === null) return undefined;
      const out: Record<string, string> = {};
      for (let i = 0; i < params.length; i++) {
        const spec = params[i]!;
        const raw = m[i + 1];
        if (raw === undefined || raw === "") {
          if (!spec.optional && !spec.catchAll) return undefined;
          continue;
        }
        let decoded: string;
        try {
          decoded = spec.catchAll ? raw : decodeURIComponent(raw);
        } catch {
          return undefined;
        }
        if (!spec.constraints.every((c) => satisfies(decoded, c))) return undefined;
        out[spec.name] = decoded;
      }
      return out;
    },
  };
}

/** Orders routes so that the first match is the most specific, as ASP.NET routing does. */
export function sortRoutes<T>(routes: Array<CompiledRoute<T>>): Array<CompiledRoute<T>> {
  return [...routes].sort((a, b) => {
    const n = Math.max(a.precedence.length, b.precedence.length);
    for (let i = 0; i < n; i++) {
      const x = a.precedence[i] ?? 5;
      const y = b.precedence[i] ?? 5;
      if (x !== y) return x - y;
    }
    return a.template.localeCompare(b.template);
  });
}
