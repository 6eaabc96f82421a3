// More than one D1 database (issue 14): each site's events go to the database it is placed in,
// the cron rolls up every database (a failing one stops no other), a moved site's flushes follow
// it, a site placed in an unbound database keeps its events, and archives use the site's database.
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { archiveTokenKey } from "../src/collector/archive-routes";
import { signToken } from "../src/collector/realtime/token";
import { clearSiteCache } from "../src/collector/site-lookup";
import { runCronEverywhere } from "../src/rollup/cron";
import { outboxSize } from "../src/site-do/outbox";
import { createSite, drainOutbox, postEvent, rows, siteStub } from "./helpers";

const DB_2 = env.DB_2 as D1Database;
const DAY_MS = 86_400_000;

function pageview(domain: string, path = "/") {
  return postEvent({ n: "pageview", u: `https://${domain}${path}`, d: domain });
}

async function eventCount(db: D1Database, siteId: string): Promise<number> {
  return (await rows("events", siteId, db)).length;
}

async function rolledDays(db: D1Database, siteId: string): Promise<string[]> {
  const { results } = await db.prepare("SELECT day FROM rollup_days WHERE site_id = ? AND tz = 'UTC' ORDER BY day").bind(siteId).all<{ day: string }>();
  return results.map((row) => row.day);
}

async function copies(db: D1Database): Promise<string[]> {
  return (await db.prepare("SELECT id FROM sites ORDER BY id").all<{ id: string }>()).results.map((row) => row.id);
}

/** One visit (an event and its session) written straight into `db`. */
async function visit(db: D1Database, siteId: string, id: string, ts: number): Promise<void> {
  await db.batch([
    db.prepare("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname) VALUES (?, ?, ?, 'pageview', ?, ?, 'x.test', '/')")
      .bind(`e-${id}`, siteId, ts, `v-${id}`, `s-${id}`),
    db.prepare(`INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page, pageviews, events, duration_ms, is_bounce)
      VALUES (?, ?, ?, ?, ?, 'x.test', '/', '/', 1, 1, 0, 1)`).bind(`s-${id}`, siteId, `v-${id}`, ts, ts),
  ]);
}

/** A D1 binding that is down: every statement fails. */
const downDatabase = (name: string) => ({
  prepare() {
    throw new Error(`D1_ERROR: ${name} is down`);
  },
  batch() {
    throw new Error(`D1_ERROR: ${name} is down`);
  },
}) as unknown as D1Database;

afterEach(() => vi.restoreAllMocks());

describe("two databases", () => {
  it("writes each site's events to its own database only, and the cron rolls up both", async () => {
    const home = await createSite("home.multi.test", "m-home");
    const data = await createSite("data.multi.test", "m-data", { database: "DB_2" });
    await DB_2.prepare("INSERT INTO sites (id, domain, name, created_at, database) VALUES ('m-gone', 'gone.multi.test', 'gone', 0, 'DB_2')").run();
    for (const path of ["/a", "/b"]) {
      expect((await pageview("home.multi.test", path)).status).toBe(202);
      expect((await pageview("data.multi.test", path)).status).toBe(202);
    }
    expect(await drainOutbox(siteStub(home))).toBe(true);
    expect(await drainOutbox(siteStub(data))).toBe(true);

    expect([await eventCount(env.DB, home), await eventCount(DB_2, home)]).toEqual([2, 0]);
    expect([await eventCount(env.DB, data), await eventCount(DB_2, data)]).toEqual([0, 2]);
    expect(await rows("sessions", data, DB_2)).toHaveLength(1);
    expect(await rows("sessions", data)).toHaveLength(0);
    // The flush copied the site's row before any cron ran: its writes needed it.
    expect(await copies(DB_2)).toContain(data);

    const controller = createScheduledController({ scheduledTime: Date.now() + 2 * DAY_MS, cron: "*/15 * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    const today = new Date().toISOString().slice(0, 10);
    expect([await rolledDays(env.DB, home), await rolledDays(DB_2, home)]).toEqual([[today], []]);
    expect([await rolledDays(env.DB, data), await rolledDays(DB_2, data)]).toEqual([[], [today]]);
    // The copies are the home rows placed in DB_2, nothing else; the home `sites` keeps every site.
    const inDb2 = await copies(DB_2);
    expect(inDb2).toContain(data);
    expect(inDb2).not.toContain(home);
    expect(inDb2).not.toContain("m-gone");
    expect(await copies(env.DB)).toEqual(expect.arrayContaining([home, data]));
  });

  it("sends a moved site's new flushes to its new database once the site cache has expired", async () => {
    const siteId = await createSite("moved.multi.test", "m-moved");
    const stub = siteStub(siteId);
    await pageview("moved.multi.test", "/1");
    await drainOutbox(stub);
    // What `analytics-941 sites move` does last; the collector's cached lookup still says DB.
    await env.DB.prepare("UPDATE sites SET database = 'DB_2' WHERE id = ?").bind(siteId).run();
    await pageview("moved.multi.test", "/2");
    await drainOutbox(stub);
    expect([await eventCount(env.DB, siteId), await eventCount(DB_2, siteId)]).toEqual([2, 0]);

    clearSiteCache(); // the cache entry expires
    await pageview("moved.multi.test", "/3");
    await drainOutbox(stub);
    expect([await eventCount(env.DB, siteId), await eventCount(DB_2, siteId)]).toEqual([2, 1]);

    // Moved back while rows wait for DB_2: a flush to a data database reads the home row and follows it at once.
    await pageview("moved.multi.test", "/4");
    await env.DB.prepare("UPDATE sites SET database = 'DB' WHERE id = ?").bind(siteId).run();
    await drainOutbox(stub);
    expect([await eventCount(env.DB, siteId), await eventCount(DB_2, siteId)]).toEqual([3, 1]);
  });

  it("keeps the events of a site placed in an unbound database, logs it and retries, then delivers them", async () => {
    const siteId = await createSite("unbound.multi.test", "m-unbound", { database: "DB_9" });
    const stub = siteStub(siteId);
    expect((await pageview("unbound.multi.test")).status).toBe(202);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const before = Date.now();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_instance, state) => outboxSize(state.storage.sql))).toMatchObject({ events: 1, sessions: 1 });
    expect(String(errors.mock.calls[0]?.[1])).toContain('"DB_9"');
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeGreaterThan(before);

    await env.DB.prepare("UPDATE sites SET database = 'DB_2' WHERE id = ?").bind(siteId).run();
    expect(await drainOutbox(stub)).toBe(true);
    expect(await eventCount(DB_2, siteId)).toBe(1);
  });
});

