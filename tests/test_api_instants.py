"""Stats API v2 ranges finer than days: ``24h`` and ``[date-time, date-time]`` (Plausible's),
answered from raw rows for the hours they cut, on the seeded site (New York; now is 12:00 EDT on
2026-03-10; visits at 23:30 on 03-08, 00:30 on 03-09 and 09:00 on 03-10, local)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import NOW

from analytics_941 import QueryError, run_query
from analytics_941.sites import get_site
from analytics_941.store import Store
from analytics_941.web.api import parse_api_body


async def _answer(store: Store, **body: Any) -> dict[str, Any]:
    site = await get_site(store, domain="example.com")
    assert site is not None
    query, _include = parse_api_body({"site_id": "example.com", **body}, site=site, now=NOW)
    return await run_query(store, query)


async def test_24h_is_the_last_24_hours_not_two_days(store: Store) -> None:
    last_24h = await _answer(store, metrics=["visitors", "pageviews"], date_range="24h")
    assert last_24h["results"][0]["metrics"] == [1, 3]  # 00:30 on 03-09 is 31.5 hours ago
    two_days = await _answer(store, metrics=["visitors"],
                             date_range=["2026-03-09", "2026-03-10"])
    assert two_days["results"][0]["metrics"] == [2]
    hours = await _answer(store, metrics=["visitors"], date_range="24h",
                          dimensions=["time:hour"])
    assert len(hours["results"]) == 24 and hours["meta"]["time_labels"][0] == \
        "2026-03-09 12:00:00"
    assert [r["dimensions"][0] for r in hours["results"] if r["metrics"][0]] == [
        "2026-03-10 09:00:00"]


async def test_date_times_cut_days_in_the_sites_zone_or_their_own(store: Store) -> None:
    one_hour = await _answer(store, metrics=["visitors"], date_range=[
        "2026-03-09T00:00:00-04:00", "2026-03-09T00:59:59-04:00"])
    assert one_hour["results"][0]["metrics"] == [1]
    across_midnight = await _answer(store, metrics=["visitors"], date_range=[
        "2026-03-09T03:00:00Z", "2026-03-09T04:59:59Z"])  # 23:00 to 00:59 in New York
    assert across_midnight["results"][0]["metrics"] == [2]
    naive = await _answer(store, metrics=["visitors"], date_range=[
        "2026-03-09T00:00:00", "2026-03-09T00:59:59"])  # the site's local time
    assert naive["results"][0]["metrics"] == [1]
    by_day = await _answer(store, metrics=["visitors"], dimensions=["time:day"], date_range=[
        "2026-03-08T23:00:00-04:00", "2026-03-09T00:59:59-04:00"])
    assert [(r["dimensions"], r["metrics"]) for r in by_day["results"]] == [
        (["2026-03-08"], [1]), (["2026-03-09"], [1])]


@pytest.mark.parametrize(("date_range", "message"), [
    (["2026-03-09T05:00:00Z", "2026-03-09T04:00:00Z"], "after the last"),
    (["2026-03-09T05:00:00Z", "2026-03-09Tnoon"], "not an ISO 8601"),
])
async def test_bad_date_times_are_refused(store: Store, date_range: list[str],
                                          message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        await _answer(store, metrics=["visitors"], date_range=date_range)
    assert caught.value.code == "invalid_date_range"


async def test_no_comparison_of_date_time_ranges(store: Store) -> None:
    with pytest.raises(QueryError, match="date-time range") as caught:
        await _answer(store, metrics=["visitors"], date_range="24h",
                      include={"comparisons": {"mode": "previous_period"}})
    assert caught.value.code == "invalid_comparison"
