"""The Properties page: the keys the period's events carry, one key's values through the query
path, each value's conversion rate under a goal filter; visitor-sent text escaped. The side
pages (journeys, errors, properties) also take a goal filter from the dashboard's URL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import LIVE_TZ
from fastapi.testclient import TestClient

from analytics_941 import SqliteStore
from analytics_941.goals import add_goal

URL = "/admin/analytics/example.com/properties"
HOSTILE = "<b onmouseover=alert(1)>pro</b>"


def add(db: Path, n: int, name: str, visitor: str, props: dict[str, object]) -> None:
    noon = datetime.now(ZoneInfo(LIVE_TZ)).replace(hour=12, minute=0)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
            "pathname, props) VALUES (?, 's1', ?, ?, ?, ?, 'example.com', '/', ?)",
            (f"pp{n}", int(noon.timestamp() * 1000) + n, name, visitor, f"s-{visitor}",
             json.dumps(props)))


def seed_props(db: Path) -> None:
    add(db, 1, "Signup", "v1", {"plan": "pro", "seats": "5"})
    add(db, 2, "Signup", "v2", {"plan": "pro"})
    add(db, 3, "Signup", "v3", {"plan": HOSTILE})
    add(db, 4, "Download", "v4", {"bad key!": "x"})


def test_keys_and_the_values_of_the_most_used(client: TestClient, db: Path) -> None:
    seed_props(db)
    response = client.get(URL, params={"period": "7d"})
    assert response.status_code == 200, response.text
    page = response.context["page"]  # type: ignore[attr-defined]
    assert page.keys == [("plan", 3), ("seats", 1)]  # a key the API could not name is left out
    assert page.key == "plan"
    assert sorted(page.rows) == [(HOSTILE, [1, 1]), ("pro", [2, 2])]
    assert HOSTILE not in response.text and "&lt;b onmouseover" in response.text
    seats = client.get(URL, params={"period": "7d", "key": "seats"}).context[  # type: ignore[attr-defined]
        "page"]
    assert seats.rows == [("5", [1, 1])]


def test_a_goal_filter_adds_conversion_rates(client: TestClient, db: Path) -> None:
    seed_props(db)
    asyncio.run(add_goal(SqliteStore(path=db), site_id="s1", event="Signup"))
    params = {"period": "7d", "key": "plan", "f": "is,event:goal,Signup"}
    page = client.get(URL, params=params).context["page"]  # type: ignore[attr-defined]
    assert page.metrics == ("visitors", "events", "group_conversion_rate")
    assert dict((value, metrics[2]) for value, metrics in page.rows)["pro"] == 100.0
    for side in ("journeys", "errors"):
        other = client.get(f"/admin/analytics/example.com/{side}", params=params)
        assert other.status_code == 200, (side, other.text)


def test_no_props_explains_how_to_send_them(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert "No event carried custom properties" in response.text
    assert client.get("/admin/analytics/example.com").text.count("/properties") >= 1
