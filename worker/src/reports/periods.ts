/**
 * The periods a report covers, in the site's timezone: a weekly report the last closed ISO week
 * (Monday to Sunday), a monthly one the last closed calendar month, each against the period
 * before it. Bounds come from rollup/days.ts, so they are the dashboard's own days.
 */
import { dayBounds, localDay } from "../rollup/days";

export type ReportKind = "weekly" | "monthly";
export const REPORT_KINDS: readonly ReportKind[] = ["weekly", "monthly"];

/** First and last local day of a span, and its UTC ms bounds [startMs, endMs). */
export interface Span {
  first: string;
  last: string;
  startMs: number;
  endMs: number;
}

export interface Period {
  kind: ReportKind;
  current: Span;
  previous: Span;
}

function shift(day: string, days: number): string {
  const [y = 0, m = 1, d = 1] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function monthStart(day: string, months: number): string {
  const [y = 0, m = 1] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1 + months, 1)).toISOString().slice(0, 10);
}

function span(first: string, last: string, tz: string): Span {
  return { first, last, startMs: dayBounds(first, tz)[0], endMs: dayBounds(last, tz)[1] };
}

/** The last period of `kind` that closed before `nowMs` in `tz`, and the one before it. */
export function lastClosedPeriod(kind: ReportKind, nowMs: number, tz: string): Period {
  const today = localDay(nowMs, tz);
  if (kind === "weekly") {
    const [y = 0, m = 1, d = 1] = today.split("-").map(Number);
    const monday = shift(today, -((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7));
    return {
      kind,
      current: span(shift(monday, -7), shift(monday, -1), tz),
      previous: span(shift(monday, -14), shift(monday, -8), tz),
    };
  }
  const first = monthStart(today, 0);
  return {
    kind,
    current: span(monthStart(today, -1), shift(first, -1), tz),
    previous: span(monthStart(today, -2), shift(monthStart(today, -1), -1), tz),
  };
}

/** "30 Nov – 6 Dec 2026" or "November 2026". */
export function periodLabel(period: Period): string {
  const [y = 0, m = 1, d = 1] = period.current.first.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 1, d));
  if (period.kind === "monthly") return first.toLocaleDateString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });
  const [ly = 0, lm = 1, ld = 1] = period.current.last.split("-").map(Number);
  const last = new Date(Date.UTC(ly, lm - 1, ld));
  const short = (date: Date) => date.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  return `${short(first)} – ${short(last)} ${ly}`;
}
