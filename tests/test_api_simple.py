"""The simple GET API (/api/v1/stats, /pages, /sources, /countries, /events, /realtime): the
numbers the v2 API gives for the same question, token-authenticated, limited per minute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from seeding import EXPECTED_7D

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.auth.api_tokens import create_token

MOUNT = "/admin/analytics"
BASE = "http://testserver"


async def token_client(db: Path, **settings: Any) -> TestClient:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent, **settings))
    secret, _ = await create_token(SqliteStore(path=db), name="script", user_id=None,
                                   site_ids=["s1"], scopes=["stats"])
    return TestClient(app, base_url=BASE, headers={"Authorization": f"Bearer {secret}"})


def get(client: TestClient, path: str, **params: str) -> Any:
    response = client.get(f"{MOUNT}/api/v1/{path}",
                          params={"site_id": "example.com", "period": "7d", **params})
    assert response.status_code == 200, response.text
    return response.json()


def v2_rows(client: TestClient, dimension: str, metrics: list[str],
            filters: list[Any] | None = None) -> list[dict[str, Any]]:
    response = client.post(f"{MOUNT}/api/v2/query", json={
        "site_id": "example.com", "date_range": "7d", "metrics": metrics,
        "dimensions": [dimension], "filters": filters or []})
    assert response.status_code == 200, response.text
    return [{"value": r["dimensions"][0], **dict(zip(metrics, r["metrics"], strict=True))}
            for r in response.json()["results"]]


async def test_totals(db: Path) -> None:
    client = await token_client(db)
    body = get(client, "stats")
    assert body["site_id"] == "example.com"
    assert set(body["period"]) == {"from", "to"}
    for metric in ("visitors", "visits", "pageviews", "bounce_rate", "visit_duration"):
        assert body[metric] == EXPECTED_7D[metric], metric


async def test_lists_answer_what_v2_answers(db: Path) -> None:
    client = await token_client(db)
    cases = {
        "pages": ("event:page", "page", ["visitors", "pageviews"], None),
        "sources": ("visit:source", "source", ["visitors", "visits", "bounce_rate"], None),
        "countries": ("visit:country", "country", ["visitors", "visits"], None),
        "events": ("event:name", "name", ["visitors", "events"],
                   [["is_not", "event:name", ["pageview"]]]),
    }
    for path, (dimension, key, metrics, filters) in cases.items():
        rows = get(client, path)["results"]
        expected = v2_rows(client, dimension, metrics, filters)
        assert [{"value": r.pop(key), **r} for r in rows] == expected, path
    pages = get(client, "pages")["results"]
    assert pages and all("page" in row for row in pages)
    # Filters in v1's syntax narrow every list.
    us = get(client, "countries", filters="visit:country==US")["results"]
    assert [row["country"] for row in us] == ["US"]


async def test_a_minute_holds_a_limited_number_of_calls(db: Path) -> None:
    client = await token_client(db, api_simple_rate_limit=2)
    assert get(client, "stats") and get(client, "pages")
    limited = client.get(f"{MOUNT}/api/v1/countries", params={"site_id": "example.com"})
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 60


async def test_realtime_without_a_collector_is_a_503_to_retry(db: Path) -> None:
    # Nothing listens on the collector's port here; the realtime count needs it.
    client = await token_client(db, collector_url="http://127.0.0.1:9")
    response = client.get(f"{MOUNT}/api/v1/realtime", params={"site_id": "example.com"})
    assert response.status_code == 503
    assert response.json()["code"] == "realtime_unavailable" and response.headers["Retry-After"]


async def test_anonymous_callers_and_other_sites(db: Path) -> None:
    client = await token_client(db)
    assert client.get(f"{MOUNT}/api/v1/stats", params={"site_id": "other.org"}).status_code == 404
    anonymous = TestClient(client.app, base_url=BASE)
    assert anonymous.get(f"{MOUNT}/api/v1/stats",
                         params={"site_id": "example.com"}).status_code == 401
