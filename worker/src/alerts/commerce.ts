/**
 * The `conversion.completed` and `cart.abandoned` webhook events, found by the cron in D1 rather
 * than in the SiteDO's flush: the flush stays as it is (a webhook can never hold up or lose an
 * event), a cron run sees whole visits (an abandoned cart is a visit that *ended*, known only 30
 * minutes after its last event) and the goals as the dashboard defines them. The price is delay:
 * up to one cron interval (15 minutes) for a conversion, 30 minutes more for a cart.
 *
 * Per site whose endpoints listen for either event, a cursor in alert_settings: (ts, id) of the
 * last event scanned for conversions, (ended_at, id) of the last visit scanned for carts. A run
 * claims the site (`claimed_at`, so two runs never scan it at once), reads at most SCAN_LIMIT
 * rows past each cursor, emits them (webhooks/events.ts, one batch), then moves the cursors. A
 * run that dies between the emit and the move emits those again next time (at least once, as
 * every webhook); nothing is skipped. A first scan starts at that moment, and no scan goes back
 * more than BACKLOG_MS.
 * Payloads carry the goal, page, source and revenue, never a visitor or visit id.
 */
import type { Env } from "../env";
import { GOAL_COLUMNS, type GoalRecord, goalRow } from "../reports/data";
import { GOAL_MATCH_SQL, goalRowsCte } from "../rollup/statements";
import { BudgetSpent } from "../rollup/budget";
import { SESSION_TIMEOUT_MS } from "../site-do/session";
import { emitEvents, type EventType } from "../webhooks/events";

export const SCAN_LIMIT = 200;
/** Events newer than this are left for the next run (the outbox may still be flushing them). */
export const SETTLE_MS = 2 * 60_000;
export const STALE_CLAIM_MS = 30 * 60_000;
/** The oldest conversion or visit end a scan goes back to. */
export const BACKLOG_MS = 24 * 3_600_000;
/** Visits are found by their start (the sessions' index): one longer than this is not scanned. */
export const MAX_VISIT_MS = 24 * 3_600_000;
const SITES_PER_RUN = 20;

const SITES_SQL = "SELECT DISTINCT e.site_id AS site_id, s.domain AS domain, s.database AS database FROM webhook_endpoints AS e JOIN sites AS s ON s.id = e.site_id "
  + "WHERE EXISTS (SELECT 1 FROM json_each(e.events) WHERE value IN ('conversion.completed', 'cart.abandoned')) ORDER BY e.site_id LIMIT " + SITES_PER_RUN;
const START_SQL = "INSERT INTO alert_settings (site_id, conversion_ts, cart_ts) VALUES (?1, ?2, ?2) ON CONFLICT (site_id) DO NOTHING";
const CLAIM_SQL = "UPDATE alert_settings SET claimed_at = ?2 WHERE site_id = ?1 AND claimed_at <= ?2 - ?3 "
  + "RETURNING cart_goal, purchase_goal, conversion_ts, conversion_id, cart_ts, cart_id";
const MOVE_SQL = "UPDATE alert_settings SET conversion_ts = ?2, conversion_id = ?3, cart_ts = ?4, cart_id = ?5, claimed_at = 0 WHERE site_id = ?1 AND claimed_at = ?6";
const GOALS_SQL = `SELECT ${GOAL_COLUMNS} FROM goals WHERE site_id = ? ORDER BY name LIMIT 100`;

const GOAL_ROWS = `${goalRowsCte("?1")} `;
// Events past the cursor (ts, id) and before the settle line; one row per (event, goal reached).
const CONVERSIONS_SQL = `WITH ${GOAL_ROWS}SELECT e.ts AS ts, e.id AS id, g.gname AS goal, e.hostname AS hostname, e.pathname AS page, e.source AS source, e.revenue AS revenue, e.revenue_currency AS currency `
  + `FROM events AS e JOIN goal_rows AS g ON ${GOAL_MATCH_SQL} WHERE e.site_id = ?2 AND e.ts >= ?3 AND e.ts < ?4 AND (e.ts > ?3 OR e.id > ?5) ORDER BY e.ts, e.id, g.gname LIMIT ${SCAN_LIMIT}`;
