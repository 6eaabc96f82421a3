// D1 refuses a GLOB pattern of more than 50 bytes (src/analytics_941/sql/glob.py: GLOB_BYTES),
// as workerd shows; the generated goal match (GOAL_MATCH_SQL, from sql/goals.py) uses GLOB only
// from a page pattern's first `*`, so a goal on a long path still counts in the Worker's reads.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GOAL_MATCH_SQL } from "../src/rollup/statements";

const LONG = "/documentation/getting-started/installing-on-a-new-machine"; // 59 bytes

describe("GLOB patterns within D1's limit", () => {
  it("refuses a 51-byte GLOB pattern, as the Python side assumes", async () => {
    await expect(env.DB.prepare("SELECT 'x' GLOB ?").bind("x".repeat(51)).first()).rejects.toThrow(/too complex/);
    expect(await env.DB.prepare("SELECT 'x' GLOB ? AS m").bind("x".repeat(50)).first("m")).toBe(0);
  });

  it("matches long page goals through the generated goal match", async () => {
    const rows = [
      ["page", LONG, 3, LONG],
      ["page", `${LONG}/*`, 4, `${LONG}/linux`],
      ["page", `${LONG}/*`, 4, `${LONG}/linux/x`], // * stays within one segment
      ["page", `${LONG}/*`, -1, `${LONG}/linux/x`],
      ["page", `/x/*${"y".repeat(60)}`, -1, `/x/a${"y".repeat(60)}`],
    ];
    const matched = [];
    for (const [kind, target, slashes, pathname] of rows) {
      const sql = `SELECT (${GOAL_MATCH_SQL}) AS m FROM (SELECT 'pageview' AS name, ?1 AS pathname, NULL AS props) AS e, (SELECT ?2 AS gkind, ?3 AS gtarget, ?4 AS gslashes, NULL AS gpath, NULL AS gvalue) AS g`;
      matched.push(await env.DB.prepare(sql).bind(pathname, kind, target, slashes).first<number>("m"));
    }
    // The last, too long from its first *, matches nothing rather than failing the read.
    expect(matched).toEqual([1, 1, 0, 1, 0]);
  });
});
