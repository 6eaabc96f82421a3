-- Migration 0030: the region's ISO 3166-2 code (`DE-BE`), which Plausible's Stats API names
-- `visit:region` (its `visit:region_name` is the name in `region`). The collector makes it from
-- Cloudflare's `request.cf.regionCode` and the country. Rows collected before this migration
-- have none (NULL reads as Unknown): no subdivision table maps Cloudflare's names to codes.
-- Backfill plan, if ever wanted: the site's own later rows map (country, region) to one code;
-- copy it into older rows a bounded batch at a time (by (site_id, ts), the map as one JSON
-- parameter), each batch's events trigger sending its rolled-up days back to the cron. Not run:
-- it rewrites every older row and re-rolls every day for what visit:region_name already shows.
-- Imported history needs no table of its own: Plausible's regions, browser and OS versions and
-- the link_url / path properties of custom events are rows of `imported_daily` (0023).
ALTER TABLE events ADD COLUMN region_code TEXT;
ALTER TABLE sessions ADD COLUMN region_code TEXT;

-- Imports made before held Plausible's region codes as `region` (names): they are codes. At most
-- a few hundred rows per imported day, once.
UPDATE imported_daily SET dim = 'region_code' WHERE dim = 'region';
