// The funnel steps contract (tests/fixtures/contracts/funnel_steps.json): the Worker's cron makes
// a saved funnel's steps parameter exactly as the Python job and the dashboard's reader do
// (tests/test_contract_funnel_steps.py), to the character, since the listing keeps its JSON and
// a reader takes only days listed with its own; null where a step names a goal the site lacks.
import { describe, expect, it } from "vitest";
import cases from "../../tests/fixtures/contracts/funnel_steps.json";
import { funnelStepsParam } from "../src/rollup/funnels";

describe("the Worker writes the reader's funnel steps", () => {
  it.each(cases.map((c) => [c.why, c] as const))("%s", (_why, c) => {
    const param = funnelStepsParam(c.stored, c.goals);
    if (c.steps === null) {
      expect(param).toBeNull();
      return;
    }
    expect(param === null ? null : JSON.parse(param)).toEqual(c.steps);
    expect(param).toBe(JSON.stringify(c.steps));
  });
});
