// The funnel rollups in workerd: the cron's statements (funnel-statements.json, the Python
// module's own) count each saved funnel's steps per rolled-up day from its goals in the home
// database, in total and per visit source, list the day with the steps they used, drop a removed
// funnel's rows and redo a day after a late event; a site placed in DB_2 is rolled up there.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runCronEverywhere } from "../src/rollup/cron";

const TZ = "Europe/Berlin";
// 2026-05-10 00:00 in Berlin (CEST, UTC+2).
const DAY1 = Date.UTC(2026, 4, 9, 22);
const HOUR = 3_600_000;
const MIN = 60_000;
const NOW = DAY1 + 2 * 24 * HOUR + 3 * HOUR; // 05-12 03:00 local: 05-10 and 05-11 are closed
const DB_2 = env.DB_2 as D1Database;

type Hit = [offset: number, name: string, path: string, props?: object];

async function site(id: string, database = "DB") {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at, database) VALUES (?, ?, ?, ?, 0, ?)")
    .bind(id, `${id}.test`, id, TZ, database)
    .run();
}

/** One visit (`id`) of `visitor` from `source` at `start`, its events `offset` ms later. */
async function visit(db: D1Database, siteId: string, id: string, visitor: string, source: string | null, start: number, hits: Hit[]) {
  const rows = hits.map(([offset, name, path, props], i) =>
    db
      .prepare(
        "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, source, props) VALUES (?, ?, ?, ?, ?, ?, 'f.test', ?, ?, ?)",
      )
      .bind(`${id}-${i}`, siteId, start + offset, name, visitor, id, path, source, props ? JSON.stringify(props) : null),
  );
  const last = hits[hits.length - 1]!;
  rows.push(
    db
      .prepare(
        "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page, pageviews, events, source) VALUES (?, ?, ?, ?, ?, 'f.test', ?, ?, ?, ?, ?)",
      )
      .bind(id, siteId, visitor, start, start + last[0], hits[0]![2], last[2], hits.filter((h) => h[1] === "pageview").length, hits.length, source),
  );
  await db.batch(rows);
}

async function funnel(siteId: string, id: string, steps: object[]) {
  await env.DB.prepare("INSERT INTO funnels (id, site_id, name, steps, created_at) VALUES (?, ?, ?, ?, 0)").bind(id, siteId, `Funnel ${id}`, JSON.stringify(steps)).run();
}

interface Row {
  value: string;
  step: number;
  gap: number;
  visits: number;
  visitors: number;
}

/** A day's rows of a dimension, each value's steps as gap -1 (visits and visitors) and one per gap of its array (how many visits went on in that time). */
async function rows(db: D1Database, siteId: string, funnelId: string, day: string, dim = "") {
  const row = await db
    .prepare("SELECT data FROM funnel_daily WHERE site_id = ? AND funnel_id = ? AND day = ? AND dim = ?")
    .bind(siteId, funnelId, day, dim)
    .first<{ data: string }>();
  const out: Row[] = [];
  const data = JSON.parse(row?.data ?? "{}") as Record<string, [number, number, number, number[]][]>;
  for (const [value, steps] of Object.entries(data)) {
    for (const [step, visits, visitors, gaps] of steps) {
      out.push({ value, step, gap: -1, visits, visitors });
      const counts = new Map<number, number>();
      for (const gap of gaps) counts.set(gap, (counts.get(gap) ?? 0) + 1);
      for (const [gap, n] of counts) out.push({ value, step, gap, visits: n, visitors: 0 });
    }
  }
  const order = (a: Row, b: Row) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.step - b.step || a.gap - b.gap);
  return out.sort(order);
}

async function listed(db: D1Database, siteId: string) {
  const { results } = await db
    .prepare("SELECT f.funnel_id, f.day, f.tz, f.steps, f.computed_at = r.computed_at AS current FROM funnel_rollup_days AS f JOIN rollup_days AS r USING (site_id, day) WHERE f.site_id = ? ORDER BY f.funnel_id, f.day")
    .bind(siteId)
    .all<{ funnel_id: string; day: string; tz: string; steps: string; current: number }>();
  return results;
}

// A wildcard page step, a page step and an event goal with a property (a wrong steps parameter
// changes the counts: without the property, visit b's free signup would count).
const SHOP = [{ page: "/pricing/**" }, { page: "/checkout" }, { goal: "Pro signup" }];
const SHOP_STEPS = [
  ["page", "/pricing/**", "", ""],
  ["page", "/checkout", "", ""],
  ["event", "Signup", "plan", "pro"],
];

