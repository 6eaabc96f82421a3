"""The dashboard's state becomes a ``Query`` directly (no wire form parsed again), with the
query's own filter checks and hour limit: the same query the API would build for the same ask."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from analytics_941 import QueryError, parse_query
from analytics_941.filters import MAX_VALUE_LENGTH, Condition
from analytics_941.goals import Goal
from analytics_941.query import MAX_HOUR_RANGE_DAYS, hours_fit
from analytics_941.sites import Site
from analytics_941.web.dashboard.state import DashboardState

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
SITE = Site(id="s1", domain="example.com", name="Example", domains=(), timezone="Europe/Berlin",
            created_at=int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000))


def state(*pairs: tuple[str, str]) -> DashboardState:
    return DashboardState.from_params(pairs)


def test_the_state_query_is_the_query_the_wire_form_gives() -> None:
    chosen = state(("period", "custom"), ("from", "2026-02-01"), ("to", "2026-02-20"),
                   ("compare", "year_over_year"), ("f", "is,country,DE"),
                   ("f", "contains_not,page,/a,b"))
    typed = chosen.query(SITE, metrics=["visitors", "pageviews"], dimensions=["page"], limit=9,
                         total_rows=True, now=NOW)
    wire = parse_query(
        {"site_id": "s1", "date_range": ["2026-02-01", "2026-02-20"],
         "comparison": "year_over_year", "metrics": ["visitors", "pageviews"],
         "dimensions": ["page"], "pagination": {"limit": 9}, "total_rows": True,
         "filters": [["is", "country", ["DE"]], ["contains_not", "page", ["/a,b"]]],
         "include_imports": True},
        timezone="Europe/Berlin", now=NOW, stats_start=date(2025, 1, 1),
    )
    assert typed == wire
    assert chosen.query(SITE, metrics=["visitors"], compare=False, now=NOW).comparison is None


def test_url_filters_meet_the_query_checks() -> None:
    with pytest.raises(QueryError) as time_filter:
        state(("f", "is,time:day,2026-01-01"))
    assert time_filter.value.code == "invalid_f"
    assert "date range" in time_filter.value.message
    with pytest.raises(QueryError) as too_long:
        state(("f", "is,page,/" + "x" * MAX_VALUE_LENGTH))
    assert too_long.value.code == "invalid_f"
    assert state(("f", "is,visit:country,DE")).conditions() == (
        Condition(op="is", dimension="country", values=("DE",)),
    )


def test_a_goal_filter_rides_in_the_url_and_the_goals_in_the_query() -> None:
    goal = Goal(id="g1", site_id="s1", name="Signup", kind="event", target="Signup")
    with_goal = state(("f", "is,event:goal,Signup"))
    assert with_goal.goal_filter == "Signup" and with_goal.uses_goals
    assert with_goal.params() == [("f", "is,event:goal,Signup")]
    # The goals come from the store, never from the URL, and do not change it.
    carried = replace(with_goal, goals=(goal,))
    assert carried.url("/d") == with_goal.url("/d") == "/d?f=is%2Cevent%3Agoal%2CSignup"
    query = carried.query(SITE, metrics=["visitors", "group_conversion_rate"],
                          dimensions=["visit:source"], now=NOW)
    assert query.goals == (goal,) and query.goal_filters
    # Without the site's goals the name is unknown: the query's 400.
    with pytest.raises(QueryError, match="no goal named 'Signup'"):
        with_goal.query(SITE, metrics=["visitors"], now=NOW)
    # Goals are named, not matched: the query's two operators only.
    assert state(("f", "contains,event:goal,Sign")).uses_goals
    with pytest.raises(QueryError, match="is and contains"):
        state(("f", "is_not,event:goal,Signup"))
    assert state(("f", "is,page,/")).goal_filter is None


def test_hours_fit_one_limit_for_the_graph_and_the_query() -> None:
    first = date(2026, 1, 1)
    fits = date(2026, 1, MAX_HOUR_RANGE_DAYS)  # 31 days, both ends included
    too_long = date(2026, 2, 1)
    assert hours_fit(first, fits) and not hours_fit(first, too_long)
    for last, interval in ((fits, "hour"), (too_long, "day")):
        chosen = state(("period", "custom"), ("from", first.isoformat()),
                       ("to", last.isoformat()), ("interval", "hour"))
        assert chosen.interval_for(first, last) == interval
    with pytest.raises(QueryError) as refused:
        state(("period", "custom"), ("from", "2026-01-01"), ("to", "2026-02-01")).query(
            SITE, metrics=["visitors"], dimensions=["time:hour"], now=NOW
        )
    assert refused.value.code == "invalid_dimensions"


def test_the_builder_fields_fold_into_one_more_filter() -> None:
    built = state(("period", "7d"), ("f", "is,country,DE"), ("filter_op", "contains"),
                  ("filter_dimension", "event:page"), ("filter_value", "/blog,x"))
    assert built.filters == (("is", "country", "DE"), ("contains", "page", "/blog,x"))
    assert built.url("/d") == "/d?period=7d&f=is%2Ccountry%2CDE&f=contains%2Cpage%2C%2Fblog%2Cx"
    left_empty = state(("filter_op", "is"), ("filter_dimension", "page"), ("filter_value", ""))
    assert left_empty.filters == ()
    with pytest.raises(QueryError) as unknown:
        state(("filter_op", "like"), ("filter_dimension", "page"), ("filter_value", "/a"))
    assert unknown.value.code == "invalid_f"


@pytest.mark.parametrize(
    ("pairs", "previous", "after"),
    [
        # Days step by their number; the step after a past range stops at today.
        ((("period", "7d"),), ("2026-02-25", "2026-03-03"), None),
        ((("period", "day"),), ("2026-03-09", "2026-03-09"), None),
        ((("period", "custom"), ("from", "2026-02-26"), ("to", "2026-03-07")),
         ("2026-02-16", "2026-02-25"), ("2026-03-08", "2026-03-10")),
        # Whole months step by months, to a whole month.
        ((("period", "month"),), ("2026-02-01", "2026-02-28"), None),
        ((("period", "custom"), ("from", "2026-01-01"), ("to", "2026-01-31")),
         ("2025-12-01", "2025-12-31"), ("2026-02-01", "2026-02-28")),
        ((("period", "year"),), ("2025-01-01", "2025-12-31"), None),
        ((("period", "6mo"),), ("2025-04-01", "2025-09-30"), None),
    ],
)
def test_the_previous_and_next_period(
    pairs: tuple[tuple[str, str], ...], previous: tuple[str, str], after: tuple[str, str] | None
) -> None:
    today = date(2026, 3, 10)
    chosen = state(*pairs)
    first, last = chosen.query(SITE, metrics=["visitors"], now=NOW).period
    before = chosen.stepped(first, last, today=today, forward=False)
    assert before is not None and before.period == "custom"
    assert (before.date_from, before.date_to) == tuple(date.fromisoformat(d) for d in previous)
    forward = chosen.stepped(first, last, today=today, forward=True)
    if after is None:
        assert forward is None
    else:
        assert forward is not None
        assert (forward.date_from, forward.date_to) == tuple(date.fromisoformat(d) for d in after)
    assert state(("period", "all")).stepped(first, last, today=today, forward=False) is None
