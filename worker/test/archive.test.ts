// Raw archive before purge: a purged day is in R2 first (header + one line per row), its rows
// come back identical through the admin route, and a day whose file is not proven stored stays.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import contract from "../../tests/fixtures/contracts/archive_tokens.json";
import { archiveTokenKey } from "../src/collector/archive-routes";
import { signToken, verifyToken } from "../src/collector/realtime/token";
import { ARCHIVE_PAGE_ROWS, archiveDay, archiveKey, WEB_VITALS_COLUMNS } from "../src/rollup/archive";
import { refreshRollups, runCron } from "../src/rollup/cron";
import { refreshJourneyRollups } from "../src/rollup/journeys";
import { PURGE_ROWS_PER_STATEMENT, purgeExpired } from "../src/rollup/purge";

const NOW = Date.UTC(2026, 0, 20, 6);
const DAY = "2026-01-10";
const AT = Date.UTC(2026, 0, 10, 12);
const SECRET = env.REALTIME_SECRET as string;

async function site(id: string, { retention = 2 as number | null, archive = 1 } = {}): Promise<void> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at, retention_days, archive_raw) VALUES (?1, ?1 || '.test', ?1, 'UTC', 0, ?2, ?3)")
    .bind(id, retention, archive)
    .run();
}

/** Two visits with every kind of value (text, NULL, JSON props, real revenue), three events. */
async function seedDay(siteId: string): Promise<void> {
  const event = `INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, referrer, source, channel,
    utm_campaign, country, city, browser, props, revenue, engaged_ms, scroll_depth, timezone)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'x.test', ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'Chrome', ?14, ?15, ?16, ?17, 'Europe/Berlin')`;
  const session = `INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page,
    pageviews, events, duration_ms, is_bounce, source, country) VALUES (?1, ?2, ?3, ?4, ?5, 'x.test', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`;
  const vitals = "INSERT INTO web_vitals (site_id, ts, event_id, lcp_ms, inp_ms, cls_e4, fcp_ms, ttfb_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
  await env.DB.batch([
    env.DB.prepare(event).bind(`${siteId}-e1`, siteId, AT, "pageview", "v1", `${siteId}-s1`, "/", "https://news.example/a", "News", "Referral", null, "DE", "Berlin", null, null, 4000, 80),
    env.DB.prepare(event).bind(`${siteId}-e2`, siteId, AT + 60_000, "Signup", "v1", `${siteId}-s1`, "/pricing", null, "News", "Referral", "winter \u{1F600}", "DE", null, '{"plan":"pro","n":"2"}', 12.5, null, null),
    env.DB.prepare(event).bind(`${siteId}-e3`, siteId, AT + 3_600_000, "pageview", "v2", `${siteId}-s2`, "/blog/é", null, null, "Direct", null, null, null, null, null, 1200, 30),
    env.DB.prepare(session).bind(`${siteId}-s1`, siteId, "v1", AT, AT + 60_000, "/", "/pricing", 1, 2, 60_000, 0, "News", "DE"),
    env.DB.prepare(session).bind(`${siteId}-s2`, siteId, "v2", AT + 3_600_000, AT + 3_600_000, "/blog/é", "/blog/é", 1, 1, 0, 1, null, null),
    // The two pageviews' web vitals (one partly measured): purged with them, so archived too.
    env.DB.prepare(vitals).bind(siteId, AT, `${siteId}-e1`, 1800, 120, 512, 900, 200),
    env.DB.prepare(vitals).bind(siteId, AT + 3_600_000, `${siteId}-e3`, 2600, null, null, 1500, null),
  ]);
}

async function raw(siteId: string): Promise<{ events: unknown[]; sessions: unknown[]; web_vitals: unknown[] }> {
  const events = await env.DB.prepare("SELECT * FROM events WHERE site_id = ? ORDER BY id").bind(siteId).all();
  const sessions = await env.DB.prepare("SELECT * FROM sessions WHERE site_id = ? ORDER BY id").bind(siteId).all();
  const vitals = await env.DB.prepare("SELECT * FROM web_vitals WHERE site_id = ? ORDER BY event_id").bind(siteId).all();
  return { events: events.results, sessions: sessions.results, web_vitals: vitals.results };
}

/** The closed days rolled up, with their journey rows, as the cron leaves them before a purge. */
async function rolledUp(): Promise<void> {
  await refreshRollups(env.DB, NOW);
  await refreshJourneyRollups(env.DB);
}

