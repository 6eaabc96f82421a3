-- Repair text stored before the collector replaced lone UTF-16 surrogates (issue 12): workerd
-- wrote a lone surrogate such as "\ud800" as the three bytes ED A0..BF 80..BF, which are not
-- UTF-8, and one such value made every report holding it fail to decode. Each such sequence
-- becomes U+FFFD (EF BF BD), in every column that holds text a visitor sent (or a value derived
-- from one, in the rollup tables). Valid text is untouched: in UTF-8, ED is followed by 80..9F
-- only (U+D000..U+D7FF, e.g. Hangul), so ED A0..BF never starts a real character.
--
-- Bounded work, in plain SQL that runs on SQLite 3.40 (no unhex()):
-- - Rows are found by GLOB against U+FFFD: SQLite's pattern matcher reads a surrogate sequence
--   as U+FFFD, and valid text only matches where it already holds U+FFFD. One pass per table;
--   only matching rows are written.
-- - The repaired form of each distinct bad value is computed once into _repair_text, by the
--   97 byte replacements of _repair_steps applied in order: ED A0..BF -> FF (a byte no UTF-8
--   text holds), then FF 80..BF -> EF BF BD, then any FF left (a cut-off sequence) -> EF BF BD.
-- - Updating events and sessions fires their rollup triggers, so only the days holding a
--   repaired row are recomputed; rollup rows of days whose raw rows are gone (past retention)
--   are repaired in place (OR IGNORE: where the repaired value already has a row, that row
--   stays, and the old one keeps its bytes, which readers show as U+FFFD anyway).
-- Both helper tables are dropped at the end; the schema is unchanged.

