/**
 * The Durable Object's part of an erasure (issue 17, docs/privacy.md "Erasure and access
 * requests"). The dashboard deletes an identified user's rows from D1, but the site's DO may
 * still hold more of them: a visit going on (live_sessions), and rows waiting for the next flush
 * (the outbox, about a second). Left there, the next flush would write the visit back after the
 * erasure. So the erasure first asks the DO to forget them (SiteDO.forgetUser, through
 * collector/user-hash-route.ts), then deletes from D1.
 *
 * Forgotten: every live session identified as the user, every outbox snapshot of a session of
 * theirs (a visit already replaced by another user's, or timed out, may still wait there), the
 * events of those sessions, the engagement and web vitals waiting for their pageviews, and the
 * user's waiting traits. The browser's next event finds no live session and starts a fresh,
 * anonymous visit (unless the site identifies the person again: new data, after the request).
 * The realtime view keeps its counts, which hold no id and no session.
 */
import { EVENT_COLUMNS, SESSION_COLUMNS } from "../rows";
import type { LiveSession } from "./session";
import type { LiveSessions } from "./site-storage";

/** What forgetUser removed: the user's visits, and the outbox rows of any kind. */
export interface Forgotten {
  sessions: number;
  rows: number;
}

/**
 * Removes what the DO holds of the user whose stored id (the keyed hash, user-hash.ts) is
 * `userId`; see the module comment. Synchronous, so no event is registered halfway through.
 */
export function forgetUser(sql: SqlStorage, live: LiveSessions, userId: string): Forgotten {
  const sessionIds = new Set<string>();
  const pageIds = new Set<string>();
  const visitors: string[] = [];
  for (const row of sql.exec<{ visitor_id: string; session: string }>(
    "SELECT visitor_id, session FROM live_sessions WHERE json_extract(session, '$.user_id') = ?",
    userId,
  )) {
    const session = JSON.parse(row.session) as LiveSession;
    visitors.push(row.visitor_id);
    sessionIds.add(session.id);
    for (const page of session.pages ?? []) pageIds.add(page.id);
  }
  for (const row of sql.exec<{ session_id: string }>(`SELECT session_id FROM session_outbox WHERE ${column("user_id", SESSION_USER)} = ?`, userId)) {
    sessionIds.add(row.session_id);
  }
  const sessions = JSON.stringify([...sessionIds]);
  const inSessions = `${column("session_id", EVENT_SESSION)} IN (SELECT value FROM json_each(?))`;
  for (const row of sql.exec<{ id: string }>(`SELECT id FROM event_outbox WHERE ${inSessions}`, sessions)) pageIds.add(row.id);
  const pages = JSON.stringify([...pageIds]);

  let rows = 0;
  rows += sql.exec(`DELETE FROM event_outbox WHERE ${inSessions}`, sessions).rowsWritten;
  rows += sql.exec("DELETE FROM session_outbox WHERE session_id IN (SELECT value FROM json_each(?))", sessions).rowsWritten;
  rows += sql.exec("DELETE FROM engagement_outbox WHERE event_id IN (SELECT value FROM json_each(?))", pages).rowsWritten;
  rows += sql.exec("DELETE FROM vitals_outbox WHERE event_id IN (SELECT value FROM json_each(?))", pages).rowsWritten;
  rows += sql.exec("DELETE FROM trait_outbox WHERE user_id = ?", userId).rowsWritten;
  live.remove(visitors);
  return { sessions: sessionIds.size, rows };
}

const SESSION_USER = SESSION_COLUMNS.indexOf("user_id");
const EVENT_SESSION = EVENT_COLUMNS.indexOf("session_id");

/** A column of an outbox `row`: a JSON tuple in column order, or an object (older rows, outbox.ts). */
function column(name: string, index: number): string {
  return `CASE WHEN substr(row, 1, 1) = '[' THEN json_extract(row, '$[${index}]') ELSE json_extract(row, '$.${name}') END`;
}
