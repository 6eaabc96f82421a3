/**
 * The Worker's cron (`scheduled`): first the rollups — recompute the closed site-local days that
 * have new or changed rows (rollup_dirty, filled by triggers), oldest first, each in a few short
 * calls (ROLLUP_STEPS), the twin of `refresh_rollups` in src/analytics_941/rollups/jobs.py, running
 * the same generated SQL; then the goal rollups of rolled-up days (goals.ts), and their journey
 * rollups (journeys.ts) and saved funnels' rollups (funnels.ts); then a month of the
 * rollups per frequent filter value (frequent.ts) —
 * then the retention purge (purge.ts), which deletes only days the rollups already answer for,
 * after writing them to R2 for sites that archive raw rows (archive.ts) — then steps of pending
 * table rebuilds (rebuilds.ts, after a migration such as 0016). All of it runs in each
 * bound database (runCronEverywhere), each on the data of the sites placed in it; then, once,
 * the due email reports and the webhooks' safety net (reports/outgoing.ts).
 */
import { env as workerEnv } from "cloudflare:workers";
import { allDatabases, databaseNamed, HOME_DATABASE } from "../databases";
import type { Env } from "../env";
import { sendOutgoing } from "../reports/outgoing";
import { AFTER_ROLLUPS_QUERIES, BudgetSpent, budgeted, CRON_D1_QUERIES, QueryBudget } from "./budget";
import { MAX_ARCHIVE_DAYS_PER_RUN } from "./archive";
import { dayBounds, localDay } from "./days";
import { refreshFrequentMonths, type FrequentMonth } from "./frequent";
import { refreshFunnelRollups, type FunnelDay } from "./funnels";
import { refreshGoalRollups, type GoalDay } from "./goals";
import { refreshJourneyRollups, type JourneyDay } from "./journeys";
import { pruneDays, type PrunedDay } from "./prune";
import { MAX_PURGE_ROUNDS, purgeExpired, type PurgeResult } from "./purge";
import { rebuildTables } from "./rebuilds";
import { syncSiteCopies } from "./site-copies";
import { DIRTY_SQL, FREQUENT_DAY_STATEMENTS, GAP_DAYS_SQL, FREQUENT_MIN_VISITS, FREQUENT_RECENT_MS, GRACE_MS, MAX_DAYS_PER_RUN, MAX_MONTHS_PER_RUN, RETIME_STATEMENTS, ROLLUP_STEPS, SLOT_MS, type RollupParam } from "./statements";

/** A recomputed day. */
export interface RolledDay {
  siteId: string;
  day: string;
}

export { MAX_DAYS_PER_RUN };

/** Recomputes one day of one site step by step, then its rows per frequent value. */
export async function rollupDay(db: D1Database, siteId: string, day: string, tz: string, nowMs: number, minVisits = FREQUENT_MIN_VISITS): Promise<void> {
  const [start, end] = dayBounds(day, tz);
  const values: Record<RollupParam, string | number> = {
    site_id: siteId,
    units: JSON.stringify([[start, end, 0, day]]),
    day,
    tz,
    computed_at: nowMs,
    start_ms: start,
    end_ms: end,
    min_visits: minVisits,
  };
  // A step a call: D1 answers readers and ingest flushes between them (see rollup_steps).
  for (const step of ROLLUP_STEPS) {
    const statements = step.map((s) => db.prepare(s.sql).bind(...s.params.map((p) => values[p])));
    if (statements.length === 1) await statements[0]?.run();
    else await db.batch(statements);
  }
  // A recent day's rows per frequent value: one call each, so the batch (one transaction, during
  // which D1 answers nothing else) stays short; the last lists the day only if nothing changed.
  if (start >= nowMs - FREQUENT_RECENT_MS) {
    for (const s of FREQUENT_DAY_STATEMENTS) await db.prepare(s.sql).bind(...s.params.map((p) => values[p])).run();
  }
}

/** A row of DIRTY_SQL. */
export interface DirtySlot {
  site_id: string;
  slot: number;
  tz: string;
}

/**
 * The days to recompute from the dirty slots: each day holding a slot that ended `graceMs` ago,
 * oldest first, at most `maxDays` (the twin of `choose_days` in rollups/jobs.py; a shared fixture
 * checks both). A slot of an unknown timezone is skipped: the dashboard refuses it too.
 */
export function chooseDays(rows: DirtySlot[], nowMs: number, maxDays: number, graceMs = GRACE_MS): (RolledDay & { tz: string })[] {
  const todo = new Map<string, RolledDay & { tz: string }>();
  for (const row of rows) {
    let day: string;
    let end: number;
    try {
      day = localDay(row.slot * SLOT_MS, row.tz);
      end = dayBounds(day, row.tz)[1];
    } catch {
      continue;
    }
    const key = `${row.site_id}\u0000${day}`;
    if (end + graceMs <= nowMs && !todo.has(key)) todo.set(key, { siteId: row.site_id, day, tz: row.tz });
  }
  return [...todo.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0)).slice(0, maxDays);
}

/** Recomputes the dirty closed days (at most `maxDays`) and returns them. */
export async function refreshRollups(db: D1Database, nowMs: number, maxDays = MAX_DAYS_PER_RUN, minVisits = FREQUENT_MIN_VISITS): Promise<RolledDay[]> {
  const ended = Math.floor((nowMs - GRACE_MS) / SLOT_MS);
  await db.batch([...RETIME_STATEMENTS.map((sql) => db.prepare(sql)), db.prepare(GAP_DAYS_SQL).bind(ended)]);
  const { results } = await db.prepare(DIRTY_SQL).bind(ended).all<DirtySlot>();
  const chosen = chooseDays(results, nowMs, maxDays);
  for (const item of chosen) await rollupDay(db, item.siteId, item.day, item.tz, nowMs, minVisits);
  return chosen.map(({ siteId, day }) => ({ siteId, day }));
}

