-- 941 Analytics: the whole current D1 schema.
-- Every change is also a numbered file in migrations/; tests/test_schema.py proves that applying
-- the migrations in order yields exactly this schema.
--
-- Timestamps are integer Unix milliseconds (UTC). Day boundaries in a site's timezone are computed
-- by the reader, never stored, so a timezone change needs no rewrite.

-- A tracked website. `domain` is what the tracker sends as data-domain (Plausible's site id);
-- `domains` lists every hostname allowed to send events for it, as a JSON array of strings.
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  domains TEXT NOT NULL DEFAULT '[]',
  timezone TEXT NOT NULL DEFAULT 'UTC',
  created_at INTEGER NOT NULL,
  -- Collector settings (migration 0002): subdomains accepted, excluded path patterns (JSON),
  -- events per minute per visitor / per site (0 = no limit), bounce threshold, raw retention.
  allow_subdomains INTEGER NOT NULL DEFAULT 0,
  excluded_paths TEXT NOT NULL DEFAULT '[]',
  rate_limit_visitor INTEGER NOT NULL DEFAULT 120,
  rate_limit_site INTEGER NOT NULL DEFAULT 0,
  bounce_threshold_ms INTEGER NOT NULL DEFAULT 10000,
  retention_days INTEGER,
  -- Raw archive before purge (migration 0014): write raw rows to R2 before retention deletes them.
  archive_raw INTEGER NOT NULL DEFAULT 0,
  -- The D1 binding holding the site's analytics data (migration 0015): DB or DB_<n>.
  database TEXT NOT NULL DEFAULT 'DB',
  -- Query parameters kept in stored URLs besides the UTM ones (migration 0018): JSON array.
  keep_query_params TEXT NOT NULL DEFAULT '[]'
);

-- One row per pageview or custom event. Session attribution (source, channel, UTM, geo, device)
-- is copied from the session's first event so every event-level query can filter on it without a
-- join. `visitor_id` is the daily-rotating salted hash; no IP and no raw user agent are stored.
-- Clustered by site and time (migration 0016): the table is its own time index, covering every
-- column; the key's `id` (worker/src/ids.ts) makes a replayed flush insert nothing.
CREATE TABLE events (
  id TEXT NOT NULL,
  site_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  name TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  hostname TEXT NOT NULL,
  pathname TEXT NOT NULL,
  referrer TEXT,
  source TEXT,
  channel TEXT,
  utm_source TEXT,
  utm_medium TEXT,
  utm_campaign TEXT,
  utm_term TEXT,
  utm_content TEXT,
  country TEXT,
  region TEXT,
  city TEXT,
  device TEXT,
  browser TEXT,
  browser_version TEXT,
  os TEXT,
  os_version TEXT,
  screen TEXT,
  props TEXT,
  revenue REAL,
  engaged_ms INTEGER,
  scroll_depth INTEGER,
  timezone TEXT,
  PRIMARY KEY (site_id, ts, id)
) WITHOUT ROWID;
-- Custom events: nearly every row is a pageview, so the index holds only the others.
CREATE INDEX events_name ON events (site_id, name, ts) WHERE name <> 'pageview';
-- For page filters (migration 0007). A country filter reads the time range: the planner took
-- it over a country index even for a year (migration 0016 has none).
CREATE INDEX events_path ON events (site_id, pathname, ts, session_id);

-- One row per visit, upserted by the site's Durable Object on every flush.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  hostname TEXT NOT NULL,
  entry_page TEXT NOT NULL,
  exit_page TEXT NOT NULL,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  is_bounce INTEGER NOT NULL DEFAULT 1,
  referrer TEXT,
  source TEXT,
  channel TEXT,
  utm_source TEXT,
  utm_medium TEXT,
  utm_campaign TEXT,
  utm_term TEXT,
  utm_content TEXT,
  country TEXT,
  region TEXT,
  city TEXT,
  device TEXT,
  browser TEXT,
  browser_version TEXT,
  os TEXT,
  os_version TEXT,
  screen TEXT,
  timezone TEXT
);
-- Covering for the parts rollup queries read raw (today), and the id page filters test: see
-- migrations 0006 and 0007.
CREATE INDEX sessions_site_started
  ON sessions (site_id, started_at, visitor_id, is_bounce, duration_ms, pageviews, id);
