-- Monthly rollups of closed months; schema.sql carries the same tables and trigger at its end.

-- Monthly rollups (migration 0005): the sums of a whole closed month's rollup_daily rows, per
-- site, dimension and value, so a long range reads one row per month and value instead of one
-- per day (a 12-month pages panel: ~12 × pages, not ~365 × pages). Visitors are sums of daily
-- uniques (the same convention as the days'), so a month row is exactly the sum of its days.
-- `month` is 'YYYY-MM' of the local days.
CREATE TABLE rollup_monthly (
  site_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  month TEXT NOT NULL,
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
  PRIMARY KEY (site_id, dim, month, value)
) WITHOUT ROWID;

-- The months whose rollup_monthly rows are complete: every local day of the month was listed in
-- rollup_days for timezone `tz` when they were summed. Readers use a month row only while it is
-- listed here for the site's current timezone and all its days are still listed in rollup_days.
CREATE TABLE rollup_months (
  site_id TEXT NOT NULL,
  month TEXT NOT NULL,
  tz TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, month)
) WITHOUT ROWID;

-- A day leaving rollup_days (a late row, a timezone change) takes its month out too, until the
-- rollup job has recomputed the day and, with it, the month.
CREATE TRIGGER rollup_days_month_delete AFTER DELETE ON rollup_days BEGIN
  DELETE FROM rollup_months WHERE site_id = OLD.site_id AND month = substr(OLD.day, 1, 7);
END;

-- Backfill: every month whose days are all rolled up in its site's current timezone.
INSERT INTO rollup_months (site_id, month, tz, computed_at)
SELECT d.site_id, substr(d.day, 1, 7), s.timezone, CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM rollup_days AS d JOIN sites AS s ON s.id = d.site_id AND d.tz = s.timezone
GROUP BY d.site_id, substr(d.day, 1, 7)
HAVING COUNT(*) = CAST(strftime('%d', date(MIN(d.day), 'start of month', '+1 month', '-1 day'))
  AS INTEGER);
INSERT INTO rollup_monthly (site_id, dim, month, value, visitors, pageviews, events, engaged_ms, engaged_n, scroll_sum, scroll_n, visits, bounces, duration_ms, visit_pageviews)
SELECT r.site_id, r.dim, m.month, r.value, SUM(visitors), SUM(pageviews), SUM(events), SUM(engaged_ms), SUM(engaged_n), SUM(scroll_sum), SUM(scroll_n), SUM(visits), SUM(bounces), SUM(duration_ms), SUM(visit_pageviews)
FROM rollup_months AS m JOIN rollup_daily AS r ON r.site_id = m.site_id
  AND r.day >= m.month || '-01' AND r.day < date(m.month || '-01', '+1 month')
GROUP BY r.site_id, r.dim, m.month, r.value;
