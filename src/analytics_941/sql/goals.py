"""Goals in SQL: which raw events convert which goal, written with bound parameters only.

A query's goals travel as ONE JSON parameter of ``[kind, target, slashes, prop_path,
prop_value, name]`` rows read with ``json_each``, so any number of goals costs one parameter
(D1 allows 100 per statement). The match reads the events row's own columns (``name``,
``pathname``, ``props``: names no ``json_each`` column shares):

* page goal: a pageview whose pathname GLOBs the pattern (``*`` and ``**`` both become GLOB's
  ``*``, other GLOB characters are escaped by ``glob_pattern``). A pattern with ``*`` must stay
  within segments: the path then has exactly as many ``/`` as the pattern (``slashes``; -1 for
  ``**``). ``goals.check_pattern`` refuses patterns mixing the two.
* event goal: an event with that name and, when set, ``json_extract(props, '$."key"')`` equal
  to the value (the collector stores property values as strings).

Goals are never in the rollups: the planner sends every goal query to raw events.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..filters import Condition
from ..goals import Goal
from .glob import glob_pattern
from .params import Params

__all__ = ["GOAL_NAME", "goal_join", "goal_test", "matching_goals"]

# The goal's name in a raw arm joined with ``goal_join``.
GOAL_NAME = "json_extract(g.value, '$[5]')"


def _row(goal: Goal) -> list[object]:
    if goal.kind == "page":
        glob = glob_pattern(goal.target.replace("**", "*"))
        slashes = -1 if "**" in goal.target else goal.target.count("/")
        return ["page", glob, slashes, None, None, goal.name]
    path = "$." + json.dumps(goal.prop_key) if goal.prop_key else None
    return ["event", goal.target, -1, path, goal.prop_value or None, goal.name]


def _goals_ref(goals: Sequence[Goal], params: Params) -> str:
    rows = [_row(goal) for goal in goals]
    return params.ref(json.dumps(rows, ensure_ascii=False, separators=(",", ":")))


def _match(alias: str) -> str:
    """SQL: the events row converts the goal in ``alias.value``."""
    part = f"json_extract({alias}.value, '$[{{}}]')".format
    slashes = "length(pathname) - length(replace(pathname, '/', ''))"
    page = (
        f"{part(0)} = 'page' AND name = 'pageview' AND pathname GLOB {part(1)} "
        f"AND ({part(2)} < 0 OR {slashes} = {part(2)})"
    )
    event = (
        f"{part(0)} = 'event' AND name = {part(1)} "
        f"AND ({part(3)} IS NULL OR json_extract(props, {part(3)}) = {part(4)})"
    )
    return f"(({page}) OR ({event}))"


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
    return f"EXISTS (SELECT 1 FROM json_each({_goals_ref(chosen, params)}) AS gf WHERE " \
        f"{_match('gf')})"


def goal_join(goals: Sequence[Goal], params: Params) -> str:
    """The JOIN giving each converting events row one row per goal it converts (alias ``g``)."""
    return f"JOIN json_each({_goals_ref(goals, params)}) AS g ON {_match('g')}"
