"""Input that used to crash the dashboard (500, plain text, no security headers) is a 400 with a
clear reason; every response under the mount, the framework's own 404/405/500 too, carries the
security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from analytics_941 import SqliteStore
from analytics_941.auth.share_links import create_share_link
from analytics_941.web import api

MOUNT = "/admin/analytics"
V2 = f"{MOUNT}/api/v2/query"
BASE = f"{MOUNT}/example.com"
HEADERS = ("Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options")


def body(**extra: Any) -> dict[str, Any]:
    return {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d", **extra}


def assert_secure(response: Any) -> None:
    for header in HEADERS:
        assert header in response.headers, (response.request.url, header)


def assert_json_400(response: Any, code: str | None = None) -> None:
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"code", "message", "error"}
    assert response.json()["error"] == response.json()["message"]  # Plausible's key
    if code:
        assert response.json()["code"] == code
    assert_secure(response)


@pytest.mark.parametrize("date_range", [
    ["0001-01-01", "0001-01-07"], ["9999-12-25", "9999-12-31"], ["10000-01-01", "10000-01-02"],
    ["0000-01-01", "2026-01-01"],
])
def test_far_dates_in_the_api_are_400(client: TestClient, date_range: list[str]) -> None:
    assert_json_400(client.post(V2, json=body(date_range=date_range)), "invalid_date_range")
    for mode in ("previous_period", "year_over_year"):
        response = client.post(V2, json=body(date_range=date_range,
                                              include={"comparisons": {"mode": mode}}))
        assert_json_400(response)


@pytest.mark.parametrize("comparison", [["0001-01-01", "0001-01-07"],
                                        ["9999-12-25", "9999-12-31"]])
def test_far_custom_comparisons_are_400(client: TestClient, comparison: list[str]) -> None:
    include = {"comparisons": {"mode": "custom", "date_range": comparison}}
    assert_json_400(client.post(V2, json=body(include=include)))


@pytest.mark.parametrize("query", [
    "period=custom&from=0001-01-01&to=0001-01-02",
    "period=custom&from=0001-01-01&to=0001-01-02&compare=previous_period",
    "period=custom&from=9999-12-30&to=9999-12-31&compare=year_over_year",
    "period=custom&from=9999-12-31&to=9999-12-31",
    "period=custom&from=10000-01-01&to=10000-01-02",
])
def test_far_dates_in_dashboard_urls_are_400_pages(client: TestClient, query: str) -> None:
    for path in ("", "/panel/pages", "/details/pages", "/export"):
        response = client.get(f"{BASE}{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert_secure(response)
    assert_json_400(client.get(f"{MOUNT}/api/stats?site=example.com&"
                               f"date_range=0001-01-01,0001-01-02"))


async def test_far_dates_on_a_share_link_are_400(client: TestClient, db: Path) -> None:
    link = await create_share_link(SqliteStore(path=db), site_id="s1", name="public",
                                   password=None, created_by=None)
    anonymous = TestClient(client.app)
    for path in ("", "/panel/pages", "/details/pages"):
        response = anonymous.get(f"{MOUNT}/share/{link.id}{path}?period=custom&from=0001-01-01"
                                 "&to=0001-01-02&compare=previous_period")
        assert response.status_code == 400, path
        assert_secure(response)


def test_lone_surrogates_are_400(client: TestClient) -> None:
    filters = '[["is", "page", ["\\ud800"]]]'
    raw = '{"site_id": "example.com", "metrics": ["visitors"], "filters": ' + filters + "}"
    assert_json_400(client.post(V2, content=raw), "invalid_body")
    assert_json_400(client.post(V2, content='{"site_id": "ex\\udfffample.com", "metrics": '
                                            '["visitors"]}'), "invalid_body")
    # JSON inside the query string of the older GET API.
    response = client.get(f"{MOUNT}/api/stats", params={"site": "example.com",
                                                        "filters": filters})
    assert_json_400(response, "invalid_filters")
    # Percent-encoded surrogate bytes are not UTF-8: read as U+FFFD, answered normally.
    assert client.get(f"{BASE}?f=is,page,%ED%A0%80").status_code == 200
    assert client.get(f"{MOUNT}/api/stats?site=%ED%A0%80").status_code == 404


def test_unknown_paths_and_methods_under_the_mount_are_ours(client: TestClient) -> None:
    missing = client.get(f"{MOUNT}/example.com/no/such/page")
    assert missing.status_code == 404
    assert_secure(missing)
    api_missing = client.get(f"{MOUNT}/api/v9/nothing")
    assert (api_missing.status_code, api_missing.json()["code"]) == (404, "not_found")
    assert_secure(api_missing)
    wrong_method = client.get(V2)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
    assert wrong_method.json()["code"] == "method_not_allowed"
    assert_secure(wrong_method)
    asset = client.get(f"{MOUNT}/static/nope.js")
    assert asset.status_code == 404
    assert_secure(asset)
    bare = client.get(f"{MOUNT}?period=7d", follow_redirects=False)
    assert (bare.status_code, bare.headers["location"]) == (307, f"{MOUNT}/?period=7d")
    assert_secure(bare)


def test_an_unexpected_error_is_a_500_with_an_id_and_headers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret internals: SELECT * FROM events")

    monkeypatch.setattr(api, "run_queries", broken)
    response = client.post(V2, json=body())
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "SELECT" not in response.text
    assert response.json()["id"] in caplog.text
    assert_secure(response)


def test_the_host_app_keeps_its_own_404(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    response = client.get("/elsewhere")
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response.headers
