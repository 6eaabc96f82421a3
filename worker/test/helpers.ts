// Shared test helpers: site rows, event requests, draining an outbox, a D1 dump, and a D1 wrapper that fails.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { isDrop } from "../src/collector/ingest/drop";
import { outboxSize } from "../src/site-do/outbox";
import { readAnswer } from "../src/site-do/ingest-answer";
import type { ClientInfo, CollectedEvent, SiteSettings } from "../src/contract";
import { NO_ATTRIBUTION } from "../src/rows";

/** Site settings a test may set (the `sites` columns of migration 0002). */
export interface SiteOptions {
  domains?: string[];
  allow_subdomains?: number;
  excluded_paths?: string[];
  rate_limit_visitor?: number;
  rate_limit_site?: number;
  bounce_threshold_ms?: number;
  /** The binding holding the site's data (migration 0015); default DB. */
  database?: string;
}

/** Inserts a site and returns its id. Use a unique domain per test (the site cache is per isolate). */
export async function createSite(domain: string, id = `site-${domain}`, options: SiteOptions = {}): Promise<string> {
  await env.DB.prepare(
    `INSERT INTO sites (id, domain, name, domains, timezone, created_at, allow_subdomains, excluded_paths,
                        rate_limit_visitor, rate_limit_site, bounce_threshold_ms, database)
     VALUES (?, ?, ?, ?, 'UTC', 0, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id, domain, domain, JSON.stringify(options.domains ?? [domain]), options.allow_subdomains ?? 0,
      JSON.stringify(options.excluded_paths ?? []), options.rate_limit_visitor ?? 120, options.rate_limit_site ?? 0,
      options.bounce_threshold_ms ?? 10_000, options.database ?? "DB",
    )
    .run();
  return id;
}

export const CHROME_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/** POSTs an event body to the Worker as the tracker would (text/plain JSON). */
export function postEvent(body: unknown, headers: Record<string, string> = {}, cf?: Record<string, unknown>): Promise<Response> {
  return exports.default.fetch("https://collector.test/api/event", {
    method: "POST",
    cf,
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "Content-Type": "text/plain", "User-Agent": CHROME_UA, "CF-Connecting-IP": "203.0.113.7", ...headers },
  });
}

/** The SiteDO stub of a site, as the Worker addresses it. */
export function siteStub(siteId: string) {
  return env.SITE_DO.get(env.SITE_DO.idFromName(siteId));
}

/**
 * Runs a DO's alarm until its outbox is empty (at most `rounds` times) and says whether it is.
 * Not "until no alarm is left": one stays pending for the expiry of the DO's salts.
 */
export async function drainOutbox(stub: ReturnType<typeof siteStub>, rounds = 100): Promise<boolean> {
  const waiting = () => runInDurableObject(stub, (_instance, state) => Object.values(outboxSize(state.storage.sql)).some((n) => n > 0));
  for (let round = 0; round < rounds && (await waiting()); round++) await runDurableObjectAlarm(stub);
  return !(await waiting());
}

/** Calls SiteDO.ingest and fails the test when the DO drops the event. */
export async function ingestOk(
  stub: ReturnType<typeof siteStub>,
  event: CollectedEvent,
  client: ClientInfo,
  settings?: SiteSettings,
): Promise<{ visitorId: string; sessionId: string }> {
  const result = readAnswer(await stub.ingest(event, client, settings));
  if (isDrop(result)) throw new Error(`unexpected drop: ${result.reason}`);
  return result as { visitorId: string; sessionId: string };
}

/** Rows of a D1 table for one site, oldest first, from the home database or `db`. */
export async function rows<T = Record<string, unknown>>(table: "events" | "sessions" | "ingest_drops", siteId: string, db: D1Database = env.DB): Promise<T[]> {
  const order = table === "events" ? "ts, id" : table === "sessions" ? "started_at, id" : "day, reason, category";
  const result = await db.prepare(`SELECT * FROM ${table} WHERE site_id = ? ORDER BY ${order}`).bind(siteId).all<T>();
  return result.results;
}

/**
 * A D1Database whose batch() fails the first `failures` calls, then delegates to `db`. With
 * `commitThenFail`, the batch is committed and the error thrown afterwards: the "D1 wrote it but
 * the answer was lost" case that makes flushes replay.
 */
export function flakyD1(db: D1Database, failures: number, { commitThenFail = false } = {}) {
  const calls = { batch: 0, failed: 0 };
  const wrapper = new Proxy(db, {
    get(target, property) {
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          calls.batch++;
          if (calls.failed < failures) {
            calls.failed++;
            if (commitThenFail) await target.batch(statements);
            throw new Error("D1_ERROR: simulated outage");
          }
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapper, calls };
}

/** A hex string (SQLite's `hex()`) holding the UTF-8 form of a UTF-16 surrogate: ED A0..BF xx. */
export function hasSurrogateBytes(hex: string): boolean {
  return /^(?:[0-9A-F]{2})*?ED[AB][0-9A-F]/.test(hex);
}

/**
 * The `table.column`s of a site's rows in D1 that hold a surrogate's bytes (invalid UTF-8: the
 * kind of value that makes every later read of the row fail to decode), with the offending rows'
 * count. Every TEXT column of `events` and `sessions` is looked at, as bytes (`hex`), and the
 * keys and values of `events.props` as SQLite's JSON functions decode them.
 */
export async function surrogateColumns(siteId: string): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const table of ["events", "sessions"]) {
    const columns = await env.DB.prepare(`SELECT name FROM pragma_table_info('${table}') WHERE type = 'TEXT'`).all<{ name: string }>();
    for (const { name } of columns.results) {
      const values = await env.DB.prepare(`SELECT hex(${name}) AS h FROM ${table} WHERE site_id = ? AND ${name} IS NOT NULL`)
        .bind(siteId)
        .all<{ h: string }>();
      const bad = values.results.filter((row) => hasSurrogateBytes(row.h)).length;
      if (bad > 0) found[`${table}.${name}`] = bad;
    }
  }
  // Props are JSON text, where a surrogate hides as a `\ud800` escape until a report reads it.
  const props = await env.DB.prepare(
    `SELECT hex(p.key) AS k, hex(p.value) AS v FROM events, json_each(events.props) AS p
     WHERE site_id = ? AND json_valid(events.props)`,
  )
    .bind(siteId)
    .all<{ k: string; v: string | null }>();
  const bad = props.results.filter((row) => hasSurrogateBytes(row.k) || hasSurrogateBytes(row.v ?? "")).length;
  if (bad > 0) found["events.props (as JSON)"] = bad;
  return found;
}

/** An accepted event as the Worker hands it to the DO: `fields` over an empty attribution. */
export function collectedEvent(fields: Pick<CollectedEvent, "site_id" | "pathname"> & Partial<CollectedEvent>): CollectedEvent {
  return {
    ...NO_ATTRIBUTION, id: crypto.randomUUID(), ts: Date.now(), name: "pageview", hostname: "test.test",
    props: null, revenue: null, revenue_currency: null, interactive: true, engaged_ms: null, scroll_depth: null, ...fields,
  };
}
