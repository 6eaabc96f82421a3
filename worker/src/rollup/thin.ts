/**
 * Thinning old months' rows per filter value, the twin of `thin_months` in
 * src/analytics_941/rollups/thin.py, running the same generated SQL: a month whose days were all
 * pruned, of a site without a retention, loses the rows of its rare pages (readers then read
 * those pages raw, by index). Each statement removes whole values, so every state is exact.
 */
import { MAX_THIN_STATEMENTS, THIN_LISTING, THIN_REMOVE, THIN_TODO } from "./statements";

/** A month whose rare pages' rows went. */
export interface ThinnedMonth {
  siteId: string;
  month: string;
}

/** Thins the months THIN_TODO names (a bounded number) and returns them. */
export async function thinMonths(db: D1Database): Promise<ThinnedMonth[]> {
  const { results } = await db.prepare(THIN_TODO).all<{ site_id: string; month: string }>();
  for (const row of results) {
    await db.prepare(THIN_LISTING).bind(row.site_id, row.month).run();
    for (let i = 0; i < MAX_THIN_STATEMENTS; i++) {
      const { meta } = await db.prepare(THIN_REMOVE).bind(row.site_id, row.month).run();
      if (!meta.changes) break;
    }
  }
  return results.map((row) => ({ siteId: row.site_id, month: row.month }));
}
