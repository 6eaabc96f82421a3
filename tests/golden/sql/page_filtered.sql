WITH m_units AS (SELECT key AS i, json_extract(value, '$[0]') AS start_ms, json_extract(value, '$[1]') AS end_ms, json_extract(value, '$[2]') AS t, json_extract(value, '$[3]') AS day FROM json_each(?2)),
m_e AS (SELECT t, d0, COALESCE(SUM(visitors), 0) AS visitors FROM (SELECT b.i AS u, b.t AS t, pathname AS d0, COUNT(DISTINCT visitor_id) AS visitors FROM m_units AS b CROSS JOIN events ON events.site_id = ?1 AND events.ts >= b.start_ms AND events.ts < b.end_ms WHERE COALESCE(country, 'Unknown') IN (SELECT value FROM json_each(?3)) AND EXISTS (SELECT 1 FROM json_each(?4) WHERE instr(pathname, value) > 0) GROUP BY d0, b.i) GROUP BY d0, t),
m_s AS (SELECT t, d0, COALESCE(SUM(visits), 0) AS visits FROM (SELECT b.i AS u, b.t AS t, entry_page AS d0, COUNT(*) AS visits FROM m_units AS b CROSS JOIN sessions ON sessions.site_id = ?1 AND sessions.started_at >= b.start_ms AND sessions.started_at < b.end_ms WHERE COALESCE(country, 'Unknown') IN (SELECT value FROM json_each(?3)) AND id IN (SELECT session_id FROM events WHERE site_id = ?1 AND ts >= ?5 AND ts < ?6 AND EXISTS (SELECT 1 FROM json_each(?4) WHERE instr(pathname, value) > 0)) GROUP BY d0, b.i) GROUP BY d0, t),
m AS (SELECT e.t AS t, e.d0 AS d0, e.visitors AS visitors, COALESCE(s.visits, 0) AS visits FROM m_e AS e LEFT JOIN m_s AS s ON s.t = e.t AND s.d0 = e.d0)
SELECT m.d0 AS d0, m.visitors AS visitors, m.visits AS visits
FROM m
ORDER BY visitors DESC, d0 ASC
LIMIT 5 OFFSET 0
