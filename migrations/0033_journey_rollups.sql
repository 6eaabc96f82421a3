-- Journey rollups (issue 15, docs/goals.md "Journeys"): per site and site-local day, for each
-- page viewed (and each entry page), how the day's visits moved around it, so the Journeys view
-- reads 30 rows for a page instead of ordering every pageview of the visits that viewed it.
-- Pages are numbered per site in journey_pages (the busiest of a day first, so ids stay short);
-- journey_daily's JSON objects count, for the page's views of the day:
--   ahead:  the ids of the up to four next pages of the visit, comma-separated ('' = it left);
--   behind: the ids of the up to four previous pages, nearest first ('' = it arrived);
--   exits:  for visits started that day on the page, their exit page's id -> visits, but for
--           the day's commonest (entry, exit) pairs, which the day's row (page 0) holds as
--           'entry,exit' -> visits.
-- A *_cut is the count of the first key past a row's commonest (rollups/journeys.py: PATH_HEAD,
-- FLOW_HEAD): every key not above it counts at most that, which lets a reader rank the
-- commonest paths exactly without summing every key (sql/journey_rollup.py).
-- A visit is cut at local midnight, as the raw read of the same days is (sql/journeys.py).
-- The cron computes a day rollup_days lists and lists it in journey_rollup_days with that
-- day's stamp (computed_at); a reader takes a day's rows only with the day's current stamp,
-- so a late event (which unlists the day) sends it back to raw reads until it is redone.
CREATE TABLE journey_pages (
  site_id TEXT NOT NULL,
  pathname TEXT NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY (site_id, pathname)
) WITHOUT ROWID;
CREATE UNIQUE INDEX journey_pages_id ON journey_pages (site_id, id);
CREATE TABLE journey_daily (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  page INTEGER NOT NULL,
  exits TEXT,
  exits_cut INTEGER,
  ahead TEXT,
  ahead_cut INTEGER,
  behind TEXT,
  behind_cut INTEGER,
  PRIMARY KEY (site_id, day, page)
) WITHOUT ROWID;
CREATE TABLE journey_rollup_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;
