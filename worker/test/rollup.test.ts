// The rollup cron: local days cut in the site's timezone, closed days rolled up with the
// generated SQL, today left to raw reads, a late event sending its day back to be recomputed.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { refreshRollups, runCron, runCronEverywhere } from "../src/rollup/cron";
import { refreshFrequentMonths } from "../src/rollup/frequent";
import { rebuildTables } from "../src/rollup/rebuilds";
import { FREQUENT_MIN_VISITS, FREQUENT_TODO } from "../src/rollup/statements";
import { dayBounds, localDay } from "../src/rollup/days";

const TZ = "Europe/Berlin";
// 2026-03-29 00:00 in Berlin (CET, UTC+1) is 2026-03-28 23:00 UTC; that day has 23 hours.
const DST_START = Date.UTC(2026, 2, 28, 23);
const HOUR = 3_600_000;

// The tests share one database: each starts from no data, so another test's days (and the empty
// days of its months, which the cron lists too) never count in its runs.
beforeEach(async () => {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND (name IN ('events', 'sessions', 'sites') OR name LIKE 'rollup%' OR name LIKE 'goal%')",
  ).all<{ name: string }>();
  await env.DB.batch(tables.results.map(({ name }) => env.DB.prepare(`DELETE FROM ${name}`)));
});

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

describe("table rebuilds", () => {
  it("the lean events table of migration 0016 was built to the end by the Worker's runner", async () => {
    // apply-migrations.ts ran rebuildTables on the migrated databases, as the cron does.
    for (const db of [env.DB, env.DB_2].filter((d): d is D1Database => d !== undefined)) {
      expect(await db.prepare("SELECT phase FROM table_rebuilds WHERE name = 'events'").first("phase")).toBe("done");
      await expect(db.prepare("SELECT rowid FROM events").all()).rejects.toThrow(/rowid/);
      const tables = await db.prepare("SELECT name FROM sqlite_master WHERE name IN ('events_lean', 'events_retired')").all();
      expect(tables.results).toEqual([]);
      expect(await rebuildTables(db, Date.now())).toBe(0);
    }
  });
});

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

  it("lists a month's empty days a few a run, so the month gets its rows (a 23-hour day among them)", async () => {
    await site("r-gap");
    await visit("r-gap", "only", Date.UTC(2026, 2, 15, 12), "v1");
    const now = Date.UTC(2026, 3, 5, 12); // March is over (with two days of slack)
    const runs: number[] = [];
    for (let done = await refreshRollups(env.DB, now); done.length > 0; done = await refreshRollups(env.DB, now)) {
      runs.push(done.length);
      expect(runs.length).toBeLessThan(20);
    }
    expect(runs[0]).toBe(1);
    expect(Math.max(...runs.slice(1))).toBeLessThanOrEqual(4);
    const days = await env.DB.prepare("SELECT day, start_ms, end_ms FROM rollup_days WHERE site_id = 'r-gap' ORDER BY day").all<{ day: string; start_ms: number; end_ms: number }>();
    expect(days.results.map((d) => d.day)).toEqual(Array.from({ length: 31 }, (_, i) => `2026-03-${String(i + 1).padStart(2, "0")}`));
    expect(days.results.every((d) => [d.start_ms, d.end_ms].join() === dayBounds(d.day, TZ).join())).toBe(true);
    const month = await env.DB.prepare("SELECT visitors, pageviews FROM rollup_monthly WHERE site_id = 'r-gap' AND dim = '' AND month = '2026-03'").first();
    expect(month).toEqual({ visitors: 1, pageviews: 1 });
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM rollup_daily WHERE site_id = 'r-gap' AND day <> '2026-03-15'").first<{ n: number }>())?.n).toBe(0);
   }, 30_000);

  it("ends a run quietly at its D1 query budget, and the next runs go on from there", async () => {
    await site("r5");
    for (const day of [10, 11, 12]) await visit("r5", `q${day}`, Date.UTC(2026, 1, day, 12), `w${day}`);
    const listed = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM rollup_days WHERE site_id = 'r5' AND tz != ''").first<{ n: number }>())?.n;
    // A day is a few dozen calls: 60 cover one and part of the next, and the run still resolves.
    const counts: number[] = [];
    for (let run = 0; run < 6 && (await listed()) !== 3; run++) {
      await runCronEverywhere({ DB: env.DB }, Date.UTC(2026, 1, 20), 24, FREQUENT_MIN_VISITS, 60);
      counts.push((await listed()) ?? 0);
    }
    expect(counts[0]).toBeGreaterThanOrEqual(1);
    expect(counts[0]).toBeLessThan(3);
    expect(counts.at(-1)).toBe(3);
    expect(await totals("r5", "2026-02-11")).toEqual({ visitors: 1, pageviews: 1, visits: 1, bounces: 1 });
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
   }, 30_000); // twenty days rolled up: seconds on a loaded machine
});

