/**
 * The realtime state of a site, kept in the SiteDO's SQLite storage (so it survives eviction and
 * hibernation) as small aggregates, never raw events:
 *
 * - "visitors now" counts the live visits (site-storage.ts's `live_sessions`) whose latest event
 *   or engagement report is of the last 5 minutes: no table of its own, which would cost every
 *   event one more write of a random page.
 * - `rt_counts`: per minute and dimension (pv, page, source, country, device) -> count; the
 *   per-minute bars use 30 minutes of `pv`, the top lists sum the last 5 minute buckets.
 * - `rt_feed`: the last FEED_SIZE events (name, path, country, ts): nothing identifying.
 *
 * Visitor hashes stay in the DO (they already live in `live_sessions`); what clients receive
 * (`RealtimeSnapshot`) holds only counts and page/source/country/device names.
 */
import type { Dimension, FeedItem, RealtimeSnapshot } from "../../contract";

export type { FeedItem, RealtimeSnapshot };

export const NOW_WINDOW_MS = 5 * 60_000;
export const MINUTES = 30;
export const FEED_SIZE = 20;
export const TOP_SIZE = 10;
const MINUTE_MS = 60_000;

/** The dimensions of the top lists. */
export const DIMENSIONS = ["page", "source", "country", "device"] as const satisfies readonly Dimension[];

/** Creates the tables if they do not exist yet. Idempotent; run in the DO constructor. */
export function migrateRealtime(sql: SqlStorage): void {
  // Visitors now come from live_sessions (see the module comment).
  sql.exec("DROP TABLE IF EXISTS rt_visitors");
  sql.exec(`CREATE TABLE IF NOT EXISTS rt_counts (
    minute INTEGER NOT NULL, dim TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (minute, dim, key)
  )`);
  sql.exec(`CREATE TABLE IF NOT EXISTS rt_feed (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, country TEXT
  )`);
}

/** What one accepted event adds to the realtime state: its name and path and the session's attribution. */
export interface Sighting {
  ts: number;
  event: { name: string; path: string; source: string | null; country: string | null; device: string | null };
}

/**
 * Records a batch of sightings (one group commit's events) and returns their feed items, oldest
 * first. Counts are summed per (minute, dimension, key) first, so a batch of dozens of events
 * costs a few upserts, and only the last FEED_SIZE events are written to the feed.
 */
export function recordSightings(sql: SqlStorage, sightings: readonly Sighting[]): FeedItem[] {
  const counts = new Map<string, { minute: number; dim: string; key: string; n: number }>();
  const feed: FeedItem[] = [];
  const bump = (minute: number, dim: string, key: string) => {
    const id = `${minute}\u0000${dim}\u0000${key}`;
    const entry = counts.get(id);
    if (entry) entry.n++;
    else counts.set(id, { minute, dim, key, n: 1 });
  };
  for (const { ts, event } of sightings) {
    feed.push({ name: event.name, path: event.path, country: event.country, ts });
    if (event.name !== "pageview") continue;
    const minute = Math.floor(ts / MINUTE_MS);
    bump(minute, "pv", "");
    bump(minute, "page", event.path);
    bump(minute, "source", event.source ?? "Direct / None");
    bump(minute, "country", event.country ?? "Unknown");
    bump(minute, "device", event.device ?? "Unknown");
  }
  for (const { minute, dim, key, n } of counts.values()) {
    sql.exec(
      "INSERT INTO rt_counts (minute, dim, key, n) VALUES (?, ?, ?, ?) ON CONFLICT (minute, dim, key) DO UPDATE SET n = n + excluded.n",
      minute, dim, key, n,
    );
  }
  if (feed.length > 0) {
    for (const item of feed.slice(-FEED_SIZE)) {
      sql.exec("INSERT INTO rt_feed (ts, name, path, country) VALUES (?, ?, ?, ?)", item.ts, item.name, item.path, item.country);
    }
    sql.exec("DELETE FROM rt_feed WHERE id <= (SELECT max(id) FROM rt_feed) - ?", FEED_SIZE);
  }
  return feed;
}

/** Deletes what has left every window. Cheap (indexed); run now and then, not per event. */
export function pruneRealtime(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM rt_counts WHERE minute <= ?", Math.floor(now / MINUTE_MS) - MINUTES);
}

/** The current state; `withFeed` false leaves `events` empty (a delta carries only new ones). */
export function readSnapshot(sql: SqlStorage, now: number, withFeed = true): RealtimeSnapshot {
  const visitors = sql.exec<{ n: number }>("SELECT count(*) AS n FROM live_sessions WHERE last_seen > ?", now - NOW_WINDOW_MS).one().n;
  const current = Math.floor(now / MINUTE_MS);
  const minutes = new Array<number>(MINUTES).fill(0);
  for (const row of sql.exec<{ minute: number; n: number }>(
    "SELECT minute, n FROM rt_counts WHERE dim = 'pv' AND minute > ? AND minute <= ?", current - MINUTES, current,
  )) {
    minutes[MINUTES - 1 - (current - row.minute)] = row.n;
  }
  const top = Object.fromEntries(DIMENSIONS.map((dim) => [dim, [] as [string, number][]])) as Record<Dimension, [string, number][]>;
  // The last 5 minute buckets: the current one and the 4 before it.
  for (const dim of DIMENSIONS) {
    top[dim] = sql
      .exec<{ key: string; n: number }>(
        "SELECT key, sum(n) AS n FROM rt_counts WHERE dim = ? AND minute > ? GROUP BY key ORDER BY n DESC, key LIMIT ?",
        dim, current - 5, TOP_SIZE,
      )
      .toArray()
      .map((row) => [row.key, row.n]);
  }
  const events = withFeed
    ? sql.exec<{ ts: number; name: string; path: string; country: string | null }>(
        "SELECT ts, name, path, country FROM rt_feed ORDER BY id DESC LIMIT ?", FEED_SIZE,
      ).toArray().map((row) => ({ name: row.name, path: row.path, country: row.country, ts: row.ts }))
    : [];
  return { now, visitors, minutes, top, events };
}
