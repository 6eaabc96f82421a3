WITH m_units AS (SELECT key AS i, json_extract(value, '$[0]') AS start_ms, json_extract(value, '$[1]') AS end_ms, json_extract(value, '$[2]') AS t, json_extract(value, '$[3]') AS day FROM json_each(?2)),
m AS (SELECT t, d0, COALESCE(SUM(visitors), 0) AS visitors, COALESCE(SUM(visits), 0) AS visits FROM (SELECT b.i AS u, b.t AS t, entry_page AS d0, COUNT(DISTINCT visitor_id) AS visitors, COUNT(*) AS visits FROM m_units AS b CROSS JOIN sessions ON sessions.site_id = ?1 AND sessions.started_at >= b.start_ms AND sessions.started_at < b.end_ms WHERE id IN (SELECT session_id FROM events WHERE site_id = ?1 AND ts >= ?4 AND ts < ?5 AND EXISTS (SELECT 1 FROM json_each(?3) WHERE pathname GLOB value)) GROUP BY d0, b.i) GROUP BY d0, t)
SELECT m.d0 AS d0, m.visitors AS visitors, m.visits AS visits, COUNT(*) OVER () AS total_rows
FROM m
ORDER BY visits ASC, d0 ASC
LIMIT 3 OFFSET 6
