/**
 * The outbox: accepted events, engagement updates of pageviews, the latest web vitals of each
 * page view, the latest title of each path (titles.ts) and trait of each identified user
 * (traits.ts), and the latest snapshot of each touched session wait in the DO's SQLite storage
 * until a flush has written them to D1. Rows leave the outbox only after D1 confirmed the
 * batch; event ids make a repeated flush harmless
 * (INSERT OR IGNORE), engagement updates only ever raise values (max), and a session upsert never
 * replaces a row with an older snapshot. At-least-once delivery plus idempotent writes gives
 * exactly-once rows in D1. Rows of a site deleted meanwhile, or already past the site's
 * retention, are not written (see `writable`) and leave the outbox like delivered ones.
 */
import { timeOfId } from "../ids";
import { jsonArrays } from "../json-arrays";
import { EVENT_COLUMNS, type EventRow, SESSION_COLUMNS, type SessionRow } from "../rows";
import type { Vitals } from "../contract";
import { migrateTitles, titleFlush, titlesWaiting } from "./titles";
import { migrateTraits, traitFlush, traitsWaiting } from "./traits";

/** D1 refuses statements with more than 100 bound parameters; ours bind one each. */
export const MAX_PARAMS_PER_STATEMENT = 100;
/** Rows of each kind sent per flush. */
export const FLUSH_BATCH_ROWS = 250;
/**
 * Largest JSON parameter per statement. Rows travel as one JSON array per statement (unpacked by
 * json_each in SQL), so a flush is a handful of statements instead of one per three rows: D1's
 * cost is per statement, and this keeps each well under its 100 KB statement limit.
 */
export const MAX_JSON_PARAM_BYTES = 90_000;

/** Creates the outbox tables if they do not exist yet. Idempotent. */
export function migrateOutbox(sql: SqlStorage): void {
  // seq orders events and doubles as the session snapshot version (it only grows).
  sql.exec(`CREATE TABLE IF NOT EXISTS event_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    row TEXT NOT NULL
  )`);
  sql.exec(`CREATE TABLE IF NOT EXISTS session_outbox (
    session_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    row TEXT NOT NULL
  )`);
  // Engagement of pageviews: applied to D1 as UPDATEs once the pageview's INSERT has gone out.
  sql.exec(`CREATE TABLE IF NOT EXISTS engagement_outbox (
    event_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    engaged_ms INTEGER NOT NULL,
    scroll_depth INTEGER NOT NULL,
    site_id TEXT,
    ts INTEGER
  )`);
  addPageviewKey(sql);
  // The latest web vitals of a page view, written to D1's web_vitals (migration 0019) keyed like
  // the pageview; a newer report replaces each value it carries.
  sql.exec(`CREATE TABLE IF NOT EXISTS vitals_outbox (
    event_id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    row TEXT NOT NULL
  )`);
  // Small counters, e.g. consecutive failed flushes (drives the retry backoff), and `seq`, the
  // one sequence every outbox row is numbered from (a snapshot's seq must differ from the one a
  // running flush read, whichever kind of row caused it).
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  sql.exec("INSERT OR IGNORE INTO meta (key, value) SELECT 'seq', coalesce(max(seq), 0) FROM event_outbox");
  migrateTitles(sql);
  migrateTraits(sql);
}

/**
 * The outbox sequence, counted in memory and written back once per group commit (`persist`)
 * instead of an UPDATE … RETURNING per event (a statement per event saved). The DO calls
 * `persist` in the same synchronous stretch as the writes that used the numbers, so they share
 * one commit; a failed commit resets the DO, and the next instance reads the value back.
 */
export class OutboxSeq {
  private value: number | null = null;
  private dirty = false;

  next(sql: SqlStorage): number {
    this.value ??= sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'seq'").one().value;
    this.dirty = true;
    return ++this.value;
  }

