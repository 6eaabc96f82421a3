-- Rollups per filter value; schema.sql carries the same tables at its end.

-- Rollups per filter value (migration 0010): the rows of rollup_daily and rollup_monthly once
-- more for the visits and events matching one value of a filter dimension (`fdim` is 'page' or
-- 'country', `fvalue` its value), so a dashboard filtered to one page or one country reads a few
-- rows per day and month instead of every raw event of the range. Which pairs are kept: see
-- FILTERED_ROLLUP_* in src/analytics_941/sql/columns.py. Readers use them only for the days and
-- months listed in rollup_filtered_days and rollup_filtered_months (below).
-- Keys start with the day (month) so a recompute deletes and sums its rows by range; readers
-- seek every unit on all five leading columns anyway.
CREATE TABLE rollup_filtered_daily (
  site_id TEXT NOT NULL,
  fdim TEXT NOT NULL,
  fvalue TEXT NOT NULL,
  dim TEXT NOT NULL,
  day TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, day, fdim, fvalue, dim, value)
) WITHOUT ROWID;

CREATE TABLE rollup_filtered_monthly (
  site_id TEXT NOT NULL,
  fdim TEXT NOT NULL,
  fvalue TEXT NOT NULL,
  dim TEXT NOT NULL,
  month TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, month, fdim, fvalue, dim, value)
) WITHOUT ROWID;

-- The days and months whose rollups per filter value are complete, kept apart from rollup_days
-- and rollup_months so days rolled up before this migration read raw rows (as they did) until
-- the cron has recomputed them. A day is listed here in the same batch as in rollup_days, and
-- leaves with it. `pairs` names the set of pairs computed (FILTERED_ROLLUP_SET): a day listed
-- for another set is queued again by the cron and read raw meanwhile.
CREATE TABLE rollup_filtered_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  pairs TEXT NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;

CREATE TABLE rollup_filtered_months (
  site_id TEXT NOT NULL,
  month TEXT NOT NULL,
  tz TEXT NOT NULL,
  pairs TEXT NOT NULL,
  PRIMARY KEY (site_id, month)
) WITHOUT ROWID;

CREATE TRIGGER rollup_days_filtered_delete AFTER DELETE ON rollup_days BEGIN
  DELETE FROM rollup_filtered_days WHERE site_id = OLD.site_id AND day = OLD.day;
  DELETE FROM rollup_filtered_months WHERE site_id = OLD.site_id AND month = substr(OLD.day, 1, 7);
END;

-- Backfill through the cron, not here: one statement over every raw event would outlast D1's
-- 30-second limit on any sizeable site. Each rolled-up day is queued again (one dirty mark in
-- its first quarter-hour); the cron recomputes 24 site-days a run, oldest first, listing each
-- day here as it goes. Until then filtered views of those days read raw rows, as before.
INSERT OR IGNORE INTO rollup_dirty (site_id, slot) SELECT site_id, start_ms / 900000 FROM rollup_days;