// Visits that ended past the cursor (ended_at, id), with what their events reached of the two
// goals (?6 the add-to-cart goal, ?7 the purchase goal).
const CARTS_SQL = `WITH ${GOAL_ROWS}, ended AS MATERIALIZED (SELECT id, started_at, ended_at, exit_page, source FROM sessions WHERE site_id = ?2 AND started_at >= ?3 - ?8 AND started_at < ?4 AND ended_at >= ?3 AND ended_at < ?4 AND (ended_at > ?3 OR id > ?5) ORDER BY ended_at, id LIMIT ${SCAN_LIMIT}) `
  + "SELECT s.id AS id, s.ended_at AS ended_at, s.started_at AS started_at, s.exit_page AS exit_page, s.source AS source, "
  + "(SELECT json_object('carts', COUNT(*) FILTER (WHERE g.gname = ?6), 'purchases', COUNT(*) FILTER (WHERE g.gname = ?7), 'revenue', SUM(e.revenue) FILTER (WHERE g.gname = ?6), 'currency', MAX(e.revenue_currency) FILTER (WHERE g.gname = ?6), 'page', MAX(e.pathname) FILTER (WHERE g.gname = ?6)) "
  + `FROM events AS e JOIN goal_rows AS g ON ${GOAL_MATCH_SQL} WHERE e.site_id = ?2 AND e.ts >= s.started_at AND e.ts <= s.ended_at AND e.session_id = s.id) AS reached FROM ended AS s ORDER BY s.ended_at, s.id`;

interface Cursor {
  cart_goal: string;
  purchase_goal: string;
  conversion_ts: number;
  conversion_id: string;
  cart_ts: number;
  cart_id: string;
}

export interface CommerceRun {
  sites: number;
  conversions: number;
  carts: number;
}

/** Scans the sites whose webhooks listen for commerce events; `home`/`data` as in alerts/job.ts. */
export async function emitCommerceEvents(env: Env, home: D1Database, data: (binding: string) => D1Database, nowMs: number): Promise<CommerceRun> {
  const run: CommerceRun = { sites: 0, conversions: 0, carts: 0 };
  const sites = (await home.prepare(SITES_SQL).all<{ site_id: string; domain: string; database: string }>()).results;
  const failures: unknown[] = [];
  for (const site of sites) {
    try {
      await scanAndEmit(env, home, data, site, nowMs, run);
    } catch (error) {
      if (error instanceof BudgetSpent) throw error;
      console.error(`alerts: the commerce scan of site ${site.site_id} failed`, error);
      failures.push(error); // its claim goes stale and the next run scans it again
    }
  }
  if (failures.length > 0) throw failures[0];
  return run;
}

/** Claims one site, scans it, emits and moves its cursors. */
async function scanAndEmit(env: Env, home: D1Database, data: (binding: string) => D1Database, site: { site_id: string; domain: string; database: string }, nowMs: number, run: CommerceRun): Promise<void> {
  await home.prepare(START_SQL).bind(site.site_id, nowMs).run();
  const cursor = await home.prepare(CLAIM_SQL).bind(site.site_id, nowMs, STALE_CLAIM_MS).first<Cursor>();
  if (!cursor) return; // another run has it
  // A row the settings made before any endpoint listened, or a cron stopped for days: no
  // more than BACKLOG_MS of history is sent.
  if (cursor.conversion_ts < nowMs - BACKLOG_MS) [cursor.conversion_ts, cursor.conversion_id] = [nowMs - BACKLOG_MS, ""];
  if (cursor.cart_ts < nowMs - BACKLOG_MS) [cursor.cart_ts, cursor.cart_id] = [nowMs - BACKLOG_MS, ""];
  const found = await scanSite(home, data(site.database), site.site_id, site.domain, cursor, nowMs);
  if (found.events.length > 0) await emitEvents(env, home, site.site_id, found.events, nowMs);
  await home.prepare(MOVE_SQL).bind(site.site_id, found.conversion[0], found.conversion[1], found.cart[0], found.cart[1], nowMs).run();
  run.sites++;
  run.conversions += found.events.filter((e) => e.type === "conversion.completed").length;
  run.carts += found.events.filter((e) => e.type === "cart.abandoned").length;
}

