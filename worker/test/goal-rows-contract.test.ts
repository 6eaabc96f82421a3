// The goal row contract (tests/fixtures/contracts/goal_rows.json): the Worker's reports and alerts
// write each goal's row of `goal_rows` exactly as the dashboard's reader does
// (tests/test_contract_goal_rows.py), and the generated CTE unpacks it whole in workerd's SQLite.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import cases from "../../tests/fixtures/contracts/goal_rows.json";
import { goalRow } from "../src/reports/data";
import { goalRowsCte } from "../src/rollup/statements";

const COLUMNS = "gkind, gtarget, gslashes, gpath, gvalue, gname, gcurrency";

describe("the Worker writes the reader's goal rows", () => {
  it.each(cases.map((c) => [c.why, c] as const))("%s", async (_why, c) => {
    const row = goalRow(c.goal);
    expect(row).toEqual(c.row);
    const stored = await env.DB.prepare(`WITH ${goalRowsCte("?1")} SELECT ${COLUMNS} FROM goal_rows`)
      .bind(JSON.stringify([row])).raw();
    expect(stored).toEqual([c.row]);
  });
});
