"""The query parser: presets in the site's timezone, aliases, and errors naming the bad field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from analytics_941 import QueryError, parse_query
from analytics_941.filters import Condition, Connective, Negation
from analytics_941.periods import ALL_TIME_MAX_DAYS, bounds_ms
from analytics_941.web.api import comparison_from_include

# 03:30 UTC on 2026-03-10 is still 03-09 in New York and already 03-10 in Berlin.
NOW = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)


def parse(timezone: str = "UTC", **spec: Any):  # type: ignore[no-untyped-def]
    return parse_query(
        {"site_id": "s1", "metrics": ["visitors"], "date_range": "7d", **spec},
        timezone=timezone,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("day", date(2026, 3, 9), date(2026, 3, 9)),
        ("7d", date(2026, 3, 3), date(2026, 3, 9)),
        ("30d", date(2026, 2, 8), date(2026, 3, 9)),
        ("month", date(2026, 3, 1), date(2026, 3, 9)),
    ],
)
def test_presets_resolve_in_the_site_timezone(preset: str, first: date, last: date) -> None:
    assert parse("America/New_York", date_range=preset).period == (first, last)


def test_today_depends_on_the_timezone() -> None:
    assert parse("Europe/Berlin", date_range="day").period == (date(2026, 3, 10),) * 2


def test_custom_range_and_local_midnight_bounds() -> None:
    query = parse("Europe/Berlin", date_range=["2026-03-29", "2026-03-29"])
    start, end = bounds_ms(*query.period, tz=query.zone)
    # 2026-03-29 is Europe's spring-forward day: from 23:00 UTC to 22:00 UTC, 23 hours.
    assert start == int(datetime(2026, 3, 28, 23, tzinfo=UTC).timestamp() * 1000)
    assert end - start == 23 * 3_600_000


def test_plausible_prefixed_dimensions_are_accepted() -> None:
    query = parse(
        date_range="7d", dimensions=["event:page"], filters=[["is", "visit:country", ["DE"]]]
    )
    assert query.dimensions == ("page",)
    assert query.filters == (Condition(op="is", dimension="country", values=("DE",)),)
    query = parse(dimensions=["time", "visit:utm_campaign", "event:props:plan"])
    assert query.dimensions == ("time:day", "utm_campaign", "event:props:plan")


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("28d", date(2026, 2, 10), date(2026, 3, 9)),
        ("6mo", date(2025, 10, 1), date(2026, 3, 9)),
        ("12mo", date(2025, 4, 1), date(2026, 3, 9)),
        ("year", date(2026, 1, 1), date(2026, 3, 9)),
        ("all", date(2025, 12, 24), date(2026, 3, 9)),
    ],
)
def test_longer_presets(preset: str, first: date, last: date) -> None:
    query = parse_query(
        {"site_id": "s1", "metrics": ["visitors"], "date_range": preset},
        timezone="America/New_York",
        now=NOW,
        stats_start=date(2025, 12, 24),
    )
    assert query.period == (first, last)


def test_all_without_a_start_is_today_and_is_capped() -> None:
    assert parse(date_range="all").period == (date(2026, 3, 10),) * 2
    ancient = parse_query(
        {"site_id": "s1", "metrics": ["visitors"], "date_range": "all"},
        now=NOW,
        stats_start=date(1970, 1, 1),
    )
    assert (ancient.period[1] - ancient.period[0]).days == ALL_TIME_MAX_DAYS - 1


@pytest.mark.parametrize(
    ("comparison", "first", "last"),
    [
        ("previous_period", date(2026, 2, 24), date(2026, 3, 2)),
        ("year_over_year", date(2025, 3, 3), date(2025, 3, 9)),
        (["2026-01-01", "2026-01-07"], date(2026, 1, 1), date(2026, 1, 7)),
    ],
)
def test_comparison_periods(comparison: Any, first: date, last: date) -> None:
    query = parse("America/New_York", date_range="7d", comparison=comparison)
    assert query.comparison_period == (first, last)


def test_year_over_year_of_a_leap_day() -> None:
    query = parse(date_range=["2024-02-29", "2024-02-29"], comparison="year_over_year")
    assert query.comparison_period == (date(2023, 2, 28), date(2023, 2, 28))


def test_filter_trees_parse_and_dump_back() -> None:
    raw = [
        [
            "or",
            [
                ["is", "visit:country", ["DE"]],
                ["not", ["matches_wildcard", "event:page", ["/docs/*"]]],
                ["contains", "page", ["Blog"], {"case_sensitive": False}],
            ],
        ]
    ]
    query = parse(filters=raw)
    (node,) = query.filters
    assert isinstance(node, Connective) and node.op == "or"
    assert isinstance(node.children[1], Negation)
    dumped = query.model_dump(mode="json")["filters"]
    assert dumped == [
        [
            "or",
            [
                ["is", "country", ["DE"]],
                ["not", ["matches_wildcard", "page", ["/docs/*"]]],
                ["contains", "page", ["Blog"], {"case_sensitive": False}],
            ],
        ]
    ]
    assert parse(filters=dumped).filters == query.filters


def test_pagination_object_sets_limit_and_offset() -> None:
    query = parse(dimensions=["page"], pagination={"limit": 5, "offset": 10})
    assert (query.limit, query.offset) == (5, 10)


@pytest.mark.parametrize(
    ("spec", "code", "field"),
    [
        ({"date_range": "1y"}, "invalid_date_range", "date_range"),
        ({"date_range": ["2026-03-10", "2026-03-01"]}, "invalid_date_range", "after the last"),
        ({"date_range": ["2010-01-01", "2026-01-01"]}, "invalid_date_range", "3660"),
        ({"comparison": "last_week"}, "invalid_comparison", "comparison"),
        ({"date_range": "7d", "metrics": []}, "invalid_metrics", "metrics"),
        ({"date_range": "7d", "metrics": ["revenue"]}, "invalid_metrics", "metrics"),
        ({"date_range": "7d", "metrics": ["visitors", "visitors"]}, "invalid_metrics", "once"),
        ({"metrics": ["percentage"]}, "invalid_metrics", "percentage"),
        ({"date_range": "7d", "dimensions": ["planet"]}, "invalid_dimensions", "planet"),
        ({"dimensions": ["time:day", "time:week"]}, "invalid_dimensions", "one time"),
        ({"dimensions": ["event:props:bad key"]}, "invalid_dimensions", "bad key"),
        ({"date_range": "6mo", "dimensions": ["time:hour"]}, "invalid_dimensions", "31 days"),
        ({"date_range": "7d", "filters": [["regex", "page", ["/"]]]}, "invalid_filters", "regex"),
        ({"filters": [["is", "time:day", ["x"]]]}, "invalid_filters", "date range"),
        ({"date_range": "7d", "filters": [["is", "page", []]]}, "invalid_filters", "non-empty"),
        ({"filters": [["and", []]]}, "invalid_filters", "and"),
        ({"filters": [["is", "page", ["/"], {"x": 1}]]}, "invalid_filters", "modifier"),
        ({"filters": [["is", "page", [True]]]}, "invalid_filters", "strings"),
        ({"filters": [["not", ["not", ["not", ["not", ["is", "page", ["/"]]]]]]]},
         "invalid_filters", "deep"),
        (
            {"date_range": "7d", "order_by": [["pageviews", "desc"]]},
            "invalid_order_by",
            "pageviews",
        ),
        ({"date_range": "7d", "limit": 50000}, "invalid_limit", "limit"),
        ({"offset": -1}, "invalid_offset", "offset"),
        ({"pagination": 5}, "invalid_pagination", "pagination"),
        ({"date_range": "7d", "extra": 1}, "invalid_extra", "extra"),
    ],
)
def test_invalid_input_names_the_field(spec: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(**spec)
    assert info.value.code == code
    assert field in info.value.message
    assert info.value.to_dict() == {"code": code, "message": info.value.message}


def test_unknown_site_timezone() -> None:
    with pytest.raises(QueryError) as info:
        parse("Mars/Olympus", date_range="day")
    assert info.value.code == "invalid_timezone"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (False, None),
        (True, "previous_period"),
        ({"mode": "year_over_year"}, "year_over_year"),
        ({"mode": "custom", "date_range": ["2025-01-01", "2025-01-31"]},
         ("2025-01-01", "2025-01-31")),
    ],
)
def test_plausible_comparisons_become_our_comparison(value: Any, expected: Any) -> None:
    assert comparison_from_include(value) == expected


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"mode": "custom"}, "include.comparisons.date_range"),
        ({"mode": "custom", "date_range": "2025-01-01"}, "include.comparisons.date_range"),
        ({"mode": "custom", "date_range": ["2025-01-01"]}, "include.comparisons.date_range"),
        ({"mode": "custom", "date_range": [20250101, 20250131]}, "include.comparisons.date_range"),
        ({"mode": "previous"}, "include.comparisons.mode"),
        ({}, "include.comparisons.mode"),
        ("previous_period", "include.comparisons"),
    ],
)
def test_a_comparison_that_cannot_be_honoured_is_an_error(value: Any, field: str) -> None:
    # A custom comparison without its range used to turn the comparison off silently.
    with pytest.raises(QueryError) as info:
        comparison_from_include(value)
    assert info.value.code == "invalid_include"
    assert info.value.message.startswith(f"{field} ")


def test_a_custom_comparison_range_is_validated_as_dates() -> None:
    custom = comparison_from_include({"mode": "custom", "date_range": ["2025-01-01", "2025-01-07"]})
    assert parse(comparison=custom).comparison_period == (date(2025, 1, 1), date(2025, 1, 7))
    bad = comparison_from_include({"mode": "custom", "date_range": ["2025-01-07", "nope"]})
    with pytest.raises(QueryError) as info:
        parse(comparison=bad)
    assert info.value.code == "invalid_comparison"
