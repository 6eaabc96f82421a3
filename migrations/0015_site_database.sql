-- More than one D1 database (issue 14, docs/deploy.md). `sites.database` names the binding that
-- holds the site's analytics data: `DB` (this, the home database) or a data database `DB_2`,
-- `DB_3`, …; every database gets all migrations. A data database's `sites` holds copies of its
-- sites' rows, which the Worker's cron refreshes from the home database.
ALTER TABLE sites ADD COLUMN database TEXT NOT NULL DEFAULT 'DB';
