-- The covering events time index (0006) also carries the dimensions of the dashboard's default
-- panel tabs — channel (Sources), country (Locations), browser (Devices); page was there already —
-- so today's raw part of those panels reads no table rows either. Same name, so a write still
-- updates as many indexes as before. schema.sql carries the same definition.
DROP INDEX events_site_ts;
CREATE INDEX events_site_ts ON events
  (site_id, ts, name, visitor_id, pathname, engaged_ms, scroll_depth, channel, country, browser);
