-- Imported history (docs/imports.md): days of another tool's aggregates (Plausible's CSV
-- export), kept apart from collected rows and read only where the site has no native data.
-- `imports` lists each import; its rows count only once it is `done` (written last), and
-- removal deletes the listing first, so a half-written or half-removed import is never read.
-- The id is a hash of the import's rows, so importing the same file twice changes nothing.
CREATE TABLE imports (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  first_day TEXT NOT NULL,
  last_day TEXT NOT NULL,
  pageviews INTEGER NOT NULL DEFAULT 0,
  rows INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('writing', 'done')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

-- The parts of the rollups (rollup_daily's columns) per import, dimension ('' = totals), local
-- day and value, so the reader sums them with native rows unchanged.
CREATE TABLE imported_daily (
  site_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  day TEXT NOT NULL,
  value TEXT NOT NULL,
  import_id TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, dim, day, value, import_id)
) WITHOUT ROWID;
CREATE INDEX imported_daily_import ON imported_daily (site_id, import_id, day);
