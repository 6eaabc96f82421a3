-- Query parameters a site keeps (issue 17, PII scrubbing at the edge): the collector drops every
-- query parameter but the UTM ones from the URLs it stores (the referrer, hash-route queries, URL
-- properties); `keep_query_params` (a JSON array of names) keeps these too. Read by the Worker's
-- site lookup (worker/src/collector/site-lookup.ts).
ALTER TABLE sites ADD COLUMN keep_query_params TEXT NOT NULL DEFAULT '[]';
