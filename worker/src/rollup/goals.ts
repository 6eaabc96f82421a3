/**
 * The goal rollups, the twin of `refresh_goal_rollups` in src/analytics_941/rollups/goals.py,
 * running the same generated SQL: per site with goals (read from the home database, where goals
 * live), the rolled-up days whose goal rows are missing, made for other goals or older than the
 * day's rollups, newest first, at most MAX_GOAL_DAYS_PER_RUN; each day one short batch on the
 * database holding the site's events. Runs after the days, so a day rolled up this run is taken.
 */
import { GOAL_DAY_STATEMENTS, GOAL_READY_SQL, GOAL_TODO, GOALS_SQL, type GoalDayParam } from "./statements";

/** A goals row as GOALS_SQL reads it. */
interface GoalRecord {
  site_id: string;
  id: string;
  kind: string;
  target: string;
  prop_key: string;
  prop_value: string;
  currency: string | null;
}

/** A site-day whose goal rows were redone. */
export interface GoalDay {
  siteId: string;
  day: string;
}

/**
 * Each site's goals as the JSON parameter the statements and the dashboard's reader take
 * (`goals_param`): `[id, kind, target, prop_key, prop_value, currency]` rows in GOALS_SQL's
 * order (by id).
 */
export function goalsBySite(rows: readonly GoalRecord[]): Map<string, string> {
  const grouped = new Map<string, unknown[][]>();
  for (const r of rows) {
    const list = grouped.get(r.site_id) ?? [];
    list.push([r.id, r.kind, r.target, r.prop_key, r.prop_value, r.currency ?? null]);
    grouped.set(r.site_id, list);
  }
  return new Map([...grouped].map(([site, list]) => [site, JSON.stringify(list)]));
}

/** Redoes the goal rows of the days GOAL_TODO names, per site with goals, and returns them. */
export async function refreshGoalRollups(home: D1Database, db: D1Database): Promise<GoalDay[]> {
  if (((await db.prepare(GOAL_READY_SQL).first<number>("n")) ?? 0) < 2) return [];
  const { results } = await home.prepare(GOALS_SQL).all<GoalRecord>();
  if (results.length === 0) return [];
  // Only the sites placed in this database (a data database holds copies of theirs).
  const here = new Set((await db.prepare("SELECT id FROM sites").all<{ id: string }>()).results.map((r) => r.id));
  const done: GoalDay[] = [];
  for (const [siteId, goals] of goalsBySite(results)) {
    if (!here.has(siteId)) continue;
    const todo = await db.prepare(GOAL_TODO).bind(siteId, goals).all<{ day: string; tz: string }>();
    for (const row of todo.results) {
      const values: Record<GoalDayParam, string> = { site_id: siteId, day: row.day, tz: row.tz, goals };
      await db.batch(GOAL_DAY_STATEMENTS.map((s) => db.prepare(s.sql).bind(...s.params.map((p) => values[p]))));
      done.push({ siteId, day: row.day });
    }
  }
  return done;
}
