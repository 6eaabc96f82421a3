"""The planner (``sql.plan``): decisions taken from the facts about columns, before any SQL."""

from __future__ import annotations

from typing import Any

from conftest import NOW, TZ

from analytics_941 import parse_query
from analytics_941.rollups.kinds import PER_FILTER_VALUE, PLAIN
from analytics_941.sql.columns import FILTERED_BY_VIEWS
from analytics_941.sql.plan import Plan, plan_query


def plan(**spec: Any) -> Plan:
    return plan_query(
        parse_query({"site_id": "s1", "date_range": "30d", **spec}, timezone=TZ, now=NOW)
    )


def test_visits_filtered_by_a_viewed_page_skip_the_entry_page_rows() -> None:
    # A page filter keeps the visits that viewed the page, but the plain rollup row of a page
    # holds the visits that entered on it: visits come from the rollups per filter value...
    assert "page" in FILTERED_BY_VIEWS
    visits = plan(metrics=["visitors", "visits"], filters=[["is", "page", ["/"]]])
    assert (visits.rollup_kind, visits.rollup_dim, visits.rollup_filter, visits.spans) == (
        PER_FILTER_VALUE, "", ("page", "/"), ("month",)
    )
    # ...while pageviews (events group by the viewed page) and visits filtered on a column that
    # groups them as it filters them take the plain row of the value, with months and weeks.
    views = plan(metrics=["pageviews"], filters=[["is", "page", ["/"]]])
    country = plan(metrics=["visitors", "visits"], filters=[["is", "country", ["DE"]]])
    for planned, dim in ((views, "page"), (country, "country")):
        assert (planned.rollup_kind, planned.rollup_dim, planned.rollup_filter, planned.spans) == (
            PLAIN, dim, None, ("month", "week")
        )
    # Days as time buckets: the same rows, never a whole month's.
    assert plan(metrics=["visits"], dimensions=["time:day"]).spans == ()
