// The rollup job's contract (tests/fixtures/contracts/dirty_days.json): the cron picks the days
// to recompute exactly as rollups/jobs.py does (tests/test_contract_dirty_days.py).
import { describe, expect, it } from "vitest";
import cases from "../../tests/fixtures/contracts/dirty_days.json";
import { chooseDays } from "../src/rollup/cron";

describe("the cron chooses the days the Python job chooses", () => {
  it.each(cases.map((c) => [c.why, c] as const))("%s", (_why, c) => {
    const chosen = chooseDays(c.rows, c.now_ms, c.max_days);
    expect(chosen.map((d) => ({ site_id: d.siteId, day: d.day, tz: d.tz }))).toEqual(c.days);
  });
});
