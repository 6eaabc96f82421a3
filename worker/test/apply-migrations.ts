// Applies migrations/ to the test D1 database. Safe to run per test file: applyD1Migrations
// skips migrations that are already recorded.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
