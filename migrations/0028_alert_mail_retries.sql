-- Migration 0028: alert mails that failed, kept as built (the same Message-ID and unsubscribe
-- link) and sent again by the cron with backoff (worker/src/alerts/retry.ts), as the reports are.
-- `next_attempt_at` 0: not tried again (a final refusal, or the attempts used up); the row stays
-- for the alert log's text until the log's days are pruned.
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
