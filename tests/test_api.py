"""The Stats API v2 (``POST {mount}/api/v2/query``): Plausible's request and response shapes,
errors naming the field, and few D1 requests thanks to batching and the result cache."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pytest_httpx import HTTPXMock
from seeding import EXPECTED_7D

from analytics_941 import D1HttpStore, Settings, parse_query, run_queries, setup_analytics
from analytics_941.cache import ResultCache

TZ = "Europe/Berlin"
MOUNT = "/admin/analytics"
URL = f"{MOUNT}/api/v2/query"
D1_URL = "https://api.cloudflare.com/client/v4/accounts/acc/d1/database/db/query"


def post(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post(URL, json={"site_id": "example.com", "date_range": "7d", **body})


def test_plausible_shaped_request_and_response(client: TestClient) -> None:
    response = post(
        client,
        {
            "metrics": ["visitors", "visits", "bounce_rate"],
            "dimensions": ["visit:source"],
            "filters": [["is_not", "visit:country", ["CA"]]],
            "order_by": [["visitors", "desc"]],
            "pagination": {"limit": 2, "offset": 0},
            "include": {"total_rows": True, "comparisons": {"mode": "previous_period"}},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"results", "meta", "query"}
    assert [(r["dimensions"], r["metrics"]) for r in body["results"]] == [
        (["Google"], [3, 3, 33]),
        (["news.ycombinator.com"], [1, 1, 100]),
    ]
    comparison = body["results"][0]["comparison"]
    assert comparison["dimensions"] == ["Google"] and set(comparison) == {
        "dimensions", "metrics", "change"
    }
    assert body["meta"]["total_rows"] == 2
    assert "time_labels" not in body["meta"]
    assert body["query"]["site_id"] == "example.com"
    assert body["query"]["dimensions"] == ["visit:source"]
    assert body["query"]["filters"] == [["is_not", "visit:country", ["CA"]]]
    assert body["query"]["pagination"] == {"limit": 2, "offset": 0}


def test_totals_time_labels_and_custom_comparison(client: TestClient) -> None:
    body = post(client, {"metrics": ["visitors", "pageviews"]}).json()
    assert body["results"] == [
        {"dimensions": [], "metrics": [EXPECTED_7D["visitors"], EXPECTED_7D["pageviews"]]}
    ]
    days = post(
        client,
        {
            "metrics": ["visitors"],
            "dimensions": ["time:day"],
            "include": {
                "time_labels": True,
                "comparisons": {"mode": "custom", "date_range": ["2020-01-01", "2020-01-07"]},
            },
        },
    ).json()
    assert len(days["meta"]["time_labels"]) == 7 == len(days["results"])
    assert days["results"][0]["comparison"]["dimensions"] == ["2020-01-01"]
    assert days["meta"]["comparison_date_range"] == ["2020-01-01", "2020-01-07"]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"metrics": ["visitors"], "date_range": "1y"}, "invalid_date_range", "date_range"),
        ({"metrics": ["nope"]}, "invalid_metrics", "metrics"),
        ({"metrics": ["visitors"], "dimensions": ["visit:planet"]}, "invalid_dimensions", "planet"),
        ({"metrics": ["visitors"], "filters": [["is", "page"]]}, "invalid_filters", "filters"),
        ({"metrics": ["visitors"], "include": {"comparisons": {"mode": "x"}}}, "invalid_include",
         "include.comparisons"),
        # A custom comparison without its range must not quietly answer without a comparison.
        ({"metrics": ["visitors"], "include": {"comparisons": {"mode": "custom"}}},
         "invalid_include", "include.comparisons.date_range"),
        ({"metrics": ["visitors"], "interval": "day"}, "invalid_interval", "interval"),
        ({"metrics": ["visitors"], "site_id": ""}, "invalid_site_id", "site_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    client: TestClient, body: dict[str, Any], code: str, field: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert field in response.json()["message"]


def test_unknown_site_and_invalid_json(client: TestClient) -> None:
    response = post(client, {"metrics": ["visitors"], "site_id": "nope.org"})
    assert response.status_code == 404
    garbage = client.post(URL, content=b"{", headers={"content-type": "application/json"})
    assert garbage.status_code == 400 and garbage.json()["code"] == "invalid_body"


def test_anonymous_callers_are_refused(db: Path, tmp_path: Path) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    response = TestClient(app).post(URL, json={"site_id": "example.com", "metrics": ["visitors"]})
    assert response.status_code == 401


def d1_emulator(db: Path, requests: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    """A pytest-httpx callback answering D1's /query batch form from a real SQLite file, with
    every parameter turned into a string as Cloudflare's API schema types them."""

    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        requests.append(body)
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        results = []
        for statement in body.get("batch", [body]):
            params = [None if p is None else str(p) for p in statement["params"]]
            rows = [dict(r) for r in conn.execute(statement["sql"], params).fetchall()]
            results.append({"success": True, "results": rows, "meta": {}})
        conn.close()
        return httpx.Response(200, json={"success": True, "errors": [], "result": results})

    return respond


async def test_a_view_is_one_d1_request_and_cached_views_none(
    httpx_mock: HTTPXMock, db: Path
) -> None:
    requests: list[dict[str, Any]] = []
    httpx_mock.add_callback(d1_emulator(db, requests), url=D1_URL, is_reusable=True)
    store = D1HttpStore(account_id="acc", database_id="db", api_token="t")  # noqa: S106
    queries = [
        parse_query({"site_id": "s1", "date_range": "7d", "metrics": m, "dimensions": d},
                    timezone=TZ)
        for m, d in [(["visitors", "visits", "pageviews"], []), (["visitors"], ["time:day"]),
                     (["visitors", "percentage"], ["page"]), (["visitors"], ["source"])]
    ]
    cache = ResultCache()
    first = await run_queries(store, queries, cache=cache)
    assert len(requests) == 1 and len(requests[0]["batch"]) == 5  # percentage adds its total
    assert first[0]["results"][0]["metrics"] == [5, 5, 8]
    assert await run_queries(store, queries, cache=cache) == first
    assert len(requests) == 1
    await store.aclose()
