// The retention purge: raw rows of whole, rolled-up days older than a site's retention_days go;
// rollups, unrolled days, recent days and sites without a retention stay; big backlogs and many
// sites are handled in a few bounded statements.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { localDay, dayBounds } from "../src/rollup/days";
import { PURGE_ROWS_PER_STATEMENT, purgeExpired, retentionCutoff } from "../src/rollup/purge";

const TZ = "Europe/Berlin";
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 15, 10); // 2026-06-15 12:00 in Berlin (CEST)

async function site(id: string, retentionDays: number | null, tz = TZ): Promise<void> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at, retention_days) VALUES (?, ?, ?, ?, 0, ?)")
    .bind(id, `${id}.test`, id, tz, retentionDays)
    .run();
}

/** `count` pageviews and their sessions at `ts` (one ms apart), inserted in one statement each. */
async function visits(siteId: string, ts: number, count = 1): Promise<void> {
  const series = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${count - 1})`;
  await env.DB.batch([
    env.DB.prepare(
      `${series} INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname)
       SELECT ?1 || '-e-' || ?2 || '-' || i, ?1, ?2 + i, 'pageview', 'v' || i, ?1 || '-s-' || ?2 || '-' || i, 'x.test', '/' FROM n`,
    ).bind(siteId, ts),
    env.DB.prepare(
      `${series} INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page)
       SELECT ?1 || '-s-' || ?2 || '-' || i, ?1, 'v' || i, ?2 + i, ?2 + i, 'x.test', '/', '/' FROM n`,
    ).bind(siteId, ts),
  ]);
}

/** Marks the local day of `ts` as rolled up (what the rollup cron records), in `tz`. */
async function rolledUp(siteId: string, ts: number, tz = TZ): Promise<void> {
  const day = localDay(ts, tz);
  const [start, end] = dayBounds(day, tz);
  await env.DB.batch([
    env.DB.prepare("INSERT INTO rollup_days (site_id, day, tz, start_ms, end_ms, computed_at) VALUES (?, ?, ?, ?, ?, 0)")
      .bind(siteId, day, tz, start, end),
    // The day's rows per filter value and its journey rows are listed too, as the cron lists them.
    env.DB.prepare("INSERT INTO rollup_filtered_days (site_id, day, tz, pairs) VALUES (?, ?, ?, 'x')").bind(siteId, day, tz),
    env.DB.prepare("INSERT INTO journey_rollup_days (site_id, day, tz, computed_at) VALUES (?, ?, ?, 0)").bind(siteId, day, tz),
  ]);
}

async function count(table: "events" | "sessions", siteId: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE site_id = ?`).bind(siteId).first<{ n: number }>();
  return row?.n ?? 0;
}