  /** Writes the counter back if it moved; call before the synchronous stretch ends. */
  persist(sql: SqlStorage): void {
    if (!this.dirty || this.value === null) return;
    sql.exec("UPDATE meta SET value = ? WHERE key = 'seq'", this.value);
    this.dirty = false;
  }
}

// Outbox rows are stored as JSON arrays of values in column order (EVENT_COLUMNS,
// SESSION_COLUMNS), the very tuples a flush sends: no keys, so about a third of the bytes a
// commit writes, and the flush splices the stored text instead of parsing and re-serialising
// every row. Rows written as JSON objects by an older version are converted when flushed.

function putSession(sql: SqlStorage, session: SessionRow, seq: number): void {
  sql.exec(
    `INSERT INTO session_outbox (session_id, seq, row) VALUES (?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, row = excluded.row`,
    session.id,
    seq,
    JSON.stringify(rowValues(session, SESSION_COLUMNS)),
  );
}

/** A stored outbox row as the JSON tuple a flush sends (older rows are objects). */
function tupleText<Row>(text: string, columns: readonly (keyof Row & string)[]): string {
  return text.startsWith("[") ? text : JSON.stringify(rowValues(JSON.parse(text) as Row, columns));
}

/**
 * D1's `events` is keyed by (site_id, ts, id) since migration 0016, so an engagement UPDATE names
 * its pageview's site and time. Rows queued before carry neither: the time is in the id (ids.ts)
 * and the site is the DO's, which every live session names.
 */
function addPageviewKey(sql: SqlStorage): void {
  const columns = sql.exec<{ name: string }>("PRAGMA table_info(engagement_outbox)").toArray().map((c) => c.name);
  if (columns.includes("ts")) return;
  sql.exec("ALTER TABLE engagement_outbox ADD COLUMN site_id TEXT");
  sql.exec("ALTER TABLE engagement_outbox ADD COLUMN ts INTEGER");
  const site = sql.exec<{ site_id: string }>("SELECT json_extract(session, '$.site_id') AS site_id FROM live_sessions LIMIT 1").toArray()[0];
  for (const row of sql.exec<{ event_id: string }>("SELECT event_id FROM engagement_outbox").toArray()) {
    sql.exec("UPDATE engagement_outbox SET site_id = ?, ts = ? WHERE event_id = ?", site?.site_id ?? null, timeOfId(row.event_id), row.event_id);
  }
}

/**
 * Puts an event and its session's new snapshot in the outbox, in one synchronous step (no await
 * in between, so no other request can interleave).
 */
export function enqueue(sql: SqlStorage, seqs: OutboxSeq, event: EventRow, session: SessionRow): void {
  const seq = seqs.next(sql);
  sql.exec("INSERT INTO event_outbox (seq, id, row) VALUES (?, ?, ?)", seq, event.id, JSON.stringify(rowValues(event, EVENT_COLUMNS)));
  putSession(sql, session, seq);
}

/** Puts a pageview's new engagement totals and its session's new snapshot in the outbox. */
export function enqueueEngagement(sql: SqlStorage, seqs: OutboxSeq, page: { id: string; ts: number }, engagedMs: number, scrollDepth: number, session: SessionRow): void {
  const seq = seqs.next(sql);
  sql.exec(
    `INSERT INTO engagement_outbox (event_id, site_id, ts, seq, engaged_ms, scroll_depth) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq,
       engaged_ms = max(engaged_ms, excluded.engaged_ms), scroll_depth = max(scroll_depth, excluded.scroll_depth)`,
    page.id,
    session.site_id,
    page.ts,
    seq,
    engagedMs,
    scrollDepth,
  );
  putSession(sql, session, seq);
}

/** The web vitals columns in the order a vitals outbox row holds them. */
export const VITALS_COLUMNS = ["lcp_ms", "inp_ms", "cls_e4", "fcp_ms", "ttfb_ms"] as const satisfies readonly (keyof Vitals)[];

