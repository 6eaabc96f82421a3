-- Funnels (issue 15): per site, a named sequence of 2 to 8 steps a visit completes in order.
-- `steps` is a JSON array of objects, each {"page": PATTERN} (the wildcards of page goals) or
-- {"goal": NAME} (one of the site's goals, by name). Like goals, funnels are definitions
-- evaluated against raw events when a report runs (src/analytics_941/funnels.py,
-- docs/goals.md), so a funnel saved today reports the past.
CREATE TABLE funnels (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  name TEXT NOT NULL,
  steps TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX funnels_site_name ON funnels (site_id, name);
