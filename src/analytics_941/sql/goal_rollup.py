"""Reading the goal rollups (``rollups.goals``): an ``event:goal`` breakdown (or a breakdown
under one goal) takes each goal's rows of the days they hold and matches raw events only for
the other days.

A day is taken (``<prefix>_gdone``) when it is a whole unit of the query, ``rollup_days`` lists
it for the query's timezone, and ``goal_rollup_days`` lists it for exactly the query's goals
(the same JSON text, ``rollups.goals.goals_param``) and for that computation of the day (its
``computed_at``): a goal added, edited or removed, or a late event, leaves the day to raw reads
until the cron has redone it. Visitors are distinct per day and summed across days, as in every
raw or rolled-up read, and revenue is the goal's own currency's (``sql.revenue``, one currency
per goal row), so both ways give the same numbers (``tests/test_goal_rollups.py``).

The shapes taken (``goal_rollup_dim``), with any time bucket but hours and metrics the rows
hold: the ``event:goal`` breakdown (rows ``dim = ''``), filtered by nothing or by top-level
``event:goal`` conditions only (the goals it lists are then those, ``goals_broken_down``); and
one dimension the rows keep per goal under one top-level ``event:goal`` condition naming
exactly one goal (a panel filtered by a goal: rows ``dim = <dimension>``, the converting
events' own values, as a raw read groups them). Anything else reads raw events as before.
"""

from __future__ import annotations

import json

from ..filters import Condition
from ..query import GOAL_DIMENSION, Query
from ..rollups.goals import goals_param
from ..rollups.kinds import GOAL_ROLLUP
from .conversions import goals_broken_down
from .goals import goal_test
from .params import Params

__all__ = [
    "goal_rollup_arm",
    "goal_rollup_ctes",
    "goal_rollup_dim",
    "raw_goal_prefilter",
    "raw_units_left",
]

# Metrics the rows answer ("percentage" and conversion rates are visitors over a divisor).
_METRICS = frozenset({"visitors", "events", "percentage", "conversion_rate",
                      "group_conversion_rate", "total_revenue", "average_revenue"})


def goal_rollup_dim(query: Query) -> str | None:
    """The goal rollups' ``dim`` whose rows answer ``query``'s days ('' = the ``event:goal``
    breakdown), or None when they cannot (the module docstring's shapes)."""
    if not query.goals or query.interval == "hour" or not set(query.metrics) <= _METRICS:
        return None
    goal_only = all(
        isinstance(node, Condition) and node.dimension == GOAL_DIMENSION
        for node in query.filters
    )
    dims = query.non_time_dimensions
    if not goal_only or len(dims) != 1:
        return None
    if dims[0] == GOAL_DIMENSION:
        return ""
    # One condition: with two, an event may pass each through another goal than the one left.
    one_goal = len(query.filters) == 1 and len(goals_broken_down(query)) == 1
    return dims[0] if one_goal and dims[0] in GOAL_ROLLUP.dimensions[1:] else None


def goal_rollup_ctes(query: Query, *, prefix: str, site: str, params: Params) -> list[str]:
    """``<prefix>_gdone`` (the units the goal rollups answer) and ``<prefix>_gids`` (the listed
    goals' ids and names)."""
    tz = params.ref(query.timezone)
    goals = params.ref(goals_param(query.goals))
    names = params.ref(json.dumps([[g.id, g.name] for g in goals_broken_down(query)],
                                  ensure_ascii=False, separators=(",", ":")))
    return [
        f"{prefix}_gdone AS (SELECT b.i AS i FROM {prefix}_units AS b JOIN rollup_days AS r "
        f"ON r.site_id = {site} AND r.day = b.day AND r.tz = {tz} AND r.start_ms = b.start_ms "
        f"AND r.end_ms = b.end_ms JOIN {GOAL_ROLLUP.days} AS g ON g.site_id = {site} "
        f"AND g.day = b.day AND g.tz = {tz} AND g.goals = json({goals}) "
        "AND g.computed_at = r.computed_at)",
        f"{prefix}_gids AS (SELECT json_extract(value, '$[0]') AS id, "
        f"json_extract(value, '$[1]') AS name FROM json_each({names}))",
    ]


def raw_goal_prefilter(query: Query, params: Params) -> str:
    """The raw ``event:goal`` breakdown's test that an event converts one of its goals, written
    as a goal filter is (``sql.goals.goal_test``: index-friendly per goal), so SQLite reads the
    matching events of the raw units (today) through the indexes instead of every event."""
    names = tuple(goal.name for goal in goals_broken_down(query))
    return goal_test(Condition(op="is", dimension=GOAL_DIMENSION, values=names),
                     goals_broken_down(query), params)


def raw_units_left(prefix: str) -> str:
    """The raw arm's condition: its unit is not one the goal rollups answer."""
    return f"b.i NOT IN (SELECT i FROM {prefix}_gdone)"


def goal_rollup_arm(
    *, prefix: str, site: str, dim: str, aliases: list[str], parts: list[str], params: Params
) -> str:
    """The arm reading the rolled-up units' rows of ``dim``, in the raw arm's columns: ``u, t``,
    the goal's name ('' dim) or the row's value under the dimension's alias, then ``parts``."""
    assert len(aliases) == 1, "one dimension besides time"
    assert set(parts) <= set(GOAL_ROLLUP.parts), "parts the rows hold"
    value = "r.value" if dim else "gi.name"
    select = ["b.i AS u", "b.t AS t", f"{value} AS {aliases[0]}"]
    select += [f"r.{part} AS {part}" for part in parts]
    # CROSS JOIN fixes the goal before the rows: SQLite otherwise reads every row of the day
    # (each goal's rows of every dimension) and tests the goal last (300 days of the panel at
    # 1 M: 51 -> 9 ms).
    return (
        f"SELECT {', '.join(select)} FROM {prefix}_units AS b "
        f"JOIN {prefix}_gdone AS d ON d.i = b.i CROSS JOIN {prefix}_gids AS gi "
        f"CROSS JOIN {GOAL_ROLLUP.daily} AS r ON r.site_id = {site} AND r.day = b.day "
        f"AND r.goal_id = gi.id AND r.dim = {params.ref(dim)}"
    )
