"""Raw exports (``{mount}/{domain}/export/{kind}.csv``): every row of the period and filters,
read in keyset pages, matching the Stats API's totals; formula cells escaped; no visitor ids;
the export scope for tokens."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_support import signed_in_client
from fastapi import FastAPI
from fastapi.testclient import TestClient
from goal_seeding import seed_goal_data

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.auth.api_tokens import create_token
from analytics_941.goals import add_goal
from analytics_941.sites import list_sites
from analytics_941.web.dashboard.raw_export import (
    COLUMNS,
    EXPECTED_ROWS_HEADER,
    plan_export,
    stream_rows,
)
from analytics_941.web.dashboard.state import DashboardState

TZ = "Europe/Berlin"
MOUNT = "/admin/analytics"
BASE = f"{MOUNT}/example.com"


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = seed_goal_data(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo(TZ)).date(),
                          timezone=TZ)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET pathname = '=HYPERLINK(\"http://evil\")' "
                     "WHERE pathname = '/pricing' AND name = 'pageview'")
    conn.close()
    store = SqliteStore(path=path)
    await add_goal(store, site_id="s1", event="Signup")
    await add_goal(store, site_id="s1", page="/blog/**", name="Blog")
    await store.aclose()
    return path


@pytest.fixture
def client(db: Path, tmp_path: Path) -> TestClient:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    return signed_in_client(app, db)


def rows(client: TestClient, kind: str, query: str) -> list[list[str]]:
    response = client.get(f"{BASE}/export/{kind}.csv?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert f"-{kind}-" in response.headers["content-disposition"]
    found = list(csv.reader(io.StringIO(response.text)))
    # The count sent before the rows (the dashboard's progress) is the rows that came.
    assert int(response.headers[EXPECTED_ROWS_HEADER]) == len(found) - 1
    return found


def api(client: TestClient, body: dict[str, Any]) -> Any:
    response = client.post(f"{MOUNT}/api/v2/query",
                           json={"site_id": "example.com", "date_range": "30d", **body})
    assert response.status_code == 200, response.text
    return response.json()["results"]


@pytest.mark.parametrize("filters", ["", "&f=is,country,US", "&f=is,event:goal,Signup",
                                     "&f=contains,page,blog"])
def test_rows_match_the_stats_api_totals(client: TestClient, filters: str) -> None:
    api_filters: list[Any] = {
        "": [], "&f=is,country,US": [["is", "visit:country", ["US"]]],
        "&f=is,event:goal,Signup": [["is", "event:goal", ["Signup"]]],
        "&f=contains,page,blog": [["contains", "event:page", ["blog"]]],
    }[filters]
    totals = api(client, {"metrics": ["pageviews", "events"], "filters": api_filters})
    pageviews, events = totals[0]["metrics"]
    assert len(rows(client, "pageviews", f"period=30d{filters}")) - 1 == pageviews
    assert len(rows(client, "events", f"period=30d{filters}")) - 1 == events
    assert events > 0


def test_conversions_are_one_row_per_goal_reached(client: TestClient) -> None:
    found = rows(client, "conversions", "period=30d")
    assert found[0] == list(COLUMNS["conversions"])
    by_goal: dict[str, int] = {}
    for row in found[1:]:
        by_goal[row[1]] = by_goal.get(row[1], 0) + 1
    breakdown = api(client, {"metrics": ["events"], "dimensions": ["event:goal"]})
    assert by_goal == {r["dimensions"][0]: r["metrics"][0] for r in breakdown}
    assert set(by_goal) == {"Signup", "Blog"}
    # A goal filter keeps that goal's rows; the count follows.
    assert {row[1] for row in rows(client, "conversions", "period=30d&f=is,event:goal,Blog")[1:]} \
        == {"Blog"}


def test_columns_times_and_privacy(client: TestClient) -> None:
    found = rows(client, "events", "period=30d")
    header = found[0]
    assert header == list(COLUMNS["events"])
    assert not {"visitor_id", "session_id", "ip", "user_agent"} & set(header)
    times = [row[0] for row in found[1:]]
    assert times == sorted(times) and all(t.endswith("Z") for t in times)
    # Formula cells are escaped; a visit's pseudonym groups its rows but changes per export.
    paths = [row[header.index("pathname")] for row in found[1:]]
    assert "'=HYPERLINK(\"http://evil\")" in paths
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in found for cell in row)
    visits = {row[-1] for row in found[1:]}
    assert 1 < len(visits) < len(found) - 1
    again = {row[-1] for row in rows(client, "events", "period=30d")[1:]}
    assert not visits & again


async def test_pages_cover_every_row_once(db: Path) -> None:
    # Pages of 2 rows: every row comes once, in (ts, id) order, whatever the page size.
    store = SqliteStore(path=db)
    site = next(s for s in await list_sites(store) if s.domain == "example.com")
    plan = await plan_export(store, kind="events", site=site,
                             state=DashboardState(period="30d"))
    small = [(r["ts"], r["id"]) async for page in stream_rows(store, plan, page_rows=2)
             for r in page]
    whole = [(r["ts"], r["id"]) async for page in stream_rows(store, plan) for r in page]
    assert small == whole == sorted(whole) and len(set(whole)) == len(whole) > 2
    await store.aclose()


def test_unknown_kind_is_not_found(client: TestClient) -> None:
    assert client.get(f"{BASE}/export/visitors.csv").status_code == 404


async def test_needs_the_export_scope(db: Path, tmp_path: Path) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    store = SqliteStore(path=db)
    client = TestClient(app)
    for scope, status in (("export", 200), ("stats", 403)):
        secret, _ = await create_token(store, name=scope, user_id=None, site_ids=["s1"],
                                       scopes=[scope])
        response = client.get(f"{BASE}/export/pageviews.csv?period=7d",
                              headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == status
    await store.aclose()
