-- Collector settings per site, engagement columns, and the per-day drop counters.
-- schema.sql carries the same columns at the end of each CREATE TABLE (ALTER TABLE appends them).

-- Per-site collector settings, read by the Worker and cached for SITE_CACHE_TTL_S seconds.
-- allow_subdomains: 1 = events from any subdomain of a registered domain are accepted.
-- excluded_paths: JSON array of path patterns (`*` = one segment, `**` = anything) never counted.
-- rate_limit_visitor / rate_limit_site: events per minute per visitor hash / per site; 0 = no limit.
-- bounce_threshold_ms: a one-page visit with at least this much engaged time is not a bounce.
-- retention_days: raw events older than this are purged; NULL keeps them.
ALTER TABLE sites ADD COLUMN allow_subdomains INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN excluded_paths TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sites ADD COLUMN rate_limit_visitor INTEGER NOT NULL DEFAULT 120;
ALTER TABLE sites ADD COLUMN rate_limit_site INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN bounce_threshold_ms INTEGER NOT NULL DEFAULT 10000;
ALTER TABLE sites ADD COLUMN retention_days INTEGER;

-- Engagement of a pageview (the largest scroll depth reached, percent) and the visitor's
-- timezone from request.cf (an IANA name), both NULL when unknown.
ALTER TABLE events ADD COLUMN scroll_depth INTEGER;
ALTER TABLE events ADD COLUMN timezone TEXT;
ALTER TABLE sessions ADD COLUMN timezone TEXT;

-- Rejected events, counted per site, UTC day, reason and (for bots) category. Drops that happen
-- before the site is known (invalid, too_large, unknown_site) are counted under site_id ''.
-- Written by the collector in batched upserts (count = count + excluded.count).
CREATE TABLE ingest_drops (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  reason TEXT NOT NULL,
  category TEXT NOT NULL DEFAULT '',
  count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, day, reason, category)
);