// A month is over a hundred short D1 calls (a statement per pair and chunk of days): seconds in
// workerd on a loaded machine.
const MONTH_TEST_TIMEOUT_MS = 30_000;

describe("refreshFrequentMonths", () => {
  const DAY = 86_400_000;
  const frequent = (siteId: string) =>
    env.DB.prepare(
      "SELECT fdim, fvalue, dim, value, visitors, visits FROM rollup_frequent_monthly WHERE site_id = ? AND month = '2026-02' " +
        "AND dim IN ('', 'entry_page') ORDER BY fdim, fvalue, dim, value",
    )
      .bind(siteId)
      .all();
  const listedMonths = async (siteId: string) =>
    (await env.DB.prepare("SELECT month FROM rollup_frequent_months WHERE site_id = ?").bind(siteId).all()).results;

  it("computes a whole month for the frequent values only, and a late event takes it out until redone", async () => {
    await site("f1");
    const first = dayBounds("2026-02-01", TZ)[0];
    // Every day of February: one visit entering on /a, and on the 1st a lone visit to /rare.
    for (let d = 0; d < 28; d++) await visit("f1", `a${d}`, first + d * DAY + 12 * HOUR, `v${d}`, "/a");
    await visit("f1", "rare", first + 13 * HOUR, "w", "/rare");
    const now = first + 28 * DAY + 3 * HOUR; // 2026-03-01 03:00 local: all of February is closed
    expect((await refreshRollups(env.DB, now, 40, 2)).length).toBe(28);
    // The recent days have their rows too, for the values with a thirtieth of 2 visits a day.
    const days = await env.DB.prepare("SELECT COUNT(*) AS n FROM rollup_frequent_days WHERE site_id = 'f1'").first<{ n: number }>();
    expect(days?.n).toBe(28);
    const firstDay = await env.DB.prepare(
      "SELECT fvalue, value, visits FROM rollup_frequent_daily WHERE site_id = 'f1' AND day = '2026-02-01' AND fdim = 'page' AND dim = 'entry_page' ORDER BY fvalue",
    ).all();
    expect(firstDay.results).toEqual([
      { fvalue: "/a", value: "/a", visits: 1 },
      { fvalue: "/rare", value: "/rare", visits: 1 },
    ]);
    expect(await refreshFrequentMonths(env.DB, now, 1, 2)).toEqual([{ siteId: "f1", month: "2026-02" }]);
    expect(await listedMonths("f1")).toEqual([{ month: "2026-02" }]);
    // /a (28 visits) and DE (29) are held; /rare (1 visit) is not: it reads raw rows.
    expect((await frequent("f1")).results).toEqual([
      { fdim: "country", fvalue: "DE", dim: "", value: "", visitors: 29, visits: 29 },
      { fdim: "country", fvalue: "DE", dim: "entry_page", value: "/a", visitors: 28, visits: 28 },
      { fdim: "country", fvalue: "DE", dim: "entry_page", value: "/rare", visitors: 1, visits: 1 },
      { fdim: "page", fvalue: "/a", dim: "", value: "", visitors: 28, visits: 28 },
      { fdim: "page", fvalue: "/a", dim: "entry_page", value: "/a", visitors: 28, visits: 28 },
    ]);
    expect(await refreshFrequentMonths(env.DB, now, 1, 2)).toEqual([]);

    // A late event in February: its day leaves the rollups, and the month leaves this list with it.
    await visit("f1", "f1-late", first + 3 * DAY + 15 * HOUR, "v-late", "/a");
    expect(await listedMonths("f1")).toEqual([]);
    // The cron redoes the day, then the month, with the late visit counted.
    const controller = createScheduledController({ scheduledTime: now, cron: "*/15 * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, { ...env, ROLLUP_FREQUENT_MIN_VISITS: "2" }, ctx);
    await waitOnExecutionContext(ctx);
    expect(await listedMonths("f1")).toEqual([{ month: "2026-02" }]);
    const rows = (await frequent("f1")).results;
    expect(rows.find((r) => r.fdim === "page" && r.dim === "entry_page")).toEqual({ fdim: "page", fvalue: "/a", dim: "entry_page", value: "/a", visitors: 29, visits: 29 });
  }, MONTH_TEST_TIMEOUT_MS);

  it("still takes a month when the goal job before it fails, and the run still reports the failure", async () => {
    await site("f9");
    const first = dayBounds("2026-02-01", TZ)[0];
    for (let d = 0; d < 28; d++) await visit("f9", `g${d}`, first + d * DAY + 12 * HOUR, `v${d}`, "/g");
    const now = first + 28 * DAY + 3 * HOUR;
    const goalsDown = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare") return () => { throw new Error("goals database down"); };
        return Reflect.get(target, property);
      },
    });
    await expect(runCron(env.DB, now, 40, 2, "DB", env.DB, goalsDown)).rejects.toThrow("goals database down");
    expect(await listedMonths("f9")).toEqual([{ month: "2026-02" }]);
  }, MONTH_TEST_TIMEOUT_MS);

  it("lists a month past retention again without recomputing it from purged rows", async () => {
    await site("f2");
    const first = dayBounds("2026-02-01", TZ)[0];
    for (let d = 0; d < 28; d++) await visit("f2", `b${d}`, first + d * DAY + 12 * HOUR, `v${d}`, "/b");
    const now = first + 28 * DAY + 3 * HOUR;
    await refreshRollups(env.DB, now, 40, 2);
    await refreshFrequentMonths(env.DB, now, 1, 2);
    const before = (await frequent("f2")).results;
    expect(before.length).toBe(4);
    // Retention 10 days, raw rows purged, and a timezone round trip that unlists everything.
    await env.DB.batch([
      env.DB.prepare("UPDATE sites SET retention_days = 10 WHERE id = 'f2'"),
      env.DB.prepare("DELETE FROM events WHERE site_id = 'f2' AND ts < ?").bind(first + 18 * DAY),
      env.DB.prepare("DELETE FROM sessions WHERE site_id = 'f2' AND started_at < ?").bind(first + 18 * DAY),
      env.DB.prepare("DELETE FROM rollup_filtered_months WHERE site_id = 'f2'"),
    ]);
    expect(await listedMonths("f2")).toEqual([]);
    await env.DB.prepare("INSERT INTO rollup_filtered_months (site_id, month, tz, pairs) SELECT site_id, '2026-02', tz, pairs FROM rollup_filtered_days WHERE site_id = 'f2' LIMIT 1").run();
    expect(await refreshFrequentMonths(env.DB, now, 1, 2)).toEqual([]); // not recomputed...
    expect(await listedMonths("f2")).toEqual([{ month: "2026-02" }]); // ...but listed again
    expect((await frequent("f2")).results).toEqual(before);
    // Without rows such a month is no longer even a candidate (not a query every run for nothing).
    await env.DB.batch([
      env.DB.prepare("DELETE FROM rollup_frequent_monthly WHERE site_id = 'f2'"),
      env.DB.prepare("DELETE FROM rollup_frequent_months WHERE site_id = 'f2'"),
    ]);
    const todo = await env.DB.prepare(FREQUENT_TODO).bind(now).all<{ site_id: string }>();
    expect(todo.results.filter((row) => row.site_id === "f2")).toEqual([]);
  }, MONTH_TEST_TIMEOUT_MS);
});

