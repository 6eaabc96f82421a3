-- Goal rollups (issue 15, docs/goals.md): per site, goal and site-local day, the goal's
-- converting visitors (distinct per day, summed across days as every rollup's), conversions,
-- and revenue in the goal's own currency (sum and count of amounts), in total (dim '') and per
-- value of a few dimensions of the converting events (`dim`, `value`: a goal-filtered panel);
-- for revenue goals also per currency their conversions carried (dim 'currency', each amount
-- summed in its own currency: what the panel lists apart from the goal's total).
-- The cron computes a day's rows for all the site's goals at once, from the raw events of a day
-- rollup_days lists, and lists the day in goal_rollup_days with the JSON text of the goal
-- definitions it used (`goals`) and the rollup_days stamp of the day it read (`computed_at`).
-- A reader takes a day's rows only when the listing names the site's current goals and the
-- day's current stamp, so a goal added, edited or removed, or a late event, sends the day back
-- to raw reads until it is redone. Deleting a site purges both tables (sites.delete_site
-- purges every table with a site_id column).
CREATE TABLE goal_rollup_daily (
  site_id TEXT NOT NULL,
  goal_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  day TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  revenue_sum REAL,
  revenue_n INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, day, goal_id, dim, value)
) WITHOUT ROWID;
CREATE TABLE goal_rollup_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  goals TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;
