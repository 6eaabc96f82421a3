"""The Ecommerce page on seeded shop visits (``shop_seeding``): orders, revenue per currency apart,
AOV, conversion rate, cart abandonment, checkout drop-off, products and median time to purchase,
each an exact number; the page's numbers equal the Stats API's for a revenue goal on the purchase
event; an empty state with the tracker calls; event names configurable per site."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_support import signed_in_client
from conftest import LIVE_TZ
from fastapi import FastAPI
from fastapi.testclient import TestClient
from shop_seeding import seed_shop_data

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.goals import add_goal

MOUNT = "/admin/analytics"
URL = f"{MOUNT}/example.com/ecommerce"


def shop_client(tmp_path: Path, **settings: Any) -> TestClient:
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    db = seed_shop_data(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path, **settings))
    return signed_in_client(app, db)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return shop_client(tmp_path)


def test_the_shops_numbers(client: TestClient) -> None:
    response = client.get(URL, params={"period": "7d"})
    assert response.status_code == 200, response.text
    page = response.context["page"]  # type: ignore[attr-defined]
    assert not page.empty
    assert (page.orders, page.buyers, page.conversion_rate) == (3, 3, 27.27)  # 3 of 11 visitors
    # Each currency apart: EUR 20 + 30.50 over 2 orders, USD 15 over 1; never added up.
    assert [(r.currency, r.orders, r.total["long"], r.average["long"]) for r in page.revenue] == [
        ("EUR", 2, "€50.50", "€25.25"), ("USD", 1, "$15.00", "$15.00")]
    assert page.unpriced_orders == 0
    assert (page.carts, page.abandoned, page.abandonment_rate) == (5, 2, 40.0)
    assert [(r["label"], r["visitors"], r["drop_off"]) for r in page.funnel] == [
        ("Product view", 6, 0), ("Add to cart", 5, 1), ("Begin checkout", 4, 1),
        ("Purchase", 3, 1)]
    assert [(p.name, p.views, p.adds, p.purchases, p.revenue) for p in page.products] == [
        ("Tee", 2, 2, 2, ["€30.50", "$15.00"]), ("Mug", 2, 2, 1, ["€20.00"]),
        ("Cap", 2, 1, 0, [])]
    assert page.median_seconds == 360.0  # of 360, 600 and 180 s
    assert sorted(v for _, v in page.series if v) == [20.0, 30.5]  # EUR per day
    text = response.text
    assert "€50.50" in text and "$15.00" in text and "Lifetime value" in text


def test_the_page_equals_the_stats_api_for_a_revenue_goal(client: TestClient,
                                                            tmp_path: Path) -> None:
    db = tmp_path / "d1.sqlite"

    async def goal() -> None:
        store = SqliteStore(path=db)
        await add_goal(store, site_id="s1", event="Purchase", currency="EUR")
        await store.aclose()

    asyncio.run(goal())
    api = client.post(f"{MOUNT}/api/v2/query", json={
        "site_id": "example.com", "date_range": "7d",
        "metrics": ["visitors", "events", "conversion_rate", "total_revenue", "average_revenue"],
        "filters": [["is", "event:goal", ["Purchase"]]]}).json()["results"][0]["metrics"]
    page = client.get(URL, params={"period": "7d"}).context["page"]  # type: ignore[attr-defined]
    eur = page.revenue[0]
    assert api == [page.buyers, page.orders, page.conversion_rate, eur.total, eur.average]
    # A filter applies to the page as to the API: Google's visits only.
    google = client.get(URL, params={"period": "7d", "f": "is,source,Google"}).context["page"]  # type: ignore[attr-defined]
    assert (google.orders, google.carts, google.abandoned) == (2, 3, 1)


def test_no_shop_events_shows_the_tracker_calls(tmp_path: Path) -> None:
    client = shop_client(tmp_path, ecommerce_events={"example.com": {"purchase": "Order"}})
    response = client.get(URL, params={"period": "day"})
    assert response.status_code == 200, response.text
    assert response.context["page"].empty  # type: ignore[attr-defined]
    assert 'a941.event(&#34;Order&#34;' in response.text or 'a941.event("Order"' in response.text


def test_configured_names_are_read(tmp_path: Path) -> None:
    client = shop_client(tmp_path, ecommerce_events={
        "example.com": {"add_to_cart": "Begin checkout", "begin_checkout": "Add to cart"}})
    page = client.get(URL, params={"period": "7d"}).context["page"]  # type: ignore[attr-defined]
    assert [r["label"] for r in page.funnel][1:3] == ["Begin checkout", "Add to cart"]
    assert page.carts == 4  # visits that sent "Begin checkout", now the cart step


def test_a_bad_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the keys are"):
        Settings(sqlite_path=tmp_path / "x", ecommerce_events={"a.test": {"order": "Order"}})
