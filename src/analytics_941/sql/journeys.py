"""Journeys as statements with bound parameters only: how visits move between pages.

A journey needs the order of pageviews within a visit, so these read raw events (never the
rollups), and the query's filters keep whole visits (``visits_clause``), as funnels do. Two
statements:

* ``journey_sql``: for one page, the pages visits came from and went to next, and the commonest
  paths of up to five pages from and to it, read from the visits that viewed it;
* ``flow_sql``: entry page → exit page of every visit of the period (the Sankey's links), from
  ``sessions`` alone.
"""

from __future__ import annotations

from datetime import date

from ..periods import bounds_ms
from ..query import Query
from ..store import Param
from .params import Params
from .visits import visits_clause

__all__ = ["SEPARATOR", "flow_sql", "journey_sql"]

# Joins the pages of a path in ``journey_sql``'s rows: a character no path holds.
SEPARATOR = "\x01"
PATH_PAGES = 5


def journey_sql(query: Query, page: str, *, period: tuple[date, date],
                limit: int = 10) -> tuple[str, list[Param]]:
    """One statement, rows ``kind``, ``value``, ``times``:

    * ``from`` / ``to``: the page just before ``page`` (NULL when it opened the visit) or just
      after it (NULL when it closed the visit), each with how many times;
    * ``path_from`` / ``path_to``: the ``limit`` commonest paths of up to five pages starting
      or ending at ``page``, their pages joined by ``SEPARATOR``.

    The visits that viewed ``page`` are found through the page index; their pageviews of the
    period are ordered once, and one pass over them gives each view the four views before and
    after it (``group_concat`` over a frame is cheaper in SQLite than eight ``LAG``/``LEAD``)."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    lo, hi = params.ref(start), params.ref(end)
    here = params.ref(page)
    visits = visits_clause(query, site=site, start=start, end=end, params=params)
    top = params.ref(limit)
    sep = "char(1)"
    frame = PATH_PAGES - 1
    rest = "substr(forward, length(pathname) + 2)"
    sql = (
        "WITH views AS MATERIALIZED (SELECT pathname, "
        f"group_concat(pathname, {sep}) OVER (w ROWS BETWEEN CURRENT ROW AND {frame} FOLLOWING)"
        " AS forward, "
        f"group_concat(pathname, {sep}) OVER (w ROWS BETWEEN {frame} PRECEDING AND CURRENT ROW)"
        " AS backward, LAG(pathname) OVER w AS before "
        f"FROM events WHERE site_id = {site} AND ts >= {lo} AND ts < {hi} "
        f"AND name = 'pageview'{visits} AND session_id IN (SELECT session_id FROM events "
        f"WHERE site_id = {site} AND pathname = {here} AND ts >= {lo} AND ts < {hi}) "
        "WINDOW w AS (PARTITION BY session_id ORDER BY ts, id)),\n"
        f"cut AS (SELECT forward, backward, before, {rest} AS rest FROM views "
        f"WHERE pathname = {here}),\n"
        f"here AS MATERIALIZED (SELECT forward, backward, before, CASE WHEN rest = '' THEN NULL "
        f"WHEN instr(rest, {sep}) > 0 THEN substr(rest, 1, instr(rest, {sep}) - 1) ELSE rest "
        "END AS after FROM cut)\n"
        # A reload (the page again) is no arrival from elsewhere, nor a departure: each run of
        # views of the page counts once, arriving at its first, leaving from its last.
        f"SELECT 'from' AS kind, before AS value, COUNT(*) AS times FROM here "
        f"WHERE before IS NOT {here} GROUP BY 2\n"
        f"UNION ALL SELECT 'to', after, COUNT(*) FROM here WHERE after IS NOT {here} GROUP BY 2\n"
        "UNION ALL SELECT * FROM (SELECT 'path_from', forward, COUNT(*) AS n FROM here "
        f"WHERE after IS NOT {here} GROUP BY 2 ORDER BY n DESC, 2 LIMIT {top})\n"
        "UNION ALL SELECT * FROM (SELECT 'path_to', backward, COUNT(*) AS n FROM here "
        f"WHERE before IS NOT {here} GROUP BY 2 ORDER BY n DESC, 2 LIMIT {top})"
    )
    return sql, params.check()


def flow_sql(query: Query, *, period: tuple[date, date], limit: int = 40
             ) -> tuple[str, list[Param]]:
    """Rows ``entry``, ``exit``, ``visits``: the most common (entry page, exit page) pairs of
    the visits that started in the period."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    visits = visits_clause(query, site=site, start=start, end=end, params=params, column="id")
    sql = (
        f"SELECT entry_page AS entry, exit_page AS exit, COUNT(*) AS visits FROM sessions "
        f"WHERE site_id = {site} AND started_at >= {params.ref(start)} "
        f"AND started_at < {params.ref(end)}{visits} GROUP BY 1, 2 "
        f"ORDER BY visits DESC, 1, 2 LIMIT {params.ref(limit)}"
    )
    return sql, params.check()
