"""One bad stored row never breaks a reader, and a failing store never leaks SQL or stored values.

A lone UTF-16 surrogate that reached the database (as workerd stored one before the collector
fix) is invalid UTF-8; every report holding it must still answer 200, the value shown as U+FFFD.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

MOUNT = "/admin/analytics"
BASE = f"{MOUNT}/example.com"
# "x", the UTF-8 encoding of the lone surrogate U+D800, "y": what workerd wrote for "x\ud800y".
BAD_NAME = "CAST(X'78EDA08079' AS TEXT)"
BAD_PROPS = "CAST(X'7B226B223A22EDA080227D' AS TEXT)"  # {"k":"<U+D800>"}


@pytest.fixture
def bad_row(db: Path) -> Path:
    with sqlite3.connect(db) as conn:
        # One of today's pageviews becomes a custom event with a broken name and property.
        (event_id,) = conn.execute(
            "SELECT id FROM events WHERE site_id = 's1' ORDER BY ts DESC LIMIT 1"
        ).fetchone()
        conn.execute(f"UPDATE events SET name = {BAD_NAME}, props = {BAD_PROPS} WHERE id = ?",
                     (event_id,))
        assert conn.execute("SELECT count(*) FROM events WHERE instr(CAST(name AS BLOB), "
                            "X'EDA080')").fetchone() == (1,)
    conn.close()
    return db


def v2(client: TestClient, dimension: str) -> dict[str, object]:
    response = client.post(f"{MOUNT}/api/v2/query", json={
        "site_id": "example.com", "metrics": ["visitors", "events"], "date_range": "7d",
        "dimensions": [dimension],
    })
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_every_report_answers_despite_an_invalid_utf8_row(
    bad_row: Path, client: TestClient
) -> None:
    names = [row["dimensions"][0] for row in v2(client, "event:name")["results"]]  # type: ignore[index]
    assert "x\ufffd\ufffd\ufffdy" in names
    props = [row["dimensions"][0] for row in v2(client, "event:props:k")["results"]]  # type: ignore[index]
    assert "\ufffd\ufffd\ufffd" in props
    for url in (f"{BASE}?period=7d", f"{BASE}/details/events?period=7d",
                f"{BASE}/panel/pages?period=7d", f"{BASE}/export?period=7d",
                f"{MOUNT}/api/stats?site=example.com&period=7d&dimensions=event:name"):
        assert client.get(url).status_code == 200, url


def test_a_failing_store_answers_an_id_never_its_sql(
    db: Path, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with sqlite3.connect(db) as conn:
        # A real failure deep in a stats query (the tables the auth checks use stay intact).
        conn.execute("ALTER TABLE events RENAME TO events_gone")
    conn.close()
    with caplog.at_level(logging.ERROR, logger="analytics_941"):
        api = client.post(f"{MOUNT}/api/v2/query", json={
            "site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"})
        page = client.get(f"{BASE}?period=7d")
    assert api.status_code == 503
    body = api.json()
    assert set(body) == {"code", "message", "error", "id"}
    assert body["code"] == "store_unavailable"
    for leak in ("SELECT", "no such table", "events", "SQLite"):
        assert leak not in api.text and leak not in page.text.replace("Events", "")
    assert body["id"] in caplog.text and "no such table" in caplog.text
    assert page.status_code == 503
    assert "error id" in page.text
