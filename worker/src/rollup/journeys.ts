/**
 * The journey rollups, the twin of `refresh_journey_rollups` in
 * src/analytics_941/rollups/journeys.py, running the same SQL (journey-statements.json, written
 * from that module; tests/test_journey_rollup.py fails while it is stale): the rolled-up
 * site-days whose journey rows are missing or were made for an older computation of the day,
 * newest first, at most 24 a run; each day seven calls on the database holding the site's
 * events. Runs after the days, so a day rolled up this run is taken.
 */
import { boundParams } from "./bind";
import statements from "./journey-statements.json";

/** A site-day whose journey rows were redone. */
export interface JourneyDay {
  siteId: string;
  day: string;
}

/** Redoes the journey rows of the days the todo statement names, and returns them. */
export async function refreshJourneyRollups(db: D1Database): Promise<JourneyDay[]> {
  if (((await db.prepare(statements.ready).first<number>("n")) ?? 0) < 1) return [];
  const { results } = await db.prepare(statements.todo).all<{ site_id: string; day: string; tz: string; computed_at: number }>();
  const done: JourneyDay[] = [];
  for (const row of results) {
    const values = [row.site_id, row.day, row.tz, row.computed_at, ...statements.valueMinViews];
    // A call each, not one batch: D1 answers nothing else while a batch runs. The listing goes
    // first and comes back last, so a reader reads the day raw in between.
    for (const sql of statements.day) await db.prepare(sql).bind(...values.slice(0, boundParams(sql))).run();
    done.push({ siteId: row.site_id, day: row.day });
  }
  return done;
}
