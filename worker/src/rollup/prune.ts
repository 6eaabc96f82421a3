/**
 * Pruning old days' rows per filter value, the twin of `prune_days` in
 * src/analytics_941/rollups/prune.py, running the same generated SQL: days older than the ones
 * kept, whose month the monthly rows hold, of sites without a retention; each day one short batch.
 */
import { PRUNE_STATEMENTS, PRUNE_TODO } from "./statements";

/** A day whose rows per filter value went. */
export interface PrunedDay {
  siteId: string;
  day: string;
}

/** Prunes the days PRUNE_TODO names (a bounded number) and returns them. */
export async function pruneDays(db: D1Database, nowMs: number): Promise<PrunedDay[]> {
  const { results } = await db.prepare(PRUNE_TODO).bind(nowMs).all<{ site_id: string; day: string }>();
  for (const row of results) {
    const values = { site_id: row.site_id, day: row.day };
    await db.batch(PRUNE_STATEMENTS.map((s) => db.prepare(s.sql).bind(...s.params.map((p) => values[p]))));
  }
  return results.map((row) => ({ siteId: row.site_id, day: row.day }));
}
