// The rollup cron: local days cut in the site's timezone, closed days rolled up with the
// generated SQL, today left to raw reads, a late event sending its day back to be recomputed.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { refreshRollups } from "../src/rollup/cron";
import { dayBounds, localDay } from "../src/rollup/days";

const TZ = "Europe/Berlin";
// 2026-03-29 00:00 in Berlin (CET, UTC+1) is 2026-03-28 23:00 UTC; that day has 23 hours.
const DST_START = Date.UTC(2026, 2, 28, 23);
const HOUR = 3_600_000;

async function site(id: string): Promise<void> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?, ?, ?, ?, 0)")
    .bind(id, `${id}.test`, id, TZ)
    .run();
}

async function visit(siteId: string, id: string, ts: number, visitor: string, path = "/"): Promise<void> {
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, source, country) " +
        "VALUES (?, ?, ?, 'pageview', ?, ?, 'x.test', ?, 'Google', 'DE')",
    ).bind(`e-${id}`, siteId, ts, visitor, `s-${id}`, path),
    env.DB.prepare(
      "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page, " +
        "pageviews, events, duration_ms, is_bounce, source, country) VALUES (?, ?, ?, ?, ?, 'x.test', ?, ?, 1, 1, 0, 1, 'Google', 'DE')",
    ).bind(`s-${id}`, siteId, visitor, ts, ts, path, path),
  ]);
}

async function totals(siteId: string, day: string) {
  return env.DB.prepare("SELECT visitors, pageviews, visits, bounces FROM rollup_daily WHERE site_id = ? AND dim = '' AND day = ?")
    .bind(siteId, day)
    .first<{ visitors: number; pageviews: number; visits: number; bounces: number }>();
}

describe("local days", () => {
  it("cuts days at local midnight, 23 hours on the spring-forward day", () => {
    const [start, end] = dayBounds("2026-03-29", TZ);
    expect(start).toBe(DST_START);
    expect(end - start).toBe(23 * HOUR);
    expect(dayBounds("2026-10-25", TZ)[1] - dayBounds("2026-10-25", TZ)[0]).toBe(25 * HOUR);
    expect(localDay(DST_START - 1, TZ)).toBe("2026-03-28");
    expect(localDay(DST_START, TZ)).toBe("2026-03-29");
    expect(dayBounds("2026-03-08", "America/New_York")[1] - dayBounds("2026-03-08", "America/New_York")[0]).toBe(23 * HOUR);
  });
});

