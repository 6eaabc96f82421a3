/**
 * identify()'s traits (migration 0027): the latest value of each declared trait of an identified
 * user waits here, one row per (user, key), and the flush upserts it into D1's `user_traits` in
 * the same batch as the events. `user_id` is the id's keyed hash (user-hash.ts), never the id.
 */
import { jsonArrays } from "../json-arrays";

/** Largest JSON parameter per statement, as for the other outbox rows. */
const MAX_JSON_PARAM_BYTES = 90_000;

/** Creates the trait outbox if it does not exist yet. Idempotent. */
export function migrateTraits(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS trait_outbox (
    site_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (site_id, user_id, key)
  )`);
}

/** Keeps each trait as the user's latest unless a later value is waiting already (two tabs). */
export function enqueueTraits(sql: SqlStorage, event: { site_id: string; ts: number }, userId: string, traits: readonly [string, string][]): void {
  for (const [key, value] of traits) {
    sql.exec(
      `INSERT INTO trait_outbox (site_id, user_id, key, value, ts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (site_id, user_id, key) DO UPDATE SET value = excluded.value, ts = excluded.ts WHERE excluded.ts >= trait_outbox.ts`,
      event.site_id,
      userId,
      key,
      value,
      event.ts,
    );
  }
}

/** The waiting traits as D1 statements, and what to delete once D1 confirmed them. */
export function traitFlush(sql: SqlStorage, db: D1Database, batchRows: number): { statements: D1PreparedStatement[]; done: () => void } {
  const rows = sql
    .exec<{ site_id: string; user_id: string; key: string; value: string; ts: number }>(
      "SELECT site_id, user_id, key, value, ts FROM trait_outbox ORDER BY ts LIMIT ?",
      batchRows,
    )
    .toArray();
  if (rows.length === 0) return { statements: [], done: () => {} };
  const tuples = rows.map((row) => JSON.stringify([row.site_id, row.user_id, row.key, row.value, row.ts]));
  // An older value never replaces a newer one, so a replayed flush is harmless. Only sites that
  // still exist: a deleted site's rows would outlive it.
  const text = `INSERT INTO user_traits (site, user_id, key, value, ts)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]')
    FROM json_each(?) WHERE EXISTS (SELECT 1 FROM sites WHERE sites.id = json_extract(value, '$[0]'))
    ON CONFLICT (site, user_id, key) DO UPDATE SET value = excluded.value, ts = excluded.ts WHERE excluded.ts >= user_traits.ts`;
  return {
    statements: jsonArrays(tuples, MAX_JSON_PARAM_BYTES).map((array) => db.prepare(text).bind(array)),
    // Only the rows sent: a value replaced meanwhile (a later ts) stays for the next flush.
    done: () =>
      sql.exec(
        `DELETE FROM trait_outbox WHERE (site_id, user_id, key, ts) IN
           (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[4]') FROM json_each(?))`,
        `[${tuples.join(",")}]`,
      ),
  };
}

/** Traits waiting in the outbox. */
export function traitsWaiting(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM trait_outbox").one().n;
}
