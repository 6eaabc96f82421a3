/**
 * The D1 databases of a deployment (docs/deploy.md, "More than one database"): the home `DB`,
 * which holds sites, accounts, drops and the data of the sites placed in it, and optional data
 * databases `DB_2`, `DB_3`, … holding the data of theirs. A site's `sites.database` names its
 * binding. The Worker finds them among its bindings; nothing lists them twice.
 */

/** The home database's binding. */
export const HOME_DATABASE = "DB";

/** What a database binding is called: `DB`, or `DB_` and a number. */
export const DATABASE_BINDING = /^DB(_[0-9]+)?$/;

/** A site placed in a database this Worker has no binding for (a typo, or a binding removed). */
export class UnknownDatabase extends Error {
  constructor(readonly binding: string) {
    super(`no D1 binding named ${JSON.stringify(binding)} (wrangler.toml [[d1_databases]])`);
  }
}

function isD1(value: unknown): value is D1Database {
  return typeof value === "object" && value !== null
    && typeof (value as D1Database).prepare === "function" && typeof (value as D1Database).batch === "function";
}

/** The database bound as `name`; throws UnknownDatabase when there is none. */
export function databaseNamed(bindings: object, name: string): D1Database {
  const value = DATABASE_BINDING.test(name) ? (bindings as Record<string, unknown>)[name] : undefined;
  if (!isD1(value)) throw new UnknownDatabase(name);
  return value;
}

/** Every bound database, the home one first, then DB_2, DB_3, … in number order. */
export function allDatabases(bindings: object): { name: string; db: D1Database }[] {
  const number = (name: string) => (name === HOME_DATABASE ? 0 : Number(name.slice(3)));
  return Object.entries(bindings)
    .filter((entry): entry is [string, D1Database] => DATABASE_BINDING.test(entry[0]) && isD1(entry[1]))
    .sort(([a], [b]) => number(a) - number(b))
    .map(([name, db]) => ({ name, db }));
}
