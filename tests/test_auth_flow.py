"""Passkeys through the HTTP endpoints: first-run setup, logout, login, sign counts, CSRF.

A software authenticator stands in for the browser (the e2e tests use Chromium's virtual one).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import BASE, MOUNT, SETUP_TOKEN, add_user, one_site_db, post, setup_client
from fastapi import FastAPI
from fastapi.testclient import TestClient
from soft_authenticator import SoftAuthenticator

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.auth.crypto import hash_token
from analytics_941.auth.invites import create_invite, find_invite
from analytics_941.exceptions import StoreError
from analytics_941.web.authn import SESSION_COOKIE


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return one_site_db(tmp_path)


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    with setup_client(db) as client:
        yield client


def register_owner(client: TestClient, key: SoftAuthenticator, *, name: str = "Ada") -> Any:
    start = post(client, "/auth/setup/options", {"token": SETUP_TOKEN, "name": name})
    assert start.status_code == 200, start.text
    answer = key.create(start.json()["publicKey"])
    return post(client, "/auth/register/verify", {
        "challenge_id": start.json()["challenge_id"], "credential": answer,
        "passkey_name": "Laptop"})


def login(client: TestClient, key: SoftAuthenticator, **kwargs: Any) -> Any:
    start = post(client, "/auth/login/options", {}).json()
    return post(client, "/auth/login/verify", {
        "challenge_id": start["challenge_id"], "credential": key.get(start["publicKey"], **kwargs),
        "next": f"{MOUNT}/example.com"})


def test_first_run_shows_only_the_setup_page(client: TestClient) -> None:
    for path in ("/", "/example.com", "/login", "/settings/sites"):
        response = client.get(f"{MOUNT}{path}", follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, f"{MOUNT}/setup")
    page = client.get(f"{MOUNT}/setup?token=abc")
    assert page.template.name == "analytics_941/auth/setup.html"  # type: ignore[attr-defined]
    assert page.context["token"] == "abc"  # type: ignore[attr-defined]  # noqa: S105
    api = client.get(f"{MOUNT}/api/stats?site=example.com")
    assert api.status_code == 401 and api.json()["code"] == "unauthenticated"


def test_generated_setup_link_is_logged_at_startup(db: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
    with caplog.at_level(logging.WARNING, logger="analytics_941"), TestClient(app):
        pass
    assert f"{MOUNT}/setup?token=a941_setup_" in caplog.text


def test_wrong_setup_token_is_refused(client: TestClient) -> None:
    response = post(client, "/auth/setup/options", {"token": "nope", "name": "Eve"})
    assert response.status_code == 403
    assert response.json()["code"] == "setup_token_invalid"


def test_setup_logout_login(client: TestClient, db: Path) -> None:
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    done = register_owner(client, key)
    assert done.status_code == 200, done.text
    assert done.json() == {"redirect": f"{MOUNT}/"}
    cookie = done.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=a941_s_" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and f"Path={MOUNT}" in cookie
    assert "Secure" not in cookie  # localhost over http; everywhere else Secure
    with sqlite3.connect(db) as conn:
        users = conn.execute("SELECT name, is_admin FROM users").fetchall()
        stored = conn.execute("SELECT token_hash FROM auth_sessions").fetchall()
        setup_left = conn.execute("SELECT COUNT(*) FROM setup_tokens").fetchone()[0]
    conn.close()
    assert users == [("Ada", 1)]
    assert stored and not stored[0][0].startswith("a941_s_")  # only the hash is stored
    assert setup_left == 0
    # Logged in: the dashboard answers; setup is over.
    assert client.get(f"{MOUNT}/example.com").status_code == 200
    assert client.get(f"{MOUNT}/setup", follow_redirects=False).headers["location"] == (
        f"{MOUNT}/login")
    assert post(client, "/auth/setup/options", {"token": SETUP_TOKEN}).status_code == 409

    page = client.get(f"{MOUNT}/settings/account")
    csrf = page.context["principal"].csrf  # type: ignore[attr-defined]
    out = client.post(f"{MOUNT}/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get(f"{MOUNT}/example.com", follow_redirects=False).headers["location"] == (
        f"{MOUNT}/login?next=%2Fadmin%2Fanalytics%2Fexample.com")

    back = login(client, key)
    assert back.status_code == 200, back.text
    assert back.json() == {"redirect": f"{MOUNT}/example.com"}
    assert client.get(f"{MOUNT}/example.com").status_code == 200
    with sqlite3.connect(db) as conn:
        count = conn.execute("SELECT sign_count FROM passkeys").fetchone()[0]
    conn.close()
    assert count == 1


def join_by_invite(client: TestClient, secret: str, key: SoftAuthenticator) -> Any:
    start = post(client, "/auth/invite/options", {"secret": secret, "name": "Val"})
    assert start.status_code == 200, start.text
    return post(client, "/auth/register/verify", {
        "challenge_id": start.json()["challenge_id"],
        "credential": key.create(start.json()["publicKey"])})


async def test_a_failed_invite_signup_leaves_the_link_unspent(
    client: TestClient, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(db, name="Ada")
    store = SqliteStore(path=db)
    secret, _invite = await create_invite(store, roles={"s1": "viewer"}, created_by=None)
    real_batch = SqliteStore.batch

    async def failing_batch(self: SqliteStore, statements: Any) -> Any:
        # The signup's batch (it starts the session) fails, as a D1 outage would.
        if any(sql.startswith("INSERT INTO auth_sessions") for sql, _ in statements):
            raise StoreError("D1 is down")
        return await real_batch(self, statements)

    monkeypatch.setattr(SqliteStore, "batch", failing_batch)
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    assert join_by_invite(client, secret, key).status_code == 503
    assert (await find_invite(store, secret=secret)).roles == {"s1": "viewer"}
    monkeypatch.setattr(SqliteStore, "batch", real_batch)
    joined = join_by_invite(client, secret, SoftAuthenticator(origin=BASE, rp_id="localhost"))
    assert joined.status_code == 200, joined.text
    with sqlite3.connect(db) as conn:
        users = conn.execute("SELECT name FROM users ORDER BY name").fetchall()
        roles = conn.execute("SELECT role FROM site_members").fetchall()
    conn.close()
    assert (users, roles) == ([("Ada",), ("Val",)], [("viewer",)])
    again = post(client, "/auth/invite/options", {"secret": secret, "name": "Eve"})
    assert (again.status_code, again.json()["code"]) == (404, "invite_invalid")


def test_the_setup_challenge_stores_only_the_setup_token_hash(
    client: TestClient, db: Path
) -> None:
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    start = post(client, "/auth/setup/options", {"token": SETUP_TOKEN, "name": "Ada"}).json()
    with sqlite3.connect(db) as conn:
        (context,) = conn.execute("SELECT context FROM challenges").fetchone()
    conn.close()
    assert SETUP_TOKEN not in context
    assert json.loads(context)["token_hash"] == hash_token(SETUP_TOKEN)
    done = post(client, "/auth/register/verify", {
        "challenge_id": start["challenge_id"], "credential": key.create(start["publicKey"])})
    assert done.status_code == 200, done.text


def test_sign_count_going_backwards_is_refused(client: TestClient) -> None:
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    register_owner(client, key)
    client.cookies.clear()
    assert login(client, key, sign_count=5).status_code == 200
    client.cookies.clear()
    cloned = login(client, key, sign_count=5)
    assert cloned.status_code == 400
    assert "sign count" in cloned.json()["message"]


def test_challenge_is_single_use_and_bound_to_its_purpose(client: TestClient) -> None:
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    register_owner(client, key)
    start = post(client, "/auth/login/options", {}).json()
    answer = key.get(start["publicKey"])
    body = {"challenge_id": start["challenge_id"], "credential": answer}
    assert post(client, "/auth/login/verify", body).status_code == 200
    replay = post(client, "/auth/login/verify", body)
    assert replay.json()["code"] == "challenge_invalid"
    # A login challenge cannot finish a registration.
    start = post(client, "/auth/login/options", {}).json()
    forged = key.create(start["publicKey"] | {"user": {"id": "x"}})
    wrong = post(client, "/auth/register/verify",
                 {"challenge_id": start["challenge_id"], "credential": forged})
    assert wrong.json()["code"] == "challenge_invalid"


def test_wrong_origin_and_missing_csrf_token_are_refused(client: TestClient) -> None:
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    register_owner(client, key)
    evil = client.post(f"{MOUNT}/auth/login/options", json={},
                       headers={"Origin": "https://evil.example"})
    assert (evil.status_code, evil.json()["code"]) == (403, "csrf")
    no_token = client.post(f"{MOUNT}/logout", follow_redirects=False)
    assert no_token.status_code == 403
    assert client.get(f"{MOUNT}/example.com").status_code == 200  # still logged in
    phished = SoftAuthenticator(origin="https://evil.example", rp_id="localhost")
    phished.credentials = key.credentials
    client.cookies.clear()
    assert login(client, phished).status_code == 400


def test_login_is_rate_limited_per_client(db: Path) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent, login_rate_limit=3))
    with TestClient(app, base_url=BASE, headers={"Origin": BASE}) as client:
        codes = [post(client, "/auth/login/options", {}).status_code for _ in range(4)]
        last = post(client, "/auth/login/options", {})
    assert codes == [200, 200, 200, 429]
    assert 0 < int(last.headers["Retry-After"]) <= 600