CREATE TABLE _repair_steps (n INTEGER PRIMARY KEY, pat BLOB NOT NULL, rep BLOB NOT NULL);
INSERT INTO _repair_steps (n, pat, rep) VALUES
  (1, X'EDA0', X'FF'), (2, X'EDA1', X'FF'), (3, X'EDA2', X'FF'), (4, X'EDA3', X'FF'),
  (5, X'EDA4', X'FF'), (6, X'EDA5', X'FF'), (7, X'EDA6', X'FF'), (8, X'EDA7', X'FF'),
  (9, X'EDA8', X'FF'), (10, X'EDA9', X'FF'), (11, X'EDAA', X'FF'), (12, X'EDAB', X'FF'),
  (13, X'EDAC', X'FF'), (14, X'EDAD', X'FF'), (15, X'EDAE', X'FF'), (16, X'EDAF', X'FF'),
  (17, X'EDB0', X'FF'), (18, X'EDB1', X'FF'), (19, X'EDB2', X'FF'), (20, X'EDB3', X'FF'),
  (21, X'EDB4', X'FF'), (22, X'EDB5', X'FF'), (23, X'EDB6', X'FF'), (24, X'EDB7', X'FF'),
  (25, X'EDB8', X'FF'), (26, X'EDB9', X'FF'), (27, X'EDBA', X'FF'), (28, X'EDBB', X'FF'),
  (29, X'EDBC', X'FF'), (30, X'EDBD', X'FF'), (31, X'EDBE', X'FF'), (32, X'EDBF', X'FF'),
  (33, X'FF80', X'EFBFBD'), (34, X'FF81', X'EFBFBD'), (35, X'FF82', X'EFBFBD'),
  (36, X'FF83', X'EFBFBD'), (37, X'FF84', X'EFBFBD'), (38, X'FF85', X'EFBFBD'),
  (39, X'FF86', X'EFBFBD'), (40, X'FF87', X'EFBFBD'), (41, X'FF88', X'EFBFBD'),
  (42, X'FF89', X'EFBFBD'), (43, X'FF8A', X'EFBFBD'), (44, X'FF8B', X'EFBFBD'),
  (45, X'FF8C', X'EFBFBD'), (46, X'FF8D', X'EFBFBD'), (47, X'FF8E', X'EFBFBD'),
  (48, X'FF8F', X'EFBFBD'), (49, X'FF90', X'EFBFBD'), (50, X'FF91', X'EFBFBD'),
  (51, X'FF92', X'EFBFBD'), (52, X'FF93', X'EFBFBD'), (53, X'FF94', X'EFBFBD'),
  (54, X'FF95', X'EFBFBD'), (55, X'FF96', X'EFBFBD'), (56, X'FF97', X'EFBFBD'),
  (57, X'FF98', X'EFBFBD'), (58, X'FF99', X'EFBFBD'), (59, X'FF9A', X'EFBFBD'),
  (60, X'FF9B', X'EFBFBD'), (61, X'FF9C', X'EFBFBD'), (62, X'FF9D', X'EFBFBD'),
  (63, X'FF9E', X'EFBFBD'), (64, X'FF9F', X'EFBFBD'), (65, X'FFA0', X'EFBFBD'),
  (66, X'FFA1', X'EFBFBD'), (67, X'FFA2', X'EFBFBD'), (68, X'FFA3', X'EFBFBD'),
  (69, X'FFA4', X'EFBFBD'), (70, X'FFA5', X'EFBFBD'), (71, X'FFA6', X'EFBFBD'),
  (72, X'FFA7', X'EFBFBD'), (73, X'FFA8', X'EFBFBD'), (74, X'FFA9', X'EFBFBD'),
  (75, X'FFAA', X'EFBFBD'), (76, X'FFAB', X'EFBFBD'), (77, X'FFAC', X'EFBFBD'),
  (78, X'FFAD', X'EFBFBD'), (79, X'FFAE', X'EFBFBD'), (80, X'FFAF', X'EFBFBD'),
  (81, X'FFB0', X'EFBFBD'), (82, X'FFB1', X'EFBFBD'), (83, X'FFB2', X'EFBFBD'),
  (84, X'FFB3', X'EFBFBD'), (85, X'FFB4', X'EFBFBD'), (86, X'FFB5', X'EFBFBD'),
  (87, X'FFB6', X'EFBFBD'), (88, X'FFB7', X'EFBFBD'), (89, X'FFB8', X'EFBFBD'),
  (90, X'FFB9', X'EFBFBD'), (91, X'FFBA', X'EFBFBD'), (92, X'FFBB', X'EFBFBD'),
  (93, X'FFBC', X'EFBFBD'), (94, X'FFBD', X'EFBFBD'), (95, X'FFBE', X'EFBFBD'),
  (96, X'FFBF', X'EFBFBD'), (97, X'FF', X'EFBFBD');

CREATE TABLE _repair_text (old TEXT PRIMARY KEY, new TEXT NOT NULL) WITHOUT ROWID;

-- events: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT name, hostname, pathname, referrer, source, channel, utm_source, utm_medium, utm_campaign,
      utm_term, utm_content, country, region, city, device, browser, browser_version, os,
      os_version, screen, timezone, props
    FROM events
    WHERE name GLOB '*' || char(65533) || '*'
      OR hostname GLOB '*' || char(65533) || '*'
      OR pathname GLOB '*' || char(65533) || '*'
      OR referrer GLOB '*' || char(65533) || '*'
      OR source GLOB '*' || char(65533) || '*'
      OR channel GLOB '*' || char(65533) || '*'
      OR utm_source GLOB '*' || char(65533) || '*'
      OR utm_medium GLOB '*' || char(65533) || '*'
      OR utm_campaign GLOB '*' || char(65533) || '*'
      OR utm_term GLOB '*' || char(65533) || '*'
      OR utm_content GLOB '*' || char(65533) || '*'
      OR country GLOB '*' || char(65533) || '*'
      OR region GLOB '*' || char(65533) || '*'
      OR city GLOB '*' || char(65533) || '*'
      OR device GLOB '*' || char(65533) || '*'
      OR browser GLOB '*' || char(65533) || '*'
      OR browser_version GLOB '*' || char(65533) || '*'
      OR os GLOB '*' || char(65533) || '*'
      OR os_version GLOB '*' || char(65533) || '*'
      OR screen GLOB '*' || char(65533) || '*'
      OR timezone GLOB '*' || char(65533) || '*'
      OR props GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.name
      WHEN 2 THEN h.hostname
      WHEN 3 THEN h.pathname
      WHEN 4 THEN h.referrer
      WHEN 5 THEN h.source
      WHEN 6 THEN h.channel
      WHEN 7 THEN h.utm_source
      WHEN 8 THEN h.utm_medium
      WHEN 9 THEN h.utm_campaign
      WHEN 10 THEN h.utm_term
      WHEN 11 THEN h.utm_content
      WHEN 12 THEN h.country
      WHEN 13 THEN h.region
      WHEN 14 THEN h.city
      WHEN 15 THEN h.device
      WHEN 16 THEN h.browser
      WHEN 17 THEN h.browser_version
      WHEN 18 THEN h.os
      WHEN 19 THEN h.os_version
      WHEN 20 THEN h.screen
      WHEN 21 THEN h.timezone
      WHEN 22 THEN h.props
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 22
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

