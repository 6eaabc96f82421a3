"""Plausible's values under Plausible's dimension names (``visit:device`` → ``Mobile``,
``visit:os`` → ``Mac``, ``visit:country_name`` → ``Germany``, ``visit:referrer`` without scheme,
missing UTM tags ``(not set)``), in results and in filters, while stored rows and our own names
stay as they are; and the Plausible docs' examples that use them answer 200 in Plausible's
shapes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

URL = "/admin/analytics/api/v2/query"


def post(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post(URL, json={"site_id": "example.com", "date_range": "7d", **body})


def rows(client: TestClient, body: dict[str, Any]) -> list[tuple[list[Any], list[Any]]]:
    response = post(client, body)
    assert response.status_code == 200, response.text
    return [(r["dimensions"], r["metrics"]) for r in response.json()["results"]]


@pytest.fixture
def collected(db: Path) -> Path:
    """The seeded rows as the collector stores them: bowser's names, lower-case devices, whole
    referrer URLs."""
    updates = [
        ("device = lower(device)", None),
        ("os = 'macOS', browser = 'Safari'", "A"),
        ("os = 'Linux', browser = 'Samsung Internet for Android'", "D"),
        ("referrer = 'https://www.news.ycombinator.com/item?id=1'", "C"),
    ]
    with sqlite3.connect(db) as conn:
        for table, key in (("events", "session_id"), ("sessions", "id")):
            for assignment, visit in updates:
                where = f" WHERE {key} = ?" if visit else ""
                conn.execute(f"UPDATE {table} SET {assignment}{where}",
                             (visit,) if visit else ())
    conn.close()
    return db


def test_devices_show_and_filter_as_plausible(client: TestClient, collected: Path) -> None:
    assert rows(client, {"metrics": ["visitors"], "dimensions": ["visit:device"]}) == [
        (["Desktop"], [3]), (["Mobile"], [2])
    ]
    # Our own name keeps the stored value (the dashboard's).
    assert rows(client, {"metrics": ["visitors"], "dimensions": ["device"]}) == [
        (["desktop"], [3]), (["mobile"], [2])
    ]
    mobile = ["is", "visit:device", ["Mobile"]]
    assert rows(client, {"metrics": ["visitors"], "filters": [mobile]}) == [([], [2])]
    # Case-sensitive, as Plausible: "mobile" is not one of Plausible's values.
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:device", ["mobile"]]]}) == [([], [0])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:device", ["mobile"],
                                      {"case_sensitive": False}]]}) == [([], [2])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is_not", "visit:device", ["Mobile"]]]}) == [([], [3])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["contains", "visit:device", ["obi"]]]}) == [([], [2])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["matches", "visit:device", ["^D"]]]}) == [([], [3])]


def test_our_docs_example_filter_matches(client: TestClient, collected: Path) -> None:
    # docs/api.md's "top blog pages from German visitors on mobile", sent as written; seeded
    # visit C (German, the blog page) is made a mobile one, stored as the collector stores it.
    with sqlite3.connect(collected) as conn:
        conn.execute("UPDATE events SET device = 'mobile' WHERE session_id = 'C'")
        conn.execute("UPDATE sessions SET device = 'mobile' WHERE id = 'C'")
    conn.close()
    body = {
        "date_range": "30d", "metrics": ["visitors", "pageviews", "time_on_page"],
        "dimensions": ["event:page"],
        "filters": [["is", "visit:country", ["DE"]], ["is", "visit:device", ["Mobile"]],
                    ["matches", "event:page", ["^/blog/"]]],
        "pagination": {"limit": 10}, "include": {"total_rows": True},
    }
    response = post(client, body)
    assert response.status_code == 200, response.text
    assert [r["metrics"][:2] for r in response.json()["results"]] == [[1, 1]]
    assert response.json()["meta"]["total_rows"] == 1


def test_os_and_browser_names(client: TestClient, collected: Path) -> None:
    # Ordered by the stored values on ties ("Linux" before "macOS"): a documented difference.
    oses = rows(client, {"metrics": ["visitors"], "dimensions": ["visit:os"],
                         "order_by": [["visitors", "desc"], ["visit:os", "asc"]]})
    assert oses == [(["(not set)"], [3]), (["GNU/Linux"], [1]), (["Mac"], [1])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:os", ["Mac", "GNU/Linux"]]]}) == [([], [2])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:browser", ["Samsung Browser"]]]}) == [([], [1])]
    assert rows(client, {"metrics": ["visitors"], "dimensions": ["os"],
                         "filters": [["is", "os", ["macOS"]]]}) == [(["macOS"], [1])]


def test_countries_by_code_and_by_name(client: TestClient) -> None:
    by_name = rows(client, {"metrics": ["visitors"], "dimensions": ["visit:country_name"]})
    assert by_name == [(["United States"], [3]), (["Canada"], [1]), (["Germany"], [1])]
    by_code = rows(client, {"metrics": ["visitors"], "dimensions": ["visit:country"]})
    assert by_code == [(["US"], [3]), (["CA"], [1]), (["DE"], [1])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:country_name", ["Germany"]]]}) == [([], [1])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is", "visit:country_name", ["DE"]]]}) == [([], [0])]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["contains", "visit:country_name", ["United"]]]}) == [
        ([], [3])
    ]
    assert rows(client, {"metrics": ["visitors"],
                         "filters": [["is_not", "visit:country_name", ["United States"]]]}) == [
        ([], [2])
    ]


def test_referrer_and_missing_utm_values(client: TestClient, collected: Path) -> None:
    referrers = rows(client, {"metrics": ["visitors"], "dimensions": ["visit:referrer"]})
    assert referrers == [(["Direct / None"], [4]), (["news.ycombinator.com/item"], [1])]
    assert rows(client, {"metrics": ["visitors"], "filters": [
        ["is", "visit:referrer", ["news.ycombinator.com/item"]]]}) == [([], [1])]
    utm = rows(client, {"metrics": ["visitors"], "dimensions": ["visit:utm_source"]})
    assert utm == [(["(not set)"], [4]), (["google"], [1])]
    assert rows(client, {"metrics": ["visitors"], "filters": [
        ["is", "visit:utm_source", ["(not set)"]]]}) == [([], [4])]
    assert rows(client, {"metrics": ["visitors"], "dimensions": ["utm_source"],
                         "order_by": [["utm_source", "asc"]]}) == [
        (["(none)"], [4]), (["google"], [1])
    ]


def test_comparison_rows_show_the_same_values(client: TestClient, collected: Path) -> None:
    body = post(client, {"metrics": ["visitors"], "dimensions": ["visit:device"],
                         "include": {"comparisons": {"mode": "previous_period"}}}).json()
    assert [r["comparison"]["dimensions"] for r in body["results"]] == [["Desktop"], ["Mobile"]]


# Plausible's Stats API docs' examples that use these features, sent as written.
PLAUSIBLE_EXAMPLES: dict[str, dict[str, Any]] = {
    "country-and-city": {
        "metrics": ["visitors", "pageviews", "bounce_rate"],
        "filters": [["is_not", "visit:country_name", [""]]],
        "dimensions": ["visit:country_name", "visit:city_name"],
    },
    "filtering-basics": {
        "metrics": ["visitors"],
        "filters": [["contains", "event:page", ["/docs", "/pricing"]],
                    ["is", "visit:country_name", ["Estonia", "United States of America"]]],
    },
    "filtering-case-insensitive": {
        "metrics": ["visitors"],
        "filters": [["contains", "event:page", ["blog"], {"case_sensitive": False}]],
    },
    "pagination": {
        "metrics": ["visitors", "events", "pageviews"],
        "dimensions": ["visit:utm_medium", "visit:utm_source"],
        "include": {"total_rows": True}, "pagination": {"limit": 3, "offset": 1},
    },
    "operators-table-matches": {
        "metrics": ["visitors"], "filters": [["matches", "event:page", [r"^/user/\d+$"]]],
    },
}


@pytest.mark.parametrize("name", sorted(PLAUSIBLE_EXAMPLES))
def test_plausible_docs_examples_answer_in_plausibles_shapes(
    client: TestClient, name: str
) -> None:
    response = post(client, PLAUSIBLE_EXAMPLES[name])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"results", "meta", "query"}
    for row in body["results"]:
        assert set(row) == {"dimensions", "metrics"}
        assert len(row["dimensions"]) == len(PLAUSIBLE_EXAMPLES[name].get("dimensions", []))


def test_plausible_examples_numbers(client: TestClient) -> None:
    countries = rows(client, PLAUSIBLE_EXAMPLES["country-and-city"])
    assert countries == [
        (["United States", "Unknown"], [3, 6, 33]),
        (["Canada", "Unknown"], [1, 1, 100]),
        (["Germany", "Unknown"], [1, 1, 100]),
    ]
    assert rows(client, PLAUSIBLE_EXAMPLES["filtering-case-insensitive"]) == [([], [1])]
    page = post(client, PLAUSIBLE_EXAMPLES["pagination"]).json()
    assert page["meta"]["total_rows"] == 2
    assert [r["dimensions"] for r in page["results"]] == [["cpc", "google"]]


def test_total_rows_past_the_last_page_and_the_default_page(client: TestClient) -> None:
    body = {"metrics": ["visitors"], "dimensions": ["visit:country"],
            "include": {"total_rows": True}}
    past = post(client, {**body, "pagination": {"limit": 2, "offset": 5}}).json()
    assert past["results"] == [] and past["meta"]["total_rows"] == 3
    last = post(client, {**body, "pagination": {"limit": 2, "offset": 2}}).json()
    assert len(last["results"]) == 1 and last["meta"]["total_rows"] == 3
    # Without pagination, Plausible's page of 10,000 rows.
    assert post(client, body).json()["query"]["pagination"] == {"limit": 10000, "offset": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"dimensions": ["visit:exit_page_hostname"]},
    ],
)
def test_features_docs_api_md_lists_as_unsupported_are_400s(
    client: TestClient, body: dict[str, Any]
) -> None:
    response = post(client, {"metrics": ["visitors"], **body})
    assert response.status_code == 400, response.text


def test_stats_api_v1_breakdown_shows_the_same_values(client: TestClient, collected: Path) -> None:
    response = client.get("/admin/analytics/api/v1/stats/breakdown", params={
        "site_id": "example.com", "period": "7d", "property": "visit:device",
        "filters": "visit:device==Mobile"})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"device": "Mobile", "visitors": 2}]
