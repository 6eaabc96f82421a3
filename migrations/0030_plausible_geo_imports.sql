-- Migration 0030: the region's ISO 3166-2 code (`DE-BE`), which Plausible's Stats API names
-- `visit:region` (its `visit:region_name` is the name in `region`). The collector makes it from
-- Cloudflare's `request.cf.regionCode` and the country. Rows collected before this migration
-- have none (NULL reads as Unknown); docs/api.md says why no backfill derives it from names.
-- Imported history needs no table of its own: Plausible's regions, browser and OS versions and
-- the link_url / path properties of custom events are rows of `imported_daily` (0023).
ALTER TABLE events ADD COLUMN region_code TEXT;
ALTER TABLE sessions ADD COLUMN region_code TEXT;

-- Imports made before held Plausible's region codes as `region` (names): they are codes. At most
-- a few hundred rows per imported day, once.
UPDATE imported_daily SET dim = 'region_code' WHERE dim = 'region';