CREATE INDEX sessions_site_country_started
  ON sessions (site_id, COALESCE(country, 'Unknown'), started_at);

-- Rejected events, counted per site, UTC day, reason and (for bots) category. Drops that happen
-- before the site is known (invalid, too_large, unknown_site) are counted under site_id ''.
-- Written by the collector in batched upserts (count = count + excluded.count).
CREATE TABLE ingest_drops (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  reason TEXT NOT NULL,
  category TEXT NOT NULL DEFAULT '',
  count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, day, reason, category)
);

-- Authentication and access (migration 0004): secrets are stored only as SHA-256 hashes.

-- A person. `is_admin` = instance administrator (the first user, registered with the setup
-- token): implicitly owner of every site and allowed to create sites. `handle` is the WebAuthn
-- user handle (random, base64url), never the id, so it reveals nothing.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  handle TEXT NOT NULL UNIQUE,
  is_admin INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

-- A WebAuthn credential. `id` is the credential id (base64url); `public_key` the COSE key
-- (base64url); `sign_count` the last counter the authenticator reported.
CREATE TABLE passkeys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  public_key TEXT NOT NULL,
  sign_count INTEGER NOT NULL DEFAULT 0,
  backed_up INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A logged-in browser. The cookie holds a random token; only its hash is stored. `id` is a
-- public handle for the sessions page. Idle expiry is checked against `last_seen_at`.
CREATE TABLE auth_sessions (
  token_hash TEXT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  user_agent TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

-- A WebAuthn challenge: single use (deleted when consumed) and short-lived. `context` is JSON
-- (who registers, through which setup token or invite).
CREATE TABLE challenges (
  id TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  challenge TEXT NOT NULL,
  context TEXT NOT NULL DEFAULT '{}',
  expires_at INTEGER NOT NULL
);

-- A bearer token for the Stats API and CSV export. `site_ids` and `scopes` are JSON arrays;
-- `prefix` is the first characters of the token, shown in lists. `user_id` is NULL for tokens
-- made with the CLI; a user's token never reaches further than the user.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  name TEXT NOT NULL,
  user_id TEXT,
  site_ids TEXT NOT NULL DEFAULT '[]',
  scopes TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);

-- Who may see which site, and how much they may change.
CREATE TABLE site_members (
  site_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, user_id)
);
CREATE INDEX site_members_user ON site_members (user_id);

-- A single-use, expiring invite link. `roles` is a JSON object {site_id: role}.
CREATE TABLE invites (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  roles TEXT NOT NULL DEFAULT '{}',
  created_by TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  used_by TEXT
);

-- A public read-only dashboard of one site. `id` is the random slug in the link (kept in clear
-- so owners can copy the link again; it grants read access to one site only). `password_hash`
-- is scrypt, NULL for no password.
CREATE TABLE share_links (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  name TEXT NOT NULL,
  password_hash TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX share_links_site ON share_links (site_id);

-- One-time setup tokens (hashed) for registering the first user; all deleted once one is used.
CREATE TABLE setup_tokens (
  token_hash TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);

-- Fixed-window request counters (login attempts per client, API calls per token).
CREATE TABLE rate_limits (
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 0
);

-- Daily rollups (migration 0003): per site, local day, dimension and value, the additive parts
-- every metric is computed from (see src/analytics_941/sql/metrics.py). `dim` is '' with value
-- '' for the day's totals. Visitors are daily uniques, so days add up exactly.
CREATE TABLE rollup_daily (
  site_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  day TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, dim, day, value)
) WITHOUT ROWID;

