/**
 * Site-local calendar days as UTC millisecond bounds, with the runtime's IANA timezone data
 * (Intl): the Worker's twin of src/analytics_941/periods.py, so the cron cuts days exactly where
 * the dashboard does (23- and 25-hour DST days included).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

function wallClock(ms: number, tz: string): { y: number; m: number; d: number; h: number; min: number; s: number } {
  const parts: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return { y: parts.year ?? 0, m: parts.month ?? 0, d: parts.day ?? 0, h: parts.hour ?? 0, min: parts.minute ?? 0, s: parts.second ?? 0 };
}

/** The offset of `tz` from UTC at the instant `ms`, in ms (local = UTC + offset). */
export function offsetMs(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(ms / 1000) * 1000;
}

/** The local date ("YYYY-MM-DD") in `tz` of the instant `ms`. */
export function localDay(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  return `${String(w.y).padStart(4, "0")}-${String(w.m).padStart(2, "0")}-${String(w.d).padStart(2, "0")}`;
}

/**
 * UTC ms of local midnight starting `day` in `tz`, as Python's zoneinfo reads it (fold=0): where
 * midnight happens twice, the first; where a DST jump skips it, the offset from before the jump
 * applies, so the day starts at the jump (America/Santiago's spring day has 23 hours, not 24
 * borrowed from the day before).
 */
export function localMidnightMs(day: string, tz: string): number {
  const [y = 0, m = 1, d = 1] = day.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d);
  // Offsets in force a day either side: no zone changes its offset twice within two days.
  const before = offsetMs(wall - 86_400_000, tz);
  const after = offsetMs(wall + 86_400_000, tz);
  const valid = [wall - before, wall - after].filter((t, i) => offsetMs(t, tz) === (i === 0 ? before : after));
  return valid.length > 0 ? Math.min(...valid) : wall - before;
}

/** The day after `day`. */
export function nextDay(day: string): string {
  const [y = 0, m = 1, d = 1] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** [start, end) of the local `day` in `tz`, as UTC ms. */
export function dayBounds(day: string, tz: string): [number, number] {
  return [localMidnightMs(day, tz), localMidnightMs(nextDay(day), tz)];
}
