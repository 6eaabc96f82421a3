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