-- The local days whose rollups are complete, in the timezone they were computed for. Readers
-- use rollups only for days listed here (with the site's current timezone), raw events for the
-- rest, in the same statement.
CREATE TABLE rollup_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;
CREATE INDEX rollup_days_site_start ON rollup_days (site_id, start_ms);

-- Quarter-hours (ts / 900000; every UTC offset is a multiple of 15 minutes) with new or changed
-- rows since their day was rolled up: the cron's work list. The triggers below fill it and, for
-- a late row in a rolled-up day, drop that day from rollup_days so readers fall back to raw
-- events until the cron has recomputed it: a late event is never lost, nor counted twice.
CREATE TABLE rollup_dirty (
  site_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  PRIMARY KEY (site_id, slot)
) WITHOUT ROWID;

CREATE TRIGGER events_rollup_insert AFTER INSERT ON events BEGIN
  INSERT OR IGNORE INTO rollup_dirty (site_id, slot) VALUES (NEW.site_id, NEW.ts / 900000);
  DELETE FROM rollup_days WHERE site_id = NEW.site_id AND start_ms <= NEW.ts AND end_ms > NEW.ts;
END;
CREATE TRIGGER events_rollup_update AFTER UPDATE ON events BEGIN
  INSERT OR IGNORE INTO rollup_dirty (site_id, slot) VALUES (NEW.site_id, NEW.ts / 900000);
  DELETE FROM rollup_days WHERE site_id = NEW.site_id AND start_ms <= NEW.ts AND end_ms > NEW.ts;
END;
CREATE TRIGGER sessions_rollup_insert AFTER INSERT ON sessions BEGIN
  INSERT OR IGNORE INTO rollup_dirty (site_id, slot)
    VALUES (NEW.site_id, NEW.started_at / 900000);
  DELETE FROM rollup_days
    WHERE site_id = NEW.site_id AND start_ms <= NEW.started_at AND end_ms > NEW.started_at;
END;
CREATE TRIGGER sessions_rollup_update AFTER UPDATE ON sessions BEGIN
  INSERT OR IGNORE INTO rollup_dirty (site_id, slot)
    VALUES (NEW.site_id, NEW.started_at / 900000);
  DELETE FROM rollup_days
    WHERE site_id = NEW.site_id AND start_ms <= NEW.started_at AND end_ms > NEW.started_at;
END;

-- Monthly rollups (migration 0005): the sums of a whole closed month's rollup_daily rows, per
-- site, dimension and value, so a long range reads one row per month and value instead of one
-- per day (a 12-month pages panel: ~12 × pages, not ~365 × pages). Visitors are sums of daily
-- uniques (the same convention as the days'), so a month row is exactly the sum of its days.
-- `month` is 'YYYY-MM' of the local days.
CREATE TABLE rollup_monthly (
  site_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  month TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, dim, month, value)
) WITHOUT ROWID;

-- The months whose rollup_monthly rows are complete: every local day of the month was listed in
-- rollup_days for timezone `tz` when they were summed. Readers use a month row only while it is
-- listed here for the site's current timezone and all its days are still listed in rollup_days.
CREATE TABLE rollup_months (
  site_id TEXT NOT NULL,
  month TEXT NOT NULL,
  tz TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, month)
) WITHOUT ROWID;

-- A day leaving rollup_days (a late row, a timezone change) takes its month out too, until the
-- rollup job has recomputed the day and, with it, the month.
CREATE TRIGGER rollup_days_month_delete AFTER DELETE ON rollup_days BEGIN
  DELETE FROM rollup_months WHERE site_id = OLD.site_id AND month = substr(OLD.day, 1, 7);
END;

-- Weekly rollups (migration 0009): the same as the monthly ones for whole ISO weeks (`week` is
-- the Monday, 'YYYY-MM-DD'), so a 30-day range reads about four week rows and a few days per
-- value instead of thirty days.
CREATE TABLE rollup_weekly (
  site_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  week TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, dim, week, value)
) WITHOUT ROWID;

