"""``POST /api/v2/funnel``: one row per step with exact numbers on seeded data
(tests/funnel_seeding.py), filters and the comparison, a saved funnel by name, and 400s that say
what is wrong."""

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
from funnel_seeding import seed_funnel_data

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.funnels import add_funnel
from analytics_941.goals import add_goal

URL = "/admin/analytics/api/v2/funnel"
STEPS = [{"page": "/shop"}, {"page": "/cart"}, {"page": "/checkout/*"}, {"goal": "Purchase"}]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    db = seed_funnel_data(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)

    async def define() -> None:
        store = SqliteStore(path=db)
        await add_goal(store, site_id="s1", event="Purchase")
        await add_funnel(store, site_id="s1", name="Shop", steps=STEPS)
        await store.aclose()

    asyncio.run(define())
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    return signed_in_client(app, db)


def post(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post(URL, json={"site_id": "example.com", "date_range": "7d", **body})


def test_one_row_per_step(client: TestClient) -> None:
    response = post(client, {"steps": STEPS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["step"], r["label"], r["visitors"], r["conversion_rate"], r["drop_off"],
             r["median_seconds_to_next"]) for r in body["results"]] == [
        (1, "/shop", 5, 100.0, 0, 120.0), (2, "/cart", 3, 60.0, 2, 150.0),
        (3, "/checkout/*", 2, 40.0, 1, 60.0), (4, "Purchase", 1, 20.0, 1, None),
    ]
    assert body["query"]["steps"] == STEPS
    assert "comparison" not in body["results"][0]


def test_saved_funnel_with_filter_and_comparison(client: TestClient) -> None:
    response = post(client, {"funnel": "Shop", "filters": [["is", "visit:source", ["Twitter"]]],
                             "include": {"comparisons": {"mode": "previous_period"}}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["visitors"] for r in body["results"]] == [3, 2, 1, 1]
    # R (previous 7 days) came from Google: nothing under the Twitter filter.
    assert [r["comparison"]["visitors"] for r in body["results"]] == [0, 0, 0, 0]
    assert body["query"]["funnel"] == "Shop"
    assert [f[2] for f in body["query"]["filters"]] == [["Twitter"]]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"steps": [{"page": "/shop"}]}, "invalid_steps", "2 to 8 steps, not 1"),
        ({"steps": [{"page": "/a"}] * 9}, "invalid_steps", "2 to 8 steps, not 9"),
        ({"steps": [{"page": "/a"}, {"goal": "Nope"}]}, "invalid_steps",
         "Step 2: the site has no goal named 'Nope' (its goals: Purchase)."),
        ({"steps": [{"page": "shop"}, {"page": "/a"}]}, "invalid_steps",
         "Step 1: The page pattern 'shop' must start with /"),
        ({"steps": [{"page": "/a"}, {"url": "/b"}]}, "invalid_steps", "Step 2: A step is"),
        ({"steps": "/a"}, "invalid_steps", "steps must be a list"),
        ({}, "invalid_steps", "Give steps"),
        ({"funnel": "Nope"}, "invalid_funnel", "example.com has no funnel named 'Nope'."),
        ({"steps": STEPS, "metrics": ["visitors"]}, "invalid_metrics", "not a field"),
        ({"steps": STEPS, "date_range": "1y"}, "invalid_date_range", "date_range must be"),
    ],
)
def test_refusals_say_why(client: TestClient, body: dict[str, Any], code: str,
                          message: str) -> None:
    response = post(client, body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert message in response.json()["message"]


def test_other_sites_are_not_found(client: TestClient) -> None:
    response = client.post(URL, json={"site_id": "nope.example", "steps": STEPS})
    assert response.status_code == 404
