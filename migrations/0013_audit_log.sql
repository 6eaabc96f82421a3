-- Audit log (issue 12): who changed what, on which site, and when; every data export; and, per
-- API token, site and UTC day, how many requests the token made. Kept one year (rows older are
-- purged by the dashboard as it writes new ones). `detail` is a small JSON object and never holds
-- a secret (token and share-link secrets appear as short prefixes at most).
--
-- `site_ref` is the site's id, NULL for account actions (passkeys, sessions, logins). It is
-- deliberately not called `site_id`: deleting a site purges every `site_id` column, and the
-- trail of a deleted site must outlive it. `actor_kind` says who acted: a logged-in user
-- (`actor_id` = user id, `actor_name` = their name at the time), an API token (`actor_id` = token
-- id, `actor_name` = its prefix) or the command line (`actor_id` NULL). `counter_key` is set only
-- on counter rows (`token:<id>:<site>:<day>`): requests add to `count` instead of adding rows.
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
