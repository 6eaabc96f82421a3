/**
 * Where a SiteDO's outbox goes: the database its site is placed in (`sites.database`). The DO
 * learns it with the settings of every ingest and keeps it in storage, so an alarm that runs in
 * a fresh instance (after an eviction or a deploy) still flushes where the rows belong.
 */
import { databaseNamed, HOME_DATABASE } from "../databases";
import { copyForFlush, homeSite } from "../rollup/site-copies";

/** The site a DO serves and the binding its rows go to. */
export interface FlushTarget {
  siteId: string;
  database: string;
}

/** Creates the one-row table if it does not exist yet. Idempotent. */
export function migrateFlushTarget(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS flush_target (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    site_id TEXT NOT NULL,
    database TEXT NOT NULL
  )`);
}

/** The stored target behind an in-memory copy: ingest writes only when it changes. */
export class FlushTargets {
  private current: FlushTarget | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  /** The target; null for a DO that has not ingested since this table exists (its rows are the home database's). */
  get(): FlushTarget | null {
    this.current ??= this.sql.exec<{ site_id: string; database: string }>("SELECT site_id, database FROM flush_target").toArray()
      .map((row) => ({ siteId: row.site_id, database: row.database }))[0] ?? null;
    return this.current;
  }

  /** Records the target; synchronous, so it commits with the ingest's outbox rows. */
  set(siteId: string, database: string): void {
    const current = this.get();
    if (current?.siteId === siteId && current.database === database) return;
    this.sql.exec("INSERT OR REPLACE INTO flush_target (id, site_id, database) VALUES (0, ?, ?)", siteId, database);
    this.current = { siteId, database };
  }
}

/** A flush's database and the statements its batch starts with. */
export interface FlushDestination {
  name: string;
  db: D1Database;
  before: D1PreparedStatement[];
}

/**
 * Resolves a target. The home database needs nothing more. A data database first gets the
 * site's `sites` copy from the home row (site-copies.ts); when that row names another database
 * (the site was moved and this DO has not seen the new settings yet), the rows go there at once.
 * @throws UnknownDatabase when the binding does not exist: the rows stay in the outbox.
 */
export async function flushDestination(bindings: object, home: D1Database, target: FlushTarget | null): Promise<FlushDestination> {
  if (target === null || target.database === HOME_DATABASE) return { name: HOME_DATABASE, db: home, before: [] };
  const row = await homeSite(home, target.siteId);
  const name = typeof row?.database === "string" ? row.database : target.database;
  if (name === HOME_DATABASE) return { name, db: home, before: [] };
  const db = databaseNamed(bindings, name);
  return { name, db, before: copyForFlush(db, target.siteId, row) };
}
