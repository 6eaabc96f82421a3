"""The Users view's statements (opt-in identity, migration 0027), with bound parameters only.

Identified visits carry ``sessions.user_id`` (a keyed hash); a user's first visit is the
earliest stored session with that id, read through the partial index ``sessions_site_user``.
These are cross-day facts the daily rollups cannot hold, so every statement reads raw sessions:
identified ones through that index (it holds ``started_at``, so no table row is read without
filters), which beats reading the period's sessions by time once a period holds more sessions
than the site has identified ones, and is never slower than its identified share.
The query's filters keep visits as everywhere (``visits_clause``); a user's first visit is
theirs whatever the filters. Local days and weeks come in as one JSON parameter of
``[start_ms, end_ms]`` pairs (exact across DST), as the stats path passes its units.

Numbers bound here are compared with computed values only through ``CAST(? AS INTEGER)``: D1's
HTTP API may deliver every parameter as text, and SQLite orders any integer before any text.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from ..periods import bounds_ms
from ..query import Query
from ..store import Param
from .params import Params
from .visits import visits_clause

__all__ = ["MAX_COHORTS", "cohort_weeks", "retention_sql", "summary_sql", "top_users_sql",
           "traits_sql"]

Statement = tuple[str, list[Param]]
MAX_COHORTS = 12


def _units(bounds: list[tuple[int, int]]) -> str:
    return json.dumps([list(b) for b in bounds], separators=(",", ":"))


def _units_cte(name: str, ref: str) -> str:
    return (f"{name} AS MATERIALIZED (SELECT key AS i, json_extract(value, '$[0]') AS s, "
            f"json_extract(value, '$[1]') AS e FROM json_each({ref}))")


def _first_visit(site: str, user: str) -> str:
    return (f"(SELECT MIN(x.started_at) FROM sessions AS x WHERE x.site_id = {site} "
            f"AND x.user_id = {user})")


def _identified(site: str, lo: str, hi: str, visits: str, alias: str = "sessions") -> str:
    """The identified sessions of [lo, hi) under the filters, read from the partial index."""
    return (f"FROM sessions AS {alias} WHERE {alias}.site_id = {site} "
            f"AND {alias}.user_id IS NOT NULL AND {alias}.started_at >= {lo} "
            f"AND {alias}.started_at < {hi}{visits}")


def _week_of(at: str) -> str:
    return f"(SELECT MAX(w.i) FROM w WHERE w.s <= {at})"


def summary_sql(query: Query, *, period: tuple[date, date]) -> Statement:
    """One row: ``visits`` of the period, ``identified_visits``, ``users`` (distinct ids),
    ``new_users`` (first visit ever in the period) and ``returning_users`` (a visit on a day
    before the day of their last visit in the period, counting days before the period)."""
    params = Params()
    site = params.ref(query.site_id)
    first, last = period
    days = [bounds_ms(first + timedelta(days=n), first + timedelta(days=n), tz=query.zone)
            for n in range((last - first).days + 1)]
    start, end = days[0][0], days[-1][1]
    lo, hi = params.ref(start), params.ref(end)
    visits = visits_clause(query, site=site, start=start, end=end, params=params,
                           column="sessions.id")
    every = visits_clause(query, site=site, start=start, end=end, params=params, column="id")
    sql = (
        f"WITH {_units_cte('d', params.ref(_units(days)))},\n"
        "u AS MATERIALIZED (SELECT sessions.user_id AS user_id, COUNT(*) AS visits, "
        f"MAX(sessions.started_at) AS last_visit {_identified(site, lo, hi, visits)} "
        "GROUP BY sessions.user_id),\n"
        # The day of each user's last visit: days and last visits in one ordered pass, each
        # visit taking the latest day start at or before it (not every day against every user).
        "m AS (SELECT d.s AS at, 1 AS day, NULL AS user_id, 0 AS visits FROM d UNION ALL "
        "SELECT last_visit, 0, user_id, visits FROM u),\n"
        "g AS (SELECT user_id, visits, day, MAX(CASE WHEN day = 1 THEN at END) OVER "
        "(ORDER BY at, day DESC ROWS UNBOUNDED PRECEDING) AS last_day FROM m),\n"
        "f AS MATERIALIZED (SELECT g.visits AS visits, g.last_day AS last_day, "
        f"{_first_visit(site, 'g.user_id')} AS first_ever FROM g WHERE g.day = 0)\n"
        f"SELECT (SELECT COUNT(*) FROM sessions WHERE site_id = {site} AND started_at >= {lo} "
        f"AND started_at < {hi}{every}) AS visits, "
        "COALESCE(SUM(visits), 0) AS identified_visits, COUNT(*) AS users, "
        f"COALESCE(SUM(first_ever >= CAST({lo} AS INTEGER)), 0) AS new_users, "
        "COALESCE(SUM(first_ever < last_day), 0) AS returning_users FROM f"
    )
    return sql, params.check()


def cohort_weeks(period: tuple[date, date]) -> list[tuple[date, date]]:
    """The weeks (Monday to Sunday, the last cut at the period's end) from the one the period
    starts in, the latest ``MAX_COHORTS`` of them."""
    first, last = period
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append((monday, min(monday + timedelta(days=6), last)))
        monday += timedelta(days=7)
    return weeks[-MAX_COHORTS:]


def retention_sql(query: Query, *, weeks: list[tuple[date, date]]) -> Statement:
    """Rows ``cohort``, ``k``, ``users``: of the users whose first visit ever fell in week
    ``cohort`` (an index into ``weeks``), how many visited in week ``cohort + k``; ``k`` = -1 is
    the cohort's size (its users with a visit in the weeks under the filters)."""
    params = Params()
    site = params.ref(query.site_id)
    bounds = [bounds_ms(a, b, tz=query.zone) for a, b in weeks]
    visits = visits_clause(query, site=site, start=bounds[0][0], end=bounds[-1][1],
                           params=params, column="sessions.id")
    sql = (
        f"WITH {_units_cte('w', params.ref(_units(bounds)))},\n"
        # ``+started_at``: read the identified sessions from their own index (a week's sessions
        # by time would each need their row for the user); a week is one of a dozen rows.
        "a AS MATERIALIZED (SELECT DISTINCT sessions.user_id AS user_id, "
        f"{_week_of('sessions.started_at')} AS wk FROM sessions "
        f"WHERE sessions.site_id = {site} AND sessions.user_id IS NOT NULL "
        f"AND +sessions.started_at >= CAST({params.ref(bounds[0][0])} AS INTEGER) "
        f"AND +sessions.started_at < CAST({params.ref(bounds[-1][1])} AS INTEGER){visits}),\n"
        f"f AS (SELECT user_id, {_first_visit(site, 'g.user_id')} AS first_ever "
        "FROM (SELECT DISTINCT user_id FROM a) AS g),\n"
        f"c AS MATERIALIZED (SELECT user_id, {_week_of('first_ever')} AS cohort FROM f "
        "WHERE first_ever >= (SELECT MIN(s) FROM w))\n"
        "SELECT cohort, -1 AS k, COUNT(*) AS users FROM c GROUP BY cohort\n"
        "UNION ALL SELECT c.cohort, a.wk - c.cohort, COUNT(*) FROM c JOIN a "
        "ON a.user_id = c.user_id AND a.wk >= c.cohort GROUP BY 1, 2 ORDER BY 1, 2"
    )
    return sql, params.check()


def _period_users(query: Query, params: Params, site: str, period: tuple[date, date]) -> str:
    start, end = bounds_ms(*period, tz=query.zone)
    visits = visits_clause(query, site=site, start=start, end=end, params=params,
                           column="sessions.id")
    return (f"SELECT DISTINCT sessions.user_id AS user_id "
            f"{_identified(site, params.ref(start), params.ref(end), visits)}")


def traits_sql(query: Query, *, period: tuple[date, date], keys: tuple[str, ...],
               limit: int = 8) -> Statement:
    """Rows ``key``, ``value``, ``users``, ``with_key``: the ``limit`` commonest values of each
    declared trait among the period's identified users, and how many of them have the key."""
    params = Params()
    site = params.ref(query.site_id)
    users = _period_users(query, params, site, period)
    sql = (
        f"WITH p AS MATERIALIZED ({users}),\n"
        "t AS (SELECT t.key AS key, t.value AS value, COUNT(*) AS users FROM p "
        f"JOIN user_traits AS t ON t.site = {site} AND t.user_id = p.user_id "
        f"WHERE t.key IN (SELECT value FROM json_each({params.ref(json.dumps(list(keys)))})) "
        "GROUP BY t.key, t.value)\n"
        "SELECT key, value, users, with_key FROM (SELECT key, value, users, "
        "SUM(users) OVER (PARTITION BY key) AS with_key, "
        "ROW_NUMBER() OVER (PARTITION BY key ORDER BY users DESC, value) AS r FROM t) "
        f"WHERE r <= CAST({params.ref(limit)} AS INTEGER) ORDER BY key, users DESC, value"
    )
    return sql, params.check()


def top_users_sql(query: Query, *, period: tuple[date, date], keys: tuple[str, ...],
                  limit: int = 10) -> Statement:
    """Rows ``user_id``, ``visits``, ``pageviews``, ``first_seen``, ``last_seen`` (ms) and
    ``traits`` (a JSON object of the declared ones): the period's users with the most visits."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    visits = visits_clause(query, site=site, start=start, end=end, params=params,
                           column="s.id")
    lo, hi = params.ref(start), params.ref(end)
    chosen = visits_clause(query, site=site, start=start, end=end, params=params,
                           column="p.id")
    # Pageviews need the table's rows: read for the chosen few only.
    sql = (
        "WITH top AS (SELECT s.user_id AS user_id, COUNT(*) AS visits, "
        f"MAX(s.started_at) AS last_seen {_identified(site, lo, hi, visits, alias='s')} "
        "GROUP BY s.user_id ORDER BY visits DESC, last_seen DESC, s.user_id "
        f"LIMIT CAST({params.ref(limit)} AS INTEGER))\n"
        "SELECT user_id, visits, last_seen, "
        f"(SELECT SUM(p.pageviews) {_identified(site, lo, hi, chosen, alias='p')} "
        "AND p.user_id = top.user_id) AS pageviews, "
        f"{_first_visit(site, 'top.user_id')} AS first_seen, "
        "(SELECT json_group_object(t.key, t.value) FROM user_traits AS t "
        f"WHERE t.site = {site} AND t.user_id = top.user_id AND t.key IN "
        f"(SELECT value FROM json_each({params.ref(json.dumps(list(keys)))}))) AS traits "
        "FROM top ORDER BY visits DESC, last_seen DESC, user_id"
    )
    return sql, params.check()
