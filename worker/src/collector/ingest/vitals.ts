/**
 * The web vitals report (script.web-vitals.js, or any client): the event `web-vitals` whose
 * props hold the page view's Core Web Vitals so far, under our tracker's short keys
 * (`t f l c i`) or their names (`ttfb fcp lcp cls inp`). Times are milliseconds, CLS is
 * unitless; `a` (or `age`), optional, is the view's age in ms when the report was sent, which
 * tells the Durable Object which view of the page it belongs to. Each value must be a finite
 * non-negative number; a value past its cap is clamped
 * (no real page takes longer, and a hostile sender cannot store anything larger). A report with
 * no value, or a value that is not such a number, is malformed: a 400 naming the field.
 */
import type { Vitals } from "../../contract";
import { type Drop, drop } from "./drop";

/** The event name of a web vitals report. */
export const WEB_VITALS = "web-vitals";
/** Longest time kept, in ms: an hour (LCP, INP, FCP, TTFB of a real page are seconds at most). */
export const MAX_VITAL_MS = 3_600_000;
/** Largest CLS kept: layout shift scores are fractions of the viewport, windows rarely exceed 5. */
export const MAX_CLS = 100;

// [short key, name, column, cap, scale]: CLS is stored in ten-thousandths, a 2-byte integer
// instead of an 8-byte real; times in whole milliseconds.
const FIELDS = [
  ["l", "lcp", "lcp_ms", MAX_VITAL_MS, 1],
  ["i", "inp", "inp_ms", MAX_VITAL_MS, 1],
  ["c", "cls", "cls_e4", MAX_CLS, 10_000],
  ["f", "fcp", "fcp_ms", MAX_VITAL_MS, 1],
  ["t", "ttfb", "ttfb_ms", MAX_VITAL_MS, 1],
] as const;

/** A report's values and the view's age (ms, null when not told). */
export interface VitalsReport {
  vitals: Vitals;
  ageMs: number | null;
}

/** The values of a report's props (raw JSON, before props are turned into strings). */
export function parseVitals(value: unknown): VitalsReport | Drop {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return drop("invalid", "a web-vitals event needs props with at least one of lcp, inp, cls, fcp, ttfb");
  }
  const props = value as Record<string, unknown>;
  const vitals: Vitals = { lcp_ms: null, inp_ms: null, cls_e4: null, fcp_ms: null, ttfb_ms: null };
  let found = 0;
  for (const [short, name, column, cap, scale] of FIELDS) {
    const raw = Object.hasOwn(props, short) ? props[short] : Object.hasOwn(props, name) ? props[name] : undefined;
    if (raw === undefined || raw === null) continue;
    if (typeof raw !== "number" || !Number.isFinite(raw) || raw < 0) {
      return drop("invalid", `props.${name} must be a non-negative number`);
    }
    vitals[column] = Math.round(Math.min(raw, cap) * scale);
    found++;
  }
  if (found === 0) return drop("invalid", "a web-vitals event needs at least one of lcp, inp, cls, fcp, ttfb");
  const age = Object.hasOwn(props, "a") ? props.a : props.age;
  if (age !== undefined && age !== null && (typeof age !== "number" || !Number.isFinite(age) || age < 0)) {
    return drop("invalid", "props.age must be a non-negative number");
  }
  return { vitals, ageMs: typeof age === "number" ? Math.round(age) : null };
}
