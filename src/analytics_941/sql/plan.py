"""How a query is answered, decided before any SQL is written: which tables (sides) are read, which
metrics each gives, and which rollups (kind, rows, whole spans) answer the units they hold.

It asks declarative facts only: the columns' (``sql.columns``: ``on_table``, ``SESSION_ONLY``,
``FILTERED_BY_VIEWS``), the metrics' (``sql.metrics``) and the rollup kinds'
(``rollups.kinds``). ``sql_builder`` turns a ``Plan`` into SQL and decides nothing itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..exceptions import QueryError
from ..filters import Behaviour, Condition, Connective, FilterNode, Negation, filter_leaves
from ..query import CONVERSION_METRICS, GOAL_DIMENSION, Query
from ..rollups.kinds import (
    FILTERED_ROLLUP_DIMENSIONS,
    FILTERED_ROLLUP_FILTERS,
    FREQUENT_ROLLUP_DIMENSIONS,
    PER_FILTER_VALUE,
    PER_FREQUENT_VALUE,
    PLAIN,
    ROLLUP_DIMENSIONS,
    RollupKind,
)
from .columns import FILTERED_BY_VIEWS, SESSION_ONLY, on_table
from .goal_once import one_pass
from .goal_rollup import goal_rollup_dim
from .imported import imports_choice
from .metrics import EVENT_METRICS, REVENUE_METRICS, SESSION_DRIVEN_PARTS, SESSION_METRICS
from .vitals import VITALS_METRICS

__all__ = ["Plan", "plan_query"]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """How a query is answered: which tables, which parts, and whether rollups can serve it.

    ``rollup_dim`` is the ``rollup_daily.dim`` whose rows answer the query ('' = totals), or None
    when the query needs raw rows (several dimensions, properties, hours, filters on another
    dimension than the one broken down that the rollups per filter value do not hold, page
    filters whose meaning on visits differs from the entry-page rows).
    """

    session_driven: bool
    event_metrics: tuple[str, ...]
    session_metrics: tuple[str, ...]
    rollup_dim: str | None
    # (filter dimension, value) when ``rollup_dim``'s rows come from the rollups per filter
    # value (``rollup_filtered_*``) instead: the query's one filter is that value.
    rollup_filter: tuple[str, str] | None = None
    # The kind whose tables hold those rows; None exactly when ``rollup_dim`` is.
    rollup_kind: RollupKind | None = None
    # The kind's spans (``month``, ``week``) whose whole rows answer some units: all of them
    # when a span lies in one time bucket (no buckets finer than a month), else none.
    spans: tuple[str, ...] = ()
    # Web vitals metrics (``sql.vitals``): always read raw, as a side of their own.
    vitals_metrics: tuple[str, ...] = ()
    # The ``imported_daily.dim`` whose imported rows join each summed side (``sql.imported``),
    # or None when imports are not asked for or cannot answer the query.
    imported_dim: str | None = None
    # The goal rollups' ``dim`` whose rows answer the rolled-up days ('' = the ``event:goal``
    # breakdown; ``sql.goal_rollup``), or None.
    goal_rollup: str | None = None
    # Today's events read once for the goals and their conversion rate's divisor
    # (``sql.goal_once``: the Goal conversions panel's shape).
    one_pass: bool = False

    @property
    def sides(self) -> tuple[str, ...]:
        """The tables read, the driving one first."""
        if self.session_driven:
            return ("sessions",)
        sides = ["events"] if self.event_metrics else []
        if self.session_metrics:
            sides.append("sessions")
        return (*sides, "web_vitals") if self.vitals_metrics else tuple(sides)


def _has_negation(nodes: Sequence[FilterNode]) -> bool:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Negation):
            return True
        if isinstance(node, Connective):
            stack.extend(node.children)
    return False


def _has_behaviour(nodes: Sequence[FilterNode]) -> bool:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Behaviour):
            return True
        if isinstance(node, Connective):
            stack.extend(node.children)
        elif isinstance(node, Negation):
            stack.append(node.child)
    return False


def _rollup_dim(query: Query, *, needs_sessions: bool, events_drive: bool) -> str | None:
    # Goals are matched on raw events at query time (so they count the past); rollups hold none,
    # nor which visits did something (behavioural filters).
    if query.interval == "hour" or query.uses_goals or _has_behaviour(query.filters):
        return None
    dims = query.non_time_dimensions
    leaves = filter_leaves(query.filters)
    if len(dims) > 1:
        return None
    if dims:
        dim = dims[0]
        usable = dim in ROLLUP_DIMENSIONS and all(leaf.dimension == dim for leaf in leaves)
        if usable and leaves and needs_sessions and dim in FILTERED_BY_VIEWS:
            # The raw path keeps the visits that *viewed* a matching page and groups them by
            # entry page; a rollup row holds the visits that *entered* on its page. The two
            # agree only when the rows are the matching pages themselves (event metrics drive
            # them) and the filter holds for any visit that entered on such a page — true of
            # every condition and and/or of conditions (the entry page is a viewed page), not
            # of a negation ("never viewed /a" is not "did not enter on /a").
            usable = events_drive and not _has_negation(query.filters)
        return dim if usable else None
    if not query.filters:
        return ""
    # Totals filtered to one value of one dimension are that value's rollup row — when the
    # filter means the same as the dimension on every table read (page filters visits by the
    # pages viewed, but groups them by entry page; visit-only dimensions count differently).
    node = query.filters[0]
    if len(query.filters) != 1 or not isinstance(node, Condition):
        return None
    if node.op != "is" or len(node.values) != 1:
        return None
    dim = node.dimension
    if dim not in ROLLUP_DIMENSIONS or dim in SESSION_ONLY or not node.case_sensitive:
        return None
    if needs_sessions and dim in FILTERED_BY_VIEWS:
        return None
    return dim


def _rollup_filter(query: Query) -> tuple[str, str] | None:
    """(dimension, value) of a lone ``is`` filter on one value that the rollups per filter value
    hold for the query's breakdown, or None."""
    dims = query.non_time_dimensions
    if query.interval == "hour" or len(dims) > 1 or len(query.filters) != 1 or query.uses_goals:
        return None
    dim = dims[0] if dims else ""
    node = query.filters[0]
    if not isinstance(node, Condition) or node.op != "is" or len(node.values) != 1:
        return None
    if not node.case_sensitive or node.dimension not in FILTERED_ROLLUP_FILTERS:
        return None
    if dim == node.dimension:
        return None
    if dim in FILTERED_ROLLUP_DIMENSIONS or dim in FREQUENT_ROLLUP_DIMENSIONS:
        return node.dimension, node.values[0]
    return None


