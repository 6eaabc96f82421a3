-- Alerts (issue 18, docs/alerts.md): per-site rules the Worker's cron evaluates after the
-- rollups (worker/src/alerts/), the site's alert settings (recipients, the goals that mean "added
-- to cart" and "purchased", the cursors of the conversion.completed / cart.abandoned webhook
-- scans) and a log of fired alerts the settings show.
--
-- `kind`: spike / drop (pageviews of the last `window_hours` against the median of the same
-- hours 1–4 weeks before, `threshold` in percent), no_events (none for `window_hours`),
-- goal_above / goal_below (`goal`'s conversions in the last `window_hours` against `threshold`),
-- error_rate (`JS error` events per 100 pageviews above `threshold`). `min_volume`: pageviews
-- below which spike, drop and error_rate stay quiet. `last_fired_at` carries the cooldown;
-- `checked_at` lets a run that ran out of D1 queries start with the rules left unchecked.
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

-- One row per site that set alerts up or whose webhooks listen for commerce events.
-- `recipients`: a JSON list of lower-cased addresses. The cursors are (ts, id) of the last event
-- (conversions) and (ended_at, id) of the last visit (abandoned carts) already scanned;
-- `claimed_at` keeps two cron runs from scanning the same site at once.
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

-- Fired alerts (and test alerts), newest shown in the settings; `summary` says why it fired.
-- `mail`: sent, failed (with `mail_error`) or none (no recipients or no mailer configured).
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
