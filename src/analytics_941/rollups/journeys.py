"""The journey rollups (migration 0033): per site and local day, for each page, the next and
previous pages of its views (up to four each way, as page ids) and the exit pages of the visits
that entered on it, so the Journeys view (``sql.journey_rollup``) reads a row per day instead of
ordering the pageviews of every visit that viewed the page.

A day is computed from the raw events and sessions of a day ``rollup_days`` lists (its bounds
come from that row) and listed in ``journey_rollup_days`` with that row's ``computed_at``: a late
event unlists the day (the triggers of migration 0003), the reader then reads it raw, and
``JOURNEY_TODO`` finds it for the next run. The windows are the raw read's own (``sql.journeys``:
ordered by ``ts, id`` within a visit and a day), so a rolled-up day holds exactly what a raw
read of that day counts (``tests/test_journey_rollup.py``).

The statements are plain SQL with ``?1`` site, ``?2`` day, ``?3`` timezone; the Worker's twin
(``worker/src/rollup/journeys.ts``) reads them from ``journey-statements.json``, which
``scripts/generate.py`` writes from this module (``tests/test_generated.py`` fails while it is
stale).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..store import Param, Store
from .arms import bound_params
from .visit_values import VISIT_VALUE_DIMENSIONS, visit_value_sql

__all__ = [
    "JOURNEY_DAY_STATEMENTS",
    "JOURNEY_READY_SQL",
    "JOURNEY_TODO",
    "MAX_JOURNEY_DAYS_PER_RUN",
    "STATEMENTS_FILE",
    "VALUE_MIN_DAY_VIEWS",
    "VALUE_MIN_VIEWS",
    "refresh_journey_rollups",
    "statements_json",
]

# Site-days computed per run across sites, newest first: a day is seven calls (reading the day's
# pageviews five times and its visits twice), so 24 take 168 of the run's 900 D1 calls and leave
# the months' job its share; after migration 0033 a site's year took 16 runs (four hours).
MAX_JOURNEY_DAYS_PER_RUN = 24
# Pages of the visit kept on each side of a view: the view's paths have up to five pages.
AROUND = 4
# Keys a page's row marks as its commonest on each side (its cut: the next one's count), and
# (entry, exit) pairs the day's row holds (``sql.journey_rollup.ranked``: why).
PATH_HEAD = 32
FLOW_HEAD = 128
# A page with at least VALUE_MIN_VIEWS pageviews in a day of at least VALUE_MIN_DAY_VIEWS also
# gets that day's rows per visit value (``_VALUES``), so the Journeys view under one filter on
# such a value reads rows. A raw read under a filter costs with the period's pageviews (every
# one is looked at) and the page's: at 10 M events a year (about 26,000 pageviews a day) a page
# of 500 views a day takes about 500 ms, while at 1 M even the busiest page takes under 150
# (docs/goals.md, Journeys). 0 keeps none; a change applies to the days redone after it.
VALUE_MIN_VIEWS = 500
VALUE_MIN_DAY_VIEWS = 10_000
JOURNEY_READY_SQL = (
    "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'journey_rollup_days'"
)
# The site-days rolled up (for their site's timezone) whose journey rows are missing or were
# made for another computation of the day: newest first.
JOURNEY_TODO = (
    "SELECT r.site_id AS site_id, r.day AS day, r.tz AS tz, r.computed_at AS computed_at "
    "FROM rollup_days AS r "
    "JOIN sites AS s ON s.id = r.site_id AND s.timezone = r.tz "
    "LEFT JOIN journey_rollup_days AS j ON j.site_id = r.site_id AND j.day = r.day "
    "AND j.tz = r.tz AND j.computed_at = r.computed_at "
    f"WHERE j.day IS NULL ORDER BY r.day DESC, r.site_id LIMIT {MAX_JOURNEY_DAYS_PER_RUN}"
)
_DAY = "rollup_days AS l WHERE l.site_id = ?1 AND l.day = ?2 AND l.tz = ?3"
_VIEWS = (
    f"FROM (SELECT start_ms, end_ms FROM {_DAY}) AS l CROSS JOIN events AS e "
    "ON e.site_id = ?1 AND e.ts >= l.start_ms AND e.ts < l.end_ms AND e.name = 'pageview'"
)
_VISITS = (
    f"FROM (SELECT start_ms, end_ms FROM {_DAY}) AS l CROSS JOIN sessions AS s "
    "ON s.site_id = ?1 AND s.started_at >= l.start_ms AND s.started_at < l.end_ms"
)
# The day's pages not numbered yet, busiest first, after the site's highest id.
_NUMBER = (
    "INSERT INTO journey_pages (site_id, pathname, id) "
    "SELECT ?1, pathname, (SELECT COALESCE(MAX(id), 0) FROM journey_pages WHERE site_id = ?1) "
    "+ ROW_NUMBER() OVER (ORDER BY SUM(n) DESC, pathname) FROM ("
    f"SELECT e.pathname AS pathname, COUNT(*) AS n {_VIEWS} GROUP BY 1 "
    f"UNION ALL SELECT s.entry_page, 1 {_VISITS} UNION ALL SELECT s.exit_page, 1 {_VISITS}) "
    "WHERE pathname NOT IN (SELECT pathname FROM journey_pages WHERE site_id = ?1) "
    "GROUP BY pathname"
)
_FRAME = f"ROWS BETWEEN 1 FOLLOWING AND {AROUND} FOLLOWING"


def _side(name: str, column: str, top: int, *, by: str = "page") -> str:
    """A CTE of one side's rows per ``by`` (a page, or a page and a visit value): the JSON
    object of its keys (``o``) and its cut (``c``: the count of the ``top + 1``-th commonest
    key, 0 when there are fewer)."""
    return (
        f"{name} AS (SELECT {by}, json_group_object(k, n) AS o, "
        f"COALESCE(MAX(CASE WHEN rn = {top + 1} THEN n END), 0) AS c FROM (SELECT {by}, k, n, "
        f"ROW_NUMBER() OVER (PARTITION BY {by} ORDER BY n DESC, k) AS rn FROM "
        f"({column})) GROUP BY {by})"
    )


# Each of the day's pageviews with the ids of the up to four pages after it and before it in its
# visit (nearest first).
_WINDOWS = (
    "SELECT e.session_id AS sid, p.id AS page, e.pathname AS pathname, "
    f"group_concat(p.id, ',') OVER (PARTITION BY e.session_id ORDER BY e.ts, e.id {_FRAME}) "
    "AS ahead, "
    "group_concat(p.id, ',') OVER (PARTITION BY e.session_id ORDER BY e.ts DESC, e.id DESC "
    f"{_FRAME}) AS behind {_VIEWS} "
    "JOIN journey_pages AS p ON p.site_id = ?1 AND p.pathname = e.pathname"
)
_ROWS = (
    f"WITH v AS MATERIALIZED ({_WINDOWS}),\n"
    + _side("a", "SELECT page, COALESCE(ahead, '') AS k, COUNT(*) AS n FROM v GROUP BY 1, 2",
            PATH_HEAD) + ",\n"
    + _side("b", "SELECT page, COALESCE(behind, '') AS k, COUNT(*) AS n FROM v GROUP BY 1, 2",
            PATH_HEAD) + ",\n"
    # The day's (entry, exit) pairs; the commonest go in the day's row (page 0), the rest in
    # their entry page's row.
    "x AS MATERIALIZED (SELECT i.id AS page, CAST(o.id AS TEXT) AS k, n, "
    "ROW_NUMBER() OVER (ORDER BY n DESC, i.id, o.id) AS rn FROM ("
    f"SELECT s.entry_page AS entry, s.exit_page AS leave, COUNT(*) AS n {_VISITS} GROUP BY 1, 2)"
    " JOIN journey_pages AS i ON i.site_id = ?1 AND i.pathname = entry "
    "JOIN journey_pages AS o ON o.site_id = ?1 AND o.pathname = leave),\n"
    f"xc AS (SELECT COALESCE(MAX(CASE WHEN rn = {FLOW_HEAD + 1} THEN n END), 0) AS c FROM x),\n"
    "f AS (SELECT page, json_group_object(k, n) AS o FROM x WHERE n <= (SELECT c FROM xc) "
    "GROUP BY 1 UNION ALL SELECT 0, json_group_object(page || ',' || k, n) FROM x "
    "WHERE n > (SELECT c FROM xc)),\n"
    "p AS (SELECT page FROM a UNION SELECT page FROM f)\n"
    "INSERT INTO journey_daily (site_id, day, page, exits, exits_cut, ahead, ahead_cut, behind, "
    "behind_cut) SELECT ?1, ?2, p.page, f.o, CASE WHEN p.page = 0 THEN (SELECT c FROM xc) END, "
    "a.o, a.c, b.o, b.c FROM p LEFT JOIN a ON a.page = p.page "
    "LEFT JOIN b ON b.page = p.page LEFT JOIN f ON f.page = p.page"
)
_DIMS = "'" + json.dumps(list(VISIT_VALUE_DIMENSIONS), separators=(",", ":")) + "'"
_VALUE = "CASE d.value " + " ".join(
    f"WHEN '{dim}' THEN {visit_value_sql(dim)}" for dim in VISIT_VALUE_DIMENSIONS) + " END"
# The day's busy pages (?5 ``VALUE_MIN_VIEWS``, on a day of ?6 ``VALUE_MIN_DAY_VIEWS``): their
# sides per visit value, and a marker row each (dim and value '') saying the day holds them, so
# a value without a row had no view of the page. The windows are ``_ROWS``' own, read for the
# visits that viewed a busy page (a visit's windows need all its views, not only those).
_VALUES = (
    "WITH held AS MATERIALIZED (SELECT pathname FROM (SELECT e.pathname AS pathname, "
    f"COUNT(*) AS n, SUM(COUNT(*)) OVER () AS total {_VIEWS} GROUP BY 1) "
    "WHERE n >= ?5 AND ?5 > 0 AND total >= ?6),\n"
    f"hv AS MATERIALIZED (SELECT DISTINCT e.session_id {_VIEWS} "
    "WHERE e.pathname IN (SELECT pathname FROM held)),\n"
    f"v AS MATERIALIZED ({_WINDOWS} WHERE e.session_id IN hv),\n"
    f"k AS MATERIALIZED (SELECT v.page AS page, d.value AS dim, {_VALUE} AS value, "
    "COALESCE(v.ahead, '') AS ahead, COALESCE(v.behind, '') AS behind FROM v "
    f"CROSS JOIN sessions ON sessions.id = v.sid CROSS JOIN json_each({_DIMS}) AS d "
    "WHERE v.pathname IN (SELECT pathname FROM held)),\n"
    + _side("a", "SELECT page, dim, value, ahead AS k, COUNT(*) AS n FROM k "
            "WHERE value IS NOT NULL GROUP BY 1, 2, 3, 4", PATH_HEAD, by="page, dim, value")
    + ",\n"
    + _side("b", "SELECT page, dim, value, behind AS k, COUNT(*) AS n FROM k "
            "WHERE value IS NOT NULL GROUP BY 1, 2, 3, 4", PATH_HEAD, by="page, dim, value")
    + "\nINSERT INTO journey_values (site_id, day, page, dim, value, ahead, ahead_cut, behind, "
    "behind_cut) SELECT ?1, ?2, a.page, a.dim, a.value, a.o, a.c, b.o, b.c FROM a "
    "JOIN b ON b.page = a.page AND b.dim = a.dim AND b.value = a.value "
    "UNION ALL SELECT ?1, ?2, p.id, '', '', NULL, NULL, NULL, NULL FROM journey_pages AS p "
    "WHERE p.site_id = ?1 AND p.pathname IN (SELECT pathname FROM held)"
)
# One site-day, a call each (D1 answers nothing else while a batch runs; the rows' statement
# takes most of a second at 10 M): the listing goes first and comes back last, so between the
# calls, or after one failed, a reader reads the day raw, and the next run redoes it.
JOURNEY_DAY_STATEMENTS: tuple[str, ...] = (
    "DELETE FROM journey_rollup_days WHERE site_id = ?1 AND day = ?2",
    "DELETE FROM journey_daily WHERE site_id = ?1 AND day = ?2",
    "DELETE FROM journey_values WHERE site_id = ?1 AND day = ?2",
    _NUMBER,
    _ROWS,
    _VALUES,
    # Listed only if the day is still listed with the stamp the job found (?4): a late event
    # or a recompute since then leaves it to the next run.
    "INSERT INTO journey_rollup_days (site_id, day, tz, computed_at) "
    f"SELECT ?1, ?2, ?3, l.computed_at FROM {_DAY} AND l.computed_at = ?4",
)
# The JSON file has no comments: its first key says where it comes from.
GENERATED = "by scripts/generate.py from src/analytics_941/rollups/journeys.py: do not edit"
STATEMENTS_FILE = Path(__file__).resolve().parents[3] / "worker/src/rollup/journey-statements.json"


def statements_json() -> str:
    """What ``journey-statements.json`` holds: the Worker's copy of this module's SQL."""
    return json.dumps({"generated": GENERATED, "ready": JOURNEY_READY_SQL, "todo": JOURNEY_TODO,
                       "day": list(JOURNEY_DAY_STATEMENTS),
                       "valueMinViews": [VALUE_MIN_VIEWS, VALUE_MIN_DAY_VIEWS]}, indent=1) + "\n"


async def refresh_journey_rollups(store: Store, *, min_views: int = VALUE_MIN_VIEWS,
                                  min_day_views: int = VALUE_MIN_DAY_VIEWS) -> int:
    """The cron's journey job (the twin of ``worker/src/rollup/journeys.ts``): redo up to
    ``MAX_JOURNEY_DAYS_PER_RUN`` site-days ``JOURNEY_TODO`` finds, holding rows per visit value
    for pages of ``min_views`` on days of ``min_day_views``. Returns how many."""
    (ready,) = await store.execute(JOURNEY_READY_SQL)
    if int(ready["n"] or 0) < 1:
        return 0
    done = 0
    for row in await store.execute(JOURNEY_TODO):
        values: list[Param] = [str(row["site_id"]), str(row["day"]), str(row["tz"]),
                               int(row["computed_at"] or 0), min_views, min_day_views]
        for sql in JOURNEY_DAY_STATEMENTS:  # one call each: see JOURNEY_DAY_STATEMENTS
            await store.execute(sql, values[: bound_params(sql)])
        done += 1
    return done
