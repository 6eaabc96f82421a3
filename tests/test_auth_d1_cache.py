"""The D1 request budget of a dashboard view, and the lookup caches that keep it.

Against a mocked Cloudflare D1 HTTP API (answering from a real SQLite file): a dashboard view
with a warm session costs at most two D1 requests, an API client polling with a token its rate-limit
count and the query, and whatever ends a session, revokes a token, takes a role away or edits a
site in this process takes effect on the very next request.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from auth_support import D1_URL, MOUNT, add_user, d1_emulator, new_session, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pytest_httpx import HTTPXMock

from analytics_941 import D1HttpStore, Settings, SqliteStore, setup_analytics
from analytics_941.auth.api_tokens import create_token
from analytics_941.auth.sessions import load_session, revoke_session
from analytics_941.cache import caches_of
from analytics_941.sites import get_site
from analytics_941.ttl_cache import TtlCache

BASE = "http://localhost"


@pytest.fixture
def log(db: Path, httpx_mock: HTTPXMock) -> list[list[str]]:
    """The SQL of every D1 request, one list per request."""
    requests: list[list[str]] = []
    httpx_mock.add_callback(d1_emulator(db, requests), url=D1_URL, is_reusable=True)
    return requests


@pytest.fixture
def app(db: Path, log: list[list[str]]) -> FastAPI:
    app = FastAPI()
    setup_analytics(app, Settings(
        store="d1", cf_account_id="acc", cf_api_token=SecretStr("t"), d1_database_id="db",
        project_dir=db.parent, secret=SecretStr("a-test-secret-of-at-least-32-bytes"),
    ))
    return app


def client_of(app: FastAPI, db: Path, user_id: str) -> TestClient:
    client = TestClient(app, base_url=BASE)
    sign_in(client, db, user_id=user_id)
    return client


def test_a_dashboard_view_costs_at_most_two_d1_requests(
    app: FastAPI, db: Path, log: list[list[str]]
) -> None:
    viewer = client_of(app, db, add_user(db, name="Val", is_admin=False, roles={"s1": "viewer"}))

    def cost(path: str) -> int:
        before = len(log)
        response = viewer.get(path)
        assert response.status_code == 200, response.text
        return len(log) - before

    # Cold: the session with its roles in one batch, then the site.
    assert cost(f"{MOUNT}/example.com/realtime/token") == 2
    # Session and site warm: a view is its stats batch, and the same view again nothing.
    assert cost(f"{MOUNT}/example.com") == 1
    assert cost(f"{MOUNT}/example.com") == 0
    assert cost(f"{MOUNT}/example.com/realtime/token") == 0
    # Another period, still one batch.
    assert cost(f"{MOUNT}/example.com?period=7d") == 1


def test_a_view_with_a_cold_session_costs_three_and_the_next_none(
    app: FastAPI, db: Path, log: list[list[str]]
) -> None:
    viewer = client_of(app, db, add_user(db, is_admin=False, roles={"s1": "viewer"}))
    assert viewer.get(f"{MOUNT}/example.com").status_code == 200
    assert len(log) == 3  # session + roles, site, stats
    assert viewer.get(f"{MOUNT}/example.com").status_code == 200
    assert len(log) == 3


def test_revocations_in_this_process_act_on_the_next_request(
    app: FastAPI, db: Path, log: list[list[str]]
) -> None:
    val = add_user(db, name="Val", is_admin=False, roles={"s1": "viewer"})
    viewer, admin = client_of(app, db, val), client_of(app, db, add_user(db))
    page = f"{MOUNT}/example.com"
    assert viewer.get(page).status_code == 200
    # A role taken away: the cached session loses the site at once.
    admin.post(f"{MOUNT}/settings/sites/example.com/members/{val}/remove")
    assert viewer.get(page).status_code == 404
    # A site edit shows at once.
    admin.post(f"{MOUNT}/settings/sites/example.com", data={"name": "Renamed", "timezone": "UTC"})
    assert admin.get(page).context["site"].name == "Renamed"  # type: ignore[attr-defined]
    # Logging out ends the cached session too (a copy of the cookie opens nothing).
    cookie = admin.cookies["a941_session"]
    admin.post(f"{MOUNT}/logout")
    admin.cookies.set("a941_session", cookie)
    assert admin.get(page, follow_redirects=False).status_code == 303
    # Revoking a session from another session of the same user.
    other = client_of(app, db, val)
    account = other.get(f"{MOUNT}/settings/account").context  # type: ignore[attr-defined]
    (viewers,) = [s.id for s in account["sessions"] if s.id != account["current_session"]]
    other.post(f"{MOUNT}/settings/sessions/{viewers}/revoke")
    assert viewer.get(f"{MOUNT}/settings/account", follow_redirects=False).status_code == 303


async def test_a_revocation_made_elsewhere_acts_within_the_ttl(
    db: Path, log: list[list[str]]
) -> None:
    store = D1HttpStore(account_id="acc", database_id="db", api_token="t")  # noqa: S106
    token = new_session(db, user_id=add_user(db))
    assert await load_session(store, token=token, idle_ms=3_600_000) is not None
    assert await load_session(store, token=token, idle_ms=3_600_000) is not None
    assert len(log) == 1
    # Deleted by another process: this one still believes the session for the TTL…
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM auth_sessions")
    conn.close()
    assert await load_session(store, token=token, idle_ms=3_600_000) is not None
    # …and asks D1 again once the entry is gone.
    store.caches.sessions.clear()
    assert await load_session(store, token=token, idle_ms=3_600_000) is None
    # Misses are never kept, so a session or site created elsewhere is seen at once.
    assert await get_site(store, domain="example.com") is not None
    assert await get_site(store, domain="new.example") is None
    await revoke_session(store, token=token)
    await store.aclose()


def test_lookup_entries_expire_after_their_ttl() -> None:
    now = [0.0]
    cache: TtlCache[str, str] = TtlCache(ttl_s=30, max_entries=2, clock=lambda: now[0])
    cache.put("a", "A")
    now[0] = 29.9
    assert cache.get("a") == "A"
    now[0] = 30.0
    assert cache.get("a") is None
    for key in "bcd":
        cache.put(key, key.upper())
    assert [cache.get(k) for k in "bcd"] == [None, "C", "D"]  # least recently used out
    cache.discard(lambda _key, value: value == "C")
    assert cache.get("c") is None and cache.get("d") == "D"


def test_a_sqlite_store_gets_no_lookup_cache(db: Path) -> None:
    # A local file answers fresh, and its revocations must act at once in every process.
    assert caches_of(SqliteStore(path=db)) is None


async def test_a_polling_api_client_costs_its_rate_limit_count_and_the_query(
    app: FastAPI, db: Path, log: list[list[str]]
) -> None:
    admin_id = add_user(db)
    val = add_user(db, name="Val", is_admin=False, roles={"s1": "viewer"})
    admin = client_of(app, db, admin_id)
    tokens = {}
    for owner in (admin_id, val):
        secret, token = await create_token(SqliteStore(path=db), name="poll", user_id=owner,
                                           site_ids=["s1"], scopes=["stats"])
        tokens[owner] = (TestClient(app, base_url=BASE,
                                    headers={"Authorization": f"Bearer {secret}"}), token.id)
    body = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"}

    def cost(client: TestClient, status: int = 200) -> int:
        before = len(log)
        response = client.post(f"{MOUNT}/api/v2/query", json=body)
        assert response.status_code == status, response.text
        return len(log) - before

    poller, token_id = tokens[admin_id]
    assert cost(poller) >= 4  # the token, its use stamp, its owner, the count, the site, the query
    # Warm: the rate-limit count alone (the result is cached too), then a fresh query's batch.
    assert cost(poller) == 1
    body["date_range"] = "30d"
    assert cost(poller) == 2
    # A revocation in this process acts on the very next request…
    admin.post(f"{MOUNT}/settings/tokens/{token_id}/revoke")
    assert cost(poller, status=401) == 1
    # …and so does a role taken from a token's owner.
    viewer, _ = tokens[val]
    cost(viewer)
    admin.post(f"{MOUNT}/settings/sites/example.com/members/{val}/remove")
    cost(viewer, status=404)


async def test_each_store_carries_its_own_caches(db: Path, log: list[list[str]]) -> None:
    # Owned by the store, not by a module: a second store (another database) starts cold.
    first, second = (
        D1HttpStore(account_id="acc", database_id="db", api_token="t")  # noqa: S106
        for _ in range(2)
    )
    assert caches_of(first) is first.caches and first.caches is not second.caches
    token = new_session(db, user_id=add_user(db))
    for store in (first, first, second, second):
        assert await load_session(store, token=token, idle_ms=3_600_000) is not None
    assert len(log) == 2
    await first.aclose()
    await second.aclose()
