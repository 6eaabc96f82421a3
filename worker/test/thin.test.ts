// Thinning old months' rows per filter value (thin.ts): a month whose days were all pruned, of a
// site without a retention, loses every row of its rare pages, and only those.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { THIN_TODO } from "../src/rollup/statements";
import { thinMonths } from "../src/rollup/thin";

const PAIRS = /m\.pairs = '([^']+)'/.exec(THIN_TODO)?.[1] ?? "";

async function site(id: string, retention: number | null): Promise<void> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at, retention_days) VALUES (?, ?, ?, 'UTC', 0, ?)")
    .bind(id, `${id}.test`, id, retention)
    .run();
}

async function month(siteId: string, key: string, rows: [string, string, string, string, number, number][]): Promise<void> {
  await env.DB.prepare("INSERT INTO rollup_filtered_months (site_id, month, tz, pairs) VALUES (?, ?, 'UTC', ?)")
    .bind(siteId, key, PAIRS)
    .run();
  await env.DB.batch(rows.map(([fdim, fvalue, dim, value, events, visits]) =>
    env.DB.prepare(
      "INSERT INTO rollup_filtered_monthly (site_id, fdim, fvalue, dim, month, value, events, visits) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ).bind(siteId, fdim, fvalue, dim, key, value, events, visits)));
}

async function values(siteId: string, key: string): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT fdim || ':' || fvalue || ':' || dim AS v FROM rollup_filtered_monthly WHERE site_id = ? AND month = ? ORDER BY 1",
  ).bind(siteId, key).all<{ v: string }>();
  return results.map((r) => r.v);
}

const ROWS: [string, string, string, string, number, number][] = [
  ["page", "/rare", "", "", 5, 3],
  ["page", "/rare", "country", "DE", 5, 3],
  ["page", "/", "", "", 900, 400],
  ["page", "/", "country", "DE", 900, 400],
  ["country", "IS", "", "", 2, 1],
  ["country", "IS", "page", "/rare", 2, 1],
];

describe("thinning months of rows per filter value", () => {
  it("drops the rare pages' rows of pruned months of sites without a retention", async () => {
    expect(PAIRS).not.toBe("");
    await site("th-1", null);
    await site("th-2", 30);
    await month("th-1", "2025-12", ROWS);
    await month("th-1", "2026-01", ROWS); // a day of it is still listed: not thinned
    await env.DB.prepare("INSERT INTO rollup_filtered_days (site_id, day, tz, pairs) VALUES ('th-1', '2026-01-31', 'UTC', ?)")
      .bind(PAIRS).run();
    await month("th-2", "2025-12", ROWS); // a retention: never thinned
    expect(await thinMonths(env.DB)).toEqual([{ siteId: "th-1", month: "2025-12" }]);
    expect(await values("th-1", "2025-12")).toEqual(["country:IS:", "country:IS:page", "page:/:", "page:/:country"]);
    expect((await values("th-1", "2026-01")).length).toBe(6);
    expect((await values("th-2", "2025-12")).length).toBe(6);
    expect(await env.DB.prepare("SELECT month, below FROM rollup_filtered_thinned").all().then((r) => r.results))
      .toEqual([{ month: "2025-12", below: 300 }]);
    expect(await thinMonths(env.DB)).toEqual([]);
    // The month's listing going (a late row) takes the thinned listing with it.
    await env.DB.prepare("DELETE FROM rollup_filtered_months WHERE site_id = 'th-1' AND month = '2025-12'").run();
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM rollup_filtered_thinned").first("n")).toBe(0);
  });
});
