-- Funnel rollups (issue 15, docs/goals.md "Funnels"): per site, saved funnel and site-local day,
-- so a funnel over a month reads rows per day instead of following every visit through its raw
-- events (src/analytics_941/rollups/funnels.py computes them; sql/funnel.py reads them).
-- funnel_daily, per dimension of the visit (`dim`, '' = unfiltered), holds in `data` a JSON
-- object from each value of it ('' when unfiltered) to its steps reached, each
-- [step, visits, visitors, gaps]: the visits and visitors (distinct per day) that reached the
-- step, and an array of the times in ms the visits that went on took to the next step.
-- A visit is followed within one local day, cut at midnight, as the raw read of the same days.
-- The cron computes a funnel's day from the raw events of a day rollup_days lists and lists it
-- in funnel_rollup_days with the JSON of the step definitions it used (`steps`) and the day's
-- rollup_days stamp (`computed_at`): a reader takes a day only for its own steps and the day's
-- current stamp, so a goal edited or a late event sends the day back to raw reads until redone.
CREATE TABLE funnel_daily (
  site_id TEXT NOT NULL,
  funnel_id TEXT NOT NULL,
  day TEXT NOT NULL,
  dim TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (site_id, funnel_id, day, dim)
) WITHOUT ROWID;
CREATE TABLE funnel_rollup_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  funnel_id TEXT NOT NULL,
  tz TEXT NOT NULL,
  steps TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day, funnel_id)
) WITHOUT ROWID;
