"""Goals in SQL: which raw events convert which goal, written with bound parameters only.

The match reads the events row's own columns (``name``, ``pathname``, ``props``):

* page goal: a pageview whose pathname GLOBs the pattern (``*`` and ``**`` both become GLOB's
  ``*``, other GLOB characters are escaped by ``glob_pattern``). A pattern with ``*`` must stay
  within segments: the path then has exactly as many ``/`` as the pattern (``-1``: any, for
  ``**``). ``goals.check_pattern`` refuses patterns mixing the two.
* event goal: an event with that name and, when set, ``json_extract(props, '$."key"')`` equal
  to the value (the collector stores property values as strings).

A filter naming a few goals is written out per goal (so an event goal's name can use the
``events_name`` index); more, and the ``event:goal`` breakdown, read the goals from ONE JSON
parameter, unpacked once into the ``goal_rows`` CTE (``goal_rows_cte``): a per-row
``json_each`` cost more than the rest of the query.

Goals are never in the rollups: the planner sends every goal query to raw events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from ..filters import Condition
from ..goals import Goal
from .glob import glob_pattern
from .params import Params

__all__ = ["GOAL_NAME", "goal_join", "goal_rows_cte", "goal_test", "matching_goals"]

# The goal's name in a raw arm joined with ``goal_join``.
GOAL_NAME = "g.gname"
# A filter naming more goals than this reads them from one JSON parameter instead (each
# written-out goal costs up to three of D1's 100 parameters).
_INLINE_GOALS = 8
_SLASHES = "length(pathname) - length(replace(pathname, '/', ''))"
# The fields of a goal row, in ``_row``'s order.
_FIELDS = ("gkind", "gtarget", "gslashes", "gpath", "gvalue", "gname", "gcurrency")


def _slashes(goal: Goal) -> int:
    return -1 if "**" in goal.target else goal.target.count("/")


def _row(goal: Goal) -> list[object]:
    if goal.kind == "page":
        return ["page", glob_pattern(goal.target.replace("**", "*")), _slashes(goal), None, None,
                goal.name, None]
    path = "$." + json.dumps(goal.prop_key) if goal.prop_key else None
    return ["event", goal.target, -1, path, goal.prop_value or None, goal.name, goal.currency]


def goal_rows_cte(goals: Sequence[Goal], params: Params) -> str:
    """The CTE ``goal_rows`` (``gkind, gtarget, gslashes, gpath, gvalue, gname, gcurrency``):
    the goals, unpacked from ONE JSON parameter once per statement."""
    rows = [_row(goal) for goal in goals]
    ref = params.ref(json.dumps(rows, ensure_ascii=False, separators=(",", ":")))
    columns = ", ".join(f"json_extract(value, '$[{i}]') AS {name}"
                        for i, name in enumerate(_FIELDS))
    return f"goal_rows AS MATERIALIZED (SELECT {columns} FROM json_each({ref}))"


def _match_row(column: Callable[[str], str]) -> str:
    """SQL: the events row converts the goal whose fields ``column`` names (``gkind`` …)."""
    kind, target, slashes = column("gkind"), column("gtarget"), column("gslashes")
    path, value = column("gpath"), column("gvalue")
    page = (
        f"{kind} = 'page' AND name = 'pageview' AND pathname GLOB {target} "
        f"AND ({slashes} < 0 OR {_SLASHES} = {slashes})"
    )
    event = (
        f"{kind} = 'event' AND name = {target} "
        f"AND ({path} IS NULL OR json_extract(props, {path}) = {value})"
    )
    return f"(({page}) OR ({event}))"


def _match_inline(goal: Goal, params: Params) -> str:
    """SQL: the events row converts ``goal``, its values bound one by one."""
    if goal.kind == "page":
        glob = params.ref(glob_pattern(goal.target.replace("**", "*")))
        test = f"name = 'pageview' AND pathname GLOB {glob}"
        slashes = _slashes(goal)  # a whole number we computed: safe inlined
        return f"({test} AND {_SLASHES} = {int(slashes)})" if slashes >= 0 else f"({test})"
    # The custom-events index holds every row but pageviews: saying so lets SQLite use it.
    test = f"name = {params.ref(goal.target)} AND name <> 'pageview'"
    if goal.prop_key:
        path = params.ref("$." + json.dumps(goal.prop_key))
        test += f" AND json_extract(props, {path}) = {params.ref(goal.prop_value)}"
    return f"({test})"


def matching_goals(cond: Condition, goals: Sequence[Goal]) -> list[Goal]:
    """The goals a condition on ``event:goal`` names: ``is`` by name, ``contains`` by part of it
    (Plausible allows these two), each case-insensitively when asked."""

    def fold(text: str) -> str:
        return text if cond.case_sensitive else text.lower()

    values = [fold(v) for v in cond.values]
    if cond.op == "is":
        return [g for g in goals if fold(g.name) in values]
    return [g for g in goals if any(v in fold(g.name) for v in values)]


def goal_test(cond: Condition, goals: Sequence[Goal], params: Params) -> str:
    """SQL: the events row converts one of the goals ``cond`` names (false when none)."""
    chosen = matching_goals(cond, goals)
    if not chosen:
        return "0"
    if len(chosen) <= _INLINE_GOALS:
        return "(" + " OR ".join(_match_inline(goal, params) for goal in chosen) + ")"
    rows = json.dumps([_row(goal) for goal in chosen], ensure_ascii=False, separators=(",", ":"))
    inner = _match_row(lambda field: f"json_extract(gf.value, '$[{_FIELDS.index(field)}]')")
    return f"EXISTS (SELECT 1 FROM json_each({params.ref(rows)}) AS gf WHERE {inner})"


def goal_join() -> str:
    """The JOIN giving each converting events row one row per goal it converts (alias ``g``);
    the statement defines ``goal_rows`` (``goal_rows_cte``)."""
    return f"JOIN goal_rows AS g ON {_match_row(lambda field: f'g.{field}')}"
