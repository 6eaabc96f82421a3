/**
 * The retention purge the Worker's cron runs after the rollups: raw `events` and `sessions` rows
 * older than their site's `retention_days` are deleted, and the `web_vitals` of those days'
 * pageviews with them, and the `page_titles` not seen since (a title is kept per path with the
 * time it was last seen: a page still visited keeps it); rollup tables are kept (they answer long
 * ranges). Only whole site-local days are purged, and only days whose rollups are complete
 * (listed in rollup_days for the site's timezone), so a purge never removes rows the dashboard
 * still reads raw, and never leaves a day half gone for a later recompute. A day whose rows per
 * filter value were pruned (rollups/prune.py: only while the site had no retention) keeps its raw
 * rows too: its filtered views read them. So does a day whose journey rows (journeys.ts) are not
 * made yet for its latest computation: the journey job goes newest first, and a backlog (after
 * migration 0033, or a retention just set) would otherwise lose the oldest days' journeys.
 *
 * A site with `archive_raw` has each such day written to R2 first (archive.ts); for it only days
 * listed in raw_archives go, and nothing goes while the ARCHIVE bucket is missing.
 */
import { jsonArrays } from "../json-arrays";
import { env as workerEnv } from "cloudflare:workers";
import { archiveBefore, MAX_ARCHIVE_DAYS_PER_RUN } from "./archive";
import { dayBounds, localDay } from "./days";
import { HOME_DATABASE } from "../databases";

/** Rows one DELETE statement removes at most: keeps each statement short, so D1 stays responsive. */
export const PURGE_ROWS_PER_STATEMENT = 2000;
/**
 * Batches (one D1 round trip each) per cron run. Bounds the run; a larger backlog (retention
 * just turned on for a big site) continues at the next run, 15 minutes later.
 */
export const MAX_PURGE_ROUNDS = 25;
/** Largest JSON parameter per statement: (site, cutoff, tz, archive) tuples, far below D1's 100 KB limit. */
const MAX_SITES_PARAM_BYTES = 60_000;
const DAY_MS = 86_400_000;

/** What one purge run deleted. */
export interface PurgeResult {
  events: number;
  sessions: number;
  /** page_titles rows whose path was not seen since the cut (absent: none looked at). */
  titles?: number;
  /** Rows may remain past retention (a statement was still full at the last round). */
  more: boolean;
}

/**
 * One statement per table for all sites: the (site, cutoff, tz, archive) tuples come in as one
 * JSON parameter, so many sites cost a handful of statements, not one per site. Each site is an
 * index range (site_id, ts < cutoff); each candidate row checks the one rollup day that can
 * contain it (the latest starting at or before it), an index seek, and for an archiving site
 * that this day's file is listed.
 */
function purgeSql(table: "events" | "sessions" | "web_vitals", column: "ts" | "started_at", key: string): string {
  return `DELETE FROM ${table} WHERE (${key}) IN (
    SELECT ${key.split(", ").map((k) => `t.${k}`).join(", ")} FROM json_each(?1) AS p
    JOIN ${table} AS t ON t.site_id = json_extract(p.value, '$[0]') AND t.${column} < json_extract(p.value, '$[1]')
    WHERE (SELECT r.end_ms > t.${column} AND r.tz = json_extract(p.value, '$[2]')
             AND (json_extract(p.value, '$[3]') = 0
                  OR EXISTS (SELECT 1 FROM raw_archives AS a WHERE a.site_id = r.site_id AND a.day = r.day))
             AND EXISTS (SELECT 1 FROM rollup_filtered_days AS f WHERE f.site_id = r.site_id AND f.day = r.day)
             AND EXISTS (SELECT 1 FROM journey_rollup_days AS j WHERE j.site_id = r.site_id AND j.day = r.day
                         AND j.tz = r.tz AND j.computed_at = r.computed_at)
           FROM rollup_days AS r
           WHERE r.site_id = t.site_id AND r.start_ms <= t.${column} ORDER BY r.start_ms DESC LIMIT 1)
    LIMIT ${PURGE_ROWS_PER_STATEMENT})`;
}

