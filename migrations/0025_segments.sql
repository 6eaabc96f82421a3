-- Saved segments (docs/segments.md): a named set of filters of a site, personal (owner_id, seen
-- by its owner only) or site-wide (owner_id NULL, seen by every member). `filters` is the Stats
-- API v2 filter list as JSON; the API names a segment as ["is", "segment", [id]].
CREATE TABLE segments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id TEXT NOT NULL,
  name TEXT NOT NULL,
  filters TEXT NOT NULL,
  owner_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX segments_site ON segments (site_id, owner_id);
