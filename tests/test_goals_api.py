"""Goals through the Stats API v2: Plausible's names (event:goal, conversion_rate,
group_conversion_rate, has_done / has_not_done), its documented goal example, and a 400 naming
the site's goals for a goal it does not have."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from auth_support import signed_in_client
from conftest import LIVE_TZ
from fastapi import FastAPI
from fastapi.testclient import TestClient
from goal_seeding import seed_goal_data

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.goals import add_goal
from analytics_941.web.api import mentions_goals

URL = "/admin/analytics/api/v2/query"


@pytest.fixture
def goal_client(tmp_path: Path) -> TestClient:
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    db = seed_goal_data(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)

    async def goals() -> None:
        store = SqliteStore(path=db)
        await add_goal(store, site_id="s1", event="Signup")
        await add_goal(store, site_id="s1", page="/pricing")
        await store.aclose()

    asyncio.run(goals())
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    return signed_in_client(app, db)


def post(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post(URL, json={"site_id": "example.com", "date_range": "7d", **body})


def test_breakdown_by_goal_with_conversion_rates(goal_client: TestClient) -> None:
    response = post(goal_client, {
        "metrics": ["visitors", "events", "conversion_rate", "group_conversion_rate"],
        "dimensions": ["event:goal"],
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["dimensions"], r["metrics"]) for r in body["results"]] == [
        (["Signup"], [2, 2, 25.0, 25.0]), (["Visit /pricing"], [2, 2, 25.0, 25.0]),
    ]
    assert body["query"]["dimensions"] == ["event:goal"]


def test_conversion_rate_by_source(goal_client: TestClient) -> None:
    response = post(goal_client, {
        "metrics": ["visitors", "group_conversion_rate"], "dimensions": ["visit:source"],
        "filters": [["is", "event:goal", ["Signup"]]],
    })
    assert response.status_code == 200, response.text
    assert [(r["dimensions"], r["metrics"]) for r in response.json()["results"]] == [
        (["Google"], [1, 25.0]), (["Twitter"], [1, 50.0]),
    ]


def test_plausibles_behavioural_filter_example(goal_client: TestClient) -> None:
    # Plausible's documented goal example: Signup conversions of visits that saw /pricing.
    example = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "all",
               "filters": [["is", "event:goal", ["Signup"]],
                           ["has_done", ["is", "event:page", ["/pricing"]]]]}
    response = goal_client.post(URL, json=example)
    assert response.status_code == 200, response.text
    # v8 and v9 sent Signup from /pricing (event:page is the page of any event).
    assert response.json()["results"] == [{"dimensions": [], "metrics": [2]}]
    for page, converted in (("/blog/x", 1), ("/docs/x/y/edit", 0)):
        done = post(goal_client, {"metrics": ["visitors"], "filters": [
            ["is", "event:goal", ["Signup"]], ["has_done", ["is", "event:page", [page]]]]})
        assert done.json()["results"][0]["metrics"] == [converted]
    # Visitors who viewed /pricing and never signed up: v1 and v5.
    not_done = post(goal_client, {"metrics": ["visitors"], "filters": [
        ["is", "event:goal", ["Visit /pricing"]],
        ["has_not_done", ["is", "event:goal", ["Signup"]]]]})
    assert not_done.json()["results"][0]["metrics"] == [2]


def test_an_unknown_goal_is_a_400_naming_the_sites_goals(goal_client: TestClient) -> None:
    response = post(goal_client, {"metrics": ["visitors"],
                                  "filters": [["is", "event:goal", ["Register"]]]})
    assert response.status_code == 400
    message = "filters: the site has no goal named 'Register' (its goals: Signup, Visit /pricing)"
    assert response.json() == {"code": "invalid_filters", "message": message, "error": message}


def test_conversion_rate_without_a_goal_is_a_400(goal_client: TestClient) -> None:
    response = post(goal_client, {"metrics": ["conversion_rate"]})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_metrics"
    assert "event:goal" in response.json()["message"]


def test_goals_are_read_only_for_queries_naming_them() -> None:
    assert mentions_goals({"dimensions": ["event:goal"]})
    assert not mentions_goals({"metrics": ["visitors"], "filters": [["is", "event:page", ["/"]]]})
