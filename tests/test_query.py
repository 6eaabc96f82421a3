"""The query parser: presets in the site's timezone, aliases, and errors naming the bad field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from analytics_941 import QueryError, parse_query
from analytics_941.periods import bounds_ms

# 03:30 UTC on 2026-03-10 is still 03-09 in New York and already 03-10 in Berlin.
NOW = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)


def parse(timezone: str = "UTC", **spec: Any):  # type: ignore[no-untyped-def]
    return parse_query(
        {"site_id": "s1", "metrics": ["visitors"], **spec}, timezone=timezone, now=NOW
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
    assert query.filters == (("is", "country", ("DE",)),)


@pytest.mark.parametrize(
    ("spec", "code", "field"),
    [
        ({"date_range": "1y"}, "invalid_date_range", "date_range"),
        ({"date_range": ["2026-03-10", "2026-03-01"]}, "invalid_date_range", "after the last"),
        ({"date_range": ["2024-01-01", "2026-01-01"]}, "invalid_date_range", "366"),
        ({"date_range": "7d", "metrics": []}, "invalid_metrics", "metrics"),
        ({"date_range": "7d", "metrics": ["revenue"]}, "invalid_metrics", "metrics"),
        ({"date_range": "7d", "metrics": ["visitors", "visitors"]}, "invalid_metrics", "once"),
        ({"date_range": "7d", "dimensions": ["browser"]}, "invalid_dimensions", "dimensions"),
        ({"date_range": "7d", "filters": [["regex", "page", ["/"]]]}, "invalid_filters", "filters"),
        (
            {"date_range": "7d", "filters": [["is", "time:day", ["x"]]]},
            "invalid_filters",
            "filters",
        ),
        ({"date_range": "7d", "filters": [["is", "page", []]]}, "invalid_filters", "at least one"),
        (
            {"date_range": "7d", "order_by": [["pageviews", "desc"]]},
            "invalid_order_by",
            "pageviews",
        ),
        ({"date_range": "7d", "limit": 5000}, "invalid_limit", "limit"),
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