/** A D1 proxy counting batch() calls and statements. */
function counting(db: D1Database) {
  const calls = { batches: 0, statements: 0 };
  const wrapped = new Proxy(db, {
    get(target, property) {
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          calls.batches++;
          calls.statements += statements.length;
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapped, calls };
}

describe("retentionCutoff", () => {
  it("keeps whole local days: the cutoff is local midnight of the day holding now - retention", () => {
    // 2026-06-15 12:00 Berlin - 30 days = 2026-05-16 12:00 Berlin -> cut at 2026-05-16 00:00 CEST.
    expect(retentionCutoff(30, TZ, NOW)).toBe(Date.UTC(2026, 4, 15, 22));
    expect(retentionCutoff(0, TZ, NOW)).toBeNull();
    expect(retentionCutoff(null, TZ, NOW)).toBeNull();
    expect(retentionCutoff(30, "Not/AZone", NOW)).toBeNull();
  });
});

describe("purgeExpired", () => {
  it("keeps the raw rows of a day whose rows per filter value were pruned", async () => {
    await site("p-pruned", 30);
    const old = NOW - 40 * DAY;
    await visits("p-pruned", old, 2);
    await rolledUp("p-pruned", old);
    // As rollups/prune.py leaves a day (pruned while the site had no retention).
    await env.DB.prepare("DELETE FROM rollup_filtered_days WHERE site_id = 'p-pruned'").run();
    await purgeExpired(env.DB, NOW);
    expect(await count("events", "p-pruned")).toBe(2);
  });

  it("keeps the raw rows of a day whose journey rows are missing or made for an older computation", async () => {
    await site("p-journeys", 30);
    const [missing, stale] = [NOW - 40 * DAY, NOW - 41 * DAY];
    for (const ts of [missing, stale]) {
      await visits("p-journeys", ts, 2);
      await rolledUp("p-journeys", ts);
    }
    await env.DB.batch([
      env.DB.prepare("DELETE FROM journey_rollup_days WHERE site_id = 'p-journeys' AND day = ?").bind(localDay(missing, TZ)),
      env.DB.prepare("UPDATE rollup_days SET computed_at = 1 WHERE site_id = 'p-journeys' AND day = ?").bind(localDay(stale, TZ)),
    ]);
    await purgeExpired(env.DB, NOW);
    expect(await count("events", "p-journeys")).toBe(4);
    // Listed for the day's computation: the day goes.
    await env.DB.prepare("UPDATE journey_rollup_days SET computed_at = 1 WHERE site_id = 'p-journeys'").run();
    await purgeExpired(env.DB, NOW);
    expect(await count("events", "p-journeys")).toBe(2);
  });

  it("deletes raw rows of rolled-up days past retention and keeps everything else", async () => {
    await site("p1", 30);
    await site("p-forever", null);
    const old = NOW - 40 * DAY;
    const oldUnrolled = NOW - 45 * DAY;
    const recent = NOW - 10 * DAY;
    const edge = retentionCutoff(30, TZ, NOW) as number; // first kept instant
    for (const id of ["p1", "p-forever"]) {
      await visits(id, old, 3);
      await rolledUp(id, old);
      await visits(id, oldUnrolled, 2); // not rolled up yet: the dashboard still reads it raw
      await visits(id, recent, 1);
      await rolledUp(id, recent);
    }
    await visits("p1", edge - 1); // the last instant of the day before the cutoff
    await rolledUp("p1", edge - 1);
    await visits("p1", edge);
    await env.DB.prepare("INSERT INTO rollup_daily (site_id, dim, day, value, visitors) VALUES ('p1', '', ?, '', 3)")
      .bind(localDay(old, TZ))
      .run();

    const result = await purgeExpired(env.DB, NOW);
    expect(result).toEqual({ events: 4, sessions: 4, titles: 0, more: false });
    const left = await env.DB.prepare("SELECT ts FROM events WHERE site_id = 'p1' ORDER BY ts").all<{ ts: number }>();
    expect(left.results.map((r) => r.ts)).toEqual([oldUnrolled, oldUnrolled + 1, edge, recent]);
    expect(await count("sessions", "p1")).toBe(4);
    expect(await count("events", "p-forever")).toBe(6);
    // Rollups answer for the purged day.
    const rollup = await env.DB.prepare("SELECT visitors FROM rollup_daily WHERE site_id = 'p1' AND day = ?").bind(localDay(old, TZ)).first();
    expect(rollup).toEqual({ visitors: 3 });
    // Nothing left to do: a second run deletes nothing.
    expect(await purgeExpired(env.DB, NOW)).toEqual({ events: 0, sessions: 0, titles: 0, more: false });
  });

  it("takes the web vitals of purged pageviews with them", async () => {
    await site("p-vitals", 30);
    for (const ts of [NOW - 40 * DAY, NOW - 5 * DAY]) {
      await visits("p-vitals", ts);
      await rolledUp("p-vitals", ts);
      await env.DB.prepare("INSERT INTO web_vitals (site_id, ts, event_id, lcp_ms) VALUES ('p-vitals', ?1, 'p-vitals-e-' || ?1 || '-0', 900)").bind(ts).run();
    }
    await purgeExpired(env.DB, NOW);
    const left = await env.DB.prepare("SELECT ts FROM web_vitals WHERE site_id = 'p-vitals'").all<{ ts: number }>();
    expect(left.results.map((r) => r.ts)).toEqual([NOW - 5 * DAY]);
  });

  it("takes the page titles not seen since the retention's cut, and keeps those seen after", async () => {
    await site("p-titles", 30);
    await site("p-titles-forever", null);
    const title = "INSERT INTO page_titles (site, path, title, ts) VALUES (?, ?, ?, ?)";
    await env.DB.batch([
      env.DB.prepare(title).bind("p-titles", "/old", "Old page", NOW - 40 * DAY),
      env.DB.prepare(title).bind("p-titles", "/recent", "Recent page", NOW - 5 * DAY),
      env.DB.prepare(title).bind("p-titles-forever", "/old", "Kept: no retention", NOW - 400 * DAY),
    ]);
    expect(await purgeExpired(env.DB, NOW)).toMatchObject({ titles: 1 });
    const left = await env.DB.prepare("SELECT site, path FROM page_titles WHERE site LIKE 'p-titles%' ORDER BY site, path").all();
    expect(left.results).toEqual([{ site: "p-titles", path: "/recent" }, { site: "p-titles-forever", path: "/old" }]);
  });

  it("keeps a day rolled up in another timezone (the site's timezone changed since)", async () => {
    await site("p-tz", 7);
    await visits("p-tz", NOW - 20 * DAY);
    await rolledUp("p-tz", NOW - 20 * DAY, "UTC");
    expect(await purgeExpired(env.DB, NOW)).toMatchObject({ events: 0, sessions: 0 });
    expect(await count("events", "p-tz")).toBe(1);
  });

  it("deletes a backlog in bounded statements, continuing at the next run", async () => {
    await site("p-big", 1);
    const ts = NOW - 5 * DAY;
    await visits("p-big", ts, PURGE_ROWS_PER_STATEMENT + 500);
    await rolledUp("p-big", ts);
    expect(await purgeExpired(env.DB, NOW, 1)).toEqual({ events: PURGE_ROWS_PER_STATEMENT, sessions: PURGE_ROWS_PER_STATEMENT, titles: 0, more: true });
    expect(await count("events", "p-big")).toBe(500);
    expect(await purgeExpired(env.DB, NOW)).toEqual({ events: 500, sessions: 500, titles: 0, more: false });
    expect(await count("events", "p-big")).toBe(0);
    expect(await count("sessions", "p-big")).toBe(0);
  });

  it("costs one batch of four statements (events, sessions, web vitals, titles) for hundreds of sites", async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `p-many-${i}`);
    for (const id of ids) await site(id, 90);
    const ts = NOW - 100 * DAY;
    await visits(ids[7] as string, ts);
    await rolledUp(ids[7] as string, ts);
    const { db, calls } = counting(env.DB);
    expect(await purgeExpired(db, NOW)).toMatchObject({ events: 1, sessions: 1, more: false });
    expect(calls).toEqual({ batches: 1, statements: 4 });
  });
});

describe("the scheduled handler", () => {
  it("rolls up closed days, then purges their raw rows past retention", async () => {
    await site("p-cron", 2, "UTC");
    const ts = Date.UTC(2026, 0, 10, 12);
    await visits("p-cron", ts, 2);
    const controller = createScheduledController({ scheduledTime: Date.UTC(2026, 0, 20), cron: "*/15 * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await count("events", "p-cron")).toBe(0);
    expect(await count("sessions", "p-cron")).toBe(0);
    const rollup = await env.DB.prepare("SELECT visitors, pageviews, visits FROM rollup_daily WHERE site_id = 'p-cron' AND dim = '' AND day = '2026-01-10'").first();
    expect(rollup).toEqual({ visitors: 2, pageviews: 2, visits: 2 });
  });
});
