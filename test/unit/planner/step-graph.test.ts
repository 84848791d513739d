import { describe, expect, it } from "vitest";
import { checkStepGraph, criticalPathTo, topologicalOrder, type GraphStep } from "../../../src/domain/step-graph";

const step = (id: string, after: string[], expectedSeconds: number, countsForRto = true): GraphStep => ({
  id,
  after,
  expectedSeconds,
  countsForRto,
});

describe("step graph", () => {
  const graph = [
    step("detect", [], 10),
    step("approve", ["detect"], 0),
    step("scale:a", ["approve"], 400),
    step("scale:b", ["approve"], 450),
    step("warm", ["scale:a", "scale:b"], 100),
    step("gate", ["approve"], 1),
    step("propagate", ["gate"], 900, false),
    step("verify", ["warm", "gate", "propagate"], 30),
  ];

  it("finds the longest counted path to the end step and ignores steps that do not count", () => {
    expect(criticalPathTo(graph, "verify")).toEqual({
      seconds: 10 + 0 + 450 + 100 + 30,
      path: ["detect", "approve", "scale:b", "warm", "verify"],
    });
  });

  it("counts a step once it counts, even if it is long", () => {
    const counted = graph.map((s) => (s.id === "propagate" ? { ...s, countsForRto: true } : s));
    expect(criticalPathTo(counted, "verify").path).toEqual(["detect", "approve", "gate", "propagate", "verify"]);
  });

  it("breaks ties by the dependency listed first", () => {
    const tie = graph.map((s) => (s.id === "scale:b" ? { ...s, expectedSeconds: 400 } : s));
    expect(criticalPathTo(tie, "verify").path).toEqual(["detect", "approve", "scale:a", "warm", "verify"]);
  });

  it("orders steps after their dependencies", () => {
    const order = topologicalOrder([...graph].reverse()) ?? [];
    for (const s of graph) for (const d of s.after) expect(order.indexOf(d)).toBeLessThan(order.indexOf(s.id));
  });

  it("reports every structural problem", () => {
    expect(checkStepGraph([step("a", [], 1), step("a", ["b"], -1), step("c", ["c"], Number.NaN)])).toEqual([
      "duplicate step id a",
      "step a: expectedSeconds must be a finite number >= 0, got -1",
      "step c: expectedSeconds must be a finite number >= 0, got NaN",
      "step a depends on unknown step b",
      "step c depends on itself",
    ]);
    expect(checkStepGraph([step("a", ["b"], 1), step("b", ["a"], 1)])).toEqual(["the step graph has a cycle"]);
    expect(checkStepGraph(graph)).toEqual([]);
  });

  it("refuses to measure a malformed graph or a missing end", () => {
    expect(() => criticalPathTo([step("a", ["b"], 1), step("b", ["a"], 1)], "a")).toThrow(/cycle/);
    expect(() => criticalPathTo(graph, "nope")).toThrow(/no counted step nope/);
    expect(() => criticalPathTo(graph, "propagate")).toThrow(/no counted step propagate/);
  });
});
