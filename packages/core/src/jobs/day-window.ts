/**
 * UTC days for the daily jobs (SPEC.md §6): which day a run covers and the instants that
 * bound it. A daily job's run key is the day it covers, so a second run of that day does
 * nothing.
 *
 * @example
 * const day = previousUtcDay(new Date("2025-03-10T00:10:00Z")); // "2025-03-09"
 * dayWindow(day); // { day, from: 2025-03-09T00:00:00.000Z, to: 2025-03-10T00:00:00.000Z }
 */
import { utcDayKey } from "../sync/limits.js";

const DAY_MS = 86_400_000;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface DayWindow {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** Inclusive start (00:00 UTC). */
  from: Date;
  /** Exclusive end (next day's 00:00 UTC). */
  to: Date;
}

/** Whether `value` is a real calendar day written `YYYY-MM-DD`. */
export function isUtcDay(value: string): boolean {
  const match = DAY_PATTERN.exec(value);
  if (!match) return false;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return utcDayKey(ms) === value;
}

export function dayWindow(day: string): DayWindow {
  if (!isUtcDay(day)) throw new RangeError(`not a UTC day (YYYY-MM-DD): ${day}`);
  const from = new Date(`${day}T00:00:00.000Z`);
  return { day, from, to: new Date(from.getTime() + DAY_MS) };
}

/** The UTC day before the one `now` falls in: what a job scheduled after midnight reports on. */
export function previousUtcDay(now: Date): string {
  return utcDayKey(now.getTime() - DAY_MS);
}

/**
 * A scheduled job's clock: the event's `time` (when EventBridge meant it to run, so a retried
 * or late invocation still covers the same period, and tests can inject a clock), else `fallback`.
 */
export function jobClock(eventTime: string | undefined, fallback: Date): Date {
  const ms = eventTime === undefined ? Number.NaN : Date.parse(eventTime);
  return Number.isNaN(ms) ? fallback : new Date(ms);
}
