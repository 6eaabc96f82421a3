"""The dashboard's Funnels panel: loaded once in view, a saved funnel's steps with the seeded
numbers (tests/funnel_seeding.py) under the dashboard's period, filters and comparison, a form
picking another funnel, an empty state saying how to make one, and on a share link read-only."""

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
from funnel_seeding import FUNNEL_STEPS, seed_funnel_data

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.auth.share_links import create_share_link
from analytics_941.funnels import add_funnel
from analytics_941.goals import add_goal, remove_goal

MOUNT = "/admin/analytics"
BASE = f"{MOUNT}/example.com"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    return seed_funnel_data(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)


def _client(db: Path) -> TestClient:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
    return signed_in_client(app, db)


def _define(db: Path) -> None:
    async def run() -> None:
        store = SqliteStore(path=db)
        await add_goal(store, site_id="s1", event="Purchase")
        await add_funnel(store, site_id="s1", name="Shop", steps=FUNNEL_STEPS)
        await add_funnel(store, site_id="s1", name="Cart", steps=["/cart", "/checkout/*"])
        await store.aclose()

    asyncio.run(run())


def _panel(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.template.name == "analytics_941/_funnel_panel.html"
    return response.context["funnel"]


def test_the_dashboard_loads_the_panel_in_view(db: Path) -> None:
    page = _client(db).get(f"{BASE}?period=7d&f=is,device,Mobile")
    assert 'id="panel-funnels"' in page.text
    assert f'hx-get="{BASE}/funnels?period=7d&amp;f=is%2Cdevice%2CMobile"' in page.text


def test_empty_state_says_how_to_create_one(db: Path) -> None:
    response = _client(db).get(f"{BASE}/funnels?period=7d")
    assert _panel(response).funnels == []
    assert "No funnels yet" in response.text
    assert "/settings/sites/example.com#funnels" in response.text


def test_a_saved_funnel_with_the_seeded_numbers(db: Path) -> None:
    _define(db)
    client = _client(db)
    response = client.get(f"{BASE}/funnels?period=7d&funnel=Shop")
    panel = _panel(response)
    assert panel.chosen.name == "Shop"
    assert [(r["visitors"], r["conversion_rate"], r["drop_off"], r["pct"]) for r in panel.rows] \
        == [(5, 100.0, 0, 100), (3, 60.0, 2, 60), (2, 40.0, 1, 40), (1, 20.0, 1, 20)]
    assert "median 2m 30s to this step" in response.text  # step 2 -> 3: 150 s
    assert response.text.count('data-pct="') == 4
    # Filters and the comparison of the dashboard apply.
    filtered = _panel(client.get(f"{BASE}/funnels?period=7d&funnel=Shop&f=is,source,Twitter"
                                 "&compare=previous_period"))
    assert [r["visitors"] for r in filtered.rows] == [3, 2, 1, 1]
    assert filtered.compared and [r["comparison"]["visitors"] for r in filtered.rows] == [0] * 4
    # The first by name without ?funnel; the form picks the others.
    default = client.get(f"{BASE}/funnels?period=7d")
    assert _panel(default).chosen.name == "Cart"
    assert '<option selected>Cart</option><option>Shop</option>' in default.text


def test_a_removed_goal_is_said_not_hidden(db: Path) -> None:
    _define(db)
    asyncio.run(remove_goal(SqliteStore(path=db), site_id="s1", name="Purchase"))
    panel = _panel(_client(db).get(f"{BASE}/funnels?period=7d&funnel=Shop"))
    assert "Step 4: the site has no goal named 'Purchase'" in panel.error


def test_a_share_link_shows_the_funnel_read_only(db: Path) -> None:
    _define(db)
    client = _client(db)
    link = asyncio.run(create_share_link(SqliteStore(path=db), site_id="s1", name="public",
                                         password=None, created_by=None))
    public = TestClient(client.app, base_url=str(client.base_url))
    response = public.get(f"{MOUNT}/share/{link.id}/funnels?period=7d&funnel=Shop")
    assert [r["visitors"] for r in _panel(response).rows] == [5, 3, 2, 1]
    assert "/settings" not in response.text