async function rollups(siteId: string): Promise<unknown[]> {
  return (await env.DB.prepare("SELECT * FROM rollup_daily WHERE site_id = ? ORDER BY dim, day, value").bind(siteId).all()).results;
}

async function fileLines(key: string): Promise<Record<string, unknown>[]> {
  const object = await env.ARCHIVE?.get(key);
  if (!object) throw new Error(`no object ${key}`);
  const text = await new Response(object.body.pipeThrough(new DecompressionStream("gzip"))).text();
  return text.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function token(siteId: string, { secret = SECRET, ttl = 120, archive = true } = {}): Promise<string> {
  return signToken(archive ? await archiveTokenKey(secret) : secret, siteId, Math.floor(Date.now() / 1000) + ttl);
}

function call(path: string, bearer: string | null, method = "GET"): Promise<Response> {
  const headers: Record<string, string> = bearer === null ? {} : { Authorization: `Bearer ${bearer}` };
  return exports.default.fetch(`https://collector.test/api/archive/${path}`, { method, headers });
}

/** An R2 bucket whose put is replaced (the rest delegates to the real local bucket). */
function bucketWithPut(put: (...args: Parameters<R2Bucket["put"]>) => Promise<R2Object | null>): R2Bucket {
  const real = env.ARCHIVE as R2Bucket;
  return new Proxy(real, {
    get(target, property) {
      if (property === "put") return put;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("archive before purge", () => {
  it("writes the day to R2, purges it, and restores identical rows and rollups", async () => {
    await site("arc1");
    await seedDay("arc1");
    const before = await raw("arc1");
    await refreshRollups(env.DB, Date.UTC(2026, 0, 11, 6)); // rolled up the next morning
    const rolled = await rollups("arc1");
    expect(rolled.length).toBeGreaterThan(1);
    await runCron(env.DB, NOW);
    expect(await raw("arc1")).toEqual({ events: [], sessions: [], web_vitals: [] });

    const lines = await fileLines(archiveKey("arc1", DAY));
    expect(lines[0]).toEqual({ format: "941-raw-archive", version: 2, site_id: "arc1", day: DAY, tz: "UTC",
      start_ms: Date.UTC(2026, 0, 10), end_ms: Date.UTC(2026, 0, 11), events: 3, sessions: 2, web_vitals: 2 });
    expect(lines.slice(1).map((l) => l.table)).toEqual(["events", "events", "events", "sessions", "sessions", "web_vitals", "web_vitals"]);

    const listed = await call("arc1", await token("arc1"));
    expect(listed.status).toBe(200);
    const body = await listed.json<{ archives: { day: string; events: number; sessions: number; bytes: number }[] }>();
    const stored = await env.ARCHIVE?.head(archiveKey("arc1", DAY));
    expect(body.archives).toMatchObject([{ day: DAY, events: 3, sessions: 2, bytes: stored?.size }]);
    const download = await call(`arc1/${DAY}`, await token("arc1"));
    expect(download.headers.get("Content-Type")).toBe("application/gzip");
    expect((await download.arrayBuffer()).byteLength).toBe(stored?.size);

    // Still past retention: the next purge would delete a restore again.
    expect((await call(`arc1/${DAY}/restore`, await token("arc1"), "POST")).status).toBe(409);
    await env.DB.prepare("UPDATE sites SET retention_days = NULL WHERE id = 'arc1'").run();
    const restored = await call(`arc1/${DAY}/restore`, await token("arc1"), "POST");
    expect(await restored.json()).toEqual({ day: DAY, events: 3, sessions: 2, web_vitals: 2, archived: { events: 3, sessions: 2, web_vitals: 2 } });
    expect(await raw("arc1")).toEqual(before);
    // The restored rows mark the day dirty; recomputed, its numbers are the ones purged.
    await refreshRollups(env.DB, NOW + 3_600_000);
    expect(await rollups("arc1")).toEqual(rolled);
    // A second restore inserts nothing twice.
    expect(await (await call(`arc1/${DAY}/restore`, await token("arc1"), "POST")).json()).toMatchObject({ events: 0, sessions: 0, web_vitals: 0 });
  });

  it("lists web_vitals' columns as the schema has them", async () => {
    const { results } = await env.DB.prepare("SELECT name FROM pragma_table_info('web_vitals') ORDER BY cid").all<{ name: string }>();
    expect(results.map((r) => r.name)).toEqual([...WEB_VITALS_COLUMNS]);
  });

  it("still reads and restores a version 1 file (events and sessions only), and merges it into version 2", async () => {
    await site("arc-v1", { retention: null });
    await seedDay("arc-v1");
    const before = await raw("arc-v1");
    const rows = (table: "events" | "sessions") => (before[table] as Record<string, unknown>[]).map((row) => JSON.stringify({ table, row }));
    const header = { format: "941-raw-archive", version: 1, site_id: "arc-v1", day: DAY, tz: "UTC", start_ms: Date.UTC(2026, 0, 10), end_ms: Date.UTC(2026, 0, 11), events: 3, sessions: 2 };
    const text = [JSON.stringify(header), ...rows("events"), ...rows("sessions"), ""].join("\n");
    const gz = new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    await env.ARCHIVE?.put(archiveKey("arc-v1", DAY), gz, { customMetadata: { format: "941-raw-archive", version: "1", events: "3", sessions: "2" } });
    await env.DB.batch(["events", "sessions", "web_vitals"].map((t) => env.DB.prepare(`DELETE FROM ${t} WHERE site_id = 'arc-v1'`)));
    const restored = await call(`arc-v1/${DAY}/restore`, await token("arc-v1"), "POST");
    expect(await restored.json()).toEqual({ day: DAY, events: 3, sessions: 2, web_vitals: 0, archived: { events: 3, sessions: 2, web_vitals: 0 } });
    expect(await raw("arc-v1")).toEqual({ ...before, web_vitals: [] });
    // Archived again once its vitals are back (restored from elsewhere): version 2 with them.
    await env.DB.batch((before.web_vitals as Record<string, unknown>[]).map((v) => env.DB.prepare(
      "INSERT OR IGNORE INTO web_vitals (site_id, ts, event_id, lcp_ms, inp_ms, cls_e4, fcp_ms, ttfb_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(v.site_id, v.ts, v.event_id, v.lcp_ms, v.inp_ms, v.cls_e4, v.fcp_ms, v.ttfb_ms)));
    const merged = await archiveDay(env.DB, env.ARCHIVE as R2Bucket, { id: "arc-v1", timezone: "UTC" }, DAY, NOW);
    expect(merged).toMatchObject({ events: 3, sessions: 2, web_vitals: 2, written: true });
    expect((await fileLines(archiveKey("arc-v1", DAY)))[0]).toMatchObject({ version: 2, events: 3, sessions: 2, web_vitals: 2 });
  });

  it("reads a big day in pages and finishes a cut-short purge without losing the file's rows", async () => {
    await site("arc-big");
    const n = PURGE_ROWS_PER_STATEMENT + ARCHIVE_PAGE_ROWS / 2;
    await env.DB.prepare(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1})
      INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname)
      SELECT 'big-' || i, 'arc-big', ?1 + i % 7, 'pageview', 'v', 'big-s', 'x.test', '/' FROM s`).bind(AT).run();
    await rolledUp();
    expect(await purgeExpired(env.DB, NOW, 1)).toMatchObject({ events: PURGE_ROWS_PER_STATEMENT, more: true });
    const key = archiveKey("arc-big", DAY);
    const first = await env.ARCHIVE?.head(key);
    expect(await purgeExpired(env.DB, NOW)).toMatchObject({ events: n - PURGE_ROWS_PER_STATEMENT, more: false });
    // The remainder was in the file already: it is not rewritten with only the remainder.
    expect((await env.ARCHIVE?.head(key))?.etag).toBe(first?.etag);
    const lines = await fileLines(key);
    expect(lines[0]).toMatchObject({ events: n, sessions: 0 });
    expect(new Set(lines.slice(1).map((l) => (l.row as { id: string }).id)).size).toBe(n);
    // A row that comes back to an archived day is added to its file, which keeps the others.
    await env.DB.prepare("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname) VALUES ('big-late', 'arc-big', ?1, 'pageview', 'v', 'big-s', 'x.test', '/')")
      .bind(AT)
      .run();
    // (It takes the day out of rollup_days; the cron lists it again, frozen, then purges it.)
    expect((await runCron(env.DB, NOW)).purged).toMatchObject({ events: 1 });
    const grown = await fileLines(key);
    expect(grown[0]).toMatchObject({ events: n + 1 });
    expect(grown.map((l) => (l.row as { id?: string } | undefined)?.id)).toContain("big-late");
  });

  it("works through a backlog a few days per run, past an older day that is never purged", async () => {
    await site("arc-slow");
    const day = (d: number) => Date.UTC(2026, 0, d);
    for (const d of [5, 6, 7, 8]) {
      await env.DB.prepare("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname) VALUES (?1, 'arc-slow', ?2, 'pageview', 'v', 's', 'x.test', '/')")
        .bind(`slow-${d}`, day(d) + 1000)
        .run();
      // Jan 5 is not rolled up: the purge keeps it, and it must not hold up the days after it.
      if (d > 5) {
        await env.DB.batch([
          env.DB.prepare("INSERT INTO rollup_days (site_id, day, tz, start_ms, end_ms, computed_at) VALUES ('arc-slow', ?1, 'UTC', ?2, ?3, 0)")
            .bind(`2026-01-0${d}`, day(d), day(d + 1)),
          env.DB.prepare("INSERT INTO rollup_filtered_days (site_id, day, tz, pairs) VALUES ('arc-slow', ?1, 'UTC', 'x')").bind(`2026-01-0${d}`),
          env.DB.prepare("INSERT INTO journey_rollup_days (site_id, day, tz, computed_at) VALUES ('arc-slow', ?1, 'UTC', 0)").bind(`2026-01-0${d}`),
        ]);
      }
    }
    for (let run = 0; run < 3; run++) expect(await purgeExpired(env.DB, NOW, 25, env.ARCHIVE, 1)).toMatchObject({ events: 1 });
    expect((await raw("arc-slow")).events).toMatchObject([{ id: "slow-5" }]);
    const listed = await env.DB.prepare("SELECT day FROM raw_archives WHERE site_id = 'arc-slow' ORDER BY day").all();
    expect(listed.results).toEqual([{ day: "2026-01-06" }, { day: "2026-01-07" }, { day: "2026-01-08" }]);
    // The tests of this file share D1: this site's purge is over.
    await env.DB.prepare("UPDATE sites SET retention_days = NULL WHERE id = 'arc-slow'").run();
  });

  it("keeps the rows when the bucket is missing, a put fails, or the object does not verify", async () => {
    await site("arc-keep");
    await site("arc-plain", { archive: 0 });
    await seedDay("arc-keep");
    await seedDay("arc-plain");
    await rolledUp();
    expect(await purgeExpired(env.DB, NOW, 25, null)).toMatchObject({ events: 3, sessions: 2 }); // arc-plain only
    const failing = bucketWithPut(() => Promise.reject(new Error("R2 outage")));
    expect(await purgeExpired(env.DB, NOW, 25, failing)).toMatchObject({ events: 0, sessions: 0 });
    const lying = bucketWithPut(() => Promise.resolve(null)); // "stored", but nothing is there
    expect(await purgeExpired(env.DB, NOW, 25, lying)).toMatchObject({ events: 0, sessions: 0 });
    expect((await raw("arc-keep")).events).toHaveLength(3);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM raw_archives WHERE site_id = 'arc-keep'").first("n")).toBe(0);
    expect(await purgeExpired(env.DB, NOW)).toMatchObject({ events: 3, sessions: 2 });
  });
});

describe("the archive routes", () => {
  it("refuse a missing, realtime, expired, badly signed or other site's token, and an unknown site", async () => {
    await site("arc-auth");
    await site("arc-other");
    expect((await call("arc-auth", null)).status).toBe(401);
    expect((await call("arc-auth", await token("arc-auth", { archive: false }))).status).toBe(401);
    expect((await call("arc-auth", await token("arc-auth", { secret: `${SECRET}x` }))).status).toBe(401);
    expect((await call("arc-auth", await token("arc-auth", { ttl: -1 }))).status).toBe(401);
    expect((await call("arc-auth", await token("arc-other"))).status).toBe(403);
    expect((await call("arc-nope", await token("arc-nope"))).status).toBe(404);
    expect((await call(`arc-auth/${DAY}`, await token("arc-auth"))).status).toBe(404);
    expect((await call(`arc-auth/${DAY}/restore`, await token("arc-auth"))).status).toBe(405);
    expect((await call("arc-auth", await token("arc-auth"))).status).toBe(200);
  });

  it("verify the tokens the dashboard's CLI signs (tests/fixtures/contracts/archive_tokens.json)", async () => {
    const key = await archiveTokenKey(contract.secret);
    expect(key).toBe(contract.key);
    for (const c of contract.cases) {
      expect(await verifyToken(c.token, key, c.site, c.now)).toEqual({ ok: true, site: c.site, exp: c.now + c.ttl });
      expect((await verifyToken(c.token, contract.secret, c.site, c.now)).ok).toBe(false);
    }
  });
});