CREATE TABLE rollup_weeks (
  site_id TEXT NOT NULL,
  week TEXT NOT NULL,
  tz TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, week)
) WITHOUT ROWID;

CREATE TRIGGER rollup_days_week_delete AFTER DELETE ON rollup_days BEGIN
  DELETE FROM rollup_weeks WHERE site_id = OLD.site_id AND week = date(OLD.day, '-' || ((CAST(strftime('%w', OLD.day) AS INTEGER) + 6) % 7) || ' days');
END;

-- Rollups per filter value (migration 0010): the rows of rollup_daily and rollup_monthly once
-- more for the visits and events matching one value of a filter dimension (`fdim` is 'page' or
-- 'country', `fvalue` its value), so a dashboard filtered to one page or one country reads a few
-- rows per day and month instead of every raw event of the range. Which pairs are kept: see
-- FILTERED_ROLLUP_* in src/analytics_941/sql/columns.py. Readers use them only for the days and
-- months listed in rollup_filtered_days and rollup_filtered_months (below).
-- Keys start with the day (month) so a recompute deletes and sums its rows by range; readers
-- seek every unit on all five leading columns anyway.
CREATE TABLE rollup_filtered_daily (
  site_id TEXT NOT NULL,
  fdim TEXT NOT NULL,
  fvalue TEXT NOT NULL,
  dim TEXT NOT NULL,
  day TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, day, fdim, fvalue, dim, value)
) WITHOUT ROWID;

CREATE TABLE rollup_filtered_monthly (
  site_id TEXT NOT NULL,
  fdim TEXT NOT NULL,
  fvalue TEXT NOT NULL,
  dim TEXT NOT NULL,
  month TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, month, fdim, fvalue, dim, value)
) WITHOUT ROWID;

-- The days and months whose rollups per filter value are complete, kept apart from rollup_days
-- and rollup_months so days rolled up before this migration read raw rows (as they did) until
-- the cron has recomputed them. A day is listed here in the same batch as in rollup_days, and
-- leaves with it. `pairs` names the set of pairs computed (FILTERED_ROLLUP_SET): a day listed
-- for another set is queued again by the cron and read raw meanwhile.
CREATE TABLE rollup_filtered_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  pairs TEXT NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;

CREATE TABLE rollup_filtered_months (
  site_id TEXT NOT NULL,
  month TEXT NOT NULL,
  tz TEXT NOT NULL,
  pairs TEXT NOT NULL,
  PRIMARY KEY (site_id, month)
) WITHOUT ROWID;

CREATE TRIGGER rollup_days_filtered_delete AFTER DELETE ON rollup_days BEGIN
  DELETE FROM rollup_filtered_days WHERE site_id = OLD.site_id AND day = OLD.day;
  DELETE FROM rollup_filtered_months WHERE site_id = OLD.site_id AND month = substr(OLD.day, 1, 7);
END;

-- Monthly rollups per frequent filter value (migration 0011): the panels' other tabs (entry and
-- exit pages, sources, UTM, regions, cities, OS, sizes, devices) under a filter on one page or one
-- country, for whole months, and only for the values with at least FREQUENT_MIN_VISITS visits
-- that month (src/analytics_941/sql/columns.py). A held value has its totals row (dim '') here
-- too: that row is how a reader knows the month holds the value. Computed by the cron from raw
-- rows once the month's rollups per filter value are complete (frequent_rollups.py).
CREATE TABLE rollup_frequent_monthly (
  site_id TEXT NOT NULL,
  fdim TEXT NOT NULL,
  fvalue TEXT NOT NULL,
  dim TEXT NOT NULL,
  month TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, month, fdim, fvalue, dim, value)
) WITHOUT ROWID;