/** What one cron run did. */
export interface CronResult {
  rolled: RolledDay[];
  /** Site-days whose goal rows were redone (goals.ts). */
  goals: GoalDay[];
  /** Site-days whose journey rows were redone (journeys.ts). */
  journeys: JourneyDay[];
  /** Funnel-days whose rows were redone (funnels.ts). */
  funnels: FunnelDay[];
  months: FrequentMonth[];
  /** Days whose rows per filter value were pruned (prune.ts). */
  pruned: PrunedDay[];
  purged: PurgeResult;
  /** Steps of bounded table rebuilds run (rebuilds.ts). */
  rebuilt: number;
}

/**
 * One cron run in one database (`db`, bound as `database`): rollups (days, then months), then the
 * purge, then table rebuilds. The rollups read and write through `rollupDb`, which leaves part of
 * the run's query budget (budget.ts) to the purge and the rebuilds. Every job runs even when an
 * earlier one failed (the purge, for one, only deletes days that are rolled up already). A spent budget ends a job
 * quietly; any other failure is rethrown at the end so the run shows as failed in the cron logs,
 * and the next run retries all.
 */
export async function runCron(
  db: D1Database, nowMs: number, maxDays = MAX_DAYS_PER_RUN, minVisits = FREQUENT_MIN_VISITS, database = HOME_DATABASE,
  rollupDb = db,
  goalsDb = db,
): Promise<CronResult> {
  const failures: unknown[] = [];
  const failed = (error: unknown) => {
    if (!(error instanceof BudgetSpent)) failures.push(error);
  };
  const run = async <T>(job: () => Promise<T>, none: T): Promise<T> => {
    try {
      return await job();
    } catch (error) {
      failed(error);
      return none;
    }
  };
  const rolled = await run(() => refreshRollups(rollupDb, nowMs, maxDays, minVisits), [] as RolledDay[]);
  // Each job below takes only days or months rolled up already, so each is safe after another
  // failed, and one job failing on every run (a bad goal, say) never starves the others. Goals
  // live in `goalsDb`; a month is taken once all its days are rolled up.
  const goals = await run(() => refreshGoalRollups(goalsDb, rollupDb), [] as GoalDay[]);
  const journeys = await run(() => refreshJourneyRollups(rollupDb), [] as JourneyDay[]);
  const funnels = await run(() => refreshFunnelRollups(goalsDb, rollupDb), [] as FunnelDay[]);
  const months = await run(() => refreshFrequentMonths(rollupDb, nowMs, MAX_MONTHS_PER_RUN, minVisits), [] as FrequentMonth[]);
  const pruned = await run(() => pruneDays(rollupDb, nowMs), [] as PrunedDay[]);
  const purged = await run(
    () => purgeExpired(db, nowMs, MAX_PURGE_ROUNDS, workerEnv.ARCHIVE ?? null, MAX_ARCHIVE_DAYS_PER_RUN, database),
    { events: 0, sessions: 0, more: false } as PurgeResult,
  );
  const rebuilt = await run(() => rebuildTables(db, nowMs), 0);
  if (failures.length > 0) throw failures[0];
  return { rolled, goals, journeys, funnels, months, pruned, purged, rebuilt };
}

/**
 * The cron over every bound database (databases.ts), side by side: a data database first gets
 * its `sites` copies refreshed from the home database (site-copies.ts), then runs runCron. A
 * database that fails does not stop the others; the first failure is rethrown once all are done.
 * A failed refresh of the copies is such a failure, but the rollups still run on the copies the
 * previous run left.
 */
export async function runCronEverywhere(
  bindings: object, nowMs: number, maxDays = MAX_DAYS_PER_RUN, minVisits = FREQUENT_MIN_VISITS, queries = CRON_D1_QUERIES,
): Promise<Record<string, CronResult>> {
  // One budget for the whole invocation: D1 counts its queries across databases.
  const budget = new QueryBudget(queries);
  const reserve = Math.min(AFTER_ROLLUPS_QUERIES, Math.floor(queries / 2));
  const databases = allDatabases(bindings).map(({ name, db }) => ({
    name, db: budgeted(db, budget), rollupDb: budgeted(db, budget, reserve),
  }));
  const home = databases.find((d) => d.name === HOME_DATABASE)?.db;
  const failures: unknown[] = [];
  const failed = (name: string, step: string) => (error: unknown) => {
    if (error instanceof BudgetSpent) return; // the next run goes on
    console.error(`cron: ${step} of database ${name} failed`, error);
    failures.push(error);
  };
  const results: Record<string, CronResult> = {};
  await Promise.all(databases.map(async ({ name, db, rollupDb }) => {
    if (name !== HOME_DATABASE && home) await syncSiteCopies(home, name, db).catch(failed(name, "the sites copy"));
    await runCron(db, nowMs, maxDays, minVisits, name, rollupDb, home ?? db).then((result) => (results[name] = result), failed(name, "the run"));
  }));
  // Last, after every database's rollups: the email reports they feed, and webhooks (reports/outgoing.ts).
  const homeRaw = allDatabases(bindings).find((d) => d.name === HOME_DATABASE)?.db;
  if (home && homeRaw) {
    const data = (name: string) => databases.find((d) => d.name === name)?.db ?? databaseNamed(bindings, name);
    await sendOutgoing(bindings as Env, home, data, homeRaw, nowMs).catch(failed(HOME_DATABASE, "the email reports and webhooks"));
  }
  if (failures.length > 0) throw failures[0];
  return results;
}
