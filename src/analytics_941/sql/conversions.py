"""Conversion rates as SQL: converting visitors over the visitors of the same query without its
goal filters (Plausible's definitions).

* ``conversion_rate``: over all visitors of the query's other filters, across every dimension
  (one row, ``CROSS JOIN``ed);
* ``group_conversion_rate``: over the visitors of the same group of the other dimensions (time
  included), ``LEFT JOIN``ed on the group's keys.

Each divisor is a query of its own, written by the builder like any other (``<side>t`` /
``<side>g`` CTEs, ``side`` being ``m`` or ``c``); without goals left in it, it may read rollups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ..filters import Condition
from ..goals import Goal
from ..query import CONVERSION_METRICS, GOAL_DIMENSION, TIME_DIMENSIONS, Query
from .goals import matching_goals

__all__ = ["Divisor", "divisor_ctes", "goals_broken_down", "metric_sql"]


@dataclass(frozen=True, kw_only=True)
class Divisor:
    """One divisor: the query answering it, the CTE prefix it is written under, and the JOIN
    that brings its ``visitors`` beside the side's rows."""

    prefix: str
    query: Query
    period: tuple[date, date]
    join: str
    # A group divisor of one dimension needs only the values its side has (the others join
    # nothing): SQL of those values, which the builder reads the divisor's rows by.
    within: str = ""


def goals_broken_down(query: Query) -> tuple[Goal, ...]:
    """The goals an ``event:goal`` breakdown lists: those every top-level goal filter names
    (all of the site's without one), so a filter on one goal shows that goal's row alone."""
    goals = query.goals
    for cond in query.goal_filters:
        chosen = {goal.id for goal in matching_goals(cond, goals)}
        goals = tuple(goal for goal in goals if goal.id in chosen)
    return goals


def _divisor_query(query: Query, dimensions: tuple[str, ...]) -> Query:
    filters = tuple(
        node for node in query.filters
        if not (isinstance(node, Condition) and node.dimension == GOAL_DIMENSION)
    )
    return query.model_copy(update={
        "filters": filters, "dimensions": dimensions, "metrics": ("visitors",),
        "order_by": None, "total_rows": False, "comparison": None,
    })


# Columns of a side's CTE a group divisor's values may be ordered by (``_shown``): counts the
# side holds itself, unlike the conversion rates (computed beside the divisor).
_SIDE_ORDER = frozenset({"visitors", "events"})


def _shown(query: Query, order: Sequence[tuple[str, str]], index: int) -> str:
    """SQL of the values of dimension ``index`` on the rows the statement returns: the top
    ``limit + offset`` rows of ``m`` in the statement's own order (a total order, the rows of
    ``m`` being the rows returned), when every term of it is a column of ``m``; else every
    value of ``m``. A panel filtered by a goal lists a few of its pages; the divisor then reads
    those pages' visitors, not those of every page the goal converted on."""
    columns = {f"d{i}": "t" if d in TIME_DIMENSIONS else f"d{i}"
               for i, d in enumerate(query.dimensions) if d != GOAL_DIMENSION}
    terms = []
    for term, direction in order:
        column = columns.get(term) or (term if term in _SIDE_ORDER else None)
        if column is None or direction not in ("ASC", "DESC"):
            return f"SELECT d{index} FROM m"
        terms.append(f"{column} {direction}")
    rows = int(query.limit) + int(query.offset)
    return f"SELECT d{index} FROM m ORDER BY {', '.join(terms)} LIMIT {rows}"


def divisor_ctes(query: Query, *, side: str, period: tuple[date, date],
                 order: Sequence[tuple[str, str]] = ()) -> list[Divisor]:
    """The divisors ``query``'s conversion metrics need on ``side`` (``m`` or ``c``); ``order``,
    the statement's ORDER BY terms (output column, direction), lets a group divisor of one
    dimension read only the values of the rows returned (``_shown``)."""
    out = []
    for metric in query.metrics:
        if metric not in CONVERSION_METRICS:
            continue
        group = metric == "group_conversion_rate"
        dims = tuple(d for d in query.dimensions if d != GOAL_DIMENSION) if group else ()
        prefix = f"{side}{'g' if group else 't'}"
        values: list[str] = []
        if not dims:
            join = f"CROSS JOIN {prefix}"
        else:
            # The side's columns are named by the query's dimension positions, the divisor's by
            # its own (the goal left out); time is the ``t`` bucket in both.
            keys = [f"{prefix}.t = {side}.t"]
            at = 0
            for i, name in enumerate(query.dimensions):
                if name == GOAL_DIMENSION:
                    continue
                if name not in TIME_DIMENSIONS:
                    keys.append(f"{prefix}.d{at} = {side}.d{i}")
                    # The comparison's rows shown are those joined to the main rows shown.
                    values.append(_shown(query, order, i) if order else f"SELECT d{i} FROM {side}")
                at += 1
            join = f"LEFT JOIN {prefix} ON {' AND '.join(keys)}"
        out.append(Divisor(prefix=prefix, query=_divisor_query(query, dims), period=period,
                           join=join, within=values[0] if len(values) == 1 else ""))
    return out


def metric_sql(metric: str, *, side: str) -> str:
    """The final column of ``metric`` on ``side`` (``m`` or ``c``); ``percentage`` holds
    visitors (the runner divides)."""
    if metric in CONVERSION_METRICS:
        divisor = f"{side}{'g' if metric == 'group_conversion_rate' else 't'}"
        return f"COALESCE(ROUND(100.0 * {side}.visitors / {divisor}.visitors, 2), 0.0)"
    return f"{side}.{'visitors' if metric == 'percentage' else metric}"
