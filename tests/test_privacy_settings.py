"""The site settings' privacy requests: find and confirm, then erase; download a user's data;
refusals with the reason; admins only, CSRF-checked, audited without the id."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from auth_support import add_user, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from analytics_941 import Settings, setup_analytics

URL = "/admin/analytics/settings/sites/example.com/privacy"
X, Y = "a" * 64, "b" * 64


def _rows(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql, args).fetchall()
    conn.close()
    return rows


@pytest.fixture
def identified(db: Path) -> Path:
    """The seeded site with visits A and E by user X, D by user Y, and their traits."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET user_id = ? WHERE id IN ('A', 'E')", (X,))
        conn.execute("UPDATE sessions SET user_id = ? WHERE id = 'D'", (Y,))
        for user in (X, Y):
            conn.execute("INSERT INTO user_traits (site, user_id, key, value, ts) "
                         "VALUES ('s1', ?, 'plan', 'pro', 1)", (user,))
    conn.close()
    return db


def _client(db: Path, tmp_path: Path, *, admin: bool = True) -> tuple[TestClient, str]:
    app = FastAPI()
    # Nothing listens on the collector's port: only ids refused before any call get an answer.
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path,
                                  collector_url="http://127.0.0.1:9"))
    client = TestClient(app)
    user = add_user(db, name="Ada", is_admin=admin)
    if not admin:
        with sqlite3.connect(db) as conn:
            conn.execute("INSERT INTO site_members (site_id, user_id, role, created_at) "
                         "VALUES ('s1', ?, 'viewer', 0)", (user,))
        conn.close()
    csrf = sign_in(client, db, user_id=user)
    del client.headers["X-CSRF-Token"]  # a plain HTML form sends it as a field
    return client, csrf


def test_find_confirm_erase_and_audit(identified: Path, tmp_path: Path) -> None:
    client, csrf = _client(identified, tmp_path)
    page = client.get(URL)
    assert page.status_code == 200 and "Privacy requests" in page.text
    found = client.post(f"{URL}/erase", data={"csrf_token": csrf, "user": X.upper(),
                                              "kind": "hash"})
    assert found.status_code == 200
    assert found.context["pending"] == {"hash": X, "prefix": X[:12], "visits": 2, "traits": 1}
    assert "Erase for good" in found.text
    assert _rows(identified, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", X) == [(2,)]
    done = client.post(f"{URL}/erase", data={"csrf_token": csrf, "step": "erase",
                                             "user_hash": X})
    assert done.status_code == 200
    assert done.context["privacy_notice"].startswith("Erased 2 visits, 6 events and 1 traits")
    # The collector could not stop a visit still going on: the notice says so.
    assert "could not be reached" in done.context["privacy_notice"]
    assert _rows(identified, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", X) == [(0,)]
    assert _rows(identified, "SELECT COUNT(*) FROM events WHERE session_id IN ('A', 'E')") == [
        (0,)]
    assert _rows(identified, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", Y) == [(1,)]
    (row,) = _rows(identified, "SELECT kind, site_ref, actor_kind, detail FROM audit_log")
    assert row[:3] == ("user_erase", "s1", "user")
    assert json.loads(str(row[3]))["user"] == X[:12] and X not in str(row[3])
    # Asking again: nothing left, nothing offered.
    again = client.post(f"{URL}/erase", data={"csrf_token": csrf, "user": X, "kind": "hash"})
    assert again.context["pending"]["visits"] == 0 and "nothing to erase" in again.text


def test_download_holds_only_that_user(identified: Path, tmp_path: Path) -> None:
    client, csrf = _client(identified, tmp_path)
    got = client.post(f"{URL}/export", data={"csrf_token": csrf, "user": Y, "kind": "hash"})
    assert got.status_code == 200
    assert got.headers["content-disposition"] == (
        f'attachment; filename="example.com-user-{Y[:12]}.json"')
    data = got.json()
    assert [s["id"] for s in data["sessions"]] == ["D"]
    assert {e["session_id"] for e in data["events"]} == {"D"}
    assert [(t["key"], t["value"]) for t in data["traits"]] == [("plan", "pro")]
    assert X not in got.text
    assert _rows(identified, "SELECT kind FROM audit_log") == [("user_export",)]


@pytest.mark.parametrize(("user", "kind", "status", "reason"), [
    ("tab\there", "id", 400, "control character"),
    ("x" * 300, "id", 400, "longer than 256"),
    ("", "id", 400, "empty"),
    ("not-a-hash", "hash", 400, "64 hexadecimal"),
    ("customer-7", "id", 502, "could not be reached"),
])
def test_refusals_say_why(identified: Path, tmp_path: Path, user: str, kind: str, status: int,
                          reason: str) -> None:
    client, csrf = _client(identified, tmp_path)
    for action in ("erase", "export"):
        got = client.post(f"{URL}/{action}", data={"csrf_token": csrf, "user": user,
                                                   "kind": kind})
        assert got.status_code == status and reason in got.context["privacy_error"]
        if len(user) > 8:
            assert user not in got.text
    assert _rows(identified, "SELECT COUNT(*) FROM audit_log") == [(0,)]
    assert _rows(identified, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", X) == [(2,)]


def test_admins_only_and_csrf(identified: Path, tmp_path: Path) -> None:
    client, csrf = _client(identified, tmp_path, admin=False)
    assert client.get(URL).status_code == 403
    for action in ("erase", "export"):
        got = client.post(f"{URL}/{action}", data={"csrf_token": csrf, "step": "erase",
                                                   "user": X, "user_hash": X, "kind": "hash"})
        assert got.status_code == 403
    admin, _csrf = _client(identified, tmp_path)
    forged = admin.post(f"{URL}/erase", data={"step": "erase", "user_hash": X})
    assert forged.status_code == 403
    assert _rows(identified, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", X) == [(2,)]
