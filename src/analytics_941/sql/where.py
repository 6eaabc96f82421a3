"""Filter trees → WHERE clauses: one branch per operator, an explicit refusal for anything else.

Every value list is ONE bound JSON parameter read with ``json_each``, so a filter costs one
parameter however many values it carries (D1 allows 100 per statement). A condition on a column
the table lacks becomes a subquery on the other table, matched by session id:

* on ``events``, a visit-level condition (``entry_page``…) keeps events of matching visits;
* on ``sessions``, an event-level condition (``page``, ``event:name``, properties) keeps visits
  with at least one matching event.

The subqueries are bounded by the period, widened by a day on the side where a visit may start
before (or its events run after) the period's edge. When rollups answer most of the period they
are bounded by each unit left raw instead (``RawUnits``, widened the same way), so today's raw
part of a 12-month view scans a day or two, not the year, even when another raw day lies months
before it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import QueryError
from ..filters import REGEX_OPS, Behaviour, Condition, FilterNode, Negation
from ..goals import Goal
from ..query import GOAL_DIMENSION
from .columns import filter_sql_target
from .glob import glob_pattern
from .goals import custom_event_name, goal_test
from .params import Params

__all__ = [
    "Bounds",
    "RawUnits",
    "filters_sql",
    "glob_pattern",
    "lone_page",
]

DAY_MS = 86_400_000


@dataclass(frozen=True)
class RawUnits:
    """The units a rollup plan leaves raw: SQL of rows ``start_ms, end_ms`` (JSON-extracted
    numbers, safe in arithmetic, unlike parameters D1 may deliver as strings)."""

    source: str


# A subquery's time range: the period in UTC ms (bound as parameters), or the raw units.
Bounds = tuple[int, int] | RawUnits


def _ascii_lower(text: str) -> str:
    # SQLite's lower() folds ASCII only; fold the values the same way so both sides agree.
    return "".join(c.lower() if c.isascii() else c for c in text)


_EVENT_NAME = ("name", "e.name", "events.name")


def _condition_sql(cond: Condition, *, expression: str, params: Params) -> str:
    values = list(cond.values)
    if not cond.case_sensitive:
        expression = f"lower({expression})"
        values = [_ascii_lower(v) for v in values]
    if cond.op in REGEX_OPS:
        # SQLite has no REGEXP: the runner turns these into ``is`` / ``is_not`` of the matching
        # values first (``resolve``); meeting one here is a caller that skipped it.
        raise QueryError(code="invalid_filters",
                         message=f"filters: {cond.op} needs its values resolved (run the query "
                         "through the runner)")
    if cond.op in ("matches_wildcard", "matches_wildcard_not"):
        values = [glob_pattern(v) for v in values]
    single = values[0] if len(values) == 1 else "pageview"
    if cond.op == "is" and expression in _EVENT_NAME and single != "pageview":
        # One custom event (the usual filter): an equality SQLite reads from its index.
        return custom_event_name(expression, params.ref(single))
    if cond.op == "is_not" and expression in _EVENT_NAME and values == ["pageview"]:
        # Custom events only (the goal panel's candidates): our own constant, written out, costs
        # one comparison per row; the list lookup, or even a bound value, costs more (the panel's
        # candidates at 10 M: 7.1 -> 5.2 ms of CPU, at 1 M 0.64 -> 0.47).
        return f"{expression} <> 'pageview'"
    ref = params.ref(json.dumps(values, ensure_ascii=False, separators=(",", ":")))
    if cond.op == "is":
        test = f"{expression} IN (SELECT value FROM json_each({ref}))"
        # The custom-events index holds every row but pageviews (schema.sql's events_name): a
        # query has to say so for SQLite to use it.
        if expression in _EVENT_NAME and "pageview" not in values:
            test += f" AND {expression} <> 'pageview'"
        return test
    if cond.op == "is_not":
        return f"{expression} NOT IN (SELECT value FROM json_each({ref}))"
    # instr() is case-sensitive and needs no LIKE escaping of % and _ in the value.
    if cond.op == "contains":
        return f"EXISTS (SELECT 1 FROM json_each({ref}) WHERE instr({expression}, value) > 0)"
    if cond.op == "contains_not":
        return f"NOT EXISTS (SELECT 1 FROM json_each({ref}) WHERE instr({expression}, value) > 0)"
    if cond.op == "matches_wildcard":
        return f"EXISTS (SELECT 1 FROM json_each({ref}) WHERE {expression} GLOB value)"
    if cond.op == "matches_wildcard_not":
        return f"NOT EXISTS (SELECT 1 FROM json_each({ref}) WHERE {expression} GLOB value)"
    raise QueryError(code="invalid_filters", message=f"filters: unknown operator {cond.op!r}")


def _leaf_sql(
    cond: Condition,
    *,
    table: str,
    site: str,
    bounds: Bounds,
    params: Params,
    goals: Sequence[Goal] = (),
) -> str:
    if cond.dimension == GOAL_DIMENSION:
        # A test of the events row itself; visits are kept when one of their events converts.
        test = goal_test(cond, goals, params)
        if table == "events":
            return test
    else:
        expression = filter_sql_target(cond.dimension, table=table, params=params)
        if expression is not None:
            return _condition_sql(cond, expression=expression, params=params)
        other = "sessions" if table == "events" else "events"
        inner = filter_sql_target(cond.dimension, table=other, params=params)
        if inner is None:
            raise QueryError(
                code="invalid_filters", message=f"filters: cannot filter on {cond.dimension!r}"
            )
        test = _condition_sql(cond, expression=inner, params=params)
    if isinstance(bounds, RawUnits):
        # Each raw unit drives its own index range (CROSS JOIN fixes the order).
        if table == "events":
            return (
                f"session_id IN (SELECT s.id FROM {bounds.source} AS u CROSS JOIN sessions AS s "
                f"ON s.site_id = {site} AND s.started_at >= u.start_ms - {DAY_MS} "
                f"AND s.started_at < u.end_ms WHERE {test})"
            )
        return (
            f"id IN (SELECT e.session_id FROM {bounds.source} AS u CROSS JOIN events AS e "
            f"ON e.site_id = {site} AND e.ts >= u.start_ms AND e.ts < u.end_ms + {DAY_MS} "
            f"WHERE {test})"
        )
    start, end = bounds
    if table == "events":
        lo, hi = params.ref(start - DAY_MS), params.ref(end)
        return (
            f"session_id IN (SELECT id FROM sessions WHERE site_id = {site} "
            f"AND started_at >= {lo} AND started_at < {hi} AND {test})"
        )
    lo, hi = params.ref(start), params.ref(end + DAY_MS)
    return (
        f"id IN (SELECT session_id FROM events WHERE site_id = {site} "
        f"AND ts >= {lo} AND ts < {hi} AND {test})"
    )


def _visits_with(test: str, *, table: str, site: str, bounds: Bounds, params: Params) -> str:
    """SQL: the row's visit has an event for which ``test`` holds (a behavioural filter). Its
    events are looked for a day either side of the range, where a visit crossing an edge has
    them."""
    column = "session_id" if table == "events" else "id"
    if isinstance(bounds, RawUnits):
        return (
            f"{column} IN (SELECT e.session_id FROM {bounds.source} AS u CROSS JOIN events AS e "
            f"ON e.site_id = {site} AND e.ts >= u.start_ms - {DAY_MS} "
            f"AND e.ts < u.end_ms + {DAY_MS} WHERE {test})"
        )
    lo, hi = params.ref(bounds[0] - DAY_MS), params.ref(bounds[1] + DAY_MS)
    return (
        f"{column} IN (SELECT session_id FROM events WHERE site_id = {site} "
        f"AND ts >= {lo} AND ts < {hi} AND {test})"
    )


def _node_sql(
    node: FilterNode,
    *,
    table: str,
    site: str,
    bounds: Bounds,
    params: Params,
    goals: Sequence[Goal] = (),
) -> str:
    where: dict[str, Any] = {
        "table": table, "site": site, "bounds": bounds, "params": params, "goals": goals
    }
    if isinstance(node, Condition):
        return _leaf_sql(node, **where)
    if isinstance(node, Negation):
        return f"NOT ({_node_sql(node.child, **where)})"
    if isinstance(node, Behaviour):
        test = _node_sql(node.child, **{**where, "table": "events"})
        inside = _visits_with(test, table=table, site=site, bounds=bounds, params=params)
        return inside if node.op == "has_done" else f"NOT ({inside})"
    joiner = " AND " if node.op == "and" else " OR "
    parts = [_node_sql(child, **where) for child in node.children]
    return "(" + joiner.join(parts) + ")"


def lone_page(nodes: tuple[FilterNode, ...]) -> Condition | None:
    """The filters' top-level ``is`` of one page (case-sensitive), if any: the test the page
    index answers (``filters_sql``'s ``page_index``)."""
    for node in nodes:
        if (isinstance(node, Condition) and node.dimension == "page" and node.op == "is"
                and len(node.values) == 1 and node.case_sensitive):
            return node
    return None


def filters_sql(
    nodes: tuple[FilterNode, ...],
    *,
    table: str,
    site: str,
    bounds: Bounds,
    params: Params,
    goals: Sequence[Goal] = (),
    page_index: bool = False,
) -> list[str]:
    """One clause per top-level filter (they are ANDed) for ``table``.

    ``site`` is the site id's placeholder; ``bounds`` the range subqueries scan (``Bounds``);
    ``goals`` the site's goals an ``event:goal`` condition names. With ``page_index``, the
    ``lone_page`` test on events is marked rare, so SQLite reads the page's events through
    their index (events_path) instead of every event of the range: far faster for a rare page,
    about twice slower for a frequent one (the caller knows which, ``sql_builder``); on
    sessions it is left out: the caller reads the visits of ``page_sessions_sql`` by their key.
    """
    page = lone_page(nodes) if page_index else None
    clauses = []
    for node in nodes:
        if page is not None and node is page:
            if table == "events":
                clauses.append(f"likelihood(pathname = {params.ref(page.values[0])}, 0.001)")
            continue
        clauses.append(
            _node_sql(node, table=table, site=site, bounds=bounds, params=params, goals=goals))
    return clauses


def value_filters_sql(nodes: tuple[FilterNode, ...], *, expression: str, params: Params) -> str:
    """The filters as one clause on a single value column (a rollup row's ``value``).

    Only valid when every condition is on the dimension that column holds (the builder checks).
    """

    def walk(node: FilterNode) -> str:
        if isinstance(node, Condition):
            return _condition_sql(node, expression=expression, params=params)
        if isinstance(node, Negation):
            return f"NOT ({walk(node.child)})"
        if isinstance(node, Behaviour):
            raise QueryError(code="invalid_filters",
                             message="filters: a behavioural filter needs raw events")
        joiner = " AND " if node.op == "and" else " OR "
        return "(" + joiner.join(walk(child) for child in node.children) + ")"

    return " AND ".join(walk(node) for node in nodes)
