-- Indexes for the two filters that most often send dashboard queries to raw rows.
--
-- Country (a filter on it keeps every panel but Locations off the rollups): the expression is the
-- one the builder filters on (sql/columns.py labels a missing country 'Unknown'), so SQLite uses
-- the index for `COALESCE(country, 'Unknown') IN (…)`, reading only that country's rows.
CREATE INDEX events_site_country_ts ON events (site_id, COALESCE(country, 'Unknown'), ts);
CREATE INDEX sessions_site_country_started
  ON sessions (site_id, COALESCE(country, 'Unknown'), started_at);
-- Page (visit metrics filtered by page test "the visit viewed a matching page" through events):
-- the sessions of matching page views come from this index alone...
CREATE INDEX events_site_path_ts ON events (site_id, pathname, ts, session_id);
-- ...and the visits are tested against them without reading the sessions table: the session
-- id joins the covering time index of migration 0006 (same name, so no extra index per write).
DROP INDEX sessions_site_started;
CREATE INDEX sessions_site_started
  ON sessions (site_id, started_at, visitor_id, is_bounce, duration_ms, pageviews, id);
