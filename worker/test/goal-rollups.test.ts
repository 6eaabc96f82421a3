// The goal rollups in workerd: the cron's generated statements count each goal's converting
// visitors, conversions and revenue in its currency per rolled-up day (in total and per value of
// a few dimensions), list the day for the goals they used, and redo the days once a goal is
// edited or a late conversion arrives.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { refreshRollups, runCronEverywhere } from "../src/rollup/cron";
import { goalsBySite, refreshGoalRollups } from "../src/rollup/goals";
import { GOAL_TODO } from "../src/rollup/statements";

const TZ = "Europe/Berlin";
// 2026-05-10 00:00 in Berlin (CEST, UTC+2).
const DAY1 = Date.UTC(2026, 4, 9, 22);
const HOUR = 3_600_000;
const NOW = DAY1 + 2 * 24 * HOUR + 3 * HOUR; // 05-12 03:00 local: 05-10 and 05-11 are closed

async function event(siteId: string, id: string, ts: number, visitor: string, name: string, path: string, props = "{}", revenue: number | null = null, currency: string | null = null) {
  await env.DB.prepare(
    "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, props, revenue, revenue_currency) " +
      "VALUES (?, ?, ?, ?, ?, ?, 'x.test', ?, ?, ?, ?)",
  )
    .bind(id, siteId, ts, name, visitor, `s-${visitor}`, path, props, revenue, currency)
    .run();
}

async function goal(siteId: string, id: string, name: string, kind: string, target: string, prop: [string, string] = ["", ""], currency: string | null = null) {
  await env.DB.prepare(
    "INSERT INTO goals (id, site_id, name, kind, target, prop_key, prop_value, created_at, currency) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
  )
    .bind(id, siteId, name, kind, target, prop[0], prop[1], currency)
    .run();
}

async function goalRows(siteId: string, dim = "") {
  const { results } = await env.DB.prepare(
    `SELECT goal_id, day, ${dim ? "value, " : ""}visitors, events, revenue_sum, revenue_n FROM goal_rollup_daily WHERE site_id = ? AND dim = ? ORDER BY day, goal_id, value`,
  )
    .bind(siteId, dim)
    .all();
  return results;
}