-- The months whose rows above are complete, for timezone `tz` and the set of pairs `pairs`
-- (FREQUENT_ROLLUP_SET); `computed_at` is when the cron began computing them. A month leaves
-- this list whenever its rollup_filtered_months row does (a late row, a recomputed day, a
-- timezone change), so a reader never meets rows older than the days they sum.
CREATE TABLE rollup_frequent_months (
  site_id TEXT NOT NULL,
  month TEXT NOT NULL,
  tz TEXT NOT NULL,
  pairs TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, month)
) WITHOUT ROWID;

CREATE TRIGGER rollup_filtered_months_frequent_delete AFTER DELETE ON rollup_filtered_months BEGIN
  DELETE FROM rollup_frequent_months WHERE site_id = OLD.site_id AND month = OLD.month;
END;

-- The same per day, for the recent days only (FREQUENT_DAYS, 32: a 30-day view and the current
-- month of a 12-month one), and for the values with a thirtieth of the threshold that day; the
-- day's recompute writes them after its batch and deletes older ones. Listed in
-- rollup_frequent_days with the set of pairs they hold, only if the day's rollup_days row is
-- still the one that recompute wrote; the batch unlists the day first, and it leaves with it.
CREATE TABLE rollup_frequent_daily (
  site_id TEXT NOT NULL,
  fdim TEXT NOT NULL,
  fvalue TEXT NOT NULL,
  dim TEXT NOT NULL,
  day TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  engaged_ms INTEGER NOT NULL DEFAULT 0,
  engaged_n INTEGER NOT NULL DEFAULT 0,
  scroll_sum INTEGER NOT NULL DEFAULT 0,
  scroll_n INTEGER NOT NULL DEFAULT 0,
  visits INTEGER NOT NULL DEFAULT 0,
  bounces INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  visit_pageviews INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, day, fdim, fvalue, dim, value)
) WITHOUT ROWID;

CREATE TABLE rollup_frequent_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  pairs TEXT NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;

CREATE TRIGGER rollup_days_frequent_delete AFTER DELETE ON rollup_days BEGIN
  DELETE FROM rollup_frequent_days WHERE site_id = OLD.site_id AND day = OLD.day;
END;

-- Audit log (migrations/0013_audit_log.sql explains the columns).
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  site_ref TEXT,
  actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'token', 'cli')),
  actor_id TEXT,
  actor_name TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}',
  count INTEGER NOT NULL DEFAULT 1,
  counter_key TEXT UNIQUE
);
CREATE INDEX audit_log_site_at ON audit_log (site_ref, at);
CREATE INDEX audit_log_actor_at ON audit_log (actor_id, at);
CREATE INDEX audit_log_at ON audit_log (at);

-- Raw archive files in R2, one per site-day (migrations/0014_archive_raw.sql explains them).
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

-- Bounded rebuilds of raw tables in progress (migration 0016, src/analytics_941/rebuilds.py):
-- `copy` (old rows up to the rowid `cursor` are copied; rows after
-- `last_row` came with the mirror triggers), `retire` (swapped; the old table, renamed,
-- is being emptied), `done`.
CREATE TABLE table_rebuilds (
  name TEXT PRIMARY KEY,
  phase TEXT NOT NULL DEFAULT 'copy',
  cursor INTEGER NOT NULL DEFAULT 0,
  last_row INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
);

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

-- Migration 0021: email reports (report_subscriptions, report_sends) and webhooks.
-- Who gets a site's weekly (Monday) and monthly (the 1st) summary, and a sent-log row per
-- recipient and period so the Worker's cron sends each period once (docs/reports.md).
CREATE TABLE report_subscriptions (
  site_id TEXT NOT NULL,
  email TEXT NOT NULL,
  weekly INTEGER NOT NULL DEFAULT 0,
  monthly INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, email)
) WITHOUT ROWID;