// `events` has no rowid since migration 0016: its key is (site_id, ts, id).
const PURGE_EVENTS = purgeSql("events", "ts", "site_id, ts, id");
const PURGE_SESSIONS = purgeSql("sessions", "started_at", "rowid");
// Keyed like the pageview it belongs to (migration 0019): its day goes with the pageview's.
const PURGE_VITALS = purgeSql("web_vitals", "ts", "site_id, ts, event_id");
// A path's title (migration 0026), last seen before the cut: not tied to a day's rollups, and
// not archived (the latest title per path, learnt again on the page's next view).
const PURGE_TITLES = `DELETE FROM page_titles WHERE (site, path) IN (
    SELECT t.site, t.path FROM json_each(?1) AS p
    JOIN page_titles AS t ON t.site = json_extract(p.value, '$[0]') AND t.ts < json_extract(p.value, '$[1]')
    LIMIT ${PURGE_ROWS_PER_STATEMENT})`;

/**
 * The first instant a site keeps: local midnight starting the day that contains
 * `now - retentionDays`, so at least `retentionDays` full days stay and days go whole.
 * Null for a retention that is not a positive number of days or an unknown timezone.
 */
export function retentionCutoff(retentionDays: unknown, tz: string, nowMs: number): number | null {
  if (typeof retentionDays !== "number" || !Number.isFinite(retentionDays) || retentionDays < 1) return null;
  try {
    return dayBounds(localDay(nowMs - Math.floor(retentionDays) * DAY_MS, tz), tz)[0];
  } catch {
    return null; // An unknown timezone: its days are never rolled up, so nothing could go anyway.
  }
}

/**
 * Deletes expired raw rows of every site with a retention placed in `db`, the database bound as
 * `database`, in bounded batches; see the module comment. `archive` is the ARCHIVE bucket (null:
 * none is bound); at most `maxArchiveDays` site-days are archived per run.
 */
export async function purgeExpired(
  db: D1Database, nowMs: number, maxRounds = MAX_PURGE_ROUNDS,
  archive: R2Bucket | null = workerEnv.ARCHIVE ?? null, maxArchiveDays = MAX_ARCHIVE_DAYS_PER_RUN, database = HOME_DATABASE,
): Promise<PurgeResult> {
  // The home database lists every site; its rows are only those of the sites placed in it.
  const { results } = await db
    .prepare("SELECT id, timezone, retention_days, archive_raw FROM sites WHERE retention_days IS NOT NULL AND database = ?")
    .bind(database)
    .all<{ id: string; timezone: string; retention_days: number; archive_raw: number }>();
  const tuples: string[] = [];
  let unarchived = 0;
  let archiveBudget = maxArchiveDays;
  for (const site of results) {
    let cutoff = retentionCutoff(site.retention_days, site.timezone, nowMs);
    if (cutoff === null) continue;
    const archiving = site.archive_raw ? 1 : 0;
    if (archiving && !archive) {
      unarchived++; // Never delete what was promised an archive.
      continue;
    }
    if (archiving && archive) {
      try {
        const { until, days } = await archiveBefore(db, archive, site, cutoff, nowMs, archiveBudget);
        archiveBudget -= days.length;
        cutoff = until;
      } catch (error) {
        console.error(`raw archive of site ${site.id} failed; its rows are kept`, error);
        continue; // The other sites are still purged.
      }
    }
    tuples.push(JSON.stringify([site.id, cutoff, site.timezone, archiving]));
  }
  const chunks = jsonArrays(tuples, MAX_SITES_PARAM_BYTES);
  if (unarchived > 0) console.warn(`${unarchived} site(s) archive raw rows but no ARCHIVE bucket is bound: their rows are kept`);

  // Each pending item is a statement that deleted a full batch last round (or has not run yet).
  let pending = chunks.flatMap((param) => [
    { sql: PURGE_EVENTS, param, table: "events" as const },
    { sql: PURGE_SESSIONS, param, table: "sessions" as const },
    { sql: PURGE_VITALS, param, table: "web_vitals" as const },
    { sql: PURGE_TITLES, param, table: "page_titles" as const },
  ]);
  const total = { events: 0, sessions: 0, web_vitals: 0, page_titles: 0 };
  for (let round = 0; round < maxRounds && pending.length > 0; round++) {
    const answers = await db.batch(pending.map((item) => db.prepare(item.sql).bind(item.param)));
    pending = pending.filter((item, i) => {
      const changes = answers[i]?.meta.changes ?? 0;
      total[item.table] += changes;
      return changes >= PURGE_ROWS_PER_STATEMENT;
    });
  }
  return { events: total.events, sessions: total.sessions, titles: total.page_titles, more: pending.length > 0 };
}