def _rollup_kind(
    rollup_dim: str | None, rollup_filter: tuple[str, str] | None
) -> RollupKind | None:
    """The rollups holding the rows: per filter value (every value, or frequent ones), or the
    plain ones."""
    if rollup_dim is None:
        return None
    if rollup_filter is None:
        return PLAIN
    return PER_FILTER_VALUE if rollup_dim in FILTERED_ROLLUP_DIMENSIONS else PER_FREQUENT_VALUE


def plan_query(query: Query) -> Plan:
    """Decide how ``query`` is answered, or raise ``QueryError`` for an impossible combination."""
    # Percentages and conversion rates are visitors over a divisor read beside them.
    metrics = tuple(
        "visitors" if m == "percentage" or m in CONVERSION_METRICS else m for m in query.metrics
    )
    dims = query.non_time_dimensions
    session_driven = any(d in SESSION_ONLY for d in dims)
    vitals_metrics = tuple(m for m in metrics if m in VITALS_METRICS)
    if vitals_metrics:
        # Read from each page view's pageview row: dimensions of events only, no goals.
        lacking = [d for d in dims if d in SESSION_ONLY or d == GOAL_DIMENSION]
        if lacking:
            raise QueryError(
                code="invalid_metrics",
                message=f"metrics: {vitals_metrics[0]} cannot be broken down by {lacking[0]}",
            )
    event_metrics = tuple(dict.fromkeys(m for m in metrics if m in EVENT_METRICS))
    session_metrics = tuple(dict.fromkeys(m for m in metrics if m in SESSION_METRICS))
    if session_driven:
        bad = [m for m in event_metrics if m not in SESSION_DRIVEN_PARTS]
        if bad:
            raise QueryError(
                code="invalid_metrics",
                message=f"metrics: {bad[0]} cannot be broken down by a visit's entry or exit page",
            )
        session_metrics, event_metrics = (*event_metrics, *session_metrics), ()
    else:
        lacking = [d for d in dims if not on_table(d, "sessions")]
        if session_metrics and lacking:
            raise QueryError(
                code="invalid_metrics",
                message=f"metrics: {session_metrics[0]} cannot be broken down by {lacking[0]}",
            )
    # Rollups hold sums only: a query of web vitals alone reads no rollup at all, and revenue
    # (summed per currency, sql/revenue.py) is not among their sums.
    summed = bool(event_metrics or session_metrics) and not REVENUE_METRICS & set(metrics)
    rollup_dim = _rollup_dim(
        query, needs_sessions=bool(session_metrics), events_drive=bool(event_metrics)
    ) if summed else None
    rollup_filter = _rollup_filter(query) if rollup_dim is None and summed else None
    if rollup_filter is not None:
        rollup_dim = dims[0] if dims else ""
    kind = _rollup_kind(rollup_dim, rollup_filter)
    spans: tuple[str, ...] = ()
    if kind is not None and query.interval in (None, "month"):
        # A whole month (week) can be one row only when no time bucket is finer than a month.
        spans = tuple(kind.spans)
    return Plan(
        session_driven=session_driven,
        event_metrics=event_metrics,
        session_metrics=session_metrics,
        rollup_dim=rollup_dim,
        rollup_filter=rollup_filter,
        rollup_kind=kind,
        spans=spans,
        vitals_metrics=vitals_metrics,
        imported_dim=imports_choice(query)[0] if summed else None,
        goal_rollup=None if session_metrics or vitals_metrics else goal_rollup_dim(query),
        one_pass=one_pass(query),
    )