interface Found {
  events: { type: EventType; data: Record<string, unknown> }[];
  conversion: [number, string];
  cart: [number, string];
}

/** The site's new conversions and abandoned carts, and where its cursors go next. */
export async function scanSite(home: D1Database, data: D1Database, siteId: string, domain: string, cursor: Cursor, nowMs: number): Promise<Found> {
  const goals = (await home.prepare(GOALS_SQL).bind(siteId).all<GoalRecord>()).results;
  const found: Found = { events: [], conversion: [cursor.conversion_ts, cursor.conversion_id], cart: [cursor.cart_ts, cursor.cart_id] };
  const settled = nowMs - SETTLE_MS;
  const ended = nowMs - SESSION_TIMEOUT_MS - SETTLE_MS;
  if (goals.length === 0) {
    found.conversion = [Math.max(cursor.conversion_ts, settled), ""];
    found.cart = [Math.max(cursor.cart_ts, ended), ""];
    return found;
  }
  const rows = JSON.stringify(goals.map(goalRow));
  const [conversions, carts] = await data.batch<Record<string, unknown>>([
    data.prepare(CONVERSIONS_SQL).bind(rows, siteId, cursor.conversion_ts, settled, cursor.conversion_id),
    data.prepare(CARTS_SQL).bind(rows, siteId, cursor.cart_ts, ended, cursor.cart_id, cursor.cart_goal, cursor.purchase_goal, MAX_VISIT_MS),
  ]);
  let hits = conversions?.results ?? [];
  if (hits.length === SCAN_LIMIT) {
    // Full page: the last event's goals may go on past it, so it waits for the next run whole.
    const last = hits[hits.length - 1]!;
    const cut = hits.filter((h) => !(h.ts === last.ts && h.id === last.id));
    if (cut.length > 0) hits = cut;
  }
  for (const h of hits) {
    found.events.push({ type: "conversion.completed", data: {
      site: domain, goal: String(h.goal), page: String(h.page), hostname: String(h.hostname), source: h.source ?? null,
      revenue: h.revenue ?? null, currency: h.currency ?? null, timestamp: new Date(Number(h.ts)).toISOString(),
    } });
  }
  const lastHit = hits[hits.length - 1];
  found.conversion = (conversions?.results.length ?? 0) === SCAN_LIMIT
    ? [Number(lastHit!.ts), String(lastHit!.id)]
    : [Math.max(cursor.conversion_ts, settled), ""];
  const visits = carts?.results ?? [];
  for (const v of visits) {
    const reached = JSON.parse(String(v.reached ?? "{}")) as { carts?: number; purchases?: number; revenue?: number | null; currency?: string | null; page?: string | null };
    if (!reached.carts || reached.purchases) continue;
    found.events.push({ type: "cart.abandoned", data: {
      site: domain, goal: cursor.cart_goal, page: reached.page ?? null, exit_page: String(v.exit_page), source: v.source ?? null,
      revenue: reached.revenue ?? null, currency: reached.currency ?? null, started_at: new Date(Number(v.started_at)).toISOString(), ended_at: new Date(Number(v.ended_at)).toISOString(),
    } });
  }
  const lastVisit = visits[visits.length - 1];
  found.cart = visits.length === SCAN_LIMIT ? [Number(lastVisit!.ended_at), String(lastVisit!.id)] : [Math.max(cursor.cart_ts, ended), ""];
  return found;
}
