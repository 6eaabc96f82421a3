-- Monthly rollups per frequent filter value; schema.sql carries the same tables at its end.

-- Monthly rollups per frequent filter value (migration 0011): the panels' other tabs (entry and
-- exit pages, sources, UTM, regions, cities, OS, sizes, devices) under a filter on one page or one
-- country, for whole months, and only for the values with at least FREQUENT_MIN_VISITS visits
-- that month (src/analytics_941/sql/columns.py). A held value has its totals row (dim '') here
-- too: that row is how a reader knows the month holds the value. Computed by the cron from raw
-- rows once the month's rollups per filter value are complete (frequent_rollups.py).
CREATE TABLE rollup_frequent_monthly (
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

-- The months whose rows above are complete, for timezone `tz` and the set of pairs `pairs`
-- (FREQUENT_ROLLUP_SET); `computed_at` is when the cron began computing them. A month leaves
-- this list whenever its rollup_filtered_months row does (a late row, a recomputed day, a
-- timezone change), so a reader never meets rows older than the days they sum.
CREATE TABLE rollup_frequent_months (
  site_id TEXT NOT NULL,
  month TEXT NOT NULL,
  tz TEXT NOT NULL,
  pairs TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, month)
) WITHOUT ROWID;

CREATE TRIGGER rollup_filtered_months_frequent_delete AFTER DELETE ON rollup_filtered_months BEGIN
  DELETE FROM rollup_frequent_months WHERE site_id = OLD.site_id AND month = OLD.month;
END;

-- The same per day, for the recent days only (FREQUENT_DAYS, 32: a 30-day view and the current
-- month of a 12-month one), and for the values with a thirtieth of the threshold that day; the
-- day's recompute writes them after its batch and deletes older ones. Listed in
-- rollup_frequent_days with the set of pairs they hold, only if the day's rollup_days row is
-- still the one that recompute wrote; the batch unlists the day first, and it leaves with it.
CREATE TABLE rollup_frequent_daily (
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

CREATE TABLE rollup_frequent_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  pairs TEXT NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;

CREATE TRIGGER rollup_days_frequent_delete AFTER DELETE ON rollup_days BEGIN
  DELETE FROM rollup_frequent_days WHERE site_id = OLD.site_id AND day = OLD.day;
END;

-- No backfill here: the cron computes every complete month missing from rollup_frequent_months,
-- newest first, one a run (15 minutes); until then those months read raw rows, as before. The
-- recent days get their rows as they are recomputed: queue the last 32 rolled-up days again.
INSERT OR IGNORE INTO rollup_dirty (site_id, slot)
  SELECT site_id, start_ms / 900000 FROM rollup_days WHERE day >= date('now', '-32 days');
