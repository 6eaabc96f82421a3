-- Email reports (issue 18, docs/reports.md): who gets a site's weekly (Monday) and monthly (the
-- 1st) summary, and a sent-log row per recipient and period so the Worker's cron sends each
-- period once even when it runs twice or stops halfway (worker/src/reports/).
-- `email` is stored lower-cased; `weekly` / `monthly` are 0 or 1 (a row with both 0 is deleted).
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
