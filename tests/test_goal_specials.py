"""The built-in reports under the Goal conversions panel: the events the tracker's features send
(outbound links, downloads, 404s, forms), broken down by their props, escaped."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import LIVE_TZ
from fastapi.testclient import TestClient

GOALS = "/admin/analytics/example.com/goals"
HOSTILE = "https://evil.example/<script>alert(1)</script>"


def add(db: Path, n: int, name: str, visitor: str, **props: str) -> None:
    noon = datetime.now(ZoneInfo(LIVE_TZ)).replace(hour=12, minute=0)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
            "pathname, props) VALUES (?, 's1', ?, ?, ?, ?, 'example.com', '/', ?)",
            (f"sp{n}", int(noon.timestamp() * 1000) + n, name, visitor, f"s-{visitor}",
             json.dumps(props)))


def test_each_report_shows_when_its_events_exist(client: TestClient, db: Path) -> None:
    add(db, 1, "Outbound Link: Click", "v1", url="https://partner.example/")
    add(db, 2, "Outbound Link: Click", "v2", url="https://partner.example/")
    add(db, 3, "Outbound Link: Click", "v2", url=HOSTILE)
    add(db, 4, "404", "v3", path="/missing")
    add(db, 5, "Form: Submission", "v1", form="signup", path="/join")
    response = client.get(GOALS, params={"period": "7d"})
    assert response.status_code == 200, response.text
    panel = response.context["goals"]  # type: ignore[attr-defined]
    reports = {s.title: s.rows for s in panel.specials}
    assert reports == {
        "Outbound links": [("https://partner.example/", 2, 2), (HOSTILE, 1, 1)],
        "404 pages": [("/missing", 1, 1)],
        "Form submissions": [("signup · /join", 1, 1)],
    }
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)" in response.text


def test_the_dashboards_filters_apply(client: TestClient, db: Path) -> None:
    add(db, 1, "404", "v3", path="/missing")
    response = client.get(GOALS, params={"period": "7d", "f": "is,page,/elsewhere"})
    assert response.context["goals"].specials == []  # type: ignore[attr-defined]
    response = client.get(GOALS, params={"period": "7d"})
    assert [s.title for s in response.context["goals"].specials] == [  # type: ignore[attr-defined]
        "404 pages"]
