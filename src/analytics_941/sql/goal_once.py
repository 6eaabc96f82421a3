"""The Goal conversions panel's raw units in one scan: each goal's converting visitors and
events and the conversion rate's divisor (every visitor) from ONE read of the units' events.

The panel's ``event:goal`` breakdown with ``conversion_rate`` reads the units no rollup answers
(today) twice: the goals' matches (``m``) and, for the divisor, the distinct visitors of the
same events (``mt``), each a scan of the unit and a distinct count. Here the events of the
units the divisor reads raw (``mt_done`` left out) are grouped once per visitor and unit, each
row carrying which goals it converts (one bit per goal, ``h``): a unit's visitors are its
groups, a goal's visitors the groups with its bit, its events the rows with it. No distinct
count remains, only that sort.

Taken for the shape the panel asks (``one_pass``): the ``event:goal`` breakdown alone, metrics
among visitors, events, ``conversion_rate`` and the revenue metrics (each goal's amounts in its
own currency, ``sql.revenue``, summed per visitor, then per unit), no comparison, filters only
top-level ``event:goal`` conditions (the divisor then has none and reads the plain rollups),
and a few goals (each one bit and one written-out test). Every other shape reads as before.

The units are split so each is read once: the goal rollups' days (``m_gdone``) as before, the
divisor's rolled-up days that the goal rollups lack (``mt_done``, after a goal changed) by the
goal matches alone, the rest here. ``m_gdone`` lies within ``mt_done`` (both need the day in
``rollup_days``), so the three parts never overlap.
"""

from __future__ import annotations

from ..filters import Condition
from ..goals import Goal
from ..query import GOAL_DIMENSION, Query
from .conversions import goals_broken_down
from .goals import match_goal
from .metrics import REVENUE_METRICS
from .params import Params

__all__ = ["ONCE_GOALS", "once_arms", "once_cte", "once_divisor_arm", "one_pass",
           "rolled_divisor_units"]

# Goals read in one pass at most: one bit and one written-out test each (``goals.goal_test``
# writes up to 8 per statement before it reads them from JSON); more read as before.
ONCE_GOALS = 8
_METRICS = frozenset({"visitors", "events", "conversion_rate", *REVENUE_METRICS})


def one_pass(query: Query) -> bool:
    """Whether ``query`` is the shape read in one pass (the module docstring)."""
    goals = goals_broken_down(query)
    return (
        query.dimensions == (GOAL_DIMENSION,)
        and "conversion_rate" in query.metrics
        and set(query.metrics) <= _METRICS
        and query.comparison_period is None
        and all(isinstance(node, Condition) and node.dimension == GOAL_DIMENSION
                for node in query.filters)
        and 0 < len(goals) <= ONCE_GOALS
    )


def _divisor(prefix: str) -> str:
    # The conversion rate's divisor of side ``prefix`` (sql.conversions.divisor_ctes).
    return f"{prefix}t"


def _revenue(goal: Goal, k: int, params: Params) -> tuple[str, str]:
    """Per visitor, goal ``k``'s revenue parts (``sql.revenue``): its amounts sent in its own
    currency, their sum and count (NULL and 0 for a goal without a currency)."""
    if not goal.currency:
        return f"NULL AS r{k}", f"0 AS n{k}"
    same = f"FILTER (WHERE h & {1 << k} AND c = {params.ref(goal.currency)})"
    return f"SUM(r) {same} AS r{k}", f"COUNT(r) {same} AS n{k}"


def _bits(goals: tuple[Goal, ...], params: Params) -> str:
    """SQL: the goals the events row converts, one bit each (goal ``k``: ``1 << k``). A page goal
    needs a pageview and an event goal anything else, so each row tests one kind only."""
    def bits(kind: str) -> str:
        return " + ".join([f"CASE WHEN {match_goal(goal, params)} THEN {1 << k} ELSE 0 END"
                           for k, goal in enumerate(goals) if goal.kind == kind] or ["0"])
    return f"CASE WHEN name = 'pageview' THEN {bits('page')} ELSE {bits('event')} END"


