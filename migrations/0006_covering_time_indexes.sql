-- The time indexes of events and sessions become covering for the parts every rollup query
-- still reads raw (today, and days not rolled up yet): visitors, pageviews, events, engaged
-- time, scroll depth, page (events); visitors, bounces, duration, pageviews (sessions). They
-- replace the plain (site_id, ts) / (site_id, started_at) indexes under the same names, so a
-- write still updates as many indexes as before (D1 bills rows written per index): the cost is
-- larger index entries, not more writes. schema.sql carries the same definitions.
DROP INDEX events_site_ts;
CREATE INDEX events_site_ts
  ON events (site_id, ts, name, visitor_id, pathname, engaged_ms, scroll_depth);
DROP INDEX sessions_site_started;
CREATE INDEX sessions_site_started
  ON sessions (site_id, started_at, visitor_id, is_bounce, duration_ms, pageviews);
