// The journey rollups in workerd: the cron's statements (journey-statements.json, the Python
// module's own) number a rolled-up day's pages, count each page's next and previous pages and
// its visits' exits, list the day with its stamp, and redo the day after a late event; a busy
// page's are kept per visit value too.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runCronEverywhere } from "../src/rollup/cron";
import { refreshJourneyRollups } from "../src/rollup/journeys";

const TZ = "Europe/Berlin";
// 2026-05-10 00:00 in Berlin (CEST, UTC+2).
const DAY1 = Date.UTC(2026, 4, 9, 22);
const HOUR = 3_600_000;
const NOW = DAY1 + 2 * 24 * HOUR + 3 * HOUR; // 05-12 03:00 local: 05-10 and 05-11 are closed

async function visit(siteId: string, id: string, start: number, pages: string[]) {
  const rows = pages.map((path, i) =>
    env.DB.prepare(
      "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname) VALUES (?, ?, ?, 'pageview', ?, ?, 'j.test', ?)",
    ).bind(`${id}-${i}`, siteId, start + i * 60_000, `v-${id}`, id, path),
  );
  rows.push(
    env.DB.prepare(
      "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page, pageviews, events) VALUES (?, ?, ?, ?, ?, 'j.test', ?, ?, ?, ?)",
    ).bind(id, siteId, `v-${id}`, start, start + (pages.length - 1) * 60_000, pages[0], pages[pages.length - 1], pages.length, pages.length),
  );
  await env.DB.batch(rows);
}

async function rows(siteId: string, day: string) {
  const { results } = await env.DB.prepare(
    "SELECT p.pathname AS page, d.exits, d.exits_cut, d.ahead, d.behind FROM journey_daily AS d LEFT JOIN journey_pages AS p ON p.site_id = d.site_id AND p.id = d.page WHERE d.site_id = ? AND d.day = ? ORDER BY d.page",
  )
    .bind(siteId, day)
    .all<{ page: string | null; exits: string | null; exits_cut: number | null; ahead: string | null; behind: string | null }>();
  const parsed = (text: string | null) => (text === null ? null : JSON.parse(text));
  return results.map((r) => ({ ...r, exits: parsed(r.exits), ahead: parsed(r.ahead), behind: parsed(r.behind) }));
}

