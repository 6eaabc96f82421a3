-- Revenue per currency (issue 15). Events keep the ISO 4217 code their revenue was sent in, so
-- EUR and USD amounts are never added up; NULL (one record-header byte) on every event without
-- revenue, and on revenue sent as a bare number or stored before this migration. A goal with a
-- currency is a revenue goal: its total and average count only amounts sent in that currency,
-- and amounts in other currencies are reported apart (docs/goals.md).
--
-- If the lean-events rebuild of migration 0016 is still under way, this adds the column to the
-- old table; the rebuild's swap adds it to the new one (src/analytics_941/rebuilds.py).
ALTER TABLE events ADD COLUMN revenue_currency TEXT;
ALTER TABLE goals ADD COLUMN currency TEXT;