-- sessions: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT hostname, entry_page, exit_page, referrer, source, channel, utm_source, utm_medium,
      utm_campaign, utm_term, utm_content, country, region, city, device, browser,
      browser_version, os, os_version, screen, timezone
    FROM sessions
    WHERE hostname GLOB '*' || char(65533) || '*'
      OR entry_page GLOB '*' || char(65533) || '*'
      OR exit_page GLOB '*' || char(65533) || '*'
      OR referrer GLOB '*' || char(65533) || '*'
      OR source GLOB '*' || char(65533) || '*'
      OR channel GLOB '*' || char(65533) || '*'
      OR utm_source GLOB '*' || char(65533) || '*'
      OR utm_medium GLOB '*' || char(65533) || '*'
      OR utm_campaign GLOB '*' || char(65533) || '*'
      OR utm_term GLOB '*' || char(65533) || '*'
      OR utm_content GLOB '*' || char(65533) || '*'
      OR country GLOB '*' || char(65533) || '*'
      OR region GLOB '*' || char(65533) || '*'
      OR city GLOB '*' || char(65533) || '*'
      OR device GLOB '*' || char(65533) || '*'
      OR browser GLOB '*' || char(65533) || '*'
      OR browser_version GLOB '*' || char(65533) || '*'
      OR os GLOB '*' || char(65533) || '*'
      OR os_version GLOB '*' || char(65533) || '*'
      OR screen GLOB '*' || char(65533) || '*'
      OR timezone GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.hostname
      WHEN 2 THEN h.entry_page
      WHEN 3 THEN h.exit_page
      WHEN 4 THEN h.referrer
      WHEN 5 THEN h.source
      WHEN 6 THEN h.channel
      WHEN 7 THEN h.utm_source
      WHEN 8 THEN h.utm_medium
      WHEN 9 THEN h.utm_campaign
      WHEN 10 THEN h.utm_term
      WHEN 11 THEN h.utm_content
      WHEN 12 THEN h.country
      WHEN 13 THEN h.region
      WHEN 14 THEN h.city
      WHEN 15 THEN h.device
      WHEN 16 THEN h.browser
      WHEN 17 THEN h.browser_version
      WHEN 18 THEN h.os
      WHEN 19 THEN h.os_version
      WHEN 20 THEN h.screen
      WHEN 21 THEN h.timezone
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 21
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

-- rollup_daily: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT value FROM rollup_daily
    WHERE value GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.value
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 1
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

-- rollup_weekly: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT value FROM rollup_weekly
    WHERE value GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.value
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 1
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

-- rollup_monthly: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT value FROM rollup_monthly
    WHERE value GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.value
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 1
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

