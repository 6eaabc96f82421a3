"""Pending invites in site settings: listed, revocable by an admin of the site, and a revoked
link refuses with a message saying so."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from auth_support import BASE, MOUNT, add_user, one_site_db, post, sign_in, signed_in_admin
from fastapi.testclient import TestClient

from analytics_941.auth.errors import AuthError
from analytics_941.auth.invites import create_invite, find_invite, list_invites
from analytics_941.sqlite_store import SqliteStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return one_site_db(tmp_path)


@pytest.fixture
def admin(db: Path) -> TestClient:
    return signed_in_admin(db)


def invite_link(admin: TestClient, role: str = "viewer") -> str:
    page = admin.post(f"{MOUNT}/settings/sites/example.com/invites", data={"role": role})
    return str(page.context["invite_link"])  # type: ignore[attr-defined]


def test_a_revoked_invite_no_longer_opens(admin: TestClient, db: Path) -> None:
    link = invite_link(admin)
    secret = link.rsplit("/", 1)[1]
    page = admin.get(f"{MOUNT}/settings/sites/example.com")
    [pending] = page.context["invites"]  # type: ignore[attr-defined]
    assert (pending.role, pending.created_by) == ("viewer", "Ada")
    assert f"/invites/{pending.id}/revoke" in page.text

    revoked = admin.post(f"{MOUNT}/settings/sites/example.com/invites/{pending.id}/revoke",
                         follow_redirects=False)
    assert revoked.status_code == 303
    assert admin.get(f"{MOUNT}/settings/sites/example.com").context["invites"] == []  # type: ignore[attr-defined]

    visitor = TestClient(admin.app, base_url=BASE, headers={"Origin": BASE})
    opened = visitor.get(f"{MOUNT}/invite/{secret}")
    assert opened.status_code == 404
    assert "This invite was withdrawn." in opened.text
    started = post(visitor, "/auth/invite/options", {"secret": secret, "name": "Val"})
    assert (started.status_code, started.json()["code"]) == (404, "invite_revoked")


def test_revoking_for_one_site_keeps_the_invite_to_the_others(db: Path) -> None:
    store = SqliteStore(path=db)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO sites (id, domain, name, created_at) "
                     "VALUES ('s2', 'other.org', 'Other', 0)")
    conn.close()
    secret, invite = asyncio.run(create_invite(store, roles={"s1": "viewer", "s2": "admin"},
                                               created_by=None))
    admin = signed_in_admin(db)
    admin.post(f"{MOUNT}/settings/sites/example.com/invites/{invite.id}/revoke")
    assert asyncio.run(find_invite(store, secret=secret)).roles == {"s2": "admin"}
    assert asyncio.run(list_invites(store, site_id="s1")) == []
    admin.post(f"{MOUNT}/settings/sites/other.org/invites/{invite.id}/revoke")
    with pytest.raises(AuthError) as gone:
        asyncio.run(find_invite(store, secret=secret))
    assert gone.value.code == "invite_revoked"


def test_an_admin_cannot_revoke_an_owners_invite(db: Path) -> None:
    store = SqliteStore(path=db)
    secret, invite = asyncio.run(create_invite(store, roles={"s1": "owner"}, created_by=None))
    client = TestClient(signed_in_admin(db).app, base_url=BASE)
    sign_in(client, db, user_id=add_user(db, name="Bo", is_admin=False, roles={"s1": "admin"}))
    page = client.get(f"{MOUNT}/settings/sites/example.com")
    assert f"/invites/{invite.id}/revoke" not in page.text
    refused = client.post(f"{MOUNT}/settings/sites/example.com/invites/{invite.id}/revoke")
    assert refused.status_code == 403
    assert asyncio.run(find_invite(store, secret=secret)).roles == {"s1": "owner"}


def test_used_and_expired_links_say_which(db: Path) -> None:
    store = SqliteStore(path=db)
    secret, _ = asyncio.run(create_invite(store, roles={"s1": "viewer"}, created_by=None,
                                          ttl_ms=-1))
    with pytest.raises(AuthError) as expired:
        asyncio.run(find_invite(store, secret=secret))
    assert "expired" in expired.value.message
    with pytest.raises(AuthError) as unknown:
        asyncio.run(find_invite(store, secret="a941_i_nothing"))  # noqa: S106
    assert "copied whole" in unknown.value.message
