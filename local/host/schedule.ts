/**
 * Timer trigger schedules: six-field NCRONTAB (`{second} {minute} {hour} {day} {month} {day-of-week}`, UTC, day and
 * weekday combined with AND as NCrontab does) or a TimeSpan (`hh:mm:ss` / `d.hh:mm:ss`, an interval measured from
 * the previous run). `%SETTING%` placeholders resolve from the app settings first, as in the Functions host.
 */
import { Cron } from "croner";
import { LocalHostError } from "./errors";
import { expandSettings } from "./host-json";

export interface TimerSchedule {
  readonly expression: string;
  /** The first occurrence strictly after `afterMs` (virtual epoch ms). */
  next(afterMs: number): number | undefined;
}

const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/;

export function parseSchedule(
  raw: string,
  env: Readonly<Record<string, string | undefined>>,
  functionName: string,
): TimerSchedule {
  const expression = expandSettings(raw, env, `the schedule of timer function "${functionName}"`).trim();
  const span = TIMESPAN.exec(expression);
  if (span !== null) {
    const ms = ((Number(span[1] ?? 0) * 24 + Number(span[2])) * 3600 + Number(span[3]) * 60 + Number(span[4])) * 1000;
    if (ms <= 0)
      throw new LocalHostError("INVALID_SCHEDULE", `timer "${functionName}": TimeSpan ${expression} is zero`);
    return { expression, next: (after) => after + ms };
  }
  const fields = expression.split(/\s+/);
  if (fields.length !== 6) {
    throw new LocalHostError(
      "INVALID_SCHEDULE",
      `timer "${functionName}": schedule ${JSON.stringify(expression)} has ${fields.length} fields; NCRONTAB needs six ` +
        "({second} {minute} {hour} {day} {month} {day-of-week}) or a TimeSpan such as 00:05:00",
    );
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: "Etc/UTC", mode: "6-part", domAndDow: true });
  } catch (error) {
    throw new LocalHostError(
      "INVALID_SCHEDULE",
      `timer "${functionName}": invalid NCRONTAB ${JSON.stringify(expression)}: ${(error as Error).message}`,
    );
  }
  return {
    expression,
    next(after) {
      const d = cron.nextRun(new Date(after));
      return d === null ? undefined : d.getTime();
    },
  };
}
