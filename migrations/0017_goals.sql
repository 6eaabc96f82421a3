-- Goals (issue 15): per site, what counts as a conversion. A `page` goal is a pageview whose
-- pathname matches `target`, a pattern with Plausible's wildcards (`*` within one path segment,
-- `**` across segments); an `event` goal is an event named `target`, and when `prop_key` is not
-- empty, only with that property equal to `prop_value`. Goals are matched against raw events at
-- query time, so a goal added today counts the past (src/analytics_941/goals.py, docs/goals.md).
-- An absent property is '' rather than NULL so the UNIQUE constraint sees two equal goals.
CREATE TABLE goals (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('page', 'event')),
  target TEXT NOT NULL,
  prop_key TEXT NOT NULL DEFAULT '',
  prop_value TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE (site_id, kind, target, prop_key, prop_value)
);
CREATE UNIQUE INDEX goals_site_name ON goals (site_id, name);
