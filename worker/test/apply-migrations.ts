// Applies migrations/ to the test D1 databases, the home DB and the data database DB_2, then
// finishes the table rebuilds they start (the cron's job on a deployment), so the tests run on
// schema.sql's layout. Safe to run per test file: applyD1Migrations skips migrations that are
// already recorded, and a finished rebuild has no step left.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { rebuildTables } from "../src/rollup/rebuilds";

for (const db of [env.DB, env.DB_2]) {
  if (!db) continue;
  await applyD1Migrations(db, env.TEST_MIGRATIONS);
  while ((await rebuildTables(db, Date.now())) > 0);
}