/**
 * Puts a page view's latest web vitals in the outbox: each value the report carries replaces the
 * one waiting, a value it lacks keeps the waiting one (the report is the page's values so far).
 */
export function enqueueVitals(sql: SqlStorage, seqs: OutboxSeq, page: { id: string; ts: number; site_id: string }, vitals: Vitals): void {
  const seq = seqs.next(sql);
  const row = JSON.stringify(VITALS_COLUMNS.map((column) => vitals[column]));
  const merged = VITALS_COLUMNS.map((_, i) => `coalesce(json_extract(excluded.row, '$[${i}]'), json_extract(vitals_outbox.row, '$[${i}]'))`);
  sql.exec(
    `INSERT INTO vitals_outbox (event_id, site_id, ts, seq, row) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq, row = json_array(${merged.join(", ")})`,
    page.id,
    page.site_id,
    page.ts,
    seq,
    row,
  );
}

/** Rows waiting in the outbox. */
export function outboxSize(sql: SqlStorage): { events: number; sessions: number; engagements: number; vitals: number } {
  const count = (table: string) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
  return { events: count("event_outbox"), sessions: count("session_outbox"), engagements: count("engagement_outbox"), vitals: count("vitals_outbox") };
}

/** The result of one flush. */
export interface FlushResult {
  events: number;
  sessions: number;
  /** Rows are still waiting (the batch was full, or events arrived during the flush). */
  remaining: boolean;
}

/**
 * Sends up to FLUSH_BATCH_ROWS events and sessions to D1 in one batch, then deletes what D1
 * confirmed. Throws when D1 fails; the rows then stay for the next attempt. `before` runs first
 * in the same transaction (a data database's copy of the site row, site-do/flush-target.ts).
 */
