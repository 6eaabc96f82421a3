"""Running queries: ``Query`` → builder → store → the one result shape every caller gets.

The shape is Plausible's Stats API v2::

    {"results": [{"dimensions": [...], "metrics": [...]}], "meta": {...}, "query": {...}}

The runner also fills empty ``time:day`` buckets with zeros so a chart has one point per day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .periods import day_buckets
from .query import Query
from .sql_builder import build_sql
from .store import Row, Store

__all__ = ["run_queries", "run_query", "shape_result"]


def shape_result(query: Query, rows: Sequence[Row]) -> dict[str, Any]:
    """Turn builder output rows into the result shape, filling empty days when time is alone."""
    width = len(query.dimensions)
    results = [
        {
            "dimensions": [row[f"d{i}"] for i in range(width)],
            "metrics": [row[m] for m in query.metrics],
        }
        for row in rows
    ]
    first, last = query.period
    meta: dict[str, Any] = {
        "timezone": query.timezone,
        "date_range": [first.isoformat(), last.isoformat()],
    }
    if "time:day" in query.dimensions:
        labels = [label for _, _, label in day_buckets(first, last, tz=query.zone)]
        meta["time_labels"] = labels
        # Filling is only unambiguous when time is the only dimension (one row per day).
        if query.dimensions == ("time:day",):
            by_day = {r["dimensions"][0]: r for r in results}
            zeros = [0] * len(query.metrics)
            results = [by_day.get(day, {"dimensions": [day], "metrics": zeros}) for day in labels]
    return {"results": results, "meta": meta, "query": query.model_dump(mode="json")}


async def run_query(store: Store, query: Query) -> dict[str, Any]:
    """Run one query and return its result shape."""
    sql, params = build_sql(query)
    return shape_result(query, await store.execute(sql, params))


async def run_queries(store: Store, queries: Sequence[Query]) -> list[dict[str, Any]]:
    """Run several queries in ONE store round trip (a D1 batch) and shape each result.

    A dashboard page needs half a dozen queries; D1's API allows 1,200 requests per 5 minutes per
    token, so one request per page matters.
    """
    statements = [build_sql(q) for q in queries]
    rows = await store.batch(statements)
    return [shape_result(q, r) for q, r in zip(queries, rows, strict=True)]
