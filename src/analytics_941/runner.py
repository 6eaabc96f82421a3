"""Running queries: ``Query`` → builder → store → the one result shape every caller gets.

The shape is Plausible's Stats API v2::

    {"results": [{"dimensions": [...], "metrics": [...],
                  "comparison": {"dimensions": [...], "metrics": [...], "change": [...]}}],
     "meta": {"time_labels": [...], "total_rows": 42, ...},
     "query": {...}}

The runner adds what SQL should not: time bucket labels (the builder returns bucket indexes),
empty time buckets filled with zeros, ``percentage`` (visitors over the filtered total, from a
second statement in the same batch) and the change against the comparison period.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .cache import ResultCache
from .instants import clipped
from .periods import time_units
from .query import GOAL_DIMENSION, TIME_DIMENSIONS, Query
from .resolve import resolve, value_statements
from .sql.imported import imports_meta
from .sql.revenue import REVENUE_METRICS, WARNINGS, money, revenue_currencies
from .sql.vitals import NULLABLE_METRICS, VITALS
from .sql_builder import build_sql
from .store import Row, Statement, Store

__all__ = [
    "POINTS_METRICS",
    "change",
    "run_batch",
    "run_queries",
    "run_query",
    "shape_result",
    "statements_for",
]

# Metrics that are percentages already: their change is a difference in points, as Plausible's
# bounce rate (a scroll depth going from 40 % to 50 % is +10 points, not +25 %). The dashboard's
# formatting labels exactly these changes "pts".
POINTS_METRICS = frozenset({
    "bounce_rate", "percentage", "scroll_depth", "conversion_rate", "group_conversion_rate",
    *(f"{v.name}_{share}" for v in VITALS for share in ("good", "needs_improvement", "poor")),
})


def change(metric: str, current: float | None, baseline: float | None) -> float | None:
    """The change of ``metric`` from ``baseline`` to ``current``: percent, or points for rates.

    None where a percentage change is undefined (a baseline of 0).
    """
    if metric in NULLABLE_METRICS and (current is None or baseline is None):
        return None  # nothing measured on one side: no change to tell
    current, baseline = current or 0, baseline or 0
    if metric in POINTS_METRICS:
        return round(current - baseline, 1)
    if baseline == 0:
        return None
    return round(100 * (current - baseline) / baseline)


def _totals_query(query: Query) -> Query:
    return query.model_copy(
        update={"dimensions": (), "metrics": ("visitors",), "order_by": None, "total_rows": False}
    )


def statements_for(query: Query) -> list[Statement]:
    """The statements ``query`` needs: its own, plus the filtered total for ``percentage``."""
    statements: list[Statement] = [build_sql(query)]
    if "percentage" in query.metrics:
        statements.append(build_sql(_totals_query(query)))
    if _counts_apart(query):
        # A page past the last row has no row to carry the count: the first row's page does.
        statements.append(build_sql(query.model_copy(update={"offset": 0, "limit": 1})))
    return statements


def _counts_apart(query: Query) -> bool:
    return query.total_rows and query.offset > 0


def _labels(query: Query, period: tuple[Any, Any] | None) -> list[str]:
    if period is None or query.interval is None:
        return []
    units = time_units(*period, tz=query.zone, interval=query.interval)
    return clipped(units, query.clip_ms if period == query.period else None).labels


def _number(value: Any) -> Any:
    return 0 if value is None else value


def shape_result(query: Query, rowsets: Sequence[Sequence[Row]]) -> dict[str, Any]:
    """Turn the rows of ``statements_for(query)`` into the result shape."""
    rows = list(rowsets[0])
    labels = _labels(query, query.period)
    compare_period = query.comparison_period
    compare_labels = _labels(query, compare_period)
    time_at = next((i for i, d in enumerate(query.dimensions) if d in TIME_DIMENSIONS), None)
    time_alone = bool(query.dimensions) and all(d in TIME_DIMENSIONS for d in query.dimensions)
    # SQL counts the rows it found; its count is the total everywhere but for time alone.
    total_rows = int(rows[0].get("total_rows") or 0) if rows else 0
    if not rows and _counts_apart(query) and rowsets[-1]:
        total_rows = int(rowsets[-1][0].get("total_rows") or 0)
    if time_alone:
        # Time alone: one row per bucket, in order, zeros where nothing happened — so the
        # total is the number of buckets, not the number of buckets with data.
        by_bucket = {int(row["d0"]): row for row in rows}
        rows = [by_bucket.get(i, {"d0": i}) for i in range(len(labels))]
        total_rows = len(rows)
    totals: dict[str, float] = {}
    if "percentage" in query.metrics:
        (total_row,) = rowsets[1]
        totals = {"m": _number(total_row["visitors"]), "c": _number(total_row.get("c_visitors"))}

    currencies = revenue_currencies(query) if REVENUE_METRICS & set(query.metrics) else None
    goal_at = next((i for i, d in enumerate(query.dimensions) if d == GOAL_DIMENSION), None)

    def metric_values(row: Row, prefix: str) -> list[Any]:
        values = []
        for metric in query.metrics:
            raw = row.get(f"{prefix}{metric}")
            # Web vitals stay None where nothing was measured; counts and rates are 0.
            value: Any = raw if metric in NULLABLE_METRICS else _number(raw)
            if currencies is not None and metric in REVENUE_METRICS:
                goal = row.get(f"d{goal_at}") if goal_at is not None else None
                value = money(raw, currencies.of_row(goal))
            if metric == "percentage":
                total = totals["c" if prefix else "m"]
                value = round(100 * value / total, 1) if total else 0.0
            values.append(value)
        return values

    def dimension_values(row: Row, labels_: list[str]) -> list[Any]:
        out = []
        for i in range(len(query.dimensions)):
            value = row.get(f"d{i}")
            if i == time_at:
                index = int(value) if value is not None else -1
                value = labels_[index] if 0 <= index < len(labels_) else None
            out.append(value)
        return out

    results = []
    for row in rows:
        item: dict[str, Any] = {
            "dimensions": dimension_values(row, labels),
            "metrics": metric_values(row, ""),
        }
        if compare_period is not None:
            current, baseline = item["metrics"], metric_values(row, "c_")
            item["comparison"] = {
                "dimensions": dimension_values(row, compare_labels),
                "metrics": baseline,
                "change": [
                    change(m, _amount(a), _amount(b))
                    for m, a, b in zip(query.metrics, current, baseline, strict=True)
                ],
            }
        results.append(item)
    first, last = query.period
    meta: dict[str, Any] = {
        "timezone": query.timezone,
        "date_range": [first.isoformat(), last.isoformat()],
    }
    if compare_period is not None:
        meta["comparison_date_range"] = [d.isoformat() for d in compare_period]
    if labels:
        meta["time_labels"] = labels
    if query.total_rows:
        meta["total_rows"] = total_rows
    if currencies is not None and currencies.warning:
        warning = {"code": currencies.warning, "warning": WARNINGS[currencies.warning]}
        meta["metric_warnings"] = {m: warning for m in query.metrics if m in REVENUE_METRICS}
    meta.update(imports_meta(query))
    return {"results": results, "meta": meta, "query": query.model_dump(mode="json")}


def _amount(value: Any) -> Any:
    """A metric's number, also out of a revenue value (``sql.revenue.money``)."""
    return value["value"] if isinstance(value, dict) else value


