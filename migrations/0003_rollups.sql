-- Daily rollups for fast reads of closed days, and the bookkeeping that keeps them exact.
-- schema.sql carries the same tables and triggers at its end.

-- Daily rollups (migration 0003): per site, local day, dimension and value, the additive parts
-- every metric is computed from (see src/analytics_941/sql/metrics.py). `dim` is '' with value
-- '' for the day's totals. Visitors are daily uniques, so days add up exactly.
CREATE TABLE rollup_daily (
  site_id TEXT NOT NULL,
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
  PRIMARY KEY (site_id, dim, day, value)
) WITHOUT ROWID;

-- The local days whose rollups are complete, in the timezone they were computed for. Readers
-- use rollups only for days listed here (with the site's current timezone), raw events for the
-- rest, in the same statement.
CREATE TABLE rollup_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;
CREATE INDEX rollup_days_site_start ON rollup_days (site_id, start_ms);

-- Quarter-hours (ts / 900000; every UTC offset is a multiple of 15 minutes) with new or changed
-- rows since their day was rolled up: the cron's work list. The triggers below fill it and, for
-- a late row in a rolled-up day, drop that day from rollup_days so readers fall back to raw
-- events until the cron has recomputed it: a late event is never lost, nor counted twice.
CREATE TABLE rollup_dirty (
  site_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  PRIMARY KEY (site_id, slot)
) WITHOUT ROWID;

CREATE TRIGGER events_rollup_insert AFTER INSERT ON events BEGIN
  INSERT OR IGNORE INTO rollup_dirty (site_id, slot) VALUES (NEW.site_id, NEW.ts / 900000);
  DELETE FROM rollup_days WHERE site_id = NEW.site_id AND start_ms <= NEW.ts AND end_ms > NEW.ts;
END;
CREATE TRIGGER events_rollup_update AFTER UPDATE ON events BEGIN
  INSERT OR IGNORE INTO rollup_dirty (site_id, slot) VALUES (NEW.site_id, NEW.ts / 900000);
  DELETE FROM rollup_days WHERE site_id = NEW.site_id AND start_ms <= NEW.ts AND end_ms > NEW.ts;
END;
CREATE TRIGGER sessions_rollup_insert AFTER INSERT ON sessions BEGIN
  INSERT OR IGNORE INTO rollup_dirty (site_id, slot)
    VALUES (NEW.site_id, NEW.started_at / 900000);
  DELETE FROM rollup_days
    WHERE site_id = NEW.site_id AND start_ms <= NEW.started_at AND end_ms > NEW.started_at;
END;
CREATE TRIGGER sessions_rollup_update AFTER UPDATE ON sessions BEGIN
  INSERT OR IGNORE INTO rollup_dirty (site_id, slot)
    VALUES (NEW.site_id, NEW.started_at / 900000);
  DELETE FROM rollup_days
    WHERE site_id = NEW.site_id AND start_ms <= NEW.started_at AND end_ms > NEW.started_at;
END;
