-- Migration 0027: opt-in identity and new vs returning visitors (issue 17). Both are off by default,
-- per site. An identify() id is stored only as a keyed hash (the key lives in the site's Durable
-- Object, never in D1), and traits only under the keys the owner declared (JSON array).
ALTER TABLE sites ADD COLUMN identity_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN identity_traits TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sites ADD COLUMN returning_enabled INTEGER NOT NULL DEFAULT 0;

-- The visit's identified user (the keyed hash, hex; NULL: anonymous) and whether its browser had
-- visited the site before (NULL: unknown or off, 0: new, 1: returning). `returning` is an SQL
-- keyword, hence `is_returning`.
ALTER TABLE sessions ADD COLUMN user_id TEXT;
ALTER TABLE sessions ADD COLUMN is_returning INTEGER;
CREATE INDEX sessions_site_user ON sessions (site_id, user_id, started_at) WHERE user_id IS NOT NULL;

-- The latest value of each declared trait of an identified user.
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