-- rollup_filtered_daily: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT fvalue, value FROM rollup_filtered_daily
    WHERE fvalue GLOB '*' || char(65533) || '*'
      OR value GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.fvalue
      WHEN 2 THEN h.value
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 2
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

-- rollup_filtered_monthly: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT fvalue, value FROM rollup_filtered_monthly
    WHERE fvalue GLOB '*' || char(65533) || '*'
      OR value GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.fvalue
      WHEN 2 THEN h.value
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 2
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

-- rollup_frequent_daily: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT fvalue, value FROM rollup_frequent_daily
    WHERE fvalue GLOB '*' || char(65533) || '*'
      OR value GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.fvalue
      WHEN 2 THEN h.value
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 2
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

-- rollup_frequent_monthly: one pass finds the rows, then each distinct bad value is repaired once.
INSERT OR IGNORE INTO _repair_text (old, new)
WITH RECURSIVE
  hit AS MATERIALIZED (
    SELECT fvalue, value FROM rollup_frequent_monthly
    WHERE fvalue GLOB '*' || char(65533) || '*'
      OR value GLOB '*' || char(65533) || '*'
  ),
  bad(v) AS (
    -- Each column of each hit row (a join, not a UNION: D1 caps compound SELECTs).
    SELECT DISTINCT CASE k.n
      WHEN 1 THEN h.fvalue
      WHEN 2 THEN h.value
    END
    FROM hit AS h JOIN _repair_steps AS k ON k.n <= 2
  ),
  fixed(n, old, v) AS (
    SELECT 0, v, v FROM bad WHERE v GLOB '*' || char(65533) || '*'
    UNION ALL
    SELECT f.n + 1, f.old, replace(f.v, CAST(s.pat AS TEXT), CAST(s.rep AS TEXT))
    FROM fixed AS f JOIN _repair_steps AS s ON s.n = f.n + 1
  )
SELECT old, v FROM fixed WHERE n = 97 AND v != old;

UPDATE events SET
  name = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.name), name),
  hostname = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.hostname), hostname),
  pathname = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.pathname), pathname),
  referrer = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.referrer), referrer),
  source = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.source), source),
  channel = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.channel), channel),
  utm_source = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.utm_source), utm_source),
  utm_medium = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.utm_medium), utm_medium),
  utm_campaign = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.utm_campaign), utm_campaign),
  utm_term = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.utm_term), utm_term),
  utm_content = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.utm_content), utm_content),
  country = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.country), country),
  region = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.region), region),
  city = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.city), city),
  device = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.device), device),
  browser = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.browser), browser),
  browser_version = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.browser_version), browser_version),
  os = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.os), os),
  os_version = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.os_version), os_version),
  screen = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.screen), screen),
  timezone = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.timezone), timezone),
  props = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = events.props), props)
WHERE name GLOB '*' || char(65533) || '*'
  OR hostname GLOB '*' || char(65533) || '*'
  OR pathname GLOB '*' || char(65533) || '*'
  OR referrer GLOB '*' || char(65533) || '*'
  OR source GLOB '*' || char(65533) || '*'
  OR channel GLOB '*' || char(65533) || '*'
  OR utm_source GLOB '*' || char(65533) || '*'
  OR utm_medium GLOB '*' || char(65533) || '*'
  OR utm_campaign GLOB '*' || char(65533) || '*'
  OR utm_term GLOB '*' || char(65533) || '*'
  OR utm_content GLOB '*' || char(65533) || '*'
  OR country GLOB '*' || char(65533) || '*'
  OR region GLOB '*' || char(65533) || '*'
  OR city GLOB '*' || char(65533) || '*'
  OR device GLOB '*' || char(65533) || '*'
  OR browser GLOB '*' || char(65533) || '*'
  OR browser_version GLOB '*' || char(65533) || '*'
  OR os GLOB '*' || char(65533) || '*'
  OR os_version GLOB '*' || char(65533) || '*'
  OR screen GLOB '*' || char(65533) || '*'
  OR timezone GLOB '*' || char(65533) || '*'
  OR props GLOB '*' || char(65533) || '*';

