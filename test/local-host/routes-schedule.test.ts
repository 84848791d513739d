import { describe, expect, it } from "vitest";
import { compileRoute, sortRoutes } from "../../local/host/routes";
import { parseSchedule } from "../../local/host/schedule";
import { readHostJson } from "../../local/host/host-json";
import { DEFAULT_EPOCH } from "../../local/clock";

describe("route templates", () => {
  it("matches literals case-insensitively, parameters, optional and constrained parameters", () => {
    const r = compileRoute("scale/{pool}/{count:int?}", "x");
    expect(r.match("Scale/np1/3")).toEqual({ pool: "np1", count: "3" });
    expect(r.match("scale/np1")).toEqual({ pool: "np1" });
    expect(r.match("scale/np1/three")).toBeUndefined();
    expect(r.match("scale")).toBeUndefined();
    expect(compileRoute("files/{name}.{ext}", 0).match("files/report.pdf")).toEqual({ name: "report", ext: "pdf" });
    expect(compileRoute("blob/{*path}", 0).match("blob/a/b/c.txt")).toEqual({ path: "a/b/c.txt" });
    expect(compileRoute("items/{id:guid}", 0).match("items/not-a-guid")).toBeUndefined();
    expect(compileRoute("items/{id:regex(^a\\d+$)}", 0).match("items/a12")).toEqual({ id: "a12" });
    expect(compileRoute("enc/{v}", 0).match("enc/a%20b")).toEqual({ v: "a b" });
  });

  it("orders literal segments before parameters and catch-alls", () => {
    const sorted = sortRoutes([
      compileRoute("{*all}", "c"),
      compileRoute("items/{id}", "p"),
      compileRoute("items/new", "l"),
    ]);
    expect(sorted.map((r) => r.value)).toEqual(["l", "p", "c"]);
  });
});

describe("timer schedules", () => {
  it("computes the next NCRONTAB occurrence in UTC, seconds first", () => {
    const every30s = parseSchedule("*/30 * * * * *", {}, "t");
    expect(every30s.next(DEFAULT_EPOCH)).toBe(DEFAULT_EPOCH + 30_000);
    const weekdays9 = parseSchedule("0 0 9 * * Mon-Fri", {}, "t");
    // 2030-01-05 is a Saturday: from Friday 10:00 the next run is Monday 09:00.
    expect(new Date(weekdays9.next(Date.UTC(2030, 0, 4, 10))!).toISOString()).toBe("2030-01-07T09:00:00.000Z");
  });

  it("combines day-of-month and day-of-week with AND, as NCrontab does", () => {
    const s = parseSchedule("0 0 0 13 * Fri", {}, "t");
    expect(new Date(s.next(DEFAULT_EPOCH)!).toISOString()).toBe("2030-09-13T00:00:00.000Z");
  });

  it("accepts TimeSpan schedules and %SETTING% placeholders", () => {
    expect(parseSchedule("00:05:00", {}, "t").next(DEFAULT_EPOCH)).toBe(DEFAULT_EPOCH + 300_000);
    expect(parseSchedule("%S%", { S: "1.00:00:00" }, "t").next(0)).toBe(86_400_000);
    expect(() => parseSchedule("%MISSING%", {}, "t")).toThrow(/%MISSING%/);
    expect(() => parseSchedule("* * * * *", {}, "t")).toThrow(/six/);
    expect(() => parseSchedule("99 * * * * *", {}, "t")).toThrow(/invalid NCRONTAB/);
  });
});

describe("host.json", () => {
  it("reads the repo's host.json: hub name from %CUTOVER_TASK_HUB%, overridable states, route prefix", () => {
    const s = readHostJson("host.json", { CUTOVER_TASK_HUB: "CutoverTest" });
    expect(s).toEqual({
      hubName: "CutoverTest",
      overridableExistingInstanceStates: "NonRunningStates",
      routePrefix: "api",
      maxConcurrentActivityFunctions: 20,
    });
    expect(() => readHostJson("host.json", {})).toThrow(/CUTOVER_TASK_HUB/);
  });
});
