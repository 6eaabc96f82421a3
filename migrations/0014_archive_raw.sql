-- Raw archive before purge (issue 14, docs/archive.md). `sites.archive_raw` = 1 makes the
-- retention purge write each site-local day's raw events and sessions to R2 (the ARCHIVE bucket)
-- before it deletes them; a site that opts in while the bucket is missing keeps its rows.
ALTER TABLE sites ADD COLUMN archive_raw INTEGER NOT NULL DEFAULT 0;

-- One row per archived site-day: its R2 key and what the file holds (what `analytics-941 archive
-- list` shows). Written after the object is verified, before the day's rows are deleted.
CREATE TABLE raw_archives (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  key TEXT NOT NULL,
  events INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  archived_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;
