"""Journeys as statements with bound parameters only: how visits move between pages.

A journey needs the order of pageviews within a visit, so these read raw events (never the
rollups), and the query's filters keep whole visits (``visits_clause``), as funnels do. A reload
(the same page twice in a row) is one step. Three statements:

* ``around_sql``: for one page, the pages visits came from (``(entrance)`` when it opened the
  visit) and went to next (``(exit)`` when it ended it), each with how often.
* ``paths_sql``: the most common paths of up to five pages starting at that page (``from``) or
  ending at it (``to``).
* ``flow_sql``: entry page → exit page of every visit of the period (the Sankey's links), from
  ``sessions`` alone.

Only the visits that viewed the page are read for the first two: the page index
(``events_path``) finds them, then their pageviews of the period are ordered.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from ..periods import bounds_ms
from ..query import Query
from ..store import Param
from .params import Params
from .where import DAY_MS, filters_sql

__all__ = ["ENTRANCE", "EXIT", "around_sql", "flow_sql", "paths_sql", "visits_clause"]

ENTRANCE = "(entrance)"
EXIT = "(exit)"
PATH_PAGES = 5


def visits_clause(query: Query, *, site: str, start: int, end: int, params: Params,
                  column: str = "session_id") -> str:
    """SQL: `` AND <column> IN (the visits passing the query's filters)``; '' without filters.
    Visits are taken from a day before ``start`` (a visit may start before midnight)."""
    if not query.filters:
        return ""
    clauses = filters_sql(query.filters, table="sessions", site=site, bounds=(start, end),
                          params=params, goals=query.goals)
    lo, hi = params.ref(start - DAY_MS), params.ref(end)
    return (
        f" AND {column} IN (SELECT id FROM sessions WHERE site_id = {site} "
        f"AND started_at >= {lo} AND started_at < {hi} AND {' AND '.join(clauses)})"
    )


def _steps(query: Query, page: str, period: tuple[date, date], params: Params) -> str:
    """The CTEs ``views`` (the pageviews of the visits that viewed ``page``, reloads dropped)
    and ``steps`` (each with the four pages before and after it in its visit)."""
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    lo, hi = params.ref(start), params.ref(end)
    visits = visits_clause(query, site=site, start=start, end=end, params=params)
    order = "PARTITION BY sid ORDER BY ts, id"
    around = ", ".join(
        [f"LAG(pathname, {k}) OVER w AS b{k}" for k in range(1, PATH_PAGES)]
        + [f"LEAD(pathname, {k}) OVER w AS a{k}" for k in range(1, PATH_PAGES)]
    )
    return (
        f"WITH raw AS MATERIALIZED (SELECT session_id AS sid, ts, id, pathname, "
        "LAG(pathname) OVER (PARTITION BY session_id ORDER BY ts, id) AS before "
        f"FROM events WHERE site_id = {site} AND ts >= {lo} AND ts < {hi} "
        f"AND name = 'pageview'{visits} AND session_id IN (SELECT session_id FROM events "
        f"WHERE site_id = {site} AND pathname = {params.ref(page)} AND ts >= {lo} "
        f"AND ts < {hi})),\n"
        "views AS (SELECT * FROM raw WHERE before IS NULL OR before <> pathname),\n"
        f"steps AS (SELECT sid, pathname, {around} FROM views WINDOW w AS ({order}))\n"
    )


def around_sql(query: Query, page: str, *, period: tuple[date, date]) -> tuple[str, list[Param]]:
    """Rows ``side`` ('from'/'to'), ``page``, ``times``, ``visits``: where visits came to
    ``page`` from and went to after it, most frequent first."""
    params = Params()
    ctes = _steps(query, page, period, params)
    here = params.ref(page)
    sql = (
        ctes
        + f"SELECT 'from' AS side, COALESCE(b1, '{ENTRANCE}') AS page, COUNT(*) AS times, "
        f"COUNT(DISTINCT sid) AS visits FROM steps WHERE pathname = {here} GROUP BY 2\n"
        f"UNION ALL SELECT 'to', COALESCE(a1, '{EXIT}'), COUNT(*), COUNT(DISTINCT sid) "
        f"FROM steps WHERE pathname = {here} GROUP BY 2\n"
        "ORDER BY side, times DESC, page"
    )
    return sql, params.check()


def paths_sql(
    query: Query, page: str, *, period: tuple[date, date], direction: Literal["from", "to"],
    limit: int = 10,
) -> tuple[str, list[Param]]:
    """Rows ``p1`` … ``p5`` and ``visits``: the most common paths of up to five pages starting
    (``from``) or ending (``to``) at ``page``; a path that ends sooner has NULLs after it."""
    params = Params()
    ctes = _steps(query, page, period, params)
    if direction == "from":
        pages = ["pathname", *[f"a{k}" for k in range(1, PATH_PAGES)]]
    else:
        pages = [*[f"b{k}" for k in range(PATH_PAGES - 1, 0, -1)], "pathname"]
    names = ", ".join(f"{column} AS p{i}" for i, column in enumerate(pages, start=1))
    groups = ", ".join(str(i) for i in range(1, PATH_PAGES + 1))
    sql = (
        ctes
        + f"SELECT {names}, COUNT(DISTINCT sid) AS visits FROM steps "
        f"WHERE pathname = {params.ref(page)} GROUP BY {groups} "
        f"ORDER BY visits DESC, {groups} LIMIT {params.ref(limit)}"
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
