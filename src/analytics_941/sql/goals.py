"""Goals in SQL: which raw events convert which goal, written with bound parameters only.

The match reads the events row's own columns (``name``, ``pathname``, ``props``):

* page goal: a pageview whose pathname GLOBs the pattern (``*`` and ``**`` both become GLOB's
  ``*``, other GLOB characters are escaped by ``glob_pattern``). A pattern with ``*`` must stay
  within segments: the path then has exactly as many ``/`` as the pattern (``-1``: any, for
  ``**``). ``goals.check_pattern`` refuses patterns mixing the two. The pattern's literal start
  bounds the pathname first (``pathname >= start AND pathname < above``, ``_prefix_range``):
  two comparisons turn most rows away before the GLOB runs, and a pattern without ``*`` is an
  equality.
* event goal: an event with that name and, when set, ``json_extract(props, '$."key"')`` equal
  to the value (the collector stores property values as strings; props that are not valid JSON,
  which only a row written by something else could hold, match no property: ``props.PROPS``).
  Written out, the name test is marked rare (``likelihood``) so that SQLite, without table
  statistics, reads the ``events_name`` index (custom events only) rather than every event of
  the period.

A filter naming a few goals is written out per goal (so an event goal's name can use the
``events_name`` index); more, and the ``event:goal`` breakdown, read the goals from ONE JSON
parameter, unpacked once into the ``goal_rows`` CTE (``goal_rows_cte``): a per-row
``json_each`` cost more than the rest of the query.

The rollups per dimension hold no goals; the goal rollups (``sql.goal_rollup``) answer the
``event:goal`` breakdown's rolled-up days, and every other goal query reads raw events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from ..filters import Condition
from ..goals import Goal
from .glob import GLOB_BYTES, glob_fits, glob_pattern, wildcard_tail
from .params import Params
from .props import PROPS

__all__ = ["GOAL_MATCH", "GOAL_NAME", "custom_event_name", "goal_join", "goal_row",
           "goal_rows_cte", "goal_rows_from", "goal_test", "match_goal", "matching_goals"]

# The goal's name in a raw arm joined with ``goal_join``.
GOAL_NAME = "g.gname"
# A filter naming more goals than this reads them from one JSON parameter instead (each
# written-out goal costs up to three of D1's 100 parameters).
_INLINE_GOALS = 8
_SLASHES = "length(pathname) - length(replace(pathname, '/', ''))"
# The fields of a goal row, in ``goal_row``'s order.
_FIELDS = ("gkind", "gtarget", "gslashes", "gpath", "gvalue", "gname", "gcurrency")
# The chance SQLite assumes an event-goal name test passes: low, as custom events are few beside
# pageviews. With no ``sqlite_stat1`` the planner otherwise prefers the period's primary-key range
# (every event) to the ``events_name`` index (measured: half the time for a goal filter).
_RARE = "0.001"
# Code points a UTF-8 string cannot hold, skipped when raising a prefix's last character.
_SURROGATES = range(0xD800, 0xE000)


def _slashes(goal: Goal) -> int:
    return -1 if "**" in goal.target else goal.target.count("/")


def _prefix_range(target: str) -> tuple[str, str]:
    """A page pattern's literal start and the least string above every string starting with it.
    SQLite compares TEXT as UTF-8 bytes, which orders as code points."""
    start = target.split("*", 1)[0].rstrip(chr(0x10FFFF)) or "/"
    code = ord(start[-1]) + 1
    if code in _SURROGATES:
        code = _SURROGATES.stop
    return start, start[:-1] + chr(code)


def goal_row(goal: Goal) -> list[object]:
    """The goal as one JSON row of ``goal_rows`` (``_FIELDS``' order); the Worker's ``goalRow``
    and the goal rollups' ``goal_rows`` keep the contract in
    tests/fixtures/contracts/goal_rows.json."""
    if goal.kind == "page":
        return ["page", glob_pattern(goal.target.replace("**", "*")), _slashes(goal), None, None,
                goal.name, None]
    path = "$." + json.dumps(goal.prop_key) if goal.prop_key else None
    return ["event", goal.target, -1, path, goal.prop_value or None, goal.name, goal.currency]


def goal_rows_cte(goals: Sequence[Goal], params: Params) -> str:
    """The CTE ``goal_rows`` (``gkind, gtarget, gslashes, gpath, gvalue, gname, gcurrency``):
    the goals, unpacked from ONE JSON parameter once per statement."""
    rows = [goal_row(goal) for goal in goals]
    return goal_rows_from(params.ref(json.dumps(rows, ensure_ascii=False, separators=(",", ":"))))


def goal_rows_from(ref: str) -> str:
    """The CTE ``goal_rows`` unpacking the JSON rows (``goal_row``) bound at ``ref``; the
    Worker's statements use it too (generated: ``goalRowsCte``)."""
    columns = ", ".join(f"json_extract(value, '$[{i}]') AS {name}"
                        for i, name in enumerate(_FIELDS))
    return f"goal_rows AS MATERIALIZED (SELECT {columns} FROM json_each({ref}))"


def _unescaped(glob: str) -> str:
    """SQL: the literal text a GLOB pattern without wildcards (``glob_pattern``'s) matches."""
    return f"replace(replace({glob}, '[?]', '?'), '[[]', '[')"


def _match_row(column: Callable[[str], str]) -> str:
    """SQL: the events row converts the goal whose fields ``column`` names (``gkind`` …); the
    events' own columns unqualified (the Worker's statements use it too: ``GOAL_MATCH_SQL``).

    D1 refuses a GLOB pattern of more than ``GLOB_BYTES`` bytes, so a page pattern is a GLOB
    only from its first ``*`` on: without one it is an equality, and the literal start before
    it is compared as text (a pattern whose wildcard part is still too long, which
    ``goals.check_pattern`` refuses and only an older row can hold, matches nothing)."""
    kind, target, slashes = column("gkind"), column("gtarget"), column("gslashes")
    path, value = column("gpath"), column("gvalue")
    star = f"instr({target}, '*')"
    head = _unescaped(f"substr({target}, 1, {star} - 1)")
    tail = f"substr({target}, {star})"
    pattern = (
        f"CASE WHEN {star} = 0 THEN pathname = {_unescaped(target)} "
        f"WHEN length(CAST({tail} AS BLOB)) > {GLOB_BYTES} THEN 0 "
        f"ELSE substr(pathname, 1, length({head})) = {head} "
        f"AND substr(pathname, length({head}) + 1) GLOB {tail} END"
    )
    page = (
        f"{kind} = 'page' AND name = 'pageview' AND ({pattern}) "
        f"AND ({slashes} < 0 OR {_SLASHES} = {slashes})"
    )
    event = (
        f"{kind} = 'event' AND name = {target} "
        f"AND ({path} IS NULL OR json_extract({PROPS}, {path}) = {value})"
    )
    return f"(({page}) OR ({event}))"


def custom_event_name(expression: str, ref: str) -> str:
    """SQL: the event name ``expression`` equals the bound ``ref``, a name other than pageview,
    written so that SQLite reads the ``events_name`` index (every row but pageviews)."""
    # The planner needs the literal ``<> 'pageview'`` to use the partial index at all, and the
    # name test marked rare to prefer it to the period's primary-key range.
    return f"likelihood({expression} = {ref}, {_RARE}) AND {expression} <> 'pageview'"


def match_goal(goal: Goal, params: Params) -> str:
    """SQL: the events row converts ``goal``, its values bound one by one."""
    if goal.kind == "page":
        if "*" not in goal.target:
            return f"(name = 'pageview' AND pathname = {params.ref(goal.target)})"
        # GLOB only from the first * on (D1's limit on GLOB patterns: ``_match_row``).
        head = goal.target.split("*", 1)[0]
        tail = wildcard_tail(goal.target)
        if not glob_fits(tail):
            return "0"
        start, above = _prefix_range(goal.target)
        test = (f"name = 'pageview' AND pathname >= {params.ref(start)} "
                f"AND pathname < {params.ref(above)} "
                f"AND substr(pathname, 1, {len(head)}) = {params.ref(head)} "
                f"AND substr(pathname, {len(head) + 1}) GLOB {params.ref(tail)}")
        slashes = _slashes(goal)  # a whole number we computed: safe inlined
        return f"({test} AND {_SLASHES} = {int(slashes)})" if slashes >= 0 else f"({test})"
    test = custom_event_name("name", params.ref(goal.target))
    if goal.prop_key:
        path = params.ref("$." + json.dumps(goal.prop_key))
        test += f" AND json_extract({PROPS}, {path}) = {params.ref(goal.prop_value)}"
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
        return "(" + " OR ".join(match_goal(goal, params) for goal in chosen) + ")"
    rows = json.dumps([goal_row(goal) for goal in chosen], ensure_ascii=False,
                      separators=(",", ":"))
    inner = _match_row(lambda field: f"json_extract(gf.value, '$[{_FIELDS.index(field)}]')")
    return f"EXISTS (SELECT 1 FROM json_each({params.ref(rows)}) AS gf WHERE {inner})"


# SQL: the events row converts the goal row ``g`` (a ``goal_rows`` row).
GOAL_MATCH = _match_row(lambda field: f"g.{field}")


def goal_join() -> str:
    """The JOIN giving each converting events row one row per goal it converts (alias ``g``);
    the statement defines ``goal_rows`` (``goal_rows_cte``)."""
    return f"JOIN goal_rows AS g ON {GOAL_MATCH}"
