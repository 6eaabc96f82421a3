// Applies migrations/ to the test D1 databases, the home DB and the data database DB_2. Safe to
// run per test file: applyD1Migrations skips migrations that are already recorded.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
if (env.DB_2) await applyD1Migrations(env.DB_2, env.TEST_MIGRATIONS);
