-- Journey rows per visit value (issue 15, docs/goals.md "Journeys"): for the pages busy enough
-- that a filtered Journeys view read raw would take too long (rollups/journeys.py:
-- VALUE_MIN_VIEWS pageviews in the day), journey_daily's ahead/behind objects and cuts again,
-- counted per value of one visit dimension (dim, value: what a filter on it tests on the
-- visit's sessions row), so a view under one such filter reads rows instead of raw events.
-- A page held that day also has a marker row (dim = '', value = '', no objects): a reader
-- takes a day from these rows only with the marker, since a missing value row means none of
-- that value's visits viewed the page. Written by the journey job with the day's other rows.
CREATE TABLE journey_values (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  page INTEGER NOT NULL,
  dim TEXT NOT NULL,
  value TEXT NOT NULL,
  ahead TEXT,
  ahead_cut INTEGER,
  behind TEXT,
  behind_cut INTEGER,
  PRIMARY KEY (site_id, day, page, dim, value)
) WITHOUT ROWID;
-- Days rolled up before this migration have no value rows. A site's last 35 days listed whose
-- raw events are still there are unlisted, so the journey job redoes them (newest first, two
-- runs) and a 30-day view under a filter is held at once; older ones, and any day whose events
-- are gone (a retention's purge: redoing it would empty its rows), keep their rows and read raw
-- under a filter, as before.
DELETE FROM journey_rollup_days WHERE day >= (
  SELECT date(MAX(l.day), '-35 days') FROM journey_rollup_days AS l
  WHERE l.site_id = journey_rollup_days.site_id
) AND EXISTS (
  SELECT 1 FROM rollup_days AS r JOIN events AS e ON e.site_id = r.site_id
  AND e.ts >= r.start_ms AND e.ts < r.end_ms
  WHERE r.site_id = journey_rollup_days.site_id AND r.day = journey_rollup_days.day);
