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
