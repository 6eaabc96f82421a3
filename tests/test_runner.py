"""The builder's SQL on real SQLite with known rows: exact numbers, typed and all-string params.

The seed (tests/seeding.py) in New York, "today" 2026-03-10; the 7-day range 03-04..03-10 holds
visits A, B (03-04), C (03-08, the 23-hour DST day), D (03-09), E (today); F is on 03-03.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TZ
from seeding import EXPECTED_7D, EXPECTED_DAYS_7D, HOSTILE_PATH

from analytics_941 import QueryError, parse_query, run_queries, run_query
from analytics_941.runner import change
from analytics_941.store import Store

ALL_METRICS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]


async def result(store: Store, **spec: Any) -> dict[str, Any]:
    query = parse_query({"site_id": "s1", "date_range": "7d", **spec}, timezone=TZ, now=NOW)
    return await run_query(store, query)


async def run(store: Store, **spec: Any) -> list[tuple[list[Any], list[Any]]]:
    return [(r["dimensions"], r["metrics"]) for r in (await result(store, **spec))["results"]]


async def total(store: Store, metric: str = "visitors", **spec: Any) -> Any:
    ((_, (value,)),) = await run(store, metrics=[metric], **spec)
    return value


def sql(path: Path, statement: str, *params: Any) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(statement, params)
    conn.close()


async def test_totals(any_store: Store) -> None:
    rows = await run(any_store, metrics=[*ALL_METRICS, "views_per_visit", "events"])
    assert rows == [([], [*(EXPECTED_7D[m] for m in ALL_METRICS), 1.6, 9])]


async def test_today_only(any_store: Store) -> None:
    assert await run(any_store, date_range="day", metrics=ALL_METRICS) == [([], [1, 1, 3, 0, 60])]


async def test_days_in_site_timezone_with_empty_days_filled(any_store: Store) -> None:
    out = await result(any_store, metrics=["visitors", "pageviews"], dimensions=["time:day"])
    days = [f"2026-03-{d:02d}" for d in range(4, 11)]
    # Visit B at 23:30 local on 03-04 (04:30 UTC on 03-05) counts for 03-04; 03-05..03-07 are
    # empty and filled with zeros; D at 00:30 local on 03-09 is not swallowed by the 23-hour 03-08.
    rows = [(r["dimensions"], r["metrics"]) for r in out["results"]]
    assert rows == [([day], list(v)) for day, v in zip(days, EXPECTED_DAYS_7D, strict=True)]
    assert out["meta"]["time_labels"] == days


async def test_hours_of_a_dst_day_and_of_today(any_store: Store) -> None:
    out = await result(
        any_store, date_range=["2026-03-08", "2026-03-08"], metrics=["visitors"],
        dimensions=["time:hour"],
    )
    labels = out["meta"]["time_labels"]
    assert len(labels) == 23 and "2026-03-08 02:00:00" not in labels  # spring forward
    assert [r["dimensions"][0] for r in out["results"] if r["metrics"] == [1]] == [
        "2026-03-08 23:00:00"
    ]
    today = await run(any_store, date_range="day", metrics=["pageviews"], dimensions=["time:hour"])
    assert len(today) == 24 and today[9] == (["2026-03-10 09:00:00"], [3])


async def test_weeks_and_months_sum_daily_visitors(any_store: Store) -> None:
    weeks = await run(any_store, metrics=["visitors", "pageviews"], dimensions=["time:week"])
    # The range starts on a Wednesday: the first week is labelled with the range's first day.
    assert weeks == [(["2026-03-04"], [3, 4]), (["2026-03-09"], [2, 4])]
    months = await run(
        any_store, date_range="12mo", metrics=["visitors"], dimensions=["time:month"]
    )
    assert [m[0][0] for m in months][:2] == ["2025-04-01", "2025-05-01"]
    assert months[-1] == (["2026-03-01"], [6]) and sum(m[1][0] for m in months) == 6


async def test_visitors_are_a_sum_of_daily_uniques(store: Store, seeded_path: Path) -> None:
    # v1 comes back on 03-05 and again on 03-04 in a second visit: one more daily unique, not two.
    for n, ts in enumerate((1772733600000, 1772640000000)):  # 03-05 14:00, 03-04 11:00 (EST)
        sql(
            seeded_path,
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname)"
            " VALUES (?, 's1', ?, 'pageview', 'v1', ?, 'example.com', '/')",
            f"x{n}", ts, f"X{n}",
        )
    assert await total(store) == EXPECTED_7D["visitors"] + 1
    assert await total(store, date_range=["2026-03-04", "2026-03-04"]) == 2


async def test_pages_entry_exit_and_events(any_store: Store) -> None:
    rows = await run(
        any_store, metrics=["visitors", "pageviews", "visits", "bounce_rate"], dimensions=["page"]
    )
    assert rows == [
        (["/"], [4, 5, 4, 50]),
        (["/pricing"], [2, 2, 0, 0]),  # never an entry page: no visit metrics
        ([HOSTILE_PATH], [1, 1, 1, 100]),
    ]
    assert await run(
        any_store, metrics=["visitors", "visits", "bounce_rate"], dimensions=["entry_page"]
    ) == [(["/"], [4, 4, 50]), ([HOSTILE_PATH], [1, 1, 100])]
    assert await run(any_store, metrics=["visits"], dimensions=["exit_page"]) == [
        (["/"], [3]),
        ([HOSTILE_PATH], [1]),
        (["/pricing"], [1]),
    ]
    assert await run(any_store, metrics=["visitors", "events"], dimensions=["event:name"]) == [
        (["pageview"], [5, 8]),
        (["signup"], [1, 1]),
    ]


async def test_sources_countries_devices_with_percentage(any_store: Store) -> None:
    assert await run(any_store, metrics=["visitors", "percentage"], dimensions=["source"]) == [
        (["Google"], [3, 60.0]),
        (["Direct / None"], [1, 20.0]),
        (["news.ycombinator.com"], [1, 20.0]),
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
    assert await run(any_store, metrics=["visitors"], dimensions=["browser"]) == [
        (["Unknown"], [5])
    ]


@pytest.mark.parametrize(
    ("flt", "visitors", "pageviews", "visits"),
    [
        (["is", "source", ["Google"]], 3, 6, 3),
        (["is", "visit:source", ["Direct / None"]], 1, 1, 1),
        (["is_not", "country", ["US"]], 2, 2, 2),
        (["contains", "page", ["pric"]], 2, 2, 2),  # visits that viewed a matching page
        (["contains_not", "page", ["pric"]], 5, 6, 5),
        (["matches_wildcard", "page", ["/pri*"]], 2, 2, 2),
        (["matches_wildcard", "page", ["/blog/*"]], 1, 1, 1),
        (["matches_wildcard_not", "page", ["/blog/*"]], 4, 7, 4),
        (["matches", "page", ["^/pricing$"]], 2, 2, 2),  # regular expressions (RE2)
        (["matches", "page", ["^/$"]], 4, 5, 4),  # the same as is "/"
        (["matches_not", "page", ["^/blog/"]], 4, 7, 4),
        (["contains", "page", ["PRIC"], {"case_sensitive": False}], 2, 2, 2),
        (["or", [["is", "country", ["CA"]], ["is", "country", ["DE"]]]], 2, 2, 2),
        (["not", ["is", "source", ["Google"]]], 2, 2, 2),
        (["and", [["is", "device", ["Desktop"]], ["is", "country", ["US"]]]], 2, 5, 2),
        (["is", "event:name", ["signup"]], 1, 0, 1),
        (["is", "entry_page", ["/"]], 4, 7, 4),  # events of visits that entered on "/"
        (["is", "country", ["FR"]], 0, 0, 0),
    ],
)
async def test_every_filter_operator(
    any_store: Store, flt: list[Any], visitors: int, pageviews: int, visits: int
) -> None:
    rows = await run(any_store, metrics=["visitors", "pageviews", "visits"], filters=[flt])
    assert rows == [([], [visitors, pageviews, visits])]


async def test_engagement_metrics_and_properties(store: Store, seeded_path: Path) -> None:
    # A's and E's first pageviews of "/" report engagement; A's signup carries a property.
    sql(seeded_path, "UPDATE events SET engaged_ms = 30000, scroll_depth = 50 WHERE id = 'e0-0'")
    sql(seeded_path, "UPDATE events SET engaged_ms = 10000, scroll_depth = 100 WHERE id = 'e4-0'")
    sql(seeded_path, "UPDATE events SET props = '{\"plan\":\"pro\"}' WHERE id = 'e0-2'")
    rows = await run(
        store, metrics=["time_on_page", "scroll_depth"], dimensions=["page"],
        filters=[["is", "page", ["/"]]],
    )
    assert rows == [(["/"], [20, 75])]
    assert await run(store, metrics=["events"], dimensions=["event:props:plan"]) == [
        (["(none)"], [8]),
        (["pro"], [1]),
    ]
    assert await total(store, filters=[["is", "event:props:plan", ["pro"]]]) == 1


async def test_comparisons(any_store: Store) -> None:
    out = await result(any_store, metrics=["visitors", "bounce_rate"], comparison="previous_period")
    (row,) = out["results"]
    # The previous 7 days hold only visit F (a bounce on 03-03).
    assert row["metrics"] == [5, 60]
    assert row["comparison"] == {"dimensions": [], "metrics": [1, 100], "change": [400, -40.0]}
    assert out["meta"]["comparison_date_range"] == ["2026-02-25", "2026-03-03"]
    yoy = await result(any_store, metrics=["visitors"], comparison="year_over_year")
    assert yoy["results"][0]["comparison"] == {"dimensions": [], "metrics": [0], "change": [None]}


async def test_comparison_time_buckets_pair_by_position(any_store: Store) -> None:
    out = await result(
        any_store, metrics=["visitors"], dimensions=["time:day"], comparison="previous_period"
    )
    pairs = [
        (r["dimensions"][0], r["metrics"][0], r["comparison"]["dimensions"][0],
         r["comparison"]["metrics"][0])
        for r in out["results"]
    ]
    assert pairs[0] == ("2026-03-04", 2, "2026-02-25", 0)
    # The last main day is paired with 03-03, whose visit shows even where main had nothing.
    assert pairs[-1] == ("2026-03-10", 1, "2026-03-03", 1)
    custom = await result(
        any_store, metrics=["visitors"], dimensions=["source"],
        comparison=["2026-03-03", "2026-03-03"],
    )
    assert [(r["dimensions"], r["comparison"]["metrics"]) for r in custom["results"]] == [
        (["Google"], [1]),
        (["Direct / None"], [0]),
        (["news.ycombinator.com"], [0]),
    ]


async def test_order_pagination_and_total_rows(any_store: Store) -> None:
    out = await result(
        any_store, metrics=["visitors"], dimensions=["page"], order_by=[["visitors", "asc"]],
        pagination={"limit": 1, "offset": 1}, total_rows=True,
    )
    assert [(r["dimensions"], r["metrics"]) for r in out["results"]] == [(["/pricing"], [2])]
    assert out["meta"]["total_rows"] == 3
    rows = await run(any_store, metrics=["visitors"], dimensions=["page"], limit=1)
    assert rows == [(["/"], [4])]


async def test_total_rows_of_a_time_series_is_its_bucket_count(any_store: Store) -> None:
    # Only visit C (03-08) is from DE: the first bucket is empty, filled in by the runner.
    out = await result(
        any_store, metrics=["visitors"], dimensions=["time:day"], total_rows=True,
        filters=[["is", "country", ["DE"]]], comparison="previous_period",
    )
    assert [r["metrics"] for r in out["results"]] == [[0], [0], [0], [0], [1], [0], [0]]
    assert out["meta"]["total_rows"] == 7
    nothing = await result(
        any_store, date_range=["2026-02-01", "2026-02-28"], metrics=["visitors"],
        dimensions=["time:week"], total_rows=True,
    )
    assert nothing["meta"]["total_rows"] == len(nothing["results"]) == 5


async def test_custom_range_and_empty_periods(any_store: Store) -> None:
    rows = await run(
        any_store, date_range=["2026-03-03", "2026-03-03"], metrics=["visitors", "pageviews"]
    )
    assert rows == [([], [1, 1])]  # visit F, 23:59 local on 03-03
    empty = ["2025-01-01", "2025-01-03"]
    assert await run(any_store, date_range=empty, metrics=ALL_METRICS) == [([], [0] * 5)]
    days = await run(any_store, date_range=empty, metrics=["visitors"], dimensions=["time:day"])
    assert days == [([f"2025-01-0{d}"], [0]) for d in (1, 2, 3)]
    assert await run(any_store, date_range=empty, metrics=["visitors"], dimensions=["page"]) == []


async def test_two_dimensions(any_store: Store) -> None:
    rows = await run(any_store, metrics=["visitors"], dimensions=["time:day", "device"])
    assert rows[0] == (["2026-03-04", "Desktop"], [1])
    assert len(rows) == 5


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"metrics": ["time_on_page"], "dimensions": ["entry_page"]}, "invalid_metrics"),
        ({"metrics": ["visits"], "dimensions": ["event:name"]}, "invalid_metrics"),
    ],
)
async def test_combinations_no_table_answers(store: Store, spec: dict[str, Any], code: str) -> None:
    with pytest.raises(QueryError) as info:
        await result(store, **spec)
    assert info.value.code == code


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


@pytest.mark.parametrize(
    ("metric", "current", "baseline", "expected"),
    [("scroll_depth", 50, 40, 10), ("bounce_rate", 30, 45, -15), ("percentage", 12.5, 10, 2.5),
     ("visitors", 50, 40, 25), ("time_on_page", 30, 0, None)],
)
def test_rates_change_in_points_counts_in_percent(
    metric: str, current: float, baseline: float, expected: float | None
) -> None:
    assert change(metric, current, baseline) == expected