describe("journey rollups", () => {
  it("count each page's neighbours and exits per rolled-up day, and redo a day after a late event", async () => {
    const site = "journeys1";
    await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?, ?, ?, ?, 0)").bind(site, "j.test", site, TZ).run();
    await visit(site, "a", DAY1 + HOUR, ["/", "/pricing", "/signup"]);
    await visit(site, "b", DAY1 + 2 * HOUR, ["/", "/pricing"]);
    await visit(site, "c", DAY1 + 3 * HOUR, ["/blog"]);
    await visit(site, "d", DAY1 + 24 * HOUR + HOUR, ["/pricing", "/"]);
    await visit(site, "e", DAY1 + 48 * HOUR + HOUR, ["/"]); // today: not rolled up

    const result = await runCronEverywhere(env, NOW);
    expect(result.DB?.journeys).toEqual([
      { siteId: site, day: "2026-05-11" },
      { siteId: site, day: "2026-05-10" },
    ]);
    const { results: pages } = await env.DB.prepare("SELECT pathname, id FROM journey_pages WHERE site_id = ? ORDER BY id").bind(site).all();
    // The busiest of the first day computed (05-11) first; the other day's new pages after.
    expect(pages).toEqual([
      { pathname: "/", id: 1 },
      { pathname: "/pricing", id: 2 },
      { pathname: "/blog", id: 3 },
      { pathname: "/signup", id: 4 },
    ]);
    // 05-10: "/" led to /pricing twice, once then to /signup; /pricing came after "/" twice;
    // the day's few (entry, exit) pairs all fit in the day's row (page 0).
    expect(await rows(site, "2026-05-10")).toEqual([
      { page: null, exits: { "1,4": 1, "1,2": 1, "3,3": 1 }, exits_cut: 0, ahead: null, behind: null },
      { page: "/", exits: null, exits_cut: null, ahead: { "2": 1, "2,4": 1 }, behind: { "": 2 } },
      { page: "/pricing", exits: null, exits_cut: null, ahead: { "": 1, "4": 1 }, behind: { "1": 2 } },
      { page: "/blog", exits: null, exits_cut: null, ahead: { "": 1 }, behind: { "": 1 } },
      { page: "/signup", exits: null, exits_cut: null, ahead: { "": 1 }, behind: { "2,1": 1 } },
    ]);
    const listed = await env.DB.prepare("SELECT day FROM journey_rollup_days WHERE site_id = ? ORDER BY day").bind(site).all();
    expect(listed.results).toEqual([{ day: "2026-05-10" }, { day: "2026-05-11" }]);

    // A late event unlists 05-11 (the triggers); the next run rolls it up again and redoes it.
    await visit(site, "f", DAY1 + 24 * HOUR + 5 * HOUR, ["/blog", "/pricing"]);
    const again = await runCronEverywhere(env, NOW + HOUR);
    expect(again.DB?.journeys).toEqual([{ siteId: site, day: "2026-05-11" }]);
    const pricing = (await rows(site, "2026-05-11")).find((r) => r.page === "/pricing");
    expect(pricing?.behind).toEqual({ "": 1, "3": 1 });
  });

  it("keep a busy page's neighbours per visit value, with a marker for the day", async () => {
    const site = "journeys2";
    await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?, ?, ?, ?, 0)").bind(site, "j2.test", site, TZ).run();
    // 5,000 visits "/" -> /pricing (10,000 pageviews: VALUE_MIN_DAY_VIEWS; "/" and /pricing have
    // VALUE_MIN_VIEWS), every fifth from Google; one visit to /blog, which stays below it.
    const visits = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999)";
    await env.DB.batch([
      ...["/", "/pricing"].map((path, step) =>
        env.DB.prepare(
          `INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname) ${visits} SELECT 'busy' || i || '-' || ?1, ?2, ?3 + i * 1000 + ?1 * 100, 'pageview', 'v-busy' || i, 'busy' || i, 'j2.test', ?4 FROM n`,
        ).bind(step, site, DAY1 + HOUR, path),
      ),
      env.DB.prepare(
        `INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page, pageviews, events, source) ${visits} SELECT 'busy' || i, ?1, 'v-busy' || i, ?2 + i * 1000, ?2 + i * 1000 + 100, 'j2.test', '/', '/pricing', 2, 2, CASE WHEN i % 5 = 0 THEN 'Google' END FROM n`,
      ).bind(site, DAY1 + HOUR),
    ]);
    await visit(site, "lone", DAY1 + 5 * HOUR, ["/blog"]);
    // The day as the day rollups list it (the journey job's input), without running them.
    await env.DB.prepare("INSERT INTO rollup_days (site_id, day, tz, start_ms, end_ms, computed_at) VALUES (?, '2026-05-10', ?, ?, ?, 1)").bind(site, TZ, DAY1, DAY1 + 24 * HOUR).run();
    expect(await refreshJourneyRollups(env.DB)).toEqual([{ siteId: site, day: "2026-05-10" }]);
    const { results } = await env.DB.prepare(
      "SELECT p.pathname AS page, v.dim, v.value, v.ahead, v.behind FROM journey_values AS v JOIN journey_pages AS p ON p.site_id = v.site_id AND p.id = v.page WHERE v.site_id = ? AND v.day = '2026-05-10' AND p.pathname = '/' AND v.dim IN ('', 'source') ORDER BY v.dim, v.value",
    )
      .bind(site)
      .all<{ page: string; dim: string; value: string; ahead: string | null; behind: string | null }>();
    const pricing = (await env.DB.prepare("SELECT id FROM journey_pages WHERE site_id = ? AND pathname = '/pricing'").bind(site).first<number>("id")) ?? 0;
    expect(results).toEqual([
      { page: "/", dim: "", value: "", ahead: null, behind: null },
      { page: "/", dim: "source", value: "Direct / None", ahead: JSON.stringify({ [pricing]: 4000 }), behind: JSON.stringify({ "": 4000 }) },
      { page: "/", dim: "source", value: "Google", ahead: JSON.stringify({ [pricing]: 1000 }), behind: JSON.stringify({ "": 1000 }) },
    ]);
    // /pricing was viewed 5,000 times too: held as well; /blog (once) is not.
    const held = await env.DB.prepare("SELECT p.pathname FROM journey_values AS v JOIN journey_pages AS p ON p.site_id = v.site_id AND p.id = v.page WHERE v.site_id = ? AND v.dim = '' ORDER BY 1").bind(site).all();
    expect(held.results).toEqual([{ pathname: "/" }, { pathname: "/pricing" }]);
  });
});