def once_cte(query: Query, *, prefix: str, site: str, params: Params) -> str:
    """``<prefix>_once``: per unit the divisor reads raw, ``u, t, visitors`` and per goal ``k``
    (``goals_broken_down`` order) ``v<k>`` (its visitors) and ``e<k>`` (its events), and with
    revenue metrics ``r<k>`` and ``n<k>`` (its revenue parts)."""
    goals = goals_broken_down(query)
    money = bool(REVENUE_METRICS & set(query.metrics))
    bits = _bits(goals, params)
    per_visitor = [f"COUNT(*) FILTER (WHERE h & {1 << k}) AS e{k}" for k in range(len(goals))]
    # (expression, column) per unit, over the visitors' rows.
    per_unit = [("COUNT(*)", "visitors")]
    per_unit += [(f"SUM(e{k}{more})", f"{name}{k}") for k in range(len(goals))
                 for more, name in ((" > 0", "v"), ("", "e"))]
    if money:
        per_visitor += [part for k, goal in enumerate(goals) for part in _revenue(goal, k, params)]
        per_unit += [(f"SUM({name}{k})", f"{name}{k}") for k in range(len(goals)) for name in "rn"]
    # LIMIT -1 keeps the innermost SELECT a co-routine: ``h`` is computed once per event and the
    # sorter holds the visitor and the bits, not the columns the tests read (flattened, SQLite
    # sorts those and tests after the sort).
    columns = (f"events.visitor_id AS v, {bits} AS h"
               f"{', revenue AS r, revenue_currency AS c' if money else ''}")
    within = (f"events.site_id = {site} AND events.ts >= b.start_ms "
              "AND events.ts < b.end_ms")
    raw = f"b.i NOT IN (SELECT i FROM {_divisor(prefix)}_done)"
    if money:
        # Revenue sums may be any float (even infinite), which JSON cannot carry: one sort of
        # the units' rows by visitor and unit, then another by unit.
        rows = (f"SELECT b.i AS u, {columns} FROM {prefix}_units AS b CROSS JOIN events "
                f"ON {within} WHERE {raw} LIMIT -1")
        # The visitor first: SQLite's sorter compares a leading text key fastest (sql.arms).
        visitors = f"SELECT u, {', '.join(per_visitor)} FROM ({rows}) GROUP BY v, u"
        units = (f"SELECT u, {', '.join(f'{sql} AS {name}' for sql, name in per_unit)} "
                 f"FROM ({visitors}) GROUP BY u")
        # The unit's bucket joins last: read per event, each row would extract it from the
        # units' JSON again.
        return (f"{prefix}_once AS (SELECT o.*, b.t AS t FROM ({units}) AS o "
                f"JOIN {prefix}_units AS b ON b.i = o.u)")
    # Counts only: each unit's events grouped by visitor alone, summed into one JSON row per
    # unit, so no second sort by unit.
    rows = f"SELECT {columns} FROM events WHERE {within} LIMIT -1"
    visitors = f"SELECT {', '.join(per_visitor)} FROM ({rows}) GROUP BY v"
    packed = (f"SELECT b.i AS u, b.t AS t, (SELECT json_array("
              f"{', '.join(sql for sql, _ in per_unit)}) FROM ({visitors})) AS j "
              f"FROM {prefix}_units AS b WHERE {raw} LIMIT -1")
    unpacked = ", ".join(f"json_extract(j, '$[{i}]') AS {name}"
                         for i, (_, name) in enumerate(per_unit))
    # A unit without events has no row, as in a raw read. (LIMIT -1 above: flattened, each
    # json_extract would run the subquery again.)
    return (f"{prefix}_once AS (SELECT u, t, {unpacked} FROM ({packed}) "
            "WHERE json_extract(j, '$[0]') > 0)")


def rolled_divisor_units(prefix: str) -> str:
    """The goal-matching raw arm's extra condition: its units are those the divisor reads from
    rollups (the others are ``<prefix>_once``'s)."""
    return f"b.i IN (SELECT i FROM {_divisor(prefix)}_done)"


def once_arms(query: Query, *, prefix: str, parts: list[str], params: Params) -> list[str]:
    """The goal rows of ``<prefix>_once`` in the raw arm's columns (``u, t, d0``, d0 the goal's
    name, then ``parts``): a goal with no event in a unit has no row there, as in a raw read."""
    arms = []
    for k, goal in enumerate(goals_broken_down(query)):
        columns = {"visitors": f"v{k} AS visitors", "events": f"e{k} AS events",
                   "revenue_sum": f"r{k} AS revenue_sum", "revenue_n": f"n{k} AS revenue_n"}
        arms.append(f"SELECT u, t, {params.ref(goal.name)} AS d0, "
                    f"{', '.join(columns[part] for part in parts)} "
                    f"FROM {prefix}_once WHERE e{k} > 0")
    return arms


def once_divisor_arm(prefix: str) -> str:
    """The divisor's raw arm (``u, t, visitors``): its units' visitors, from ``<prefix>_once``
    of the side it divides (every unit there is one the divisor reads raw)."""
    return f"SELECT u, t, visitors FROM {prefix}_once"