describe("funnel rollups", () => {
  it("count each saved funnel's steps per rolled-up day, drop removed funnels, and redo a day after a late event", async () => {
    const id = "funnels1";
    await site(id);
    await env.DB.prepare("INSERT INTO goals (id, site_id, name, kind, target, prop_key, prop_value, created_at) VALUES ('g1', ?, 'Pro signup', 'event', 'Signup', 'plan', 'pro', 0)").bind(id).run();
    await funnel(id, "f1", SHOP);
    await funnel(id, "f2", [{ page: "/" }, { page: "/pricing/**" }]);
    await funnel(id, "f3", [{ page: "/" }, { goal: "Purchase" }]); // no such goal: skipped
    // 05-10. a: all three steps (3 min, then 1 min); b: two (2 min), its signup is not pro;
    // c: a's visitor again, a pricing page then a signup without the checkout between; d: the
    // checkout before any pricing page, so step 1 only. /pricing itself is not /pricing/**.
    await visit(env.DB, id, "a", "va", "Google", DAY1 + HOUR, [[0, "pageview", "/pricing/pro"], [MIN, "pageview", "/about"], [3 * MIN, "pageview", "/checkout"], [4 * MIN, "Signup", "/checkout", { plan: "pro" }]]);
    await visit(env.DB, id, "b", "vb", "Twitter", DAY1 + 2 * HOUR, [[0, "pageview", "/"], [MIN, "pageview", "/pricing"], [2 * MIN, "pageview", "/pricing/team/x"], [4 * MIN, "pageview", "/checkout"], [5 * MIN, "Signup", "/checkout", { plan: "free" }]]);
    await visit(env.DB, id, "c", "va", "Google", DAY1 + 5 * HOUR, [[0, "pageview", "/pricing/a"], [MIN, "Signup", "/pricing/a", { plan: "pro" }]]);
    await visit(env.DB, id, "d", "vd", null, DAY1 + 6 * HOUR, [[0, "pageview", "/checkout"], [MIN, "pageview", "/pricing/x"]]);
    // 05-11: two steps; today (05-12): not rolled up.
    await visit(env.DB, id, "e", "ve", "Google", DAY1 + 25 * HOUR, [[0, "pageview", "/pricing/pro"], [5 * MIN, "pageview", "/checkout"]]);
    await visit(env.DB, id, "t", "vt", "Google", DAY1 + 49 * HOUR, [[0, "pageview", "/pricing/pro"], [MIN, "pageview", "/checkout"]]);

    const result = await runCronEverywhere(env, NOW);
    expect(result.DB?.funnels).toEqual([
      { siteId: id, funnelId: "f1", day: "2026-05-11" },
      { siteId: id, funnelId: "f1", day: "2026-05-10" },
      { siteId: id, funnelId: "f2", day: "2026-05-11" },
      { siteId: id, funnelId: "f2", day: "2026-05-10" },
    ]);
    // gap -1: visits and visitors reaching the step; gap >= 0: visits going on to the next in gap ms.
    expect(await rows(env.DB, id, "f1", "2026-05-10")).toEqual([
      { value: "", step: 1, gap: -1, visits: 4, visitors: 3 },
      { value: "", step: 1, gap: 2 * MIN, visits: 1, visitors: 0 },
      { value: "", step: 1, gap: 3 * MIN, visits: 1, visitors: 0 },
      { value: "", step: 2, gap: -1, visits: 2, visitors: 2 },
      { value: "", step: 2, gap: MIN, visits: 1, visitors: 0 },
      { value: "", step: 3, gap: -1, visits: 1, visitors: 1 },
    ]);
    expect(await rows(env.DB, id, "f1", "2026-05-10", "source")).toEqual([
      { value: "Direct / None", step: 1, gap: -1, visits: 1, visitors: 1 },
      { value: "Google", step: 1, gap: -1, visits: 2, visitors: 1 },
      { value: "Google", step: 1, gap: 3 * MIN, visits: 1, visitors: 0 },
      { value: "Google", step: 2, gap: -1, visits: 1, visitors: 1 },
      { value: "Google", step: 2, gap: MIN, visits: 1, visitors: 0 },
      { value: "Google", step: 3, gap: -1, visits: 1, visitors: 1 },
      { value: "Twitter", step: 1, gap: -1, visits: 1, visitors: 1 },
      { value: "Twitter", step: 1, gap: 2 * MIN, visits: 1, visitors: 0 },
      { value: "Twitter", step: 2, gap: -1, visits: 1, visitors: 1 },
    ]);
    expect(await rows(env.DB, id, "f1", "2026-05-11")).toEqual([
      { value: "", step: 1, gap: -1, visits: 1, visitors: 1 },
      { value: "", step: 1, gap: 5 * MIN, visits: 1, visitors: 0 },
      { value: "", step: 2, gap: -1, visits: 1, visitors: 1 },
    ]);
    // f2 on 05-10: b alone went from / to a pricing page (2 min).
    expect(await rows(env.DB, id, "f2", "2026-05-10")).toEqual([
      { value: "", step: 1, gap: -1, visits: 1, visitors: 1 },
      { value: "", step: 1, gap: 2 * MIN, visits: 1, visitors: 0 },
      { value: "", step: 2, gap: -1, visits: 1, visitors: 1 },
    ]);
    // Listed with the steps a reader binds (steps_param) and the day's current stamp.
    const days = await listed(env.DB, id);
    expect(days.map((d) => [d.funnel_id, d.day, d.tz, d.current])).toEqual([
      ["f1", "2026-05-10", TZ, 1],
      ["f1", "2026-05-11", TZ, 1],
      ["f2", "2026-05-10", TZ, 1],
      ["f2", "2026-05-11", TZ, 1],
    ]);
    expect(JSON.parse(days[0]!.steps)).toEqual(SHOP_STEPS);
    expect(days[0]!.steps).toBe(JSON.stringify(SHOP_STEPS));
    expect(JSON.parse(days[2]!.steps)).toEqual([["page", "/", "", ""], ["page", "/pricing/**", "", ""]]);
    const f3 = await env.DB.prepare("SELECT COUNT(*) AS n FROM funnel_daily WHERE funnel_id = 'f3'").first<number>("n");
    expect(f3).toBe(0);

    // A removed funnel's rows and listing go at the next run; nothing else is due.
    await env.DB.prepare("DELETE FROM funnels WHERE id = 'f2'").run();
    const next = await runCronEverywhere(env, NOW + HOUR);
    expect(next.DB?.funnels).toEqual([]);
    const left = await env.DB.prepare("SELECT DISTINCT funnel_id FROM funnel_daily WHERE site_id = ?").bind(id).all();
    expect(left.results).toEqual([{ funnel_id: "f1" }]);
    expect((await listed(env.DB, id)).map((d) => d.funnel_id)).toEqual(["f1", "f1"]);

    // A late event restamps 05-11 (rolled up again); the funnel's day is redone with it.
    const before = (await listed(env.DB, id))[1]!;
    await visit(env.DB, id, "late", "vl", "Twitter", DAY1 + 29 * HOUR, [[0, "pageview", "/pricing/q"], [MIN, "pageview", "/checkout"], [2 * MIN, "Signup", "/checkout", { plan: "pro" }]]);
    const again = await runCronEverywhere(env, NOW + 2 * HOUR);
    expect(again.DB?.rolled).toEqual([{ siteId: id, day: "2026-05-11" }]);
    expect(again.DB?.funnels).toEqual([{ siteId: id, funnelId: "f1", day: "2026-05-11" }]);
    const after = (await listed(env.DB, id))[1]!;
    expect([after.day, after.current, after.steps]).toEqual([before.day, 1, before.steps]);
    expect(await rows(env.DB, id, "f1", "2026-05-11")).toEqual([
      { value: "", step: 1, gap: -1, visits: 2, visitors: 2 },
      { value: "", step: 1, gap: MIN, visits: 1, visitors: 0 },
      { value: "", step: 1, gap: 5 * MIN, visits: 1, visitors: 0 },
      { value: "", step: 2, gap: -1, visits: 2, visitors: 2 },
      { value: "", step: 2, gap: MIN, visits: 1, visitors: 0 },
      { value: "", step: 3, gap: -1, visits: 1, visitors: 1 },
    ]);
  });

  it("roll up a site placed in DB_2 there, from the funnels and goals of the home database", async () => {
    const id = "funnels2";
    await site(id, "DB_2");
    await env.DB.prepare("INSERT INTO goals (id, site_id, name, kind, target, prop_key, prop_value, created_at) VALUES ('g2', ?, 'Pro signup', 'event', 'Signup', 'plan', 'pro', 0)").bind(id).run();
    await funnel(id, "f9", SHOP);
    await runCronEverywhere(env, DAY1 - 24 * HOUR); // copies the site row into DB_2
    await visit(DB_2, id, "a", "va", "Google", DAY1 + HOUR, [[0, "pageview", "/pricing/pro"], [2 * MIN, "pageview", "/checkout"], [3 * MIN, "Signup", "/checkout", { plan: "pro" }]]);

    const result = await runCronEverywhere(env, NOW);
    expect(result.DB?.funnels).toEqual([]);
    expect(result.DB_2?.funnels).toEqual([{ siteId: id, funnelId: "f9", day: "2026-05-10" }]);
    expect(await rows(DB_2, id, "f9", "2026-05-10")).toEqual([
      { value: "", step: 1, gap: -1, visits: 1, visitors: 1 },
      { value: "", step: 1, gap: 2 * MIN, visits: 1, visitors: 0 },
      { value: "", step: 2, gap: -1, visits: 1, visitors: 1 },
      { value: "", step: 2, gap: MIN, visits: 1, visitors: 0 },
      { value: "", step: 3, gap: -1, visits: 1, visitors: 1 },
    ]);
    expect((await listed(DB_2, id)).map((d) => JSON.parse(d.steps))).toEqual([SHOP_STEPS]);
  });
});
