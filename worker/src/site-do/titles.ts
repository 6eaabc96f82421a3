/**
 * Page titles (migration 0026): the latest title of each path waits here, one row per path, and
 * the flush upserts it into D1's `page_titles` in the same batch as the events. Titles repeat on
 * every view of a page, so neither the outbox nor D1 keeps one per event.
 */
import { jsonArrays } from "../json-arrays";

/** Largest JSON parameter per statement, as for the other outbox rows. */
const MAX_JSON_PARAM_BYTES = 90_000;

/** Creates the title outbox if it does not exist yet. Idempotent. */
export function migrateTitles(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS title_outbox (
    site_id TEXT NOT NULL,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (site_id, path)
  )`);
}

/** Keeps `title` as the path's latest unless a later one is waiting already (two tabs). */
export function enqueueTitle(sql: SqlStorage, page: { site_id: string; pathname: string; ts: number }, title: string): void {
  sql.exec(
    `INSERT INTO title_outbox (site_id, path, title, ts) VALUES (?, ?, ?, ?)
     ON CONFLICT (site_id, path) DO UPDATE SET title = excluded.title, ts = excluded.ts WHERE excluded.ts >= title_outbox.ts`,
    page.site_id,
    page.pathname,
    title,
    page.ts,
  );
}

/** The waiting titles as D1 statements, and what to delete once D1 confirmed them. */
export function titleFlush(sql: SqlStorage, db: D1Database, batchRows: number): { statements: D1PreparedStatement[]; done: () => void } {
  const rows = sql
    .exec<{ site_id: string; path: string; title: string; ts: number }>("SELECT site_id, path, title, ts FROM title_outbox ORDER BY ts LIMIT ?", batchRows)
    .toArray();
  if (rows.length === 0) return { statements: [], done: () => {} };
  const tuples = rows.map((row) => JSON.stringify([row.site_id, row.path, row.title, row.ts]));
  // An older title never replaces a newer one, so a replayed flush is harmless. Only sites that
  // still exist: a deleted site's rows would outlive it.
  const text = `INSERT INTO page_titles (site, path, title, ts)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]')
    FROM json_each(?) WHERE EXISTS (SELECT 1 FROM sites WHERE sites.id = json_extract(value, '$[0]'))
    ON CONFLICT (site, path) DO UPDATE SET title = excluded.title, ts = excluded.ts WHERE excluded.ts >= page_titles.ts`;
  return {
    statements: jsonArrays(tuples, MAX_JSON_PARAM_BYTES).map((array) => db.prepare(text).bind(array)),
    // Only the rows sent: a title replaced meanwhile (a later ts) stays for the next flush.
    done: () =>
      sql.exec(
        `DELETE FROM title_outbox WHERE (site_id, path, ts) IN
           (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[3]') FROM json_each(?))`,
        `[${tuples.join(",")}]`,
      ),
  };
}

/** Titles waiting in the outbox. */
export function titlesWaiting(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM title_outbox").one().n;
}
