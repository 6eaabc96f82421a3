/**
 * The journey rollups, the twin of `refresh_journey_rollups` in
 * src/analytics_941/rollups/journeys.py, running the same SQL (journey-statements.json, written
 * from that module; tests/test_journey_rollup.py fails while it is stale): the rolled-up
 * site-days whose journey rows are missing or were made for an older computation of the day,
 * newest first, at most 62 a run; each day one batch (one transaction) on the database holding
 * the site's events. Runs after the days, so a day rolled up this run is taken.
 */
import statements from "./journey-statements.json";

/** A site-day whose journey rows were redone. */
export interface JourneyDay {
  siteId: string;
  day: string;
}

/** How many of ?1 (site), ?2 (day), ?3 (timezone) a statement binds: D1 refuses extra ones. */
function highest(sql: string): number {
  return [3, 2, 1].find((n) => sql.includes(`?${n}`)) ?? 0;
}

/** Redoes the journey rows of the days the todo statement names, and returns them. */
export async function refreshJourneyRollups(db: D1Database): Promise<JourneyDay[]> {
  if (((await db.prepare(statements.ready).first<number>("n")) ?? 0) < 1) return [];
  const { results } = await db.prepare(statements.todo).all<{ site_id: string; day: string; tz: string }>();
  const done: JourneyDay[] = [];
  for (const row of results) {
    const values = [row.site_id, row.day, row.tz];
    await db.batch(statements.day.map((sql) => db.prepare(sql).bind(...values.slice(0, highest(sql)))));
    done.push({ siteId: row.site_id, day: row.day });
  }
  return done;
}
