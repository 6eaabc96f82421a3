-- Migration 0030: the region's ISO 3166-2 code (`DE-BE`), which Plausible's Stats API names
-- `visit:region` (its `visit:region_name` is the name in `region`). The collector makes it from
-- Cloudflare's `request.cf.regionCode` and the country. Per visit only, like the language
-- (0026): no event row carries its bytes, and queries reach it through the visit.
-- Visits collected before this migration have none (NULL reads as Unknown): no subdivision
-- table maps Cloudflare's names to codes. Backfill plan, if ever wanted: the site's own later
-- visits map (country, region) to one code; copy it into older visits a bounded batch at a time
-- (by (site_id, started_at), the map as one JSON parameter), unlisting the rolled-up days each
-- batch touches so the cron recomputes them. Not run: it rewrites every older visit and re-rolls
-- every day for what visit:region_name already shows.
-- Imported history needs no table of its own: Plausible's regions, browser and OS versions and
-- the link_url / path properties of custom events are rows of `imported_daily` (0023).
ALTER TABLE sessions ADD COLUMN region_code TEXT;

-- Imports made before held Plausible's region codes as `region` (names): they are codes. At most
-- a few hundred rows per imported day, once.
UPDATE imported_daily SET dim = 'region_code' WHERE dim = 'region';
