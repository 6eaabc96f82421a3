// The local-day contract (tests/fixtures/contracts/local_days.json): the cron must cut a site's
// days where the dashboard does (tests/test_contract_local_days.py checks periods.py against the
// same table), or rollups and raw reads disagree by an hour on DST days.
import { describe, expect, it } from "vitest";
import cases from "../../tests/fixtures/contracts/local_days.json";
import { dayBounds } from "../src/rollup/days";

describe("local days agree with the dashboard's", () => {
  it.each(cases.map((c) => [`${c.tz} ${c.day} (${c.why})`, c] as const))("%s", (_name, c) => {
    const [start, end] = dayBounds(c.day, c.tz);
    expect([start, end]).toEqual([c.start_ms, c.end_ms]);
    expect((end - start) / 3_600_000).toBe(c.hours);
  });
});
