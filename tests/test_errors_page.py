"""The Errors page: the errors add-on's events grouped by fingerprint, counted, dated, detailed,
and shown escaped (their messages and stacks come from visitors' browsers)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import LIVE_TZ
from fastapi.testclient import TestClient

from analytics_941.web.dashboard.errors_page import ERROR_EVENT

ROOT = Path(__file__).resolve().parents[1]
PAGE = "/admin/analytics/example.com/errors"
HOSTILE = '<img src=x onerror="alert(1)">'


def add_error(db: Path, *, n: int, days_ago: int, visitor: str, fingerprint: str, message: str,
              path: str = "/", stack: str = "at go (/app.js:1:2)") -> None:
    noon = datetime.now(ZoneInfo(LIVE_TZ)).replace(hour=12, minute=0) - timedelta(days=days_ago)
    props = {"message": message, "type": "TypeError", "file": "/app.js", "line": "1",
             "column": "2", "stack": stack, "fingerprint": fingerprint}
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
            "pathname, browser, props) VALUES (?, 's1', ?, ?, ?, ?, 'example.com', ?, 'Chrome', ?)",
            (f"err{n}", int(noon.timestamp() * 1000) + n, ERROR_EVENT, visitor, f"s-{visitor}",
             path, json.dumps(props)))


def test_the_add_ons_event_name_is_the_one_read() -> None:
    assert f'"{ERROR_EVENT}"' in (ROOT / "worker" / "tracker" / "script.js").read_text()


def test_groups_counts_and_days(client: TestClient, db: Path) -> None:
    add_error(db, n=1, days_ago=3, visitor="v1", fingerprint="abc", message="x is undefined")
    add_error(db, n=2, days_ago=0, visitor="v1", fingerprint="abc", message="x is undefined")
    add_error(db, n=3, days_ago=0, visitor="v2", fingerprint="abc", message="x is undefined",
              path="/pricing")
    add_error(db, n=4, days_ago=1, visitor="v3", fingerprint="zzz", message=HOSTILE,
              stack=f"at {HOSTILE} (/x.js:3:4)")
    response = client.get(PAGE, params={"period": "7d"})
    assert response.status_code == 200, response.text
    page = response.context["page"]  # type: ignore[attr-defined]
    assert page.errors == 4
    first = page.groups[0]
    assert (first.fingerprint, first.events, first.visitors) == ("abc", 3, 3)
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    assert first.first_seen == (today - timedelta(days=3)).isoformat()
    assert first.last_seen == today.isoformat()
    assert sum(count for _day, count, _views, _rate in page.days) == 4
    # Escaped wherever it shows; the raw markup never reaches the page.
    assert HOSTILE not in response.text
    assert "&lt;img src=x onerror=" in response.text


def test_a_chosen_group_shows_its_pages_browsers_and_stacks(client: TestClient, db: Path) -> None:
    add_error(db, n=1, days_ago=0, visitor="v1", fingerprint="abc", message="boom")
    add_error(db, n=2, days_ago=0, visitor="v2", fingerprint="abc", message="boom",
              path="/pricing", stack=f"at {HOSTILE} (/y.js:1:1)")
    add_error(db, n=3, days_ago=0, visitor="v3", fingerprint="other", message="else")
    response = client.get(PAGE, params={"period": "7d", "error": "abc"})
    assert response.status_code == 200, response.text
    page = response.context["page"]  # type: ignore[attr-defined]
    assert page.chosen is not None and page.chosen.fingerprint == "abc"
    assert sorted(page.pages) == [("/", 1), ("/pricing", 1)]
    assert page.browsers == [("Chrome", 2)]
    assert len(page.stacks) == 2
    assert HOSTILE not in response.text


def test_no_errors_explains_the_add_on(client: TestClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "No JavaScript errors in this period." in response.text
    assert "script.errors.js" in response.text


def test_the_dashboard_links_it_and_bad_input_is_a_400(client: TestClient) -> None:
    dashboard = client.get("/admin/analytics/example.com")
    assert "/admin/analytics/example.com/errors" in dashboard.text
    assert client.get(PAGE, params={"period": "fortnight"}).status_code == 400
    assert client.get("/admin/analytics/nobody.example/errors").status_code == 404
