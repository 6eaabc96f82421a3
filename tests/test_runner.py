"""The builder's SQL on real SQLite with known rows: exact numbers, typed and all-string params."""

from __future__ import annotations

from typing import Any

from conftest import NOW, TZ
from seeding import EXPECTED_7D, EXPECTED_DAYS_7D, HOSTILE_PATH

from analytics_941 import parse_query, run_queries, run_query
from analytics_941.store import Store

ALL_METRICS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]


async def run(store: Store, **spec: Any) -> list[tuple[list[Any], list[Any]]]:
    query = parse_query({"site_id": "s1", "date_range": "7d", **spec}, timezone=TZ, now=NOW)
    result = await run_query(store, query)
    return [(r["dimensions"], r["metrics"]) for r in result["results"]]


async def test_totals(any_store: Store) -> None:
    assert await run(any_store, metrics=ALL_METRICS) == [
        ([], [EXPECTED_7D[m] for m in ALL_METRICS])
    ]


async def test_today_only(any_store: Store) -> None:
    assert await run(any_store, date_range="day", metrics=ALL_METRICS) == [([], [1, 1, 3, 0, 60])]


async def test_days_in_site_timezone_with_empty_days_filled(any_store: Store) -> None:
    rows = await run(any_store, metrics=["visitors", "pageviews"], dimensions=["time:day"])
    days = [f"2026-03-{d:02d}" for d in range(4, 11)]
    # Visit B at 23:30 local on 03-04 (04:30 UTC on 03-05) counts for 03-04; 03-05..03-07 are
    # empty and filled with zeros; D at 00:30 local on 03-09 is not swallowed by the 23-hour 03-08.
    assert rows == [([day], list(v)) for day, v in zip(days, EXPECTED_DAYS_7D, strict=True)]


async def test_pages_with_event_and_session_metrics(any_store: Store) -> None:
    rows = await run(
        any_store, metrics=["visitors", "pageviews", "visits", "bounce_rate"], dimensions=["page"]
    )
    assert rows == [
        (["/"], [4, 5, 4, 50]),
        (["/pricing"], [2, 2, 0, 0]),  # never an entry page: no session metrics
        ([HOSTILE_PATH], [1, 1, 1, 100]),
    ]


async def test_sources_countries_devices(any_store: Store) -> None:
    assert await run(any_store, metrics=["visitors"], dimensions=["source"]) == [
        (["Google"], [3]),
        (["Direct / None"], [1]),
        (["news.ycombinator.com"], [1]),
    ]
    assert await run(any_store, metrics=["visitors"], dimensions=["country"]) == [
        (["US"], [3]),
        (["CA"], [1]),
        (["DE"], [1]),
    ]
    assert await run(any_store, metrics=["visitors", "visits"], dimensions=["device"]) == [
        (["Desktop"], [3, 3]),
        (["Mobile"], [2, 2]),
    ]


async def test_filters(any_store: Store) -> None:
    google = [["is", "source", ["Google"]]]
    assert await run(any_store, metrics=["visitors", "visits"], filters=google) == [([], [3, 3])]
    pricing = [["contains", "page", ["pric"]]]
    assert await run(any_store, metrics=["visitors", "pageviews"], filters=pricing) == [
        ([], [2, 2])
    ]
    not_us = [["is_not", "country", ["US"]]]
    assert await run(any_store, metrics=["visitors"], filters=not_us) == [([], [2])]
    direct = [["is", "visit:source", ["Direct / None"]]]  # Plausible's prefixed name works too
    assert await run(any_store, metrics=["visits"], filters=direct) == [([], [1])]


async def test_limit_and_custom_range(any_store: Store) -> None:
    rows = await run(any_store, metrics=["visitors"], dimensions=["page"], limit=1)
    assert rows == [(["/"], [4])]
    rows = await run(
        any_store, date_range=["2026-03-03", "2026-03-03"], metrics=["visitors", "pageviews"]
    )
    assert rows == [([], [1, 1])]  # visit F, 23:59 local on 03-03


async def test_run_queries_batches_and_shapes_each(store: Store) -> None:
    queries = [
        parse_query(
            {"site_id": s, "date_range": "day", "metrics": ["visitors"]}, timezone=TZ, now=NOW
        )
        for s in ("s1", "s2", "nope")
    ]
    results = await run_queries(store, queries)
    assert [r["results"][0]["metrics"] for r in results] == [[1], [1], [0]]
    assert results[0]["meta"] == {"timezone": TZ, "date_range": ["2026-03-10", "2026-03-10"]}
    assert results[0]["query"]["metrics"] == ["visitors"]
