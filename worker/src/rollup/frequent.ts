/**
 * The monthly rollups per frequent filter value, the twin of `refresh_frequent_months` in
 * src/analytics_941/rollups/frequent.py: once a month's rollups per filter value are complete,
 * compute the panels' other tabs under each page or country with enough visits that month, from
 * raw rows, one statement per call (each a scan of one month, kept apart to stay far inside D1's
 * per-query time limit). The last statement lists the month only if nothing changed meanwhile.
 */
import { dayBounds, nextDay } from "./days";
import { FREQUENT_MIN_VISITS, FREQUENT_RELIST, FREQUENT_STATEMENTS, FREQUENT_TODO, MAX_MONTHS_PER_RUN, type MonthParam, type MonthStatement } from "./statements";

/** A computed month. */
export interface FrequentMonth {
  siteId: string;
  month: string;
}

interface Todo {
  site_id: string;
  month: string;
  tz: string;
  frozen: number;
}

/** The units of `month` ("YYYY-MM") in `tz`: `[start_ms, end_ms, 0, day]` per local day. */
export function monthUnits(month: string, tz: string): [number, number, number, string][] {
  const units: [number, number, number, string][] = [];
  for (let day = `${month}-01`; day.startsWith(month); day = nextDay(day)) units.push([...dayBounds(day, tz), 0, day]);
  return units;
}

async function run(db: D1Database, statement: MonthStatement, values: Record<MonthParam, string | number>): Promise<void> {
  await db.prepare(statement.sql).bind(...statement.params.map((p) => values[p])).run();
}

/**
 * Computes up to `maxMonths` months (newest first) and lists again the months past retention
 * that have rows (their raw rows may be purged: never recomputed). Returns the computed months.
 */
export async function refreshFrequentMonths(db: D1Database, nowMs: number, maxMonths = MAX_MONTHS_PER_RUN, minVisits = FREQUENT_MIN_VISITS): Promise<FrequentMonth[]> {
  const { results } = await db.prepare(FREQUENT_TODO).bind(nowMs).all<Todo>();
  const done: FrequentMonth[] = [];
  for (const row of results) {
    let units: [number, number, number, string][];
    try {
      units = monthUnits(row.month, row.tz);
    } catch {
      continue; // An unknown timezone: nothing was rolled up for it either.
    }
    const values: Record<MonthParam, string | number> = {
      site_id: row.site_id,
      units: JSON.stringify(units),
      month: row.month,
      tz: row.tz,
      computed_at: nowMs,
      min_visits: minVisits,
    };
    if (row.frozen) {
      await run(db, FREQUENT_RELIST, values);
      continue;
    }
    if (done.length >= maxMonths) continue;
    for (const statement of FREQUENT_STATEMENTS) await run(db, statement, values);
    done.push({ siteId: row.site_id, month: row.month });
  }
  return done;
}