UPDATE sessions SET
  hostname = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.hostname), hostname),
  entry_page = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.entry_page), entry_page),
  exit_page = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.exit_page), exit_page),
  referrer = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.referrer), referrer),
  source = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.source), source),
  channel = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.channel), channel),
  utm_source = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.utm_source), utm_source),
  utm_medium = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.utm_medium), utm_medium),
  utm_campaign = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.utm_campaign), utm_campaign),
  utm_term = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.utm_term), utm_term),
  utm_content = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.utm_content), utm_content),
  country = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.country), country),
  region = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.region), region),
  city = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.city), city),
  device = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.device), device),
  browser = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.browser), browser),
  browser_version = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.browser_version), browser_version),
  os = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.os), os),
  os_version = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.os_version), os_version),
  screen = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.screen), screen),
  timezone = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = sessions.timezone), timezone)
WHERE hostname GLOB '*' || char(65533) || '*'
  OR entry_page GLOB '*' || char(65533) || '*'
  OR exit_page GLOB '*' || char(65533) || '*'
  OR referrer GLOB '*' || char(65533) || '*'
  OR source GLOB '*' || char(65533) || '*'
  OR channel GLOB '*' || char(65533) || '*'
  OR utm_source GLOB '*' || char(65533) || '*'
  OR utm_medium GLOB '*' || char(65533) || '*'
  OR utm_campaign GLOB '*' || char(65533) || '*'
  OR utm_term GLOB '*' || char(65533) || '*'
  OR utm_content GLOB '*' || char(65533) || '*'
  OR country GLOB '*' || char(65533) || '*'
  OR region GLOB '*' || char(65533) || '*'
  OR city GLOB '*' || char(65533) || '*'
  OR device GLOB '*' || char(65533) || '*'
  OR browser GLOB '*' || char(65533) || '*'
  OR browser_version GLOB '*' || char(65533) || '*'
  OR os GLOB '*' || char(65533) || '*'
  OR os_version GLOB '*' || char(65533) || '*'
  OR screen GLOB '*' || char(65533) || '*'
  OR timezone GLOB '*' || char(65533) || '*';

UPDATE OR IGNORE rollup_daily SET
  value = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_daily.value), value)
WHERE value GLOB '*' || char(65533) || '*';

UPDATE OR IGNORE rollup_weekly SET
  value = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_weekly.value), value)
WHERE value GLOB '*' || char(65533) || '*';

UPDATE OR IGNORE rollup_monthly SET
  value = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_monthly.value), value)
WHERE value GLOB '*' || char(65533) || '*';

UPDATE OR IGNORE rollup_filtered_daily SET
  fvalue = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_filtered_daily.fvalue), fvalue),
  value = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_filtered_daily.value), value)
WHERE fvalue GLOB '*' || char(65533) || '*'
  OR value GLOB '*' || char(65533) || '*';

UPDATE OR IGNORE rollup_filtered_monthly SET
  fvalue = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_filtered_monthly.fvalue), fvalue),
  value = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_filtered_monthly.value), value)
WHERE fvalue GLOB '*' || char(65533) || '*'
  OR value GLOB '*' || char(65533) || '*';

UPDATE OR IGNORE rollup_frequent_daily SET
  fvalue = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_frequent_daily.fvalue), fvalue),
  value = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_frequent_daily.value), value)
WHERE fvalue GLOB '*' || char(65533) || '*'
  OR value GLOB '*' || char(65533) || '*';

UPDATE OR IGNORE rollup_frequent_monthly SET
  fvalue = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_frequent_monthly.fvalue), fvalue),
  value = coalesce((SELECT r.new FROM _repair_text AS r WHERE r.old = rollup_frequent_monthly.value), value)
WHERE fvalue GLOB '*' || char(65533) || '*'
  OR value GLOB '*' || char(65533) || '*';

DROP TABLE _repair_text;
DROP TABLE _repair_steps;
