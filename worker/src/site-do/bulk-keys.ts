/**
 * Idempotency keys of bulk-ingested events (collector/bulk): the keys this site's DO has
 * stored an event for, so a retried batch is not counted twice. A key is written in the same
 * synchronous stretch, so the same storage commit, as its event's outbox row: either both are
 * durable or neither is, and a key never stands for an event that was lost.
 *
 * Bounded in time, not in count: a key is kept while its event's timestamp is inside the bulk
 * window (BULK_PAST_WINDOW_MS) plus a margin. Once it is gone, a retry of that event is refused
 * as too old by the window itself, so forgetting a key can never let an event count twice.
 */
import type { ClientInfo, CollectedEvent } from "../contract";
import type { DropReason } from "../words";

/** How far back a bulk event's own timestamp may lie (its UTC day's salt must still exist). */
export const BULK_PAST_WINDOW_MS = 24 * 60 * 60 * 1000;
/** How far ahead of the collector's clock a bulk event's timestamp may lie (clock skew). */
export const BULK_FUTURE_SKEW_MS = 5 * 60 * 1000;
/** Keys outlive the window by this much, so the window always refuses first. */
const KEY_MARGIN_MS = 60 * 60 * 1000;

/** Creates the table if it does not exist yet. Idempotent; run in the DO constructor. */
export function migrateBulkKeys(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS bulk_keys (key TEXT PRIMARY KEY, ts INTEGER NOT NULL) WITHOUT ROWID");
  sql.exec("CREATE INDEX IF NOT EXISTS bulk_keys_ts ON bulk_keys (ts)");
}

/** True when an event with `key` was stored already. */
export function seenKey(sql: SqlStorage, key: string): boolean {
  return sql.exec("SELECT 1 FROM bulk_keys WHERE key = ?", key).toArray().length > 0;
}

/** Remembers `key` for an event of time `ts` (call with the event's outbox write). */
export function rememberKey(sql: SqlStorage, key: string, ts: number): void {
  sql.exec("INSERT OR IGNORE INTO bulk_keys (key, ts) VALUES (?, ?)", key, ts);
}

/** Forgets the keys whose events the window refuses by now anyway; returns how many. */
export function pruneKeys(sql: SqlStorage, now: number): number {
  return sql.exec("DELETE FROM bulk_keys WHERE ts < ?", now - BULK_PAST_WINDOW_MS - KEY_MARGIN_MS).rowsWritten;
}

/** One bulk event for the DO: the enriched event, its sender's client and its key (or null). */
export interface BulkItem {
  event: CollectedEvent;
  client: ClientInfo;
  key: string | null;
}

/** What the DO did with a bulk event: stored, refused here, or dropped like a browser event. */
export interface BulkOutcome {
  outcome: "accepted" | "duplicate" | "out_of_order" | DropReason;
  message?: string;
}