export async function flushOutbox(sql: SqlStorage, db: D1Database, before: D1PreparedStatement[] = [], batchRows = FLUSH_BATCH_ROWS): Promise<FlushResult> {
  const events = sql
    .exec<{ seq: number; row: string }>("SELECT seq, row FROM event_outbox ORDER BY seq LIMIT ?", batchRows)
    .toArray();
  const sessions = sql
    .exec<{ session_id: string; seq: number; row: string }>("SELECT session_id, seq, row FROM session_outbox ORDER BY seq LIMIT ?", batchRows)
    .toArray();
  // Engagement of pageviews that are in D1 already or go out in this batch (their UPDATE runs
  // after the INSERT in the same transaction); the others wait for their pageview's batch.
  const lastSeq = events.at(-1)?.seq ?? -1;
  const engagements = sql
    .exec<{ event_id: string; site_id: string | null; ts: number | null; seq: number; engaged_ms: number; scroll_depth: number }>(
      `SELECT event_id, site_id, ts, seq, engaged_ms, scroll_depth FROM engagement_outbox
       WHERE event_id NOT IN (SELECT id FROM event_outbox WHERE seq > ?) ORDER BY seq LIMIT ?`,
      lastSeq,
      batchRows,
    )
    .toArray();
  // Web vitals of page views in D1 already or going out in this batch, like engagement.
  const vitals = sql
    .exec<{ event_id: string; site_id: string; ts: number; seq: number; row: string }>(
      `SELECT event_id, site_id, ts, seq, row FROM vitals_outbox
       WHERE event_id NOT IN (SELECT id FROM event_outbox WHERE seq > ?) ORDER BY seq LIMIT ?`,
      lastSeq,
      batchRows,
    )
    .toArray();
  const titles = titleFlush(sql, db, batchRows);
  const traits = traitFlush(sql, db, batchRows);
  if (events.length === 0 && sessions.length === 0 && engagements.length === 0 && vitals.length === 0 && titles.statements.length === 0 && traits.statements.length === 0) {
    return { events: 0, sessions: 0, remaining: false };
  }

  const sessionTuples = sessions.map((s) => tupleText<SessionRow>(s.row, SESSION_COLUMNS));
  const statements = [
    ...before,
    ...jsonStatements(db, events.map((e) => tupleText<EventRow>(e.row, EVENT_COLUMNS)), (tuples) =>
      `INSERT OR IGNORE INTO events (${EVENT_COLUMNS.join(", ")}) SELECT ${tuples(EVENT_COLUMNS.length)} FROM json_each(?)
       WHERE ${writable(`json_extract(value, '$[${EVENT_SITE}]')`, `json_extract(value, '$[${EVENT_TS}]')`)}`,
    ),
    ...titles.statements,
    ...traits.statements,
    // Engagement only ever raises the values, so replaying an update is harmless.
    ...jsonStatements(db, engagements.map((e) => JSON.stringify([e.event_id, e.engaged_ms, e.scroll_depth, e.site_id, e.ts])), () =>
      `UPDATE events SET engaged_ms = max(coalesce(events.engaged_ms, 0), json_extract(u.value, '$[1]')),
         scroll_depth = max(coalesce(events.scroll_depth, 0), json_extract(u.value, '$[2]'))
       FROM json_each(?) AS u
       WHERE events.site_id = json_extract(u.value, '$[3]') AND events.ts = json_extract(u.value, '$[4]')
         AND events.id = json_extract(u.value, '$[0]') AND ${writable("events.site_id", "events.ts")}`,
    ),
    // The latest values per page view: a replayed flush writes the same values again. A value
    // the report lacks keeps the stored one. No trigger on web_vitals, so an upsert is safe.
    ...jsonStatements(db, vitals.map((v) => `[${JSON.stringify(v.site_id)},${v.ts},${JSON.stringify(v.event_id)},${v.row.slice(1)}`), (tuples) =>
      `INSERT INTO web_vitals (site_id, ts, event_id, ${VITALS_COLUMNS.join(", ")}) SELECT ${tuples(3 + VITALS_COLUMNS.length)} FROM json_each(?)
       WHERE ${writable("json_extract(value, '$[0]')", "json_extract(value, '$[1]')")}
       ON CONFLICT (site_id, ts, event_id) DO UPDATE SET
         ${VITALS_COLUMNS.map((column) => `${column} = coalesce(excluded.${column}, web_vitals.${column})`).join(", ")}`,
    ),
    // Sessions: update the rows that exist (unless the snapshot is stale), then insert the new
    // ones. Not one INSERT … ON CONFLICT DO UPDATE: an upsert's conflict policy overrides the
    // INSERT OR IGNORE inside the rollup triggers on `sessions`, which then fail.
    ...jsonStatements(db, sessionTuples, () =>
      `UPDATE sessions SET ${SESSION_COLUMNS.slice(1).map((column, i) => `${column} = json_extract(u.value, '$[${i + 1}]')`).join(", ")}
       FROM json_each(?) AS u
       WHERE sessions.id = json_extract(u.value, '$[0]')
         AND (json_extract(u.value, '$[${PAGEVIEWS}]') + json_extract(u.value, '$[${EVENTS}]'), json_extract(u.value, '$[${DURATION}]'))
             >= (sessions.pageviews + sessions.events, sessions.duration_ms)
         AND ${writable("sessions.site_id", "sessions.started_at")}`,
    ),
    ...jsonStatements(db, sessionTuples, (tuples) =>
      `INSERT OR IGNORE INTO sessions (${SESSION_COLUMNS.join(", ")}) SELECT ${tuples(SESSION_COLUMNS.length)} FROM json_each(?)
       WHERE ${writable(`json_extract(value, '$[${SESSION_SITE}]')`, `json_extract(value, '$[${SESSION_START}]')`)}`,
    ),
  ];
  // A D1 batch is one transaction: either every row landed or none did.
  await db.batch(statements);

  // Other requests may have run while we awaited D1. New events have higher seqs; a session
  // updated meanwhile has a new seq and must stay until the next flush sends the new snapshot.
  const lastEventSeq = events.at(-1)?.seq;
  if (lastEventSeq !== undefined) sql.exec("DELETE FROM event_outbox WHERE seq <= ?", lastEventSeq);
  // One statement per table, not one per row: this runs while ingestion waits.
  if (sessions.length > 0) {
    sql.exec(
      `DELETE FROM session_outbox WHERE (session_id, seq) IN
         (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
      JSON.stringify(sessions.map((session) => [session.session_id, session.seq])),
    );
  }
  if (engagements.length > 0) {
    sql.exec(
      `DELETE FROM engagement_outbox WHERE (event_id, seq) IN
         (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
      JSON.stringify(engagements.map((engagement) => [engagement.event_id, engagement.seq])),
    );
  }
  if (vitals.length > 0) {
    sql.exec(
      `DELETE FROM vitals_outbox WHERE (event_id, seq) IN
         (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
      JSON.stringify(vitals.map((v) => [v.event_id, v.seq])),
    );
  }
  titles.done();
  traits.done();
  const left = outboxSize(sql);
  const waiting = left.events + left.sessions + left.engagements + left.vitals + titlesWaiting(sql) + traitsWaiting(sql);
  return { events: events.length, sessions: sessions.length, remaining: waiting > 0 };
}

/**
 * The condition every D1 write of the flush carries, checked in the same transaction:
 * - the site still exists. A site deleted in the dashboard stays in Worker caches for up to
 *   SITE_CACHE_TTL_S and its outbox may hold rows; writing them would leave rows of a site that
 *   is gone. Existing sites always pass, so the flush stays loss-free for them.
 * - the row is within the site's retention. The cron purges whole rolled-up days; a write to an
 *   older row (a visit running for days, a flush after a days-long outage) would send a purged
 *   day back to the rollups, to be recomputed from the few raw rows left.
 */
function writable(siteSql: string, tsSql: string): string {
  return `EXISTS (SELECT 1 FROM sites WHERE sites.id = ${siteSql} AND (sites.retention_days IS NULL
    OR ${tsSql} >= (CAST(strftime('%s', 'now') AS INTEGER) - sites.retention_days * 86400) * 1000))`;
}

const EVENT_SITE = EVENT_COLUMNS.indexOf("site_id");
const EVENT_TS = EVENT_COLUMNS.indexOf("ts");
const SESSION_SITE = SESSION_COLUMNS.indexOf("site_id");
const SESSION_START = SESSION_COLUMNS.indexOf("started_at");

// Counters and duration only grow within a session, so a snapshot with fewer pageviews+events,
// or as many but a shorter duration, is stale (a replay of an old flush) and must not overwrite.
const PAGEVIEWS = SESSION_COLUMNS.indexOf("pageviews");
const EVENTS = SESSION_COLUMNS.indexOf("events");
const DURATION = SESSION_COLUMNS.indexOf("duration_ms");

/** A row's values in column order (missing ones as null). */
function rowValues<Row>(row: Row, columns: readonly (keyof Row & string)[]): unknown[] {
  return columns.map((column) => row[column] ?? null);
}

/**
 * Statements that each bind one JSON array of row tuples (each given as its JSON text), split so
 * no parameter exceeds MAX_JSON_PARAM_BYTES. `sqlFor` gets a helper that lists
 * `json_extract(value, '$[i]')` for every column of a tuple.
 */
function jsonStatements(db: D1Database, tuples: string[], sqlFor: (columns: (count: number) => string) => string): D1PreparedStatement[] {
  if (tuples.length === 0) return [];
  const columns = (count: number) => Array.from({ length: count }, (_, i) => `json_extract(value, '$[${i}]')`).join(", ");
  const sqlText = sqlFor(columns);
  return jsonArrays(tuples, MAX_JSON_PARAM_BYTES).map((array) => db.prepare(sqlText).bind(array));
}
