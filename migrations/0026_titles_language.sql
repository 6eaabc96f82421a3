-- Migration 0026: page titles and the browser's language (issue 17).
-- Titles are long and repeat on every view of a page, so they are not an `events` column: the
-- Durable Object's flush upserts the latest title of each (site, path) here, one row per path.
-- `site` and `path` are not named like the events columns on purpose: the `page_title`
-- dimension reads this table in a subquery that names the events row's `site_id` and `pathname`
-- bare (the events table is aliased in some statements). A site's rows go with the site
-- (trigger below), since the site purge finds tables by a `site_id` column.
CREATE TABLE page_titles (
  site TEXT NOT NULL,
  path TEXT NOT NULL,
  title TEXT NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (site, path)
) WITHOUT ROWID;

CREATE TRIGGER page_titles_site_deleted AFTER DELETE ON sites BEGIN
  DELETE FROM page_titles WHERE site = old.id;
END;

-- The language is per visit: its first event's, stored once on the session (NULL: unknown).
ALTER TABLE sessions ADD COLUMN language TEXT;
