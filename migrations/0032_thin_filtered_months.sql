-- Thinned months of rollups per filter value; schema.sql carries the same table at its end.

-- Migration 0032: thinned months of rollups per filter value (src/analytics_941/rollups/thin.py).
-- A month listed here lost the rows per filter value of the pages with fewer than `below` events
-- and visits that month, totals row (dim '') included: a reader takes the month's rows for a page
-- only when its totals row is there, and reads the month's raw rows (an index seek on a page
-- that rare) otherwise. Only months of sites without a retention whose days' rows per filter
-- value were pruned are thinned: the purge keeps such days' raw rows. The listing goes with the
-- month's rollup_filtered_months row, and the month is thinned again once rebuilt and pruned.
CREATE TABLE rollup_filtered_thinned (
  site_id TEXT NOT NULL,
  month TEXT NOT NULL,
  below INTEGER NOT NULL,
  PRIMARY KEY (site_id, month)
) WITHOUT ROWID;

CREATE TRIGGER rollup_filtered_months_thinned_delete AFTER DELETE ON rollup_filtered_months BEGIN
  DELETE FROM rollup_filtered_thinned WHERE site_id = OLD.site_id AND month = OLD.month;
END;
