"""Plausible's Stats API v1 under the mount: v1's parameters and shapes, the numbers v2 answers,
and a 400 with a reason for whatever v1 cannot mean (the real v1 client, plausible-mcp, is driven
against the whole stack in tests/e2e/test_plausible_mcp_client.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from seeding import EXPECTED_7D

from analytics_941.web.api_v1_params import v1_date_range, v1_filters

V1 = "/admin/analytics/api/v1/stats"


def get(client: TestClient, endpoint: str, **params: Any) -> Any:
    response = client.get(f"{V1}/{endpoint}", params={"site_id": "example.com", **params})
    assert response.status_code == 200, response.text
    return response.json()


def v2(client: TestClient, body: dict[str, Any]) -> Any:
    response = client.post("/admin/analytics/api/v2/query", json={"site_id": "example.com", **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_aggregate_answers_v1s_shape_with_v2s_numbers(client: TestClient) -> None:
    metrics = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]
    body = get(client, "aggregate", period="7d", metrics=",".join(metrics))
    assert body == {"results": {m: {"value": EXPECTED_7D[m]} for m in metrics}}


def test_aggregate_compare_adds_the_change(client: TestClient) -> None:
    body = get(client, "aggregate", period="7d", metrics="visitors,bounce_rate",
               compare="previous_period")
    answer = v2(client, {"date_range": "7d", "metrics": ["visitors", "bounce_rate"],
                         "include": {"comparisons": {"mode": "previous_period"}}})
    change = answer["results"][0]["comparison"]["change"]
    assert body["results"]["visitors"] == {"value": 5, "change": change[0]}
    assert body["results"]["bounce_rate"]["change"] == change[1]


def test_timeseries_buckets_every_day_with_zeros(client: TestClient) -> None:
    body = get(client, "timeseries", period="7d", metrics="visitors,pageviews")
    rows = body["results"]
    assert len(rows) == 7
    assert [(r["visitors"], r["pageviews"]) for r in rows] == [
        (2, 3), (0, 0), (0, 0), (0, 0), (1, 1), (1, 1), (1, 3)]
    assert all(date.fromisoformat(r["date"]) for r in rows)


def test_timeseries_of_a_day_is_hourly(client: TestClient) -> None:
    rows = get(client, "timeseries", period="day")["results"]
    assert len(rows) == 24
    assert rows[9]["date"].endswith(" 09:00:00") and rows[9]["visitors"] == 1


def test_breakdown_names_values_by_the_property(client: TestClient) -> None:
    body = get(client, "breakdown", period="7d", property="visit:source",
               metrics="visitors,bounce_rate", limit="2")
    answer = v2(client, {"date_range": "7d", "metrics": ["visitors", "bounce_rate"],
                         "dimensions": ["visit:source"], "pagination": {"limit": 2}})
    assert body["results"] == [
        {"source": r["dimensions"][0], "visitors": r["metrics"][0], "bounce_rate": r["metrics"][1]}
        for r in answer["results"]
    ]
    page2 = get(client, "breakdown", period="7d", property="visit:source", limit="2", page="2")
    assert page2["results"] and page2["results"][0]["source"] not in {
        r["source"] for r in body["results"]}


def test_filters_in_v1s_syntax(client: TestClient) -> None:
    def v1_visitors(filters: str) -> int:
        return int(get(client, "aggregate", period="7d", filters=filters)
                   ["results"]["visitors"]["value"])

    def v2_visitors(filters: list[Any]) -> int:
        return int(v2(client, {"date_range": "7d", "metrics": ["visitors"],
                               "filters": filters})["results"][0]["metrics"][0])

    cases = {
        "visit:country==US": [["is", "visit:country", ["US"]]],
        "visit:country==US|CA": [["is", "visit:country", ["US", "CA"]]],
        "visit:country!=US": [["is_not", "visit:country", ["US"]]],
        "visit:country==US;event:page==/pricing": [["is", "visit:country", ["US"]],
                                                  ["is", "event:page", ["/pricing"]]],
        "event:page==/pri*": [["matches_wildcard", "event:page", ["/pri*"]]],
    }
    answers = {text: v1_visitors(text) for text in cases}
    assert answers == {text: v2_visitors(filters) for text, filters in cases.items()}
    # Not all equal: the filters select.
    assert answers["visit:country==US|CA"] > answers["visit:country==US"] > answers[
        "event:page==/pri*"] > 0


@pytest.mark.parametrize(("params", "field"), [
    ({"period": "fortnight"}, "period"),
    ({"period": "custom", "date": "2026-01-01"}, "date"),
    ({"period": "month", "date": "9999-12-31"}, "date"),
    ({"period": "7d", "date": "yesterday-ish"}, "date"),
    ({"filters": "visit:country=DE"}, "filters"),
    ({"metrics": "visitors,led_zeppelin"}, "metrics"),
])
def test_what_v1_cannot_mean_is_a_400_with_a_reason(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get(f"{V1}/aggregate", params={"site_id": "example.com", **params})
    assert response.status_code == 400, response.text
    assert field in response.json()["code"]


def test_breakdown_limits(client: TestClient) -> None:
    for params in ({"limit": "1001"}, {"page": "0"}, {}):
        response = client.get(f"{V1}/breakdown", params={
            "site_id": "example.com", **({"property": "event:page"} if params else {}), **params})
        assert response.status_code == 400, response.text


def test_another_sites_numbers_are_not_found(client: TestClient) -> None:
    response = client.get(f"{V1}/aggregate", params={"site_id": "nobody.example"})
    assert response.status_code == 404


def test_periods_follow_plausibles_v1() -> None:
    today = date(2026, 3, 15)
    assert v1_date_range("7d", None, today=today) == ["2026-03-09", "2026-03-15"]
    assert v1_date_range("30d", "2026-03-31", today=today) == ["2026-03-01", "2026-03-31"]
    assert v1_date_range("month", None, today=today) == ["2026-03-01", "2026-03-31"]
    assert v1_date_range("6mo", None, today=today) == ["2025-10-01", "2026-03-31"]
    assert v1_date_range("12mo", "2026-01-10", today=today) == ["2025-02-01", "2026-01-31"]
    assert v1_date_range("custom", "2026-01-01,2026-01-31", today=today) == [
        "2026-01-01", "2026-01-31"]


def test_filter_strings() -> None:
    assert v1_filters(r"visit:utm_campaign==one\|two|three;event:page!=/blog*") == [
        ["is", "visit:utm_campaign", ["one|two", "three"]],
        ["matches_wildcard_not", "event:page", ["/blog*"]],
    ]