describe("refreshRollups", () => {
  it("rolls up closed days only and recomputes a day a late event touched", async () => {
    await site("r1");
    await visit("r1", "a", DST_START + 10 * HOUR, "v1", "/a");
    await visit("r1", "b", DST_START + 22 * HOUR + 30 * 60_000, "v2", "/b"); // 23:30 local, still 03-29
    await visit("r1", "c", DST_START + 23 * HOUR + HOUR, "v3"); // 03-30, 01:00 local
    const now = DST_START + 23 * HOUR + 3 * HOUR; // 03-30 03:00 local: 03-29 is closed, 03-30 is not
    expect(await refreshRollups(env.DB, now)).toEqual([{ siteId: "r1", day: "2026-03-29" }]);
    expect(await totals("r1", "2026-03-29")).toEqual({ visitors: 2, pageviews: 2, visits: 2, bounces: 2 });
    expect(await totals("r1", "2026-03-30")).toBeNull();
    const page = await env.DB.prepare("SELECT value, visitors FROM rollup_daily WHERE site_id = 'r1' AND dim = 'page' ORDER BY value").all();
    expect(page.results).toEqual([{ value: "/a", visitors: 1 }, { value: "/b", visitors: 1 }]);
    // The rollups per filter value: each page's visits by country (a page filter's "viewed").
    const byPage = () =>
      env.DB.prepare("SELECT fvalue, value, visitors, visits FROM rollup_filtered_daily WHERE site_id = 'r1' AND fdim = 'page' AND dim = 'country' AND day = '2026-03-29' ORDER BY fvalue").all();
    expect((await byPage()).results).toEqual([
      { fvalue: "/a", value: "DE", visitors: 1, visits: 1 },
      { fvalue: "/b", value: "DE", visitors: 1, visits: 1 },
    ]);
    expect(await refreshRollups(env.DB, now)).toEqual([]);

    // A late event for the closed day: the trigger takes the day out of the rollups at once...
    await visit("r1", "late", DST_START + 12 * HOUR, "v4", "/late");
    const listed = await env.DB.prepare("SELECT COUNT(*) AS n FROM rollup_days WHERE site_id = 'r1' AND day = '2026-03-29'").first<{ n: number }>();
    expect(listed?.n).toBe(0);
    const filteredListed = () =>
      env.DB.prepare("SELECT COUNT(*) AS n FROM rollup_filtered_days WHERE site_id = 'r1' AND day = '2026-03-29'").first<{ n: number }>();
    expect((await filteredListed())?.n).toBe(0);
    // ...and the next run recomputes it with the late event counted.
    expect(await refreshRollups(env.DB, now)).toEqual([{ siteId: "r1", day: "2026-03-29" }]);
    expect((await totals("r1", "2026-03-29"))?.visitors).toBe(3);
    expect((await byPage()).results.map((row) => row.fvalue)).toEqual(["/a", "/b", "/late"]);
    expect((await filteredListed())?.n).toBe(1);
  });

  it("runs from the scheduled handler", async () => {
    await site("r2");
    await visit("r2", "x", Date.UTC(2026, 0, 10, 12), "v1");
    const controller = createScheduledController({ scheduledTime: Date.UTC(2026, 0, 12), cron: "*/15 * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await totals("r2", "2026-01-10"))?.visitors).toBe(1);
  });

  it("recomputes as many site-days per run as ROLLUP_DAYS_PER_RUN says", async () => {
    await site("r4");
    for (const day of [10, 11, 12]) await visit("r4", `d${day}`, Date.UTC(2026, 1, day, 12), `v${day}`);
    const run = async (vars: Record<string, string>) => {
      const controller = createScheduledController({ scheduledTime: Date.UTC(2026, 1, 20), cron: "*/15 * * * *" });
      const ctx = createExecutionContext();
      await worker.scheduled(controller, { ...env, ...vars }, ctx);
      await waitOnExecutionContext(ctx);
      const listed = await env.DB.prepare("SELECT COUNT(*) AS n FROM rollup_days WHERE site_id = 'r4'").first<{ n: number }>();
      return listed?.n;
    };
    expect(await run({ ROLLUP_DAYS_PER_RUN: "1" })).toBe(1);
    expect(await run({ ROLLUP_DAYS_PER_RUN: "not a number" })).toBe(3); // the default, 24
  });

  it("keeps the rollups of days past retention when the timezone changes (their raw rows are gone)", async () => {
    await site("r3");
    const DAY = 86_400_000;
    const first = dayBounds("2026-01-01", TZ)[0];
    for (let d = 0; d < 10; d++) await visit("r3", `t${d}`, first + d * DAY + 12 * HOUR, `v${d}`);
    const now = first + 10 * DAY + 3 * HOUR;
    expect((await refreshRollups(env.DB, now)).length).toBe(10);
    // Retention 5 days: raw rows of the first days go (as the purge would delete them)...
    const cutoff = dayBounds("2026-01-06", TZ)[0];
    await env.DB.batch([
      env.DB.prepare("UPDATE sites SET retention_days = 5, timezone = 'America/New_York' WHERE id = 'r3'"),
      env.DB.prepare("DELETE FROM events WHERE site_id = 'r3' AND ts < ?").bind(cutoff),
      env.DB.prepare("DELETE FROM sessions WHERE site_id = 'r3' AND started_at < ?").bind(cutoff),
    ]);
    while ((await refreshRollups(env.DB, now)).length > 0);
    // ...and the timezone change kept their numbers instead of recomputing them from nothing.
    const byCountry = (day: string) =>
      env.DB.prepare("SELECT visitors FROM rollup_filtered_daily WHERE site_id = 'r3' AND fdim = 'country' AND fvalue = 'DE' AND dim = '' AND day = ?").bind(day).first<{ visitors: number }>();
    for (const day of ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]) {
      expect((await totals("r3", day))?.visitors).toBe(1);
      expect((await byCountry(day))?.visitors).toBe(1);
    }
    const tzs = await env.DB.prepare("SELECT DISTINCT tz FROM rollup_days WHERE site_id = 'r3'").all();
    expect(tzs.results).toEqual([{ tz: "America/New_York" }]);
  });
});
