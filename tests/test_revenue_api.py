"""Revenue per currency through the Stats API v2: Plausible's metric names and value shape,
amounts in another currency than the goal's left out (never added), Plausible's warnings when no
single currency applies, and the revenue goal's currency through the CLI's and settings' path."""

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
from shop_seeding import seed_shop_data

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.goals import GoalError, add_goal, list_goals
from analytics_941.sql.revenue import money

URL = "/admin/analytics/api/v2/query"
EUR_50 = {"short": "€50.5", "long": "€50.50", "value": 50.5, "currency": "EUR"}
EUR_AVG = {"short": "€25.3", "long": "€25.25", "value": 25.25, "currency": "EUR"}


@pytest.fixture
def shop_client(tmp_path: Path) -> TestClient:
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    db = seed_shop_data(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)

    async def goals() -> None:
        store = SqliteStore(path=db)
        await add_goal(store, site_id="s1", event="Purchase", currency="eur")
        await add_goal(store, site_id="s1", event="Add to cart")
        await store.aclose()

    asyncio.run(goals())
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    return signed_in_client(app, db)


def post(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post(URL, json={"site_id": "example.com", "date_range": "7d", **body})


def test_plausibles_revenue_example_with_a_goal_filter(shop_client: TestClient) -> None:
    # Plausible's documented revenue query: a revenue goal's conversions and their revenue.
    response = shop_client.post(URL, json={
        "site_id": "example.com", "date_range": "all",
        "metrics": ["visitors", "events", "total_revenue", "average_revenue"],
        "filters": [["is", "event:goal", ["Purchase"]]],
    })
    assert response.status_code == 200, response.text
    # Three purchases; the USD one (15) is not added to the EUR total: 20 + 30.50.
    assert response.json()["results"] == [{"dimensions": [], "metrics": [3, 3, EUR_50, EUR_AVG]}]
    assert "metric_warnings" not in response.json()["meta"]


def test_revenue_by_goal_each_in_its_currency(shop_client: TestClient) -> None:
    response = post(shop_client, {"metrics": ["events", "total_revenue", "average_revenue"],
                                  "dimensions": ["event:goal"]})
    assert response.status_code == 200, response.text
    assert [(r["dimensions"], r["metrics"]) for r in response.json()["results"]] == [
        (["Add to cart"], [5, None, None]), (["Purchase"], [3, EUR_50, EUR_AVG]),
    ]


def test_revenue_per_source_and_per_day(shop_client: TestClient) -> None:
    by_source = post(shop_client, {"metrics": ["total_revenue"], "dimensions": ["visit:source"],
                                   "filters": [["is", "event:goal", ["Purchase"]]]}).json()
    values = {r["dimensions"][0]: r["metrics"][0]["value"] for r in by_source["results"]}
    # The direct purchase was in USD: 0 in the goal's currency, not 15.
    assert values == {"Google": 50.5, "Direct / None": 0.0}
    days = post(shop_client, {"metrics": ["total_revenue"], "dimensions": ["time:day"],
                              "filters": [["is", "event:goal", ["Purchase"]]]}).json()
    assert sorted(r["metrics"][0]["value"] for r in days["results"]) == [0, 0, 0, 0, 0, 20.0, 30.5]


def test_no_revenue_goal_gives_nulls_and_plausibles_warning(shop_client: TestClient) -> None:
    response = post(shop_client, {"metrics": ["visitors", "total_revenue"],
                                  "filters": [["is", "event:goal", ["Add to cart"]]]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["results"] == [{"dimensions": [], "metrics": [5, None]}]
    assert body["meta"]["metric_warnings"] == {"total_revenue": {
        "code": "no_revenue_goals_matching",
        "warning": "Revenue metrics are null as there are no matching revenue goals."}}


def test_plausibles_revenue_warning_examples(shop_client: TestClient, tmp_path: Path) -> None:
    # No goal filter nor breakdown: null, though the site has a revenue goal.
    plain = post(shop_client, {"metrics": ["total_revenue", "average_revenue"]}).json()
    assert plain["results"] == [{"dimensions": [], "metrics": [None, None]}]
    assert set(plain["meta"]["metric_warnings"]) == {"total_revenue", "average_revenue"}

    async def usd_goal() -> None:
        store = SqliteStore(path=tmp_path / "d1.sqlite")
        await add_goal(store, site_id="s1", event="Begin checkout", currency="USD")
        await store.aclose()

    asyncio.run(usd_goal())
    # Two goals in two currencies, no event:goal dimension: Plausible's second warning.
    mixed = shop_client.post(URL, json={
        "site_id": "example.com", "date_range": "all", "metrics": ["total_revenue"],
        "filters": [["is", "event:goal", ["Purchase", "Begin checkout"]]]})
    assert mixed.status_code == 200, mixed.text
    assert mixed.json()["results"] == [{"dimensions": [], "metrics": [None]}]
    assert mixed.json()["meta"]["metric_warnings"]["total_revenue"] == {
        "code": "no_single_revenue_currency",
        "warning": "Revenue metrics are null as there are multiple currencies for the selected "
                   "event:goals."}


def test_revenue_with_a_comparison_changes_in_percent(shop_client: TestClient) -> None:
    response = post(shop_client, {"metrics": ["total_revenue"],
                                  "filters": [["is", "event:goal", ["Purchase"]]],
                                  "include": {"comparisons": {"mode": "previous_period"}}})
    assert response.status_code == 200, response.text
    (row,) = response.json()["results"]
    assert row["metrics"] == [EUR_50]
    assert row["comparison"]["metrics"][0]["value"] == 0.0 and row["comparison"]["change"] == [None]


def test_the_money_shape() -> None:
    assert money(1234.56, "EUR") == {"short": "€1.2K", "long": "€1,234.56", "value": 1234.56,
                                     "currency": "EUR"}
    assert money(None, "CHF") == {"short": "0 CHF", "long": "0.00 CHF", "value": 0.0,
                                  "currency": "CHF"}
    assert money(5, None) is None


def test_a_goal_currency_is_checked_and_only_for_event_goals(tmp_path: Path) -> None:
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    db = seed_shop_data(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)

    async def run() -> None:
        store = SqliteStore(path=db)
        with pytest.raises(GoalError, match="three-letter"):
            await add_goal(store, site_id="s1", event="Purchase", currency="EURO")
        with pytest.raises(GoalError, match="Only event goals"):
            await add_goal(store, site_id="s1", page="/checkout", currency="EUR")
        await add_goal(store, site_id="s1", event="Purchase", currency="usd")
        (goal,) = await list_goals(store, site_id="s1")
        assert goal.currency == "USD" and goal.definition == "event Purchase, revenue in USD"
        await store.aclose()

    asyncio.run(run())


def test_the_goal_panel_shows_revenue_for_revenue_goals(tmp_path: Path) -> None:
    from analytics_941.sites import get_site
    from analytics_941.web.dashboard.goal_panel import load_goal_panel
    from analytics_941.web.dashboard.state import DashboardState

    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    db = seed_shop_data(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)

    async def run() -> None:
        store = SqliteStore(path=db)
        await add_goal(store, site_id="s1", event="Purchase", currency="EUR")
        await add_goal(store, site_id="s1", event="Add to cart")
        site = await get_site(store, domain="example.com")
        assert site is not None
        state = DashboardState.from_params([("period", "7d")])
        panel = await load_goal_panel(store, site=site, state=state, base="/x")
        assert panel.has_revenue
        assert [(r.name, r.visitors, r.events, r.revenue, r.average_revenue)
                for r in panel.rows] == [("Add to cart", 5, 5, "", ""),
                                         ("Purchase", 3, 3, "€50.50", "€25.25")]
        # The USD purchase, apart: never in the EUR goal's revenue.
        assert panel.other_revenue == ["Purchase: $15.00 (1)"]
        await store.aclose()

    asyncio.run(run())