-- One row per (site, recipient, period kind, first local day of the period). The cron claims a
-- row (`sending`) before it sends and marks it `sent` after: a second run finds it claimed or
-- sent and leaves it. A failed send is `failed` with `next_attempt_at` (backoff) and the error
-- shown in the site's settings; after the last attempt it stays `failed` with next_attempt_at 0.
CREATE TABLE report_sends (
  site_id TEXT NOT NULL,
  email TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('weekly', 'monthly')),
  period_start TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  claimed_at INTEGER NOT NULL DEFAULT 0,
  sent_at INTEGER,
  last_error TEXT,
  PRIMARY KEY (site_id, email, kind, period_start)
) WITHOUT ROWID;
CREATE INDEX report_sends_retry ON report_sends (status, next_attempt_at);

-- Webhooks (issue 18, docs/webhooks.md): per site, endpoints subscribed to event types, signed
-- with their own secret (Standard Webhooks: `whsec_` and base64 key bytes); one delivery row per
-- message and endpoint, the log the settings show (status code of the last attempt, attempts,
-- next try). The Worker's WebhookDO holds the schedule and retries with backoff.
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  url TEXT NOT NULL,
  events TEXT NOT NULL DEFAULT '[]',
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (site_id, url)
);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  event TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_site ON webhook_deliveries (site_id, created_at);

