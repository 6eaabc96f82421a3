"""Filters SQL cannot test, turned into ones it can before the query is planned.

Two kinds of condition need the dimension's actual values:

* regular expressions (``matches`` / ``matches_not``): SQLite, and so D1, has no REGEXP;
* conditions on a dimension named the Plausible way (``visit:device``…) whose values the API
  shows differently from the stored ones (``plausible_values``), unless a table inverts them.

For those, ``value_statements`` reads the dimension's distinct values in the period and a day
either side (from the rollups for the days they hold, raw rows for the others), the values are
tested here in Python (RE2 for patterns: linear time, no runaway backtracking), and ``resolve``
rewrites each such condition into ``is`` (or ``is_not`` for a negative operator) of the stored
values that match. Everything after — plan, rollups, SQL — sees plain conditions, so a rolled-up
and a raw answer stay the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

from .exceptions import QueryError
from .filters import (
    REGEX_OPS,
    Behaviour,
    Condition,
    Connective,
    FilterNode,
    Negation,
    filter_leaves,
)
from .imports_csv import IMPORTED_DIMENSIONS
from .periods import time_units
from .plausible_values import View, view_for
from .query import Query
from .regex import compile_pattern
from .rollups.kinds import ROLLUP_DIMENSIONS
from .sql.arms import units_cte
from .sql.columns import dimension_sql, on_table
from .sql.params import Params
from .store import Row, Statement, Store

__all__ = [
    "MAX_MATCHED_CHARS", "MAX_SCANNED_VALUES", "resolve", "resolve_filters", "value_statements"
]

# Distinct values read for one dimension at most: past it a pattern is refused rather than
# tested on a part of them (a wrong number).
MAX_SCANNED_VALUES = 50_000
# The matching values travel as ONE bound JSON parameter; keep it well inside D1's statement size.
MAX_MATCHED_CHARS = 90_000
_POSITIVE = {
    "is_not": "is", "contains_not": "contains", "matches_not": "matches",
    "matches_wildcard_not": "matches_wildcard",
}


def _needs_values(cond: Condition) -> bool:
    if cond.op in REGEX_OPS:
        return True
    view = view_for(cond.shown_as)
    if view is None:
        return False
    static = cond.op in ("is", "is_not") and cond.case_sensitive and view.table is not None
    return not static


def _days(query: Query) -> list[tuple[int, int, int, str]]:
    """The local days of the period and its comparison, a day wider either side (subqueries look
    that far for a visit crossing an edge), as units ``[start_ms, end_ms, 0, day]``."""
    days: dict[str, tuple[int, int, int, str]] = {}
    for first, last in filter(None, (query.period, query.comparison_period)):
        wider = time_units(first - timedelta(days=1), last + timedelta(days=1), tz=query.zone,
                           interval=None)
        days.update((unit[3], unit) for unit in wider.units)
    return sorted(days.values())


def _values_sql(query: Query, dimension: str) -> Statement:
    """The dimension's distinct values on those days: from the rollups where they hold the day
    (they outlive raw rows under a retention, and are far fewer), from raw rows for the rest."""
    params = Params()
    site = params.ref(query.site_id)
    on_events = on_table(dimension, "events")
    table, column = ("events", "ts") if on_events else ("sessions", "started_at")
    expression = dimension_sql(dimension, table=table, params=params)
    assert expression is not None
    units = units_cte("u", source=params.ref(json.dumps(_days(query), separators=(",", ":"))))
    raw = (f"SELECT {expression} AS v FROM u CROSS JOIN {table} ON site_id = {site} "
           f"AND {column} >= u.start_ms AND {column} < u.end_ms")
    arms = [raw]
    if dimension in ROLLUP_DIMENSIONS:
        # A day listed for the site's timezone has every value in rollup_daily.
        arms = [
            f"{raw} WHERE u.day NOT IN (SELECT day FROM rollup_days WHERE site_id = {site} "
            f"AND tz = {params.ref(query.timezone)})",
            f"SELECT r.value FROM u CROSS JOIN rollup_daily AS r ON r.site_id = {site} "
            f"AND r.dim = {params.ref(dimension)} AND r.day = u.day",
        ]
    if query.include_imports and dimension in IMPORTED_DIMENSIONS:
        # Imported days' values too: a pattern must match them where no native row has them.
        arms.append(f"SELECT r.value FROM u CROSS JOIN imported_daily AS r "
                    f"ON r.site_id = {site} AND r.dim = {params.ref(dimension)} "
                    f"AND r.day = u.day")
    sql = (f"WITH {units} SELECT DISTINCT v FROM ({' UNION '.join(arms)}) "
           f"LIMIT {MAX_SCANNED_VALUES + 1}")
    return sql, params.check()


def value_statements(query: Query) -> list[tuple[str, Statement]]:
    """(dimension, statement reading its distinct values) for each dimension whose values
    ``resolve`` needs; empty for most queries."""
    wanted = dict.fromkeys(c.dimension for c in filter_leaves(query.filters) if _needs_values(c))
    return [(dimension, _values_sql(query, dimension)) for dimension in wanted]


def _wildcard(pattern: str, case_sensitive: bool) -> Callable[[str], bool]:
    # ``*`` is any run of characters, everything else literal, the whole value (GLOB's meaning).
    body = ".*".join(_re2_escape(part) for part in pattern.split("*"))
    return compile_pattern(f"(?s)^{body}$", case_sensitive=case_sensitive)


def _re2_escape(text: str) -> str:
    return "".join(c if c.isalnum() or c == "_" or ord(c) > 127 else "\\" + c for c in text)


def _test(cond: Condition, op: str) -> Callable[[str], bool]:
    """Whether a shown value passes the positive form ``op`` of ``cond``."""
    if op == "matches":
        tests = [compile_pattern(v, case_sensitive=cond.case_sensitive) for v in cond.values]
        return lambda value: any(test(value) for test in tests)
    if op == "matches_wildcard":
        tests = [_wildcard(v, cond.case_sensitive) for v in cond.values]
        return lambda value: any(test(value) for test in tests)
    fold: Callable[[str], str] = (lambda s: s) if cond.case_sensitive else str.lower
    wanted = [fold(v) for v in cond.values]
    if op == "contains":
        return lambda value: any(w in fold(value) for w in wanted)
    wanted_set = set(wanted)
    return lambda value: fold(value) in wanted_set


def _plain(cond: Condition, values: set[str]) -> Condition:
    op = "is_not" if cond.op in _POSITIVE else "is"
    matched = tuple(sorted(values))
    if len(json.dumps(matched, ensure_ascii=False)) > MAX_MATCHED_CHARS:
        raise QueryError(
            code="invalid_filters",
            message=f"filters: {cond.op} on {cond.shown_as or cond.dimension} matches "
            f"{len(matched):,} values in this period, more than this API can test at once; "
            "narrow the pattern or the date range",
        )
    return Condition(op=op, dimension=cond.dimension, values=matched)  # type: ignore[arg-type]


def _resolved(cond: Condition, found: Mapping[str, Sequence[Row]]) -> Condition:
    view: View | None = view_for(cond.shown_as)
    if not _needs_values(cond):
        if view is None:
            return cond
        stored: set[str] = set()
        for value in cond.values:
            stored |= view.stored_for(value) or set()
        return _plain(cond, stored)
    rows = found.get(cond.dimension)
    if rows is None:
        raise QueryError(code="invalid_filters",
                         message=f"filters: the values of {cond.dimension} were not read")
    if len(rows) > MAX_SCANNED_VALUES:
        raise QueryError(
            code="invalid_filters",
            message=f"filters: {cond.shown_as or cond.dimension} has more than "
            f"{MAX_SCANNED_VALUES:,} values in this period, too many to test a pattern on; "
            "narrow the date range, or use contains / matches_wildcard",
        )
    test = _test(cond, _POSITIVE.get(cond.op, cond.op))
    show = view.show if view is not None else (lambda s: s)
    stored = {str(v) for v in (row["v"] for row in rows) if v is not None}
    return _plain(cond, {value for value in stored if test(show(value))})


def _rewrite(node: FilterNode, found: Mapping[str, Sequence[Row]]) -> FilterNode:
    if isinstance(node, Condition):
        return _resolved(node, found)
    if isinstance(node, Negation):
        return Negation(child=_rewrite(node.child, found))
    if isinstance(node, Behaviour):
        return Behaviour(op=node.op, child=_rewrite(node.child, found))
    return Connective(op=node.op, children=tuple(_rewrite(c, found) for c in node.children))


def resolve(query: Query, found: Mapping[str, Sequence[Row]] | None = None) -> Query:
    """``query`` with every condition SQL cannot test rewritten (see the module's note);
    ``found`` holds the rows of ``value_statements(query)`` by dimension. ``query`` itself when
    nothing needs it."""
    leaves = filter_leaves(query.filters)
    if not any(_needs_values(c) or view_for(c.shown_as) for c in leaves):
        return query
    filters = tuple(_rewrite(node, found or {}) for node in query.filters)
    return query.model_copy(update={"filters": filters})


async def resolve_filters(store: Store, query: Query) -> Query:
    """``resolve`` with its look-ups run on ``store``: for statements written outside the runner
    (funnels, journeys) that put a query's filters on their own SQL."""
    statements = value_statements(query)
    if not statements:
        return resolve(query)
    rowsets = await store.batch([statement for _, statement in statements])
    found = {dim: list(rows) for (dim, _), rows in zip(statements, rowsets, strict=True)}
    return resolve(query, found)
