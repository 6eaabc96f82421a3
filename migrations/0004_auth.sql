-- Authentication and access (issue 5): users with passkeys, sessions, single-use challenges,
-- API tokens, per-site roles, invites, public share links, setup tokens and rate-limit windows.
-- Every secret a browser or client holds (session cookie, API token, invite, setup token) is
-- stored only as its SHA-256 hash. Timestamps are Unix milliseconds, like the rest of the schema.

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
