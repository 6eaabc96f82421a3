"""Webhooks in a site's settings: endpoints added (checked: https to public hosts once deployed,
an event chosen), listed with their signing secret, removed with their log; the latest
deliveries shown with status code and next try; test and redeliver ask the collector."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient

from analytics_941.webhooks import WebhookError, check_url

WEBHOOKS = f"{MOUNT}/settings/sites/example.com/webhooks"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return one_site_db(tmp_path)


@pytest.fixture
def admin(db: Path) -> TestClient:
    return signed_in_admin(db)


def _context(response: Any) -> dict[str, Any]:
    return response.context  # type: ignore[no-any-return]


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


@pytest.mark.parametrize("url", [
    "http://hooks.example.com/x", "https://10.1.2.3/x", "https://127.0.0.1/x", "https://[::1]/x",
    "https://localhost:8443/x", "https://printer.local/x", "https://169.254.169.254/latest",
    "https://2130706433/x", "https://[fd00::1]/x", "https://u:p@hooks.example.com/x",
    "ftp://hooks.example.com/x", "not a url",
])
def test_deployed_dashboards_refuse_private_and_plain_destinations(url: str) -> None:
    with pytest.raises(WebhookError):
        check_url(url, allow_private=False)


def test_public_https_destinations_pass() -> None:
    assert check_url(" https://hooks.example.com/941 ", allow_private=False) == (
        "https://hooks.example.com/941")
    assert check_url("http://127.0.0.1:9000/x", allow_private=True) == "http://127.0.0.1:9000/x"


def test_add_list_and_remove_an_endpoint(admin: TestClient, db: Path) -> None:
    page = admin.get(f"{MOUNT}/settings/sites/example.com")
    assert f'hx-get="{WEBHOOKS}"' in page.text
    added = admin.post(WEBHOOKS, data={"url": "https://hooks.example.com/941",
                                       "event": "report.sent"}, follow_redirects=False)
    assert added.status_code == 303
    assert added.headers["location"] == f"{MOUNT}/settings/sites/example.com#webhooks"
    section = admin.get(WEBHOOKS, headers={"HX-Request": "true"})
    assert section.template.name == "analytics_941/settings/_webhooks.html"  # type: ignore[attr-defined]
    (endpoint,) = _context(section)["endpoints"]
    assert endpoint.events == ("report.sent",) and endpoint.secret.startswith("whsec_")
    assert len(endpoint.secret) == len("whsec_") + 32 and endpoint.secret in section.text
    refused = admin.post(WEBHOOKS, data={"url": "https://hooks.example.com/941",
                                         "event": "report.sent"})
    assert refused.status_code == 400 and "already sends" in _context(refused)["webhook_error"]
    none = admin.post(WEBHOOKS, data={"url": "https://other.example.com/"})
    assert none.status_code == 400 and "Choose at least one event" in none.text
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO webhook_deliveries (id, site_id, endpoint_id, event, payload, "
                     "status, attempts, last_status, last_error, next_attempt_at, created_at) "
                     "VALUES ('msg_1', 's1', ?, 'report.sent', '{}', 'pending', 2, 500, "
                     "'answered 500', 1768900000000, 1768200000000)", (endpoint.id,))
    conn.close()
    shown = admin.get(WEBHOOKS, headers={"HX-Request": "true"}).text
    assert "pending · HTTP 500" in shown and "next try 2026-01-20 09:06 UTC" in shown
    removed = admin.post(f"{WEBHOOKS}/{endpoint.id}/remove", follow_redirects=False)
    assert removed.status_code == 303
    assert _rows(db, "SELECT * FROM webhook_endpoints") == []
    assert _rows(db, "SELECT * FROM webhook_deliveries") == []


def test_webhook_forms_need_the_csrf_token(admin: TestClient, db: Path) -> None:
    del admin.headers["X-CSRF-Token"]
    refused = admin.post(WEBHOOKS, data={"url": "https://hooks.example.com/",
                                         "event": "report.sent"})
    assert refused.status_code == 403
    assert _rows(db, "SELECT * FROM webhook_endpoints") == []


def test_a_test_event_says_when_the_collector_cannot_be_reached(admin: TestClient) -> None:
    admin.post(WEBHOOKS, data={"url": "https://hooks.example.com/941", "event": "report.sent"})
    (endpoint,) = _context(admin.get(WEBHOOKS))["endpoints"]
    answer = admin.post(f"{WEBHOOKS}/{endpoint.id}/test")
    assert answer.status_code == 502
    assert "No test event was sent. The collector at http://127.0.0.1:8787 could not" in (
        _context(answer)["webhook_error"])
