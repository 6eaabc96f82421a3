-- A lean events table (issue 14): clustered by (site_id, ts, id), WITHOUT ROWID. The table is
-- its own time index, so the covering index events_site_ts and the id's own unique index go, and
-- so does the country index, which SQLite no longer chooses over the time range; custom events get
-- a partial index, since nearly every row is a pageview.
--
-- A big table cannot be copied in one statement within D1's 30 s limit, so this migration only
-- builds the new table and mirrors every write of `events` into it; the Worker's cron copies the
-- old rows in bounded steps, then swaps the tables and deletes the old one in bounded steps
-- (src/analytics_941/rebuilds.py). Until the swap, every reader keeps reading `events` as it is.
CREATE TABLE events_lean (
  id TEXT NOT NULL,
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
  engaged_ms INTEGER,
  scroll_depth INTEGER,
  timezone TEXT,
  PRIMARY KEY (site_id, ts, id)
) WITHOUT ROWID;
CREATE INDEX events_name ON events_lean (site_id, name, ts) WHERE name <> 'pageview';
CREATE INDEX events_path ON events_lean (site_id, pathname, ts, session_id);

CREATE TRIGGER events_lean_mirror_insert AFTER INSERT ON events BEGIN
  INSERT OR IGNORE INTO events_lean (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, referrer, source, channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content, country, region, city, device, browser, browser_version, os, os_version, screen, props, revenue, engaged_ms, scroll_depth, timezone)
    VALUES (NEW.id, NEW.site_id, NEW.ts, NEW.name, NEW.visitor_id, NEW.session_id, NEW.hostname, NEW.pathname, NEW.referrer, NEW.source, NEW.channel, NEW.utm_source, NEW.utm_medium, NEW.utm_campaign, NEW.utm_term, NEW.utm_content, NEW.country, NEW.region, NEW.city, NEW.device, NEW.browser, NEW.browser_version, NEW.os, NEW.os_version, NEW.screen, NEW.props, NEW.revenue, NEW.engaged_ms, NEW.scroll_depth, NEW.timezone);
END;
-- Any column may change (engagement does today): replace the copy, under its old key first.
CREATE TRIGGER events_lean_mirror_update AFTER UPDATE ON events BEGIN
  DELETE FROM events_lean WHERE site_id = OLD.site_id AND ts = OLD.ts AND id = OLD.id;
  INSERT OR REPLACE INTO events_lean (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, referrer, source, channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content, country, region, city, device, browser, browser_version, os, os_version, screen, props, revenue, engaged_ms, scroll_depth, timezone)
    VALUES (NEW.id, NEW.site_id, NEW.ts, NEW.name, NEW.visitor_id, NEW.session_id, NEW.hostname, NEW.pathname, NEW.referrer, NEW.source, NEW.channel, NEW.utm_source, NEW.utm_medium, NEW.utm_campaign, NEW.utm_term, NEW.utm_content, NEW.country, NEW.region, NEW.city, NEW.device, NEW.browser, NEW.browser_version, NEW.os, NEW.os_version, NEW.screen, NEW.props, NEW.revenue, NEW.engaged_ms, NEW.scroll_depth, NEW.timezone);
END;
CREATE TRIGGER events_lean_mirror_delete AFTER DELETE ON events BEGIN
  DELETE FROM events_lean WHERE site_id = OLD.site_id AND ts = OLD.ts AND id = OLD.id;
END;

-- Bounded rebuilds of raw tables in progress: `copy` (rows up to `cursor`, a rowid of the old
-- table, are copied), `retire` (swapped; the old table, renamed, is being emptied), `done`.
CREATE TABLE table_rebuilds (
  name TEXT PRIMARY KEY,
  phase TEXT NOT NULL DEFAULT 'copy',
  cursor INTEGER NOT NULL DEFAULT 0,
  last_row INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
);
-- The rows to copy are those before the mirrors: ingest never stops, so the copy needs an end.
INSERT INTO table_rebuilds (name, last_row) SELECT 'events', COALESCE(MAX(rowid), 0) FROM events;
