-- 941 Analytics: the whole current D1 schema.
-- Every change is also a numbered file in migrations/; tests/test_schema.py proves that applying
-- the migrations in order yields exactly this schema.
--
-- Timestamps are integer Unix milliseconds (UTC). Day boundaries in a site's timezone are computed
-- by the reader, never stored, so a timezone change needs no rewrite.

-- A tracked website. `domain` is what the tracker sends as data-domain (Plausible's site id);
-- `domains` lists every hostname allowed to send events for it, as a JSON array of strings.
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  domains TEXT NOT NULL DEFAULT '[]',
  timezone TEXT NOT NULL DEFAULT 'UTC',
  created_at INTEGER NOT NULL
);

-- One row per pageview or custom event. Session attribution (source, channel, UTM, geo, device)
-- is copied from the session's first event so every event-level query can filter on it without a
-- join. `visitor_id` is the daily-rotating salted hash; no IP and no raw user agent are stored.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  name TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  hostname TEXT NOT NULL,
  pathname TEXT NOT NULL,
  referrer TEXT,
  source TEXT,
  channel TEXT,
  utm_source TEXT,
  utm_medium TEXT,
  utm_campaign TEXT,
  utm_term TEXT,
  utm_content TEXT,
  country TEXT,
  region TEXT,
  city TEXT,
  device TEXT,
  browser TEXT,
  browser_version TEXT,
  os TEXT,
  os_version TEXT,
  screen TEXT,
  props TEXT,
  revenue REAL,
  engaged_ms INTEGER
);
CREATE INDEX events_site_ts ON events (site_id, ts);
CREATE INDEX events_site_name_ts ON events (site_id, name, ts);

-- One row per visit, upserted by the site's Durable Object on every flush.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  hostname TEXT NOT NULL,
  entry_page TEXT NOT NULL,
  exit_page TEXT NOT NULL,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  is_bounce INTEGER NOT NULL DEFAULT 1,
  referrer TEXT,
  source TEXT,
  channel TEXT,
  utm_source TEXT,
  utm_medium TEXT,
  utm_campaign TEXT,
  utm_term TEXT,
  utm_content TEXT,
  country TEXT,
  region TEXT,
  city TEXT,
  device TEXT,
  browser TEXT,
  browser_version TEXT,
  os TEXT,
  os_version TEXT,
  screen TEXT
);
CREATE INDEX sessions_site_started ON sessions (site_id, started_at);