async def run_query(store: Store, query: Query) -> dict[str, Any]:
    """Run one query and return its result shape."""
    (result,) = await run_queries(store, [query])
    return result


async def run_queries(
    store: Store, queries: Sequence[Query], *, cache: ResultCache | None = None
) -> list[dict[str, Any]]:
    """Run several queries in ONE store round trip (a D1 batch) and shape each result.

    A dashboard view needs a dozen queries; D1's API allows 1,200 requests per 5 minutes per
    token, so one request per view matters. With ``cache``, cached results are reused and only
    the others are sent (still in one batch, and none at all when every result is cached).
    """
    results, _extra = await run_batch(store, queries, cache=cache)
    return results


async def _resolved(store: Store, queries: dict[int, Query]) -> dict[int, Query]:
    """The queries with the filters SQL cannot test rewritten (``resolve``): one extra round trip,
    only when some query has a regular expression or a Plausible value to look up."""
    wanted = [(i, dim, st) for i, q in queries.items() for dim, st in value_statements(q)]
    found: dict[int, dict[str, list[Row]]] = {i: {} for i in queries}
    if wanted:
        rowsets = await store.batch([st for _, _, st in wanted])
        for (i, dim, _), rows in zip(wanted, rowsets, strict=True):
            found[i][dim] = list(rows)
    return {i: resolve(q, found[i]) for i, q in queries.items()}


async def run_batch(
    store: Store,
    queries: Sequence[Query],
    *,
    extra: Sequence[Statement] = (),
    cache: ResultCache | None = None,
) -> tuple[list[dict[str, Any]], list[list[Row]]]:
    """``run_queries``, with ``extra`` statements sent in the same batch: (results, their rows).

    For what a view shows beside its queries (the collector's drop counts) at no extra request.
    """
    results: list[dict[str, Any] | None] = [cache.get(q) if cache else None for q in queries]
    missing = [i for i, r in enumerate(results) if r is None]
    ready = await _resolved(store, {i: queries[i] for i in missing})
    plans = {i: statements_for(ready[i]) for i in missing}
    flat = [statement for i in missing for statement in plans[i]]
    rowsets = await store.batch([*flat, *extra]) if flat or extra else []
    extra_rows = [list(rows) for rows in rowsets[len(flat) :]]
    at = 0
    for i in missing:
        count = len(plans[i])
        shaped = shape_result(queries[i], rowsets[at : at + count])
        at += count
        if cache is not None:
            cache.put(queries[i], shaped)
        results[i] = shaped
    return [r for r in results if r is not None], extra_rows