describe("the cron's hold on D1", () => {
  it("recomputes a day in short calls: no batch of more than four statements, an event between them is kept", async () => {
    await site("r9");
    await visit("r9", "r9-a", DST_START + 10 * HOUR, "v1", "/a");
    const now = DST_START + 23 * HOUR + 3 * HOUR;
    let calls = 0;
    const batches: number[] = [];
    const tick = async () => {
      if (++calls === 8) await visit("r9", "r9-late", DST_START + 11 * HOUR, "v2", "/late");
    };
    // A D1 that lets a late event land halfway through the day's steps.
    const db = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            await tick();
            batches.push(statements.length);
            return target.batch(statements);
          };
        }
        if (property === "prepare") {
          return (sql: string) => {
            const prepared = target.prepare(sql);
            return new Proxy(prepared, {
              get(p, name) {
                if (name === "bind") {
                  return (...args: unknown[]) => {
                    const bound = p.bind(...args);
                    return new Proxy(bound, {
                      get(b, method) {
                        if (method === "run") {
                          return async () => {
                            await tick();
                            return b.run();
                          };
                        }
                        const value = Reflect.get(b, method);
                        return typeof value === "function" ? value.bind(b) : value;
                      },
                    });
                  };
                }
                const value = Reflect.get(p, name);
                return typeof value === "function" ? value.bind(p) : value;
              },
            });
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await refreshRollups(db, now);
    expect(calls).toBeGreaterThan(8);
    // The first batch retires listings of another timezone (a few index lookups); the day's
    // own steps hold D1 for four statements at most.
    expect(Math.max(...batches.slice(1))).toBeLessThanOrEqual(4);
    // The late event arrived after the rows were read: the day stays unlisted and dirty...
    const listed = () => env.DB.prepare("SELECT COUNT(*) AS n FROM rollup_days WHERE site_id = 'r9' AND tz = ?").bind(TZ).first<{ n: number }>();
    expect((await listed())?.n).toBe(0);
    // ...and the next run counts it.
    await refreshRollups(env.DB, now + 1);
    expect((await listed())?.n).toBe(1);
    expect((await totals("r9", "2026-03-29"))?.visitors).toBe(2);
  });
});