describe("the cron over every database", () => {
  const NOW = Date.UTC(2026, 1, 20, 6);
  const AT = Date.UTC(2026, 1, 10, 12);

  it("rolls up the home database while DB_2 is down, and rethrows DB_2's error at the end", async () => {
    await createSite("cron-home.multi.test", "c-home");
    await visit(env.DB, "c-home", "c1", AT);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await expect(runCronEverywhere({ DB: env.DB, DB_2: downDatabase("DB_2") }, NOW)).rejects.toThrow("DB_2 is down");
    expect(await rolledDays(env.DB, "c-home")).toEqual(["2026-02-10"]);
    expect(errors.mock.calls.map((call) => String(call[0]))).toEqual(expect.arrayContaining([expect.stringContaining("database DB_2")]));
  });

  it("rolls up DB_2 on its last copies while the home database is down", async () => {
    await createSite("cron-data.multi.test", "c-data", { database: "DB_2" });
    await runCronEverywhere(env, AT - DAY_MS); // copies the site row into DB_2
    await visit(DB_2, "c-data", "c2", AT);
    vi.spyOn(console, "error").mockImplementation(() => {});
    await expect(runCronEverywhere({ DB: downDatabase("DB"), DB_2 }, NOW)).rejects.toThrow("DB is down");
    expect(await rolledDays(DB_2, "c-data")).toEqual(["2026-02-10"]);
  });
});

describe("archives of a site in a data database", () => {
  const NOW = Date.UTC(2026, 0, 20, 6);
  const DAY = "2026-01-10";
  const secret = env.REALTIME_SECRET as string;
  const call = async (siteId: string, path = "", method = "GET") => {
    const bearer = await signToken(await archiveTokenKey(secret), siteId, Math.floor(Date.now() / 1000) + 120);
    return exports.default.fetch(`https://collector.test/api/archive/${siteId}${path}`, { method, headers: { Authorization: `Bearer ${bearer}` } });
  };

  it("are written, listed and restored in the site's database", async () => {
    await createSite("arc.multi.test", "a-data", { database: "DB_2" });
    await env.DB.prepare("UPDATE sites SET retention_days = 2, archive_raw = 1 WHERE id = 'a-data'").run();
    await visit(DB_2, "a-data", "a1", Date.UTC(2026, 0, 10, 12));
    await runCronEverywhere(env, NOW); // copies the site, rolls the day up, archives and purges it

    expect(await eventCount(DB_2, "a-data")).toBe(0);
    const listedIn = (db: D1Database) => db.prepare("SELECT day FROM raw_archives WHERE site_id = 'a-data'").all();
    expect((await listedIn(DB_2)).results).toEqual([{ day: DAY }]);
    expect((await listedIn(env.DB)).results).toEqual([]);
    expect(await (await call("a-data")).json()).toMatchObject({ archives: [{ day: DAY, events: 1, sessions: 1 }] });

    await env.DB.prepare("UPDATE sites SET retention_days = NULL WHERE id = 'a-data'").run();
    expect(await (await call("a-data", `/${DAY}/restore`, "POST")).json()).toMatchObject({ events: 1, sessions: 1 });
    expect([await eventCount(env.DB, "a-data"), await eventCount(DB_2, "a-data")]).toEqual([0, 1]);
  });

  it("answer 503 database_unknown for a site placed in an unbound database", async () => {
    await createSite("arc-lost.multi.test", "a-lost", { database: "DB_9" });
    const response = await call("a-lost");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: "database_unknown" });
  });
});
