/**
 * The outbox: accepted events and the latest snapshot of each touched session wait in the DO's
 * SQLite storage until a flush has written them to D1. Rows leave the outbox only after D1
 * confirmed the batch; event ids make a repeated flush harmless (INSERT OR IGNORE), and a
 * session upsert never replaces a row with an older snapshot. At-least-once delivery plus
 * idempotent writes gives exactly-once rows in D1.
 */
import type { EventRow, SessionRow } from "./session";

/** D1 refuses statements with more than 100 bound parameters. */
export const MAX_PARAMS_PER_STATEMENT = 100;
/** Rows of each kind sent per flush; keeps a batch well inside D1's request limits. */
export const FLUSH_BATCH_ROWS = 150;

/** `events` columns, in schema order. */
export const EVENT_COLUMNS = [
  "id", "site_id", "ts", "name", "visitor_id", "session_id", "hostname", "pathname",
  "referrer", "source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
  "country", "region", "city", "device", "browser", "browser_version", "os", "os_version", "screen",
  "props", "revenue", "engaged_ms",
] as const satisfies readonly (keyof EventRow)[];

/** `sessions` columns, in schema order. */
export const SESSION_COLUMNS = [
  "id", "site_id", "visitor_id", "started_at", "ended_at", "hostname", "entry_page", "exit_page",
  "pageviews", "events", "duration_ms", "is_bounce",
  "referrer", "source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
  "country", "region", "city", "device", "browser", "browser_version", "os", "os_version", "screen",
] as const satisfies readonly (keyof SessionRow)[];

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
  // Small counters, e.g. consecutive failed flushes (drives the retry backoff).
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
}

/**
 * Puts an event and its session's new snapshot in the outbox, in one synchronous step (no await
 * in between, so no other request can interleave).
 */
export function enqueue(sql: SqlStorage, event: EventRow, session: SessionRow): void {
  const { seq } = sql
    .exec<{ seq: number }>("INSERT INTO event_outbox (id, row) VALUES (?, ?) RETURNING seq", event.id, JSON.stringify(event))
    .one();
  sql.exec(
    `INSERT INTO session_outbox (session_id, seq, row) VALUES (?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, row = excluded.row`,
    session.id,
    seq,
    JSON.stringify(session),
  );
}

/** Rows waiting in the outbox. */
export function outboxSize(sql: SqlStorage): { events: number; sessions: number } {
  const count = (table: string) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
  return { events: count("event_outbox"), sessions: count("session_outbox") };
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
 * confirmed. Throws when D1 fails; the rows then stay for the next attempt.
 */
export async function flushOutbox(sql: SqlStorage, db: D1Database, batchRows = FLUSH_BATCH_ROWS): Promise<FlushResult> {
  const events = sql
    .exec<{ seq: number; row: string }>("SELECT seq, row FROM event_outbox ORDER BY seq LIMIT ?", batchRows)
    .toArray();
  const sessions = sql
    .exec<{ session_id: string; seq: number; row: string }>("SELECT session_id, seq, row FROM session_outbox ORDER BY seq LIMIT ?", batchRows)
    .toArray();
  if (events.length === 0 && sessions.length === 0) return { events: 0, sessions: 0, remaining: false };

  const statements = [
    ...insertStatements(db, "events", EVENT_COLUMNS, events.map((e) => JSON.parse(e.row) as EventRow), "INSERT OR IGNORE INTO", ""),
    ...insertStatements(db, "sessions", SESSION_COLUMNS, sessions.map((s) => JSON.parse(s.row) as SessionRow), "INSERT INTO", SESSION_UPSERT),
  ];
  // A D1 batch is one transaction: either every row landed or none did.
  await db.batch(statements);

  // Other requests may have run while we awaited D1. New events have higher seqs; a session
  // updated meanwhile has a new seq and must stay until the next flush sends the new snapshot.
  const lastEventSeq = events.at(-1)?.seq;
  if (lastEventSeq !== undefined) sql.exec("DELETE FROM event_outbox WHERE seq <= ?", lastEventSeq);
  for (const session of sessions) {
    sql.exec("DELETE FROM session_outbox WHERE session_id = ? AND seq = ?", session.session_id, session.seq);
  }
  const left = outboxSize(sql);
  return { events: events.length, sessions: sessions.length, remaining: left.events + left.sessions > 0 };
}

// Counters only grow within a session, so a snapshot with fewer pageviews+events than the
// stored row is stale (a replay of an old flush) and must not overwrite it.
const SESSION_UPSERT =
  " ON CONFLICT (id) DO UPDATE SET " +
  SESSION_COLUMNS.filter((column) => column !== "id").map((column) => `${column} = excluded.${column}`).join(", ") +
  " WHERE excluded.pageviews + excluded.events >= sessions.pageviews + sessions.events";

/** Multi-row INSERTs, as many rows per statement as fit in MAX_PARAMS_PER_STATEMENT. */
function insertStatements<Row>(
  db: D1Database,
  table: string,
  columns: readonly (keyof Row & string)[],
  rows: Row[],
  verb: string,
  suffix: string,
): D1PreparedStatement[] {
  const perStatement = Math.floor(MAX_PARAMS_PER_STATEMENT / columns.length);
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const sqlText = `${verb} ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")}${suffix}`;
    const params = chunk.flatMap((row) => columns.map((column) => (row[column] ?? null) as unknown));
    statements.push(db.prepare(sqlText).bind(...params));
  }
  return statements;
}
