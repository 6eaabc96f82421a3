"""The goal rollups (``kinds.GOAL_ROLLUP``): per site, goal and local day, the goal's converting
visitors, conversions and revenue in its currency, in total and per value of a few dimensions,
so the Goal conversions panel (and a panel filtered by one goal) reads rows per goal and day
instead of matching every raw event of its range.

A day is computed for all the site's goals at once, from the raw events of a day ``rollup_days``
lists (its bounds and timezone come from that row: a day not rolled up, or sent back by a late
event, is not computed). Goals travel as ONE JSON parameter of ``[id, kind, target, prop_key,
prop_value, currency]`` rows sorted by id (``goals_param``): the Worker reads them from the home
database, where goals live, and runs these statements on the database holding the site's
events. ``goal_rows`` turns them into the reader's goal rows in SQL (the same GLOB pattern and
slash count as ``sql.goals``), and the match is the reader's own ``goal_join``, so a rolled-up
day holds exactly what a raw goal breakdown aggregates for it.

The listing stores ``json(goals)`` and the day's ``rollup_days.computed_at``: a reader binds its
own goals the same way and takes a day only when they are equal and the day is still listed
with that stamp. So adding, editing or removing a goal (goals count the past) or a late event
sends days back to raw reads; ``GOAL_TODO`` then finds them, newest first, and the cron redoes
up to ``MAX_GOAL_DAYS_PER_RUN`` a site and run (a day is one short batch: 11 statements, each
reading the day's events once).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..goals import Goal
from ..sql.columns import dimension_sql
from ..sql.goals import goal_join
from ..sql.metrics import EVENT_PARTS
from ..sql.params import Params
from ..sql.revenue import currency_parts
from ..store import Param, Store
from .arms import RollupStatement, bound_params
from .kinds import GOAL_ROLLUP

__all__ = [
    "CURRENCY_DIM",
    "GOALS_SQL",
    "GOAL_DAY_PARAMS",
    "GOAL_DAY_STATEMENTS",
    "GOAL_READY_SQL",
    "GOAL_TODO",
    "MAX_GOAL_DAYS_PER_RUN",
    "goal_rows_sql",
    "goals_param",
    "refresh_goal_rollups",
]

# Site-days of goal rollups redone per site and run: after a goal change, a year's days take six
# runs, the most recent month first.
MAX_GOAL_DAYS_PER_RUN = 62
# 2 once the database has the goal rollup tables (migration 0031) and goals (0017): a database
# not migrated yet, or code deployed before its migration, makes none rather than failing.
GOAL_READY_SQL = (
    "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' "
    f"AND name IN ('goals', '{GOAL_ROLLUP.days}')"
)
# The goals of every site, in the order goals_param writes them (read from the home database).
GOALS_SQL = (
    "SELECT site_id, id, kind, target, prop_key, prop_value, currency FROM goals "
    "ORDER BY site_id, id"
)
# The rows per currency of revenue goals' amounts (not a query dimension: the panel's own).
CURRENCY_DIM = "currency"
# The parameters of a day's statements, in ?N order.
GOAL_DAY_PARAMS = ("site_id", "day", "tz", "goals")

_PAGE_TARGET = "replace(replace(replace(target, '**', '*'), '[', '[[]'), '?', '[?]')"
_PAGE_SLASHES = (
    "CASE WHEN instr(target, '**') > 0 THEN -1 "
    "ELSE length(target) - length(replace(target, '/', '')) END"
)


def goal_rows_sql(ref: str, *, id_expr: str = "json_extract(value, '$[0]')", first: int = 1) -> str:
    """The reader's goal rows (``sql.goals.goal_row``) from goal definitions in the JSON
    parameter ``ref``, written in SQL: each element holds kind, target, prop_key, prop_value and
    currency from index ``first`` on; ``id_expr`` (over ``json_each``'s row) stands in ``gname``."""
    fields = ("gkind", "gsource", "gkey", "gvalue0", "gcurrency0")
    unpacked = ", ".join(f"json_extract(value, '$[{first + i}]') AS {name}"
                         for i, name in enumerate(fields))
    return (
        "goal_rows AS MATERIALIZED (SELECT gkind, "
        f"CASE WHEN gkind = 'page' THEN {_PAGE_TARGET.replace('target', 'gsource')} "
        "ELSE gsource END AS gtarget, "
        f"CASE WHEN gkind = 'page' THEN {_PAGE_SLASHES.replace('target', 'gsource')} "
        "ELSE -1 END AS gslashes, "
        "CASE WHEN gkind = 'event' AND gkey != '' THEN '$.\"' || gkey || '\"' END AS gpath, "
        "CASE WHEN gkind = 'event' AND gvalue0 != '' THEN gvalue0 END AS gvalue, "
        "gid AS gname, CASE WHEN gkind = 'event' THEN gcurrency0 END AS gcurrency "
        f"FROM (SELECT {id_expr} AS gid, {unpacked} FROM json_each({ref})))"
    )


# The goals of ?4 (a ``goals_param``), each goal's id in its ``gname``.
_GOAL_ROWS = goal_rows_sql("?4")
# The day's listing for the site's timezone: every statement reads its bounds from it.
_LISTED = "rollup_days AS l WHERE l.site_id = ?1 AND l.day = ?2 AND l.tz = ?3"


def _insert_sql(dim: str) -> str:
    """The day's rows of one breakdown ('' = each goal's totals): one statement each, as D1
    caps compound SELECTs. The value is the converting event's own, as a raw read groups it."""
    parts = {**{p: EVENT_PARTS[p] for p in ("visitors", "events")},
             **currency_parts("g.gcurrency")}
    assert tuple(parts) == GOAL_ROLLUP.parts, "the kind's parts, in its order"
    value = dimension_sql(dim, table="events", params=Params()) if dim else "''"
    assert value is not None and "?" not in value, "a column expression, no parameter"
    return (
        f"WITH {_GOAL_ROWS} INSERT INTO {GOAL_ROLLUP.daily} "
        f"({', '.join(('site_id', 'goal_id', 'dim', 'day', 'value', *parts))}) "
        f"SELECT ?1, g.gname, '{dim}', ?2, {value} AS v, {', '.join(parts.values())} "
        "FROM rollup_days AS l CROSS JOIN events ON events.site_id = l.site_id "
        f"AND events.ts >= l.start_ms AND events.ts < l.end_ms {goal_join()} "
        "WHERE l.site_id = ?1 AND l.day = ?2 AND l.tz = ?3 GROUP BY g.gname, v"
    )


def _currency_sql() -> str:
    """The day's rows per currency of each revenue goal's conversions that carried an amount
    (``dim = 'currency'``, '' for none): all amounts, each in its own currency, so the panel
    lists apart what a goal's total leaves out (``sql.revenue.other_currencies_sql``)."""
    return (
        f"WITH {_GOAL_ROWS} INSERT INTO {GOAL_ROLLUP.daily} "
        f"({', '.join(('site_id', 'goal_id', 'dim', 'day', 'value', *GOAL_ROLLUP.parts))}) "
        f"SELECT ?1, g.gname, '{CURRENCY_DIM}', ?2, COALESCE(revenue_currency, '') AS v, "
        "COUNT(DISTINCT visitor_id), COUNT(*), SUM(revenue), COUNT(*) "
        "FROM rollup_days AS l CROSS JOIN events ON events.site_id = l.site_id "
        f"AND events.ts >= l.start_ms AND events.ts < l.end_ms {goal_join()} "
        "WHERE l.site_id = ?1 AND l.day = ?2 AND l.tz = ?3 AND g.gcurrency IS NOT NULL "
        "AND revenue IS NOT NULL GROUP BY g.gname, v"
    )


def _statement(sql: str) -> RollupStatement:
    return RollupStatement(sql=sql, params=GOAL_DAY_PARAMS[:bound_params(sql)])


# One site-day: run in ONE batch (a transaction), so a reader sees the old day or the new one.
GOAL_DAY_STATEMENTS: tuple[RollupStatement, ...] = tuple(
    _statement(sql)
    for sql in (
        f"DELETE FROM {GOAL_ROLLUP.days} WHERE site_id = ?1 AND day = ?2",
        f"DELETE FROM {GOAL_ROLLUP.daily} WHERE site_id = ?1 AND day = ?2",
        *(_insert_sql(dim) for dim in GOAL_ROLLUP.dimensions),
        _currency_sql(),
        # Listed only if the day still is, stamped with the day's own stamp: the rows are
        # what that computation of the day holds, and a recompute of the day restamps it.
        f"INSERT INTO {GOAL_ROLLUP.days} (site_id, day, tz, goals, computed_at) "
        f"SELECT ?1, ?2, ?3, json(?4), l.computed_at FROM {_LISTED}",
    )
)
# The days of site ?1 whose goal rows are missing, made for other goals than ?2 (a goals_param)
# or for another computation of the day than its rollups': newest first.
GOAL_TODO = (
    "SELECT r.day AS day, r.tz AS tz FROM rollup_days AS r "
    "JOIN sites AS s ON s.id = r.site_id AND s.timezone = r.tz "
    f"LEFT JOIN {GOAL_ROLLUP.days} AS g ON g.site_id = r.site_id AND g.day = r.day "
    "AND g.tz = r.tz AND g.goals = json(?2) AND g.computed_at = r.computed_at "
    f"WHERE r.site_id = ?1 AND g.day IS NULL ORDER BY r.day DESC LIMIT {MAX_GOAL_DAYS_PER_RUN}"
)


def goals_param(goals: Iterable[Goal]) -> str:
    """The JSON parameter naming ``goals`` (a site's, all of them) for the writer and the reader:
    ``[id, kind, target, prop_key, prop_value, currency]`` rows sorted by id."""
    rows = sorted(([g.id, g.kind, g.target, g.prop_key, g.prop_value, g.currency] for g in goals),
                  key=lambda row: str(row[0]))
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


async def refresh_goal_rollups(store: Store, *, home: Store | None = None) -> int:
    """The cron's goal job (the twin of ``worker/src/rollup/goals.ts``): for every site with
    goals (read from ``home``, default ``store``), redo up to ``MAX_GOAL_DAYS_PER_RUN`` of its
    days ``GOAL_TODO`` finds. Returns the site-days done."""
    from ..goals import list_goals

    (ready,) = await store.execute(GOAL_READY_SQL)
    if int(ready["n"] or 0) < 2:
        return 0
    sites = {str(r["site_id"]) for r in await (home or store).execute(GOALS_SQL)}
    done = 0
    for site_id in sorted(sites):
        goals = goals_param(await list_goals(home or store, site_id=site_id))
        for row in await store.execute(GOAL_TODO, [site_id, goals]):
            values: dict[str, Param] = {"site_id": site_id, "day": str(row["day"]),
                                        "tz": str(row["tz"]), "goals": goals}
            await store.batch([(s.sql, [values[name] for name in s.params])
                               for s in GOAL_DAY_STATEMENTS])
            done += 1
    return done

