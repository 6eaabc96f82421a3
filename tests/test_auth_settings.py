"""Settings pages through HTTP: sites (create, edit, verify, delete with purge), invites, share
links, API tokens and passkeys, as an administrator."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from auth_support import MOUNT, new_session, signed_in_admin
from fastapi.testclient import TestClient
from seeding import seed

from analytics_941.web.account.sites_routes import sparkline_points

TZ = "Europe/Berlin"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return seed(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo(TZ)).date(), timezone=TZ)


@pytest.fixture
def admin(db: Path) -> TestClient:
    return signed_in_admin(db)


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        value = int(conn.execute(sql).fetchone()[0])
    conn.close()
    return value


def test_sites_grid_create_edit_and_delete(admin: TestClient, db: Path) -> None:
    grid = admin.get(f"{MOUNT}/settings/sites")
    cards = grid.context["cards"]  # type: ignore[attr-defined]
    assert [c.site.domain for c in cards] == ["example.com", "other.org"]
    assert len(cards[0].week) == 7 and cards[0].points
    created = admin.post(f"{MOUNT}/settings/sites", data={
        "domain": "New.example", "name": "New", "timezone": "Europe/Paris"},
        follow_redirects=False)
    assert created.headers["location"] == f"{MOUNT}/settings/sites/new.example?created=1"
    dup = admin.post(f"{MOUNT}/settings/sites", data={"domain": "new.example"})
    assert dup.status_code == 400 and "already exists" in dup.context["error"]  # type: ignore[attr-defined]
    saved = admin.post(f"{MOUNT}/settings/sites/new.example", data={
        "name": "Renamed", "timezone": "UTC", "domains": "www.new.example",
        "excluded_paths": "/admin/**", "retention_days": "90", "allow_subdomains": "on",
        "keep_query_params": "page  ref_id page"})
    assert saved.status_code == 200
    site = saved.context["site"]  # type: ignore[attr-defined]
    # Where the collector reads them (worker/src/collector/site-lookup.ts, migration 0018).
    assert site.keep_query_params == ("page", "ref_id")
    assert count(db, "SELECT COUNT(*) FROM sites, json_each(sites.keep_query_params) "
                 "WHERE domain = 'new.example'") == 2
    odd = admin.post(f"{MOUNT}/settings/sites/new.example", data={
        "timezone": "UTC", "keep_query_params": "ok <script>"})
    assert odd.status_code == 400 and "query parameter" in odd.context["error"]  # type: ignore[attr-defined]
    assert (site.name, site.domains, site.excluded_paths, site.retention_days,
            site.allow_subdomains) == ("Renamed", ("new.example", "www.new.example"),
                                       ("/admin/**",), 90, True)
    bad = admin.post(f"{MOUNT}/settings/sites/new.example", data={"timezone": "Mars/Base"})
    assert bad.status_code == 400
    # The collector's limits: stored where the Worker reads them (docs/collector.md).
    limits = {"timezone": "UTC", "rate_limit_visitor": "30", "rate_limit_site": "5000",
              "bounce_threshold_s": "20"}
    assert admin.post(f"{MOUNT}/settings/sites/new.example", data=limits).status_code == 200
    assert count(db, "SELECT rate_limit_visitor * 1000000 + rate_limit_site FROM sites "
                 "WHERE domain = 'new.example'") == 30_005_000
    assert count(db, "SELECT bounce_threshold_ms FROM sites WHERE domain = 'new.example'") == 20_000
    for field, value, message in (("rate_limit_visitor", "12x", "not a whole number"),
                                  ("rate_limit_site", "200000", "0 (the collector's default)"),
                                  ("bounce_threshold_s", "7200", "3,600 seconds")):
        refused = admin.post(f"{MOUNT}/settings/sites/new.example",
                             data={**limits, field: value})
        assert refused.status_code == 400
        assert message in refused.context["error"]  # type: ignore[attr-defined]
    assert count(db, "SELECT bounce_threshold_ms FROM sites WHERE domain = 'new.example'") == 20_000
    # Delete: the typed domain must match; then every row of the site is purged.
    before = count(db, "SELECT COUNT(*) FROM events WHERE site_id = 's1'")
    assert before > 0
    wrong = admin.post(f"{MOUNT}/settings/sites/example.com/delete", data={"confirm": "example"})
    assert wrong.status_code == 400
    admin.post(f"{MOUNT}/settings/sites/example.com/delete", data={"confirm": "example.com"})
    for table in ("events", "sessions", "sites"):
        column = "id" if table == "sites" else "site_id"
        assert count(db, f"SELECT COUNT(*) FROM {table} WHERE {column} = 's1'") == 0
    assert count(db, "SELECT COUNT(*) FROM events WHERE site_id = 's2'") > 0


def test_verify_installation(admin: TestClient, db: Path) -> None:
    with sqlite3.connect(db) as conn:  # the seed may hold events of later today
        conn.execute("UPDATE events SET ts = 0 WHERE site_id = 's1'")
    conn.close()
    quiet = admin.get(f"{MOUNT}/settings/sites/example.com/verify")
    assert quiet.context["seconds"] is None  # type: ignore[attr-defined]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET ts = ? WHERE id = (SELECT MIN(id) FROM events "
                     "WHERE site_id = 's1')", (int(datetime.now().timestamp() * 1000) - 5000,))
    conn.close()
    live = admin.get(f"{MOUNT}/settings/sites/example.com/verify")
    assert 0 <= live.context["seconds"] <= 10  # type: ignore[attr-defined]


def test_invite_share_and_token_pages(admin: TestClient, db: Path) -> None:
    invite = admin.post(f"{MOUNT}/settings/sites/example.com/invites", data={"role": "viewer"})
    assert f"{MOUNT}/invite/a941_i_" in invite.context["invite_link"]  # type: ignore[attr-defined]
    admin.post(f"{MOUNT}/settings/sites/example.com/share", data={"name": "Public"})
    page = admin.get(f"{MOUNT}/settings/sites/example.com")
    (link,) = page.context["share_links"]  # type: ignore[attr-defined]
    assert admin.get(f"{MOUNT}/share/{link.id}").status_code == 200
    made = admin.post(f"{MOUNT}/settings/tokens",
                      data={"name": "ci", "site": "s1", "scope": "stats"})
    secret = made.context["new_secret"]  # type: ignore[attr-defined]
    assert secret.startswith("a941_t_") and count(db, "SELECT COUNT(*) FROM api_tokens") == 1
    api = TestClient(admin.app, headers={"Authorization": f"Bearer {secret}"})
    assert api.get(f"{MOUNT}/api/stats?site=example.com").status_code == 200
    listed = admin.get(f"{MOUNT}/settings/tokens")
    (token,) = listed.context["tokens"]  # type: ignore[attr-defined]
    assert token.last_used_at is not None and secret not in listed.text
    admin.post(f"{MOUNT}/settings/tokens/{token.id}/revoke")
    assert api.get(f"{MOUNT}/api/stats?site=example.com").status_code == 401


def test_account_page_lists_sessions_and_revokes(admin: TestClient, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        (user_id,) = conn.execute("SELECT id FROM users").fetchone()
    conn.close()
    # Idle past the default 7 days: it would not open any more, so it is not listed.
    new_session(db, user_id=user_id, idle_ms=8 * 86_400_000)
    page = admin.get(f"{MOUNT}/settings/account")
    (session,) = page.context["sessions"]  # type: ignore[attr-defined]
    assert page.context["current_session"] == session.id  # type: ignore[attr-defined]
    admin.post(f"{MOUNT}/settings/sessions/{session.id}/revoke")
    gone = admin.get(f"{MOUNT}/settings/account", follow_redirects=False)
    assert gone.status_code == 303 and "/login" in gone.headers["location"]


def test_sparkline_points() -> None:
    assert sparkline_points([]) == ""
    assert sparkline_points([0, 2, 1], width=100, height=20) == "0.0,18.0 50.0,2.0 100.0,10.0"


def test_removing_a_passkey_signs_out_every_other_session(admin: TestClient, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        (user_id,) = conn.execute("SELECT id FROM users").fetchone()
        for pid in ("lost-phone", "laptop"):
            conn.execute("INSERT INTO passkeys (id, user_id, name, public_key, sign_count, "
                         "backed_up, created_at) VALUES (?, ?, ?, 'x', 0, 0, 1)",
                         (pid, user_id, pid))
    conn.close()
    # The lost phone is still signed in somewhere.
    phone = TestClient(admin.app, base_url=str(admin.base_url))
    phone.cookies.set("a941_session", new_session(db, user_id=user_id))
    assert phone.get(f"{MOUNT}/settings/account").status_code == 200
    done = admin.post(f"{MOUNT}/settings/passkeys/lost-phone/delete", follow_redirects=False)
    assert done.headers["location"].endswith("/settings/account?signed_out=1")
    page = admin.get(done.headers["location"])
    assert page.context["signed_out"]  # type: ignore[attr-defined]
    assert [p.id for p in page.context["passkeys"]] == ["laptop"]  # type: ignore[attr-defined]
    # This browser stays signed in; the phone's session is gone.
    assert len(page.context["sessions"]) == 1  # type: ignore[attr-defined]
    gone = phone.get(f"{MOUNT}/settings/account", follow_redirects=False)
    assert gone.status_code == 303 and "/login" in gone.headers["location"]
