/**
 * The SiteDO's own SQLite tables, apart from the outbox: daily salts and live sessions. Every
 * piece of DO state is here (not in memory), so it survives eviction and restarts.
 */
import { type LiveSession, SESSION_TIMEOUT_MS } from "./session";
import { newSalt, previousUtcDay, utcDay } from "./visitor-hash";

/** Creates the tables if they do not exist yet. Idempotent; run in the DO constructor. */
export function migrateSiteStorage(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS salts (day TEXT PRIMARY KEY, salt TEXT NOT NULL)`);
  // Keyed by the visitor hash that started the session; `session` is the LiveSession as JSON.
  sql.exec(`CREATE TABLE IF NOT EXISTS live_sessions (
    visitor_id TEXT PRIMARY KEY,
    ended_at INTEGER NOT NULL,
    session TEXT NOT NULL,
    last_seen INTEGER
  )`);
  addLastSeen(sql);
  sql.exec("CREATE INDEX IF NOT EXISTS live_sessions_last_seen ON live_sessions (last_seen)");
}

/**
 * `last_seen`: the visit's latest event or engagement report (LiveSession.last_seen), indexed so
 * the realtime "visitors now" is a count over live visits (realtime/state.ts) instead of a table
 * of its own that every event wrote to as well. Added to a table made before it.
 */
function addLastSeen(sql: SqlStorage): void {
  const columns = sql.exec<{ name: string }>("PRAGMA table_info(live_sessions)").toArray().map((c) => c.name);
  if (columns.includes("last_seen")) return;
  sql.exec("ALTER TABLE live_sessions ADD COLUMN last_seen INTEGER");
  sql.exec("UPDATE live_sessions SET last_seen = coalesce(json_extract(session, '$.last_seen'), ended_at)");
}

/**
 * The salts for `ts`'s UTC day and the day before (null if the DO was not running then).
 * Creates today's salt on first use and deletes every older salt: once a salt is gone, the
 * hashes made with it can never be recomputed from an IP and user agent.
 */
export function saltsFor(sql: SqlStorage, ts: number): { today: string; yesterday: string | null } {
  const day = utcDay(ts);
  const yesterdayDay = previousUtcDay(ts);
  sql.exec("INSERT OR IGNORE INTO salts (day, salt) VALUES (?, ?)", day, newSalt());
  sql.exec("DELETE FROM salts WHERE day < ?", yesterdayDay);
  const rows = sql.exec<{ day: string; salt: string }>("SELECT day, salt FROM salts WHERE day IN (?, ?)", day, yesterdayDay).toArray();
  const salt = (wanted: string) => rows.find((row) => row.day === wanted)?.salt ?? null;
  return { today: salt(day) as string, yesterday: salt(yesterdayDay) };
}

/**
 * Deletes the salts older than yesterday by the wall clock, for the alarm: an idle site gets no
 * event that would delete them in saltsFor, and a salt kept is a day of hashes that could be
 * recomputed. Returns how many were deleted and when the oldest remaining salt expires (the start
 * of the second UTC day after its own), or null when none is left.
 */
export function pruneSalts(sql: SqlStorage, now: number): { deleted: number; nextExpiry: number | null } {
  const deleted = sql.exec("DELETE FROM salts WHERE day < ?", previousUtcDay(now)).rowsWritten;
  const oldest = sql.exec<{ day: string | null }>("SELECT min(day) AS day FROM salts").one().day;
  return { deleted, nextExpiry: oldest === null ? null : Date.parse(`${oldest}T00:00:00Z`) + 2 * DAY_MS };
}

const DAY_MS = 86_400_000;

/** The most recently active session of any of `visitorIds`, or null. */
export function findLiveSession(sql: SqlStorage, visitorIds: readonly string[]): LiveSession | null {
  if (visitorIds.length === 0) return null;
  const placeholders = visitorIds.map(() => "?").join(", ");
  const row = sql
    .exec<{ session: string }>(
      `SELECT session FROM live_sessions WHERE visitor_id IN (${placeholders}) ORDER BY ended_at DESC LIMIT 1`,
      ...visitorIds,
    )
    .toArray()[0];
  return row ? (JSON.parse(row.session) as LiveSession) : null;
}

/** Stores `session` as its visitor's current session (replacing a timed-out one). */
export function saveLiveSession(sql: SqlStorage, session: LiveSession): void {
  sql.exec(
    "INSERT OR REPLACE INTO live_sessions (visitor_id, ended_at, last_seen, session) VALUES (?, ?, ?, ?)",
    session.visitor_id,
    session.ended_at,
    session.last_seen ?? session.ended_at,
    JSON.stringify(session),
  );
}

/**
 * Deletes sessions that can no longer continue. "Now" is the newest activity seen, not the wall
 * clock, so the rule uses the same clock as the timeout itself (events are stamped by Workers).
 * Measured on `last_seen`, as the timeout is: engagement reports keep a reader's visit going
 * without moving `ended_at`.
 */
export function pruneLiveSessions(sql: SqlStorage): number {
  const cursor = sql.exec(
    "DELETE FROM live_sessions WHERE last_seen < (SELECT max(last_seen) FROM live_sessions) - ?",
    SESSION_TIMEOUT_MS,
  );
  return cursor.rowsWritten;
}

/**
 * The live sessions as the SiteDO reads them: storage, with an in-memory cache in front. Under
 * load most events continue a visit, and reading the session back (a SELECT plus JSON.parse of
 * a few KB with its pageviews) was ~6 % of the isolate's JS samples in the ingest bench. The DO
 * is the only writer and every write goes through `save`, so the cache cannot go stale; absent
 * sessions are cached too (null). A failed storage commit resets the DO, memory included.
 * Bounded (least recently used out first); `prune` empties it with the table's old rows.
 */
export class LiveSessions {
  private readonly cache = new Map<string, LiveSession | null>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly maxEntries = 2_000,
  ) {}

  /** Like findLiveSession: the most recently active session of any of `visitorIds`, or null. */
  find(visitorIds: readonly string[]): LiveSession | null {
    let best: LiveSession | null = null;
    const missing: string[] = [];
    for (const id of visitorIds) {
      const cached = this.cache.get(id);
      if (cached === undefined) {
        missing.push(id);
        continue;
      }
      this.remember(id, cached);
      if (cached && (!best || cached.ended_at > best.ended_at)) best = cached;
    }
    if (missing.length > 0) {
      const found = new Map<string, LiveSession>();
      const placeholders = missing.map(() => "?").join(", ");
      for (const row of this.sql.exec<{ visitor_id: string; session: string }>(
        `SELECT visitor_id, session FROM live_sessions WHERE visitor_id IN (${placeholders})`,
        ...missing,
      )) {
        found.set(row.visitor_id, JSON.parse(row.session) as LiveSession);
      }
      for (const id of missing) {
        const session = found.get(id) ?? null;
        this.remember(id, session);
        if (session && (!best || session.ended_at > best.ended_at)) best = session;
      }
    }
    return best;
  }

  /** Stores `session` as its visitor's current session (saveLiveSession), and caches it. */
  save(session: LiveSession): void {
    saveLiveSession(this.sql, session);
    this.remember(session.visitor_id, session);
  }

  /** Deletes the live sessions of `visitorIds` (an erasure, forget-user.ts), cache included. */
  remove(visitorIds: readonly string[]): void {
    for (const id of visitorIds) {
      this.sql.exec("DELETE FROM live_sessions WHERE visitor_id = ?", id);
      this.remember(id, null);
    }
  }

  /** pruneLiveSessions, and forgets the cache (it may hold the deleted sessions). */
  prune(): number {
    this.cache.clear();
    return pruneLiveSessions(this.sql);
  }

  private remember(visitorId: string, session: LiveSession | null): void {
    this.cache.delete(visitorId);
    this.cache.set(visitorId, session);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
  }
}