describe("goal rollups", () => {
  it("count each goal per rolled-up day, and redo the days when a goal is edited", async () => {
    const site = "goals1";
    await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?, ?, ?, ?, 0)").bind(site, "goals1.test", site, TZ).run();
    await event(site, "e1", DAY1 + HOUR, "v1", "pageview", "/pricing/pro");
    await event(site, "e2", DAY1 + 2 * HOUR, "v1", "pageview", "/pricing/pro/faq"); // * stays in one segment
    await event(site, "e3", DAY1 + 3 * HOUR, "v2", "pageview", "/pricing/team");
    await event(site, "e4", DAY1 + 4 * HOUR, "v2", "Signup", "/pricing/team", '{"plan":"pro"}');
    await event(site, "e5", DAY1 + 5 * HOUR, "v3", "Signup", "/", '{"plan":"free"}');
    await event(site, "e6", DAY1 + 6 * HOUR, "v3", "Purchase", "/", "{}", 20.5, "EUR");
    await event(site, "e7", DAY1 + 7 * HOUR, "v3", "Purchase", "/", "{}", 15, "USD");
    await event(site, "e8", DAY1 + 24 * HOUR + HOUR, "v4", "pageview", "/pricing/pro");
    await event(site, "e9", DAY1 + 48 * HOUR + HOUR, "v5", "Signup", "/", '{"plan":"pro"}'); // today: not rolled up
    await goal(site, "g1", "Pricing", "page", "/pricing/*");
    await goal(site, "g2", "Pro signup", "event", "Signup", ["plan", "pro"]);
    await goal(site, "g3", "Purchase", "event", "Purchase", ["", ""], "EUR");

    const result = await runCronEverywhere(env, NOW);
    expect(result.DB?.goals).toEqual([
      { siteId: site, day: "2026-05-11" },
      { siteId: site, day: "2026-05-10" },
    ]);
    expect(await goalRows(site)).toEqual([
      { goal_id: "g1", day: "2026-05-10", visitors: 2, events: 2, revenue_sum: null, revenue_n: 0 },
      { goal_id: "g2", day: "2026-05-10", visitors: 1, events: 1, revenue_sum: null, revenue_n: 0 },
      { goal_id: "g3", day: "2026-05-10", visitors: 1, events: 2, revenue_sum: 20.5, revenue_n: 1 },
      { goal_id: "g1", day: "2026-05-11", visitors: 1, events: 1, revenue_sum: null, revenue_n: 0 },
    ]);
    // Per value of the converting events' own dimensions (a panel filtered by one goal).
    expect(await goalRows(site, "page")).toEqual([
      { goal_id: "g1", day: "2026-05-10", value: "/pricing/pro", visitors: 1, events: 1, revenue_sum: null, revenue_n: 0 },
      { goal_id: "g1", day: "2026-05-10", value: "/pricing/team", visitors: 1, events: 1, revenue_sum: null, revenue_n: 0 },
      { goal_id: "g2", day: "2026-05-10", value: "/pricing/team", visitors: 1, events: 1, revenue_sum: null, revenue_n: 0 },
      { goal_id: "g3", day: "2026-05-10", value: "/", visitors: 1, events: 2, revenue_sum: 20.5, revenue_n: 1 },
      { goal_id: "g1", day: "2026-05-11", value: "/pricing/pro", visitors: 1, events: 1, revenue_sum: null, revenue_n: 0 },
    ]);
    // A revenue goal's amounts per currency, each in its own (the panel lists the others apart).
    expect(await goalRows(site, "currency")).toEqual([
      { goal_id: "g3", day: "2026-05-10", value: "EUR", visitors: 1, events: 1, revenue_sum: 20.5, revenue_n: 1 },
      { goal_id: "g3", day: "2026-05-10", value: "USD", visitors: 1, events: 1, revenue_sum: 15, revenue_n: 1 },
    ]);
    // The listing names the goals as the dashboard's reader binds them (rollups/goals.py).
    const goals = goalsBySite((await env.DB.prepare("SELECT site_id, id, kind, target, prop_key, prop_value, currency FROM goals WHERE site_id = ? ORDER BY id").bind(site).all<never>()).results).get(site) ?? "";
    expect(goals).toBe('[["g1","page","/pricing/*","",""' + ',null],["g2","event","Signup","plan","pro",null],["g3","event","Purchase","","","EUR"]]');
    const listed = await env.DB.prepare("SELECT day, tz, goals = json(?) AS same FROM goal_rollup_days WHERE site_id = ? ORDER BY day").bind(goals, site).all();
    expect(listed.results).toEqual([
      { day: "2026-05-10", tz: TZ, same: 1 },
      { day: "2026-05-11", tz: TZ, same: 1 },
    ]);
    expect(await refreshGoalRollups(env.DB, env.DB)).toEqual([]);

    // An edit (the pattern across segments): both days are due again, and redone.
    await env.DB.prepare("UPDATE goals SET target = '/pricing/**' WHERE id = 'g1'").run();
    const edited = goalsBySite((await env.DB.prepare("SELECT site_id, id, kind, target, prop_key, prop_value, currency FROM goals WHERE site_id = ? ORDER BY id").bind(site).all<never>()).results).get(site) ?? "";
    expect((await env.DB.prepare(GOAL_TODO).bind(site, edited).all()).results).toHaveLength(2);
    expect(await refreshGoalRollups(env.DB, env.DB)).toHaveLength(2);
    expect((await goalRows(site))[0]).toEqual({ goal_id: "g1", day: "2026-05-10", visitors: 2, events: 3, revenue_sum: null, revenue_n: 0 });

    // A late conversion takes its day out of rollup_days; once rolled up again, its goal rows follow.
    await event(site, "late", DAY1 + 9 * HOUR, "v6", "Signup", "/", '{"plan":"pro"}');
    expect(await refreshRollups(env.DB, NOW + 120_000)).toEqual([{ siteId: site, day: "2026-05-10" }]);
    expect(await refreshGoalRollups(env.DB, env.DB)).toEqual([{ siteId: site, day: "2026-05-10" }]);
    expect((await goalRows(site))[1]).toEqual({ goal_id: "g2", day: "2026-05-10", visitors: 2, events: 2, revenue_sum: null, revenue_n: 0 });
  });
});
