/**
 * Every number a report shows, read with a few bounded statements (all its SQL is here):
 * totals, top pages, sources and countries from rollup_daily — the dashboard's own rollups, only
 * days rolled up for the site's current timezone (rollup_days), as its reader takes them — and
 * goal conversions from raw events (goals are never rolled up; the dashboard reads them raw too).
 * A period is ready once no slot in it (or in the period compared with) is dirty: every day with
 * rows is then rolled up, and a day without any rows has nothing to add.
 */
import type { Period, ReportKind } from "./periods";
import { GOAL_MATCH_SQL, goalRowsCte } from "../rollup/statements";

export interface Row {
  value: string;
  visitors: number;
  pageviews: number;
}

export interface GoalRow {
  name: string;
  visitors: number;
  conversions: number;
}

/** What a report shows; `goals` is null when the site has none. */
export interface ReportData {
  site: { id: string; domain: string; name: string; timezone: string };
  kind: ReportKind;
  period: Period;
  visitors: number;
  pageviews: number;
  previousVisitors: number;
  previousPageviews: number;
  pages: Row[];
  sources: Row[];
  countries: Row[];
  goals: GoalRow[] | null;
}

export interface SiteRow {
  id: string;
  domain: string;
  name: string;
  timezone: string;
  database: string;
}

export const TOP = { page: 5, source: 3, country: 5 } as const;
/** Goals a report lists at most (a site may have more; the mail stays short). */
export const MAX_GOALS = 10;

const SLOT_MS = 900_000;

const READY_SQL = "SELECT COUNT(*) AS n FROM rollup_dirty WHERE site_id = ?1 AND slot >= CAST(?2 AS INTEGER) AND slot < CAST(?3 AS INTEGER)";

const ROLLED = "FROM rollup_daily AS r JOIN rollup_days AS l ON l.site_id = r.site_id AND l.day = r.day AND l.tz = ?4 WHERE r.site_id = ?1";

const TOTALS_SQL = `SELECT CASE WHEN r.day >= ?2 THEN 1 ELSE 0 END AS cur, COALESCE(SUM(r.visitors), 0) AS visitors, COALESCE(SUM(r.pageviews), 0) AS pageviews ${ROLLED} AND r.dim = '' AND r.value = '' AND r.day >= ?5 AND r.day <= ?3 GROUP BY cur`;

const TOP_SQL = `SELECT dim, value, visitors, pageviews FROM (SELECT r.dim AS dim, r.value AS value, SUM(r.visitors) AS visitors, SUM(r.pageviews) AS pageviews, ROW_NUMBER() OVER (PARTITION BY r.dim ORDER BY SUM(r.visitors) DESC, SUM(r.pageviews) DESC, r.value) AS rank ${ROLLED} AND r.dim IN ('page', 'source', 'country') AND r.day >= ?2 AND r.day <= ?3 GROUP BY r.dim, r.value) WHERE (dim = 'page' AND rank <= ${TOP.page}) OR (dim = 'source' AND rank <= ${TOP.source}) OR (dim = 'country' AND rank <= ${TOP.country}) ORDER BY dim, rank`;

/** A goals row, as the statements that match goals read it (`SELECT ${GOAL_COLUMNS} FROM goals`). */
export interface GoalRecord {
  name: string;
  kind: string;
  target: string;
  prop_key: string;
  prop_value: string;
  currency: string | null;
}
export const GOAL_COLUMNS = "name, kind, target, prop_key, prop_value, currency";

const GOALS_SQL = `SELECT ${GOAL_COLUMNS} FROM goals WHERE site_id = ? ORDER BY name LIMIT ${MAX_GOALS}`;

// Conversions per goal: the reader's own match (GOAL_MATCH_SQL, generated from sql/goals.py).
export const CONVERSIONS_SQL = `WITH ${goalRowsCte("?4")} `
  + `SELECT g.gname AS name, COUNT(DISTINCT e.visitor_id) AS visitors, COUNT(*) AS conversions FROM events AS e JOIN goal_rows AS g ON ${GOAL_MATCH_SQL} `
  + "WHERE e.site_id = ?1 AND e.ts >= CAST(?2 AS INTEGER) AND e.ts < CAST(?3 AS INTEGER) GROUP BY g.gname";


/**
 * A goal as one JSON row of `goal_rows` (sql/goals.py `goal_row`; both keep the contract in
 * tests/fixtures/contracts/goal_rows.json): a page pattern as a GLOB matching literally apart
 * from `*` (`**` is `*` too, with any number of slashes), an event's prop as a JSON path.
 */
export function goalRow(goal: GoalRecord): unknown[] {
  if (goal.kind === "page") {
    const glob = goal.target.replace(/\*\*/g, "*").replace(/[[?]/g, (c) => `[${c}]`);
    const slashes = goal.target.includes("**") ? -1 : goal.target.split("/").length - 1;
    return ["page", glob, slashes, null, null, goal.name, null];
  }
  return ["event", goal.target, -1, goal.prop_key ? `$.${JSON.stringify(goal.prop_key)}` : null, goal.prop_value || null, goal.name, goal.currency || null];
}

/** True once the rollups answer for every day of the period and of the one compared with. */
export async function periodReady(data: D1Database, siteId: string, period: Period): Promise<boolean> {
  const row = await data.prepare(READY_SQL)
    .bind(siteId, Math.floor(period.previous.startMs / SLOT_MS), Math.ceil(period.current.endMs / SLOT_MS)).first<{ n: number }>();
  return Number(row?.n ?? 0) === 0;
}

/**
 * The report's numbers: one batch on the site's data database (totals, tops, conversions) after
 * one read of the goals in the home database. Two or three D1 calls in all.
 */
export async function readReport(home: D1Database, data: D1Database, site: SiteRow, period: Period): Promise<ReportData> {
  const { current, previous } = period;
  const goals = (await home.prepare(GOALS_SQL).bind(site.id).all<GoalRecord>()).results;
  const args = [site.id, current.first, current.last, site.timezone, previous.first];
  const statements = [data.prepare(TOTALS_SQL).bind(...args), data.prepare(TOP_SQL).bind(...args.slice(0, 4))];
  if (goals.length > 0) {
    statements.push(data.prepare(CONVERSIONS_SQL).bind(site.id, current.startMs, current.endMs, JSON.stringify(goals.map(goalRow))));
  }
  const [totals, tops, conversions] = await data.batch<Record<string, unknown>>(statements);
  const sums = new Map((totals?.results ?? []).map((r) => [Number(r.cur), r]));
  const list = (dim: string): Row[] => (tops?.results ?? []).filter((r) => r.dim === dim)
    .map((r) => ({ value: String(r.value ?? ""), visitors: Number(r.visitors ?? 0), pageviews: Number(r.pageviews ?? 0) }));
  const converted = new Map((conversions?.results ?? []).map((r) => [String(r.name), r]));
  return {
    site: { id: site.id, domain: site.domain, name: site.name, timezone: site.timezone },
    kind: period.kind,
    period,
    visitors: Number(sums.get(1)?.visitors ?? 0),
    pageviews: Number(sums.get(1)?.pageviews ?? 0),
    previousVisitors: Number(sums.get(0)?.visitors ?? 0),
    previousPageviews: Number(sums.get(0)?.pageviews ?? 0),
    pages: list("page"),
    sources: list("source"),
    countries: list("country"),
    goals: goals.length === 0 ? null : goals.map((g) => ({
      name: g.name, visitors: Number(converted.get(g.name)?.visitors ?? 0), conversions: Number(converted.get(g.name)?.conversions ?? 0),
    })),
  };
}
