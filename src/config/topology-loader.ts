/**
 * Loads a topology YAML file: YAML syntax (with line and column), the zod schema, then the cross-checks, reporting
 * every problem at once. Problems in the schema or cross-checks also carry the line of the offending value when the
 * YAML source is known.
 */
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import {
  crossCheckTopology,
  problemsFromZod,
  topologySchema,
  type Topology,
  type TopologyProblem,
} from "../domain/topology";

export interface LocatedProblem extends TopologyProblem {
  readonly line?: number;
  readonly column?: number;
}

export type TopologyLoadResult =
  | { readonly ok: true; readonly topology: Topology; readonly source: string }
  | { readonly ok: false; readonly problems: ReadonlyArray<LocatedProblem>; readonly source: string };

export function formatProblem(problem: LocatedProblem): string {
  const where =
    problem.line === undefined
      ? ""
      : ` (line ${problem.line}${problem.column === undefined ? "" : `, column ${problem.column}`})`;
  return `${problem.path}: ${problem.message}${where}`;
}

/** Parses topology YAML text. `source` names the text in messages (a file path, or "inline"). */
export function parseTopology(text: string, source = "inline"): TopologyLoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      source,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          path: "(yaml)",
          message: (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ""),
          ...(pos === undefined ? {} : { line: pos.line, column: pos.col }),
        };
      }),
    };
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = topologySchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, source, problems: locate(problemsFromZod(parsed.error.issues, raw), doc, lineCounter) };
  }
  const cross = crossCheckTopology(parsed.data);
  if (cross.length > 0) return { ok: false, source, problems: locate(cross, doc, lineCounter) };
  return { ok: true, topology: parsed.data, source };
}

export async function loadTopologyFile(path: string): Promise<TopologyLoadResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      source: path,
      problems: [
        {
          path: "(file)",
          message: code === "ENOENT" ? `no such file: ${path}` : `cannot read ${path}: ${String(error)}`,
        },
      ],
    };
  }
  return parseTopology(text, path);
}

function locate(problems: ReadonlyArray<TopologyProblem>, doc: Document, lineCounter: LineCounter): LocatedProblem[] {
  return problems.map((problem) => {
    const keys = parsePath(problem.path);
    // Walk down as far as the document goes: a missing field is reported at its parent.
    for (let n = keys.length; n >= 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true);
      if (isNode(node) && node.range !== undefined && node.range !== null) {
        const pos = lineCounter.linePos(node.range[0]);
        return { ...problem, line: pos.line, column: pos.col };
      }
    }
    return problem;
  });
}

function parsePath(path: string): Array<string | number> {
  if (path === "(root)") return [];
  const keys: Array<string | number> = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) keys.push(Number(match[2]));
    else if (match[1] !== undefined) keys.push(match[1]);
  }
  return keys;
}
