/**
 * What each alert rule measures and when it fires (docs/alerts.md). Every rule reads the site's
 * raw events in its data database with one bounded statement (a range of the events' primary
 * key, site and time): the rollups are daily, and an alert is about the last hours.
 *
 * - spike / drop: pageviews in the last `window_hours` against the *median* of the same hours
 *   one to four weeks before (168 h apart, so the weekday and hour match; weeks before the site
 *   was created are left out). A spike fires when the count is at least `min_volume` and
 *   `threshold` percent above the median; a drop when the median is at least `min_volume` and
 *   the count is `threshold` percent below it. The minimum keeps a quiet site quiet at 3 a.m.
 * - no_events: no event at all for `window_hours`, when there was one in the week before.
 * - goal_above / goal_below: the goal's conversions in the last `window_hours` above / below
 *   `threshold`.
 * - error_rate: `JS error` events per 100 pageviews in the last `window_hours` above
 *   `threshold`, once there were at least `min_volume` pageviews.
 */
import { CONVERSIONS_SQL, GOAL_COLUMNS, type GoalRecord, goalRow } from "../reports/data";

export const RULE_KINDS = ["spike", "drop", "no_events", "goal_above", "goal_below", "error_rate"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const HOUR_MS = 3_600_000;
export const WEEK_MS = 7 * 24 * HOUR_MS;
/** Weeks whose same hours make the spike / drop baseline. */
export const BASELINE_WEEKS = 4;
/** How far back no_events looks for a last event (a site silent for longer is dormant). */
export const NO_EVENTS_LOOKBACK_MS = WEEK_MS;

export interface Rule {
  id: string;
  site_id: string;
  kind: RuleKind;
  goal: string;
  threshold: number;
  window_hours: number;
  min_volume: number;
  cooldown_minutes: number;
  last_fired_at: number;
}

/** The site a rule belongs to, as the rule's statement needs it. */
export interface RuleSite {
  id: string;
  domain: string;
  created_at: number;
}

/** What a rule measured: whether it fires, why (the numbers) and the window measured. */
export interface Finding {
  fires: boolean;
  reason: string;
  values: Record<string, number | number[] | null>;
  from: number;
  to: number;
}

// Week 0 is the window itself; one primary-key range per week, in one statement.
const WEEKS_SQL = Array.from({ length: BASELINE_WEEKS + 1 }, (_, k) => `SELECT ${k} AS week, (SELECT COUNT(*) FROM events WHERE site_id = ? AND name = 'pageview' AND ts >= ? AND ts < ?) AS n`).join(" UNION ALL ");
const LAST_EVENT_SQL = "SELECT ts FROM events WHERE site_id = ? AND ts >= ? ORDER BY ts DESC LIMIT 1";
const ERRORS_SQL = "SELECT COALESCE(SUM(name = 'pageview'), 0) AS pageviews, COALESCE(SUM(name = 'JS error'), 0) AS errors FROM events WHERE site_id = ? AND ts >= ? AND ts < ?";
const GOAL_SQL = `SELECT ${GOAL_COLUMNS} FROM goals WHERE site_id = ? AND name = ?`;

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The spike / drop statistic over counted pageviews (pure: tested on its own). */
export function trafficFinding(rule: Pick<Rule, "kind" | "threshold" | "min_volume" | "window_hours">, current: number, weeks: number[], from: number, to: number): Finding {
  const baseline = median(weeks);
  const values = { pageviews: current, baseline, weeks };
  const span = `the last ${rule.window_hours} h`;
  if (weeks.length === 0) return { fires: false, reason: "no earlier weeks to compare with yet", values, from, to };
  const change = baseline > 0 ? round(((current - baseline) / baseline) * 100) : null;
  const said = `${current} pageviews in ${span} against a median of ${baseline} in the same hours of the ${weeks.length} week(s) before`
    + (change === null ? "" : ` (${change > 0 ? "+" : ""}${change} %)`);
  if (rule.kind === "spike") {
    const fires = current >= rule.min_volume && current >= baseline * (1 + rule.threshold / 100) && current > baseline;
    return { fires, reason: `${said}; a spike is ${rule.threshold} % above, with at least ${rule.min_volume} pageviews`, values, from, to };
  }
  const fires = baseline >= rule.min_volume && baseline > 0 && current <= baseline * (1 - rule.threshold / 100);
  return { fires, reason: `${said}; a drop is ${rule.threshold} % below a median of at least ${rule.min_volume}`, values, from, to };
}

/** Measures `rule` at `nowMs` on the site's data database `data` (goals are read from `home`). */
export async function measure(rule: Rule, site: RuleSite, home: D1Database, data: D1Database, nowMs: number): Promise<Finding | null> {
  const to = Math.floor(nowMs / 60_000) * 60_000;
  const from = to - rule.window_hours * HOUR_MS;
  if (rule.kind === "spike" || rule.kind === "drop") {
    const args: unknown[] = [];
    for (let k = 0; k <= BASELINE_WEEKS; k++) args.push(site.id, from - k * WEEK_MS, to - k * WEEK_MS);
    const rows = (await data.prepare(WEEKS_SQL).bind(...args).all<{ week: number; n: number }>()).results;
    const counts = new Map(rows.map((r) => [Number(r.week), Number(r.n)]));
    // Weeks that started before the site existed would count as silence and fake a spike.
    const weeks = Array.from({ length: BASELINE_WEEKS }, (_, i) => i + 1)
      .filter((k) => from - k * WEEK_MS >= site.created_at).map((k) => counts.get(k) ?? 0);
    return trafficFinding(rule, counts.get(0) ?? 0, weeks, from, to);
  }
  if (rule.kind === "no_events") {
    const row = await data.prepare(LAST_EVENT_SQL).bind(site.id, from - NO_EVENTS_LOOKBACK_MS).first<{ ts: number }>();
    const last = row ? Number(row.ts) : null;
    const fires = last !== null && last < from;
    const reason = last === null ? "no event in the last week either: the site is dormant, not alerted"
      : fires ? `no event for ${round((to - last) / HOUR_MS)} h (the last at ${new Date(last).toISOString()}); the rule waits ${rule.window_hours} h`
        : `the last event came ${round((to - last) / 60_000)} min ago`;
    return { fires, reason, values: { last_event_at: last, hours_without: last === null ? null : round((to - last) / HOUR_MS) }, from, to };
  }
  if (rule.kind === "error_rate") {
    const row = await data.prepare(ERRORS_SQL).bind(site.id, from, to).first<{ pageviews: number; errors: number }>();
    const pageviews = Number(row?.pageviews ?? 0);
    const errors = Number(row?.errors ?? 0);
    const rate = pageviews > 0 ? round((errors * 100) / pageviews) : 0;
    const fires = pageviews >= rule.min_volume && pageviews > 0 && rate > rule.threshold;
    return {
      fires, values: { errors, pageviews, rate }, from, to,
      reason: `${errors} JS errors per ${pageviews} pageviews in the last ${rule.window_hours} h: ${rate} per 100 against a threshold of ${rule.threshold}, with at least ${rule.min_volume} pageviews`,
    };
  }
  const goal = await home.prepare(GOAL_SQL).bind(site.id, rule.goal).first<GoalRecord>();
  if (!goal) return null; // the goal was deleted or renamed: the rule waits for it
  const row = await data.prepare(CONVERSIONS_SQL).bind(site.id, from, to, JSON.stringify([goalRow(goal)])).first<{ conversions: number }>();
  const conversions = Number(row?.conversions ?? 0);
  const above = rule.kind === "goal_above";
  const fires = above ? conversions > rule.threshold : conversions < rule.threshold;
  return {
    fires, values: { conversions, threshold: rule.threshold }, from, to,
    reason: `${conversions} conversions of “${rule.goal}” in the last ${rule.window_hours} h, ${above ? "above" : "below"} means ${above ? "more" : "fewer"} than ${rule.threshold}`,
  };
}