-- Migration 0020: funnels (migrations/0020_funnels.sql explains the columns).
CREATE TABLE funnels (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  name TEXT NOT NULL,
  steps TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX funnels_site_name ON funnels (site_id, name);

-- Migration 0019: Core Web Vitals per page view (issue 17, script.web-vitals.js). One row per
-- pageview that reported any, keyed like that pageview's `events` row (site_id, ts, id), so
-- pageviews without vitals carry no extra byte and the Performance page reaches each row's
-- page, device, country and browser through the events primary key. The Durable Object's flush
-- upserts the latest report (a newer value replaces the stored one). Times in whole ms; CLS in
-- ten-thousandths (0.1 = 1000), an integer of two bytes instead of an eight-byte real.
CREATE TABLE web_vitals (
  site_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  lcp_ms INTEGER,
  inp_ms INTEGER,
  cls_e4 INTEGER,
  fcp_ms INTEGER,
  ttfb_ms INTEGER,
  PRIMARY KEY (site_id, ts, event_id)
) WITHOUT ROWID;

-- Migration 0022: alerts (migrations/0022_alerts.sql explains the rules, settings and log).
CREATE TABLE alert_rules (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('spike', 'drop', 'no_events', 'goal_above', 'goal_below', 'error_rate')),
  goal TEXT NOT NULL DEFAULT '',
  threshold REAL NOT NULL DEFAULT 0,
  window_hours INTEGER NOT NULL DEFAULT 1,
  min_volume INTEGER NOT NULL DEFAULT 0,
  cooldown_minutes INTEGER NOT NULL DEFAULT 360,
  last_fired_at INTEGER NOT NULL DEFAULT 0,
  checked_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX alert_rules_checked ON alert_rules (checked_at, id);
CREATE INDEX alert_rules_site ON alert_rules (site_id);

CREATE TABLE alert_settings (
  site_id TEXT PRIMARY KEY,
  recipients TEXT NOT NULL DEFAULT '[]',
  cart_goal TEXT NOT NULL DEFAULT 'Add to cart',
  purchase_goal TEXT NOT NULL DEFAULT 'Purchase',
  conversion_ts INTEGER NOT NULL DEFAULT 0,
  conversion_id TEXT NOT NULL DEFAULT '',
  cart_ts INTEGER NOT NULL DEFAULT 0,
  cart_id TEXT NOT NULL DEFAULT '',
  claimed_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE alert_log (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  fired_at INTEGER NOT NULL,
  test INTEGER NOT NULL DEFAULT 0,
  summary TEXT NOT NULL,
  mail TEXT NOT NULL CHECK (mail IN ('sent', 'failed', 'none')),
  mail_error TEXT
);
CREATE INDEX alert_log_site ON alert_log (site_id, fired_at);

-- Migration 0023: imports
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

-- Migration 0024: revenue currency (migrations/0024_revenue_currency.sql explains the columns).
ALTER TABLE events ADD COLUMN revenue_currency TEXT;
ALTER TABLE goals ADD COLUMN currency TEXT;

-- Migration 0026: titles and language (migrations/0026_titles_language.sql explains them).
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
ALTER TABLE sessions ADD COLUMN language TEXT;

-- Migration 0025: segments
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

-- Migration 0027: identity and returning (migrations/0027_identity_returning.sql explains them).
ALTER TABLE sites ADD COLUMN identity_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN identity_traits TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sites ADD COLUMN returning_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN user_id TEXT;
ALTER TABLE sessions ADD COLUMN is_returning INTEGER;
CREATE INDEX sessions_site_user ON sessions (site_id, user_id, started_at) WHERE user_id IS NOT NULL;
CREATE TABLE user_traits (
  site TEXT NOT NULL,
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (site, user_id, key)
) WITHOUT ROWID;
CREATE TRIGGER user_traits_site_deleted AFTER DELETE ON sites BEGIN
  DELETE FROM user_traits WHERE site = old.id;
END;

-- Migration 0031: goal rollups (migrations/0031_goal_rollups.sql explains them).
CREATE TABLE goal_rollup_daily (
  site_id TEXT NOT NULL,
  goal_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  day TEXT NOT NULL,
  value TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  revenue_sum REAL,
  revenue_n INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, day, goal_id, dim, value)
) WITHOUT ROWID;
CREATE TABLE goal_rollup_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  goals TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;

-- Migration 0030: region codes (migrations/0030_plausible_geo_imports.sql explains them).
ALTER TABLE sessions ADD COLUMN region_code TEXT;

-- Migration 0028: alert mail retries (migrations/0028_alert_mail_retries.sql explains them).
CREATE TABLE alert_mail_retries (
  id TEXT PRIMARY KEY,
  log_id TEXT NOT NULL,
  site_id TEXT NOT NULL,
  email TEXT NOT NULL,
  message TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX alert_mail_retries_due ON alert_mail_retries (next_attempt_at);
CREATE INDEX alert_mail_retries_log ON alert_mail_retries (log_id);
CREATE INDEX alert_mail_retries_site ON alert_mail_retries (site_id, created_at);

-- Migration 0033: journey rollups (migrations/0033_journey_rollups.sql: what the columns hold).
CREATE TABLE journey_pages (
  site_id TEXT NOT NULL,
  pathname TEXT NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY (site_id, pathname)
) WITHOUT ROWID;
CREATE UNIQUE INDEX journey_pages_id ON journey_pages (site_id, id);
CREATE TABLE journey_daily (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  page INTEGER NOT NULL,
  exits TEXT,
  exits_cut INTEGER,
  ahead TEXT,
  ahead_cut INTEGER,
  behind TEXT,
  behind_cut INTEGER,
  PRIMARY KEY (site_id, day, page)
) WITHOUT ROWID;
CREATE TABLE journey_rollup_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tz TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;

-- Migration 0034: funnel rollups (migrations/0034_funnel_rollups.sql: what the columns hold).
CREATE TABLE funnel_daily (
  site_id TEXT NOT NULL,
  funnel_id TEXT NOT NULL,
  day TEXT NOT NULL,
  dim TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (site_id, funnel_id, day, dim)
) WITHOUT ROWID;
CREATE TABLE funnel_rollup_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  funnel_id TEXT NOT NULL,
  tz TEXT NOT NULL,
  steps TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, day, funnel_id)
) WITHOUT ROWID;

-- Migration 0035: journey rows per visit value (migrations/0035_journey_values.sql: what the columns hold).
CREATE TABLE journey_values (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  page INTEGER NOT NULL,
  dim TEXT NOT NULL,
  value TEXT NOT NULL,
  ahead TEXT,
  ahead_cut INTEGER,
  behind TEXT,
  behind_cut INTEGER,
  PRIMARY KEY (site_id, day, page, dim, value)
) WITHOUT ROWID;
