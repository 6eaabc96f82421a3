"""Journeys as statements with bound parameters only: how visits move between pages.

A journey needs the order of pageviews within a visit, so raw days read raw events, and the
query's filters keep whole visits (tested on the visit's ``sessions`` row), as funnels do. Two
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
from ..rollups.visit_values import rolled_filter
from ..store import Param
from .journey_rollup import (
    flow_ranked,
    journey_rollup_ctes,
    neighbour,
    page_id,
    side_ranked,
    units_ctes,
)
from .local_days import units_param
from .params import Params
from .visits import started_window, visit_filters

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

    A visit is followed within one local day (one cut at midnight counts as two), so each day
    is read from the journey rollups when they hold it (``sql.journey_rollup``; under a filter
    only one on a visit value, for a page busy that day) and from raw events otherwise; both
    give the same rows, summed before ranking.
    Raw: the visits that viewed ``page`` are found through the page index, and those passing
    the filters kept (``jvisits``); their pageviews of each raw day are ordered once, and two
    frames give each view the four views before and after it. Each window function with
    another frame costs SQLite a pass over the sorted rows (``LAG``/``LEAD`` always take their
    own), so the page just before is read off the backward frame, not from a ``LAG``."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    here = params.ref(page)
    seen = (f"SELECT session_id FROM jraw AS v CROSS JOIN events ON site_id = {site} "
            f"AND pathname = {here} AND ts >= v.start_ms AND ts < v.end_ms")
    followed = _followed(query, seen, site=site, start=start, end=end, params=params)
    # Unfiltered, the rolled-up days' rows; under one filter on a visit value, those of the
    # value for the days that held the page (a busy one); else every day raw.
    rolled = rolled_filter(query)
    value = held = None
    if rolled is not None and rolled != ("", ""):
        value = (params.ref(rolled[0]), params.ref(rolled[1]))
        held = f"({page_id(site=site, here=here)})"
    units = units_ctes(site=site, tz=params.ref(query.timezone),
                       units=params.ref(units_param(period, tz=query.zone)),
                       rolled=rolled is not None, held=held)
    top = params.ref(limit)
    sep = "char(1)"
    frame = PATH_PAGES - 1
    rest = "substr(forward, length(pathname) + 2)"
    behind = "substr(backward, 1, length(backward) - length(pathname) - 1)"
    # A reload (the page again) is no arrival from elsewhere, nor a departure: each run of
    # views of the page counts once, arriving at its first, leaving from its last.
    arrived, left = f"before IS NOT {here}", f"after IS NOT {here}"
    paths_from, select_from = side_ranked(
        "jpf", site=site, here=here, side="ahead", top=top, rolled=rolled is not None,
        raw=f"SELECT forward AS value, COUNT(*) AS n FROM here WHERE {left} GROUP BY 1")
    paths_to, select_to = side_ranked(
        "jpt", site=site, here=here, side="behind", top=top, rolled=rolled is not None,
        raw=f"SELECT backward AS value, COUNT(*) AS n FROM here WHERE {arrived} GROUP BY 1")
    ctes = [
        *units,
        f"jvisits AS MATERIALIZED ({followed})",
        "views AS MATERIALIZED (SELECT pathname, "
        f"group_concat(pathname, {sep}) OVER (w ROWS BETWEEN CURRENT ROW AND {frame} FOLLOWING)"
        " AS forward, "
        f"group_concat(pathname, {sep}) OVER (w ROWS BETWEEN {frame} PRECEDING AND CURRENT ROW)"
        " AS backward "
        f"FROM jraw AS u CROSS JOIN events ON site_id = {site} AND ts >= u.start_ms "
        "AND ts < u.end_ms WHERE name = 'pageview' AND session_id IN jvisits "
        "WINDOW w AS (PARTITION BY session_id, u.start_ms ORDER BY ts, id))",
        f"cut AS (SELECT forward, backward, {rest} AS rest, {behind} AS behind FROM views "
        f"WHERE pathname = {here})",
        # The page before is the last of ``behind``: rtrim drops its characters (every one
        # but the separator) from the right, up to the separator before it.
        "here AS MATERIALIZED (SELECT forward, backward, CASE WHEN behind = '' THEN NULL ELSE "
        f"substr(behind, length(rtrim(behind, replace(behind, {sep}, ''))) + 1) END AS before, "
        f"CASE WHEN rest = '' THEN NULL WHEN instr(rest, {sep}) > 0 THEN substr(rest, 1, "
        f"instr(rest, {sep}) - 1) ELSE rest END AS after FROM cut)",
        *journey_rollup_ctes(site=site, here=here, value=value),
        f"jnear AS (SELECT 'from' AS kind, before AS value, COUNT(*) AS n FROM here "
        f"WHERE {arrived} GROUP BY 2 UNION ALL SELECT 'to', after, COUNT(*) FROM here "
        f"WHERE {left} GROUP BY 2 UNION ALL SELECT 'from', * FROM "
        f"({neighbour(site=site, side='behind')}) UNION ALL SELECT 'to', * FROM "
        f"({neighbour(site=site, side='ahead')}))",
        *paths_from,
        *paths_to,
    ]
    near = "SELECT * FROM (SELECT kind, value, SUM(n) AS times FROM jnear WHERE kind = '{}' " \
        f"GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT {top})"
    sql = (
        "WITH " + ",\n".join(ctes) + "\n"
        f"{near.format('from')}\nUNION ALL {near.format('to')}\n"
        f"UNION ALL SELECT 'path_from', * FROM ({select_from})\n"
        f"UNION ALL SELECT 'path_to', * FROM ({select_to})"
    )
    return sql, params.check()


def flow_sql(query: Query, *, period: tuple[date, date], limit: int = 40
             ) -> tuple[str, list[Param]]:
    """Rows ``entry``, ``exit``, ``visits``: the most common (entry page, exit page) pairs of
    the visits that started in the period: from ``sessions`` for raw days, from the journey
    rollups' exits for the days they hold (never under filters)."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    # The filters test the visit's own row: no set of the visits that pass them to look up.
    visits = "".join(f" AND {c}" for c in visit_filters(query, site=site, start=start,
                                                           end=end, params=params))
    units = units_ctes(site=site, tz=params.ref(query.timezone),
                       units=params.ref(units_param(period, tz=query.zone)),
                       rolled=not query.filters)
    pairs, select = flow_ranked(
        site=site, top=params.ref(limit), rolled=not query.filters,
        raw="SELECT entry_page || char(1) || exit_page AS value, COUNT(*) AS n FROM jraw AS u "
        f"CROSS JOIN sessions ON site_id = {site} AND started_at >= u.start_ms "
        f"AND started_at < u.end_ms{visits} GROUP BY 1")
    sql = (
        "WITH " + ",\n".join([*units, *pairs]) + "\n"
        "SELECT substr(value, 1, instr(value, char(1)) - 1) AS entry, "
        "substr(value, instr(value, char(1)) + 1) AS exit, n AS visits "
        f"FROM ({select}) ORDER BY visits DESC, 1, 2"
    )
    return sql, params.check()


def _followed(query: Query, seen: str, *, site: str, start: int, end: int, params: Params) -> str:
    """The visits whose pageviews are ordered: those of ``seen`` (viewed the page on a raw day)
    that pass the filters, as visits are taken elsewhere (started from a day before ``start``).
    One small set to look each pageview up in, before the sort, rather than two large ones."""
    clauses = visit_filters(query, site=site, start=start, end=end, params=params)
    if not clauses:
        return seen
    lo, hi = started_window(start=start, end=end, params=params)
    # Each visit of ``seen`` found by its key: fewer rows than the period's visits (a rare
    # page's, a handful), and SQLite would rather scan those by time and probe ``seen``.
    return (f"SELECT s.id FROM (SELECT DISTINCT session_id AS sid FROM ({seen})) AS v "
            f"CROSS JOIN sessions AS s ON s.id = v.sid WHERE s.site_id = {site} "
            f"AND started_at >= {lo} AND started_at < {hi} AND {' AND '.join(clauses)}")
