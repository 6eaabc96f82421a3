-- Weekly rollups of closed ISO weeks; schema.sql carries the same tables and trigger at its end.

-- Weekly rollups (migration 0009): the same as the monthly ones for whole ISO weeks (`week` is
-- the Monday, 'YYYY-MM-DD'), so a 30-day range reads about four week rows and a few days per
-- value instead of thirty days.
CREATE TABLE rollup_weekly (
  site_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  week TEXT NOT NULL,
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
  PRIMARY KEY (site_id, dim, week, value)
) WITHOUT ROWID;

CREATE TABLE rollup_weeks (
  site_id TEXT NOT NULL,
  week TEXT NOT NULL,
  tz TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, week)
) WITHOUT ROWID;

CREATE TRIGGER rollup_days_week_delete AFTER DELETE ON rollup_days BEGIN
  DELETE FROM rollup_weeks WHERE site_id = OLD.site_id AND week = date(OLD.day, '-' || ((CAST(strftime('%w', OLD.day) AS INTEGER) + 6) % 7) || ' days');
END;

-- Backfill: every week whose seven days are all rolled up in its site's current timezone.
INSERT INTO rollup_weeks (site_id, week, tz, computed_at)
SELECT d.site_id, date(d.day, '-' || ((CAST(strftime('%w', d.day) AS INTEGER) + 6) % 7) || ' days'), s.timezone,
  CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM rollup_days AS d JOIN sites AS s ON s.id = d.site_id AND d.tz = s.timezone
GROUP BY d.site_id, date(d.day, '-' || ((CAST(strftime('%w', d.day) AS INTEGER) + 6) % 7) || ' days')
HAVING COUNT(*) = 7;
INSERT INTO rollup_weekly (site_id, dim, week, value, visitors, pageviews, events, engaged_ms, engaged_n, scroll_sum, scroll_n, visits, bounces, duration_ms, visit_pageviews)
SELECT r.site_id, r.dim, w.week, r.value, SUM(visitors), SUM(pageviews), SUM(events), SUM(engaged_ms), SUM(engaged_n), SUM(scroll_sum), SUM(scroll_n), SUM(visits), SUM(bounces), SUM(duration_ms), SUM(visit_pageviews)
FROM rollup_weeks AS w JOIN rollup_daily AS r ON r.site_id = w.site_id
  AND r.day >= w.week AND r.day < date(w.week, '+7 days')
GROUP BY r.site_id, r.dim, w.week, r.value;
