/**
 * Copies of `sites` rows in data databases. The rollup, purge and flush SQL of a database joins
 * `sites` (timezone, retention, existence), so a data database holds a copy of the rows of the
 * sites placed in it. The home database's `sites` is the truth: the cron refreshes every copy
 * from it at the start of each run, and a flush to a data database refreshes its own site's copy
 * in the flush's transaction (so a site created a second ago, or deleted, is seen at once).
 */
import { jsonArrays } from "../json-arrays";

/** A `sites` row as D1 returns it (`SELECT *`). */
export type SiteRecord = Record<string, unknown> & { id: string };

/** Largest JSON parameter of one copy statement, far below D1's 100 KB limit. */
const MAX_COPY_PARAM_BYTES = 60_000;
/** Ids per DELETE of stale copies. */
const DELETE_IDS_PER_STATEMENT = 500;

const COLUMN = /^[a-z_][a-z0-9_]*$/;

/**
 * Statements writing `rows` over their copies. INSERT OR REPLACE, not an upsert on `id`: a
 * copy holding a domain another site has taken since is replaced too, where an upsert would fail
 * on `domain`'s UNIQUE constraint.
 */
export function copyStatements(db: D1Database, rows: readonly SiteRecord[]): D1PreparedStatement[] {
  const columns = Object.keys(rows[0] ?? {}).filter((column) => COLUMN.test(column));
  if (columns.length === 0) return [];
  const sql = `INSERT OR REPLACE INTO sites (${columns.join(", ")})
    SELECT ${columns.map((c) => `json_extract(value, '$.${c}')`).join(", ")} FROM json_each(?1)`;
  const texts = rows.map((row) => JSON.stringify(row));
  return jsonArrays(texts, MAX_COPY_PARAM_BYTES).map((array) => db.prepare(sql).bind(array));
}

/** Statements deleting the copies of `ids`. */
export function deleteStatements(db: D1Database, ids: readonly string[]): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < ids.length; i += DELETE_IDS_PER_STATEMENT) {
    const param = JSON.stringify(ids.slice(i, i + DELETE_IDS_PER_STATEMENT));
    statements.push(db.prepare("DELETE FROM sites WHERE id IN (SELECT value FROM json_each(?1))").bind(param));
  }
  return statements;
}

/**
 * Makes `data`'s `sites` hold exactly the home rows placed in database `name`, in one batch.
 * Never called for the home database itself, whose `sites` is the original.
 */
export async function syncSiteCopies(home: D1Database, name: string, data: D1Database): Promise<{ copied: number; deleted: number }> {
  const placed = await home.prepare("SELECT * FROM sites WHERE database = ? ORDER BY id").bind(name).all<SiteRecord>();
  const present = await data.prepare("SELECT id FROM sites").all<{ id: string }>();
  const keep = new Set(placed.results.map((row) => row.id));
  const gone = present.results.map((row) => row.id).filter((id) => !keep.has(id));
  // Stale copies first: one of them may hold a domain a placed site now has.
  const statements = [...deleteStatements(data, gone), ...copyStatements(data, placed.results)];
  if (statements.length > 0) await data.batch(statements);
  return { copied: placed.results.length, deleted: gone.length };
}

/** The home row of a site (null: deleted), as a flush to a data database reads it first. */
export function homeSite(home: D1Database, siteId: string): Promise<SiteRecord | null> {
  return home.prepare("SELECT * FROM sites WHERE id = ?").bind(siteId).first<SiteRecord>();
}

/**
 * What a flush to a data database starts with, in its transaction: the site's copy as the home
 * database has it, or no copy when the site is gone (the flush's "site exists" check then keeps
 * its rows out, as it does for a deleted site in the home database).
 */
export function copyForFlush(data: D1Database, siteId: string, row: SiteRecord | null): D1PreparedStatement[] {
  return row ? copyStatements(data, [row]) : deleteStatements(data, [siteId]);
}
