"""Test helpers for an authenticated dashboard: users, memberships and sessions written straight
into a SQLite file, and a TestClient carrying the session cookie.

For tests of other features that only need "a logged-in user" (passkey ceremonies are covered by
tests/test_auth_*.py and the e2e tests). Also: a one-site dashboard before its first user, for the
ceremony tests; the route walker the isolation and CSRF tests share; and a D1 HTTP API emulator
for counting D1 requests.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from seeding import apply_schema

from analytics_941 import Settings, setup_analytics
from analytics_941.auth.crypto import hash_token, new_id, new_secret
from analytics_941.auth.csrf import csrf_token
from analytics_941.auth.sessions import SESSION_PREFIX
from analytics_941.web.authn import SESSION_COOKIE

MOUNT = "/admin/analytics"
SETUP_TOKEN = "let-me-in-0123456789"  # noqa: S105
BASE = "http://localhost"
D1_URL = "https://api.cloudflare.com/client/v4/accounts/acc/d1/database/db/query"


def one_site_db(folder: Path) -> Path:
    """A database in ``folder`` with the schema and one site (s1, example.com), and no user."""
    path = apply_schema(folder / "d1.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO sites (id, domain, name, created_at) "
                     "VALUES ('s1', 'example.com', 'Example', 0)")
    conn.close()
    return path


@contextmanager
def setup_client(db: Path) -> Iterator[TestClient]:
    """A client of a dashboard over ``db`` whose setup token is ``SETUP_TOKEN``, sending the
    dashboard's own Origin (ceremonies check it)."""
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent,
                                  setup_token=SETUP_TOKEN))  # type: ignore[arg-type]
    with TestClient(app, base_url=BASE, headers={"Origin": BASE}) as client:
        yield client


def post(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    """POST ``body`` as JSON to ``path`` under the mount."""
    return client.post(f"{MOUNT}{path}", json=body)


def add_user(db: Path, *, name: str = "Ada", is_admin: bool = True,
             roles: dict[str, str] | None = None) -> str:
    """Insert a user (with ``{site_id: role}`` memberships) and return their id."""
    user_id = new_id()
    now = int(time.time() * 1000)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO users (id, name, handle, is_admin, created_at) "
                     "VALUES (?, ?, ?, ?, ?)", (user_id, name, new_id(), int(is_admin), now))
        for site_id, role in (roles or {}).items():
            conn.execute("INSERT INTO site_members (site_id, user_id, role, created_at) "
                         "VALUES (?, ?, ?, ?)", (site_id, user_id, role, now))
    conn.close()
    return user_id


def new_session(db: Path, *, user_id: str, age_ms: int = 0, idle_ms: int = 0,
                lifetime_ms: int = 86_400_000) -> str:
    """Insert a session for ``user_id`` and return its cookie token."""
    token = new_secret(SESSION_PREFIX)
    now = int(time.time() * 1000)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO auth_sessions (token_hash, id, user_id, user_agent, created_at, "
            "last_seen_at, expires_at) VALUES (?, ?, ?, 'pytest', ?, ?, ?)",
            (hash_token(token), new_id(), user_id, now - age_ms, now - idle_ms,
             now - age_ms + lifetime_ms),
        )
    conn.close()
    return token


def sign_in(client: TestClient, db: Path, *, user_id: str | None = None) -> str:
    """Log ``client`` in (as a new administrator unless ``user_id``); return its CSRF token.

    The client also sends ``Origin`` and ``X-CSRF-Token`` headers from now on, like a page of
    the dashboard would.
    """
    user_id = user_id or add_user(db)
    token = new_session(db, user_id=user_id)
    client.cookies.set(SESSION_COOKIE, token)
    csrf = csrf_token(token)
    client.headers["Origin"] = str(client.base_url).rstrip("/")
    client.headers["X-CSRF-Token"] = csrf
    return csrf


def signed_in_client(app: object, db: Path | None) -> TestClient:
    """A TestClient for ``app`` logged in as a new administrator of the SQLite file ``db``."""
    assert db is not None
    client = TestClient(app)  # type: ignore[arg-type]
    sign_in(client, db)
    return client


def mounted_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """(path, methods) of every dashboard route mounted in ``app``."""
    found: list[tuple[str, set[str]]] = []
    for item in app.routes:
        # FastAPI >= 0.16x keeps included routers nested; older versions flatten them.
        contexts = (item.effective_route_contexts() if hasattr(item, "effective_route_contexts")
                    else [item] if isinstance(item, APIRoute) else [])
        for route in contexts:
            if route.path.startswith(MOUNT):
                found.append((route.path, set(route.methods or ())))
    return found


def fill(path: str, domain: str) -> str:
    """``path`` with ``{domain}`` set and any other parameter a harmless placeholder."""
    # The site and CSRF checks come before any handler looks at the other parameters.
    out = path.replace("{domain}", domain)
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + "x" + out[end + 1:]
    return out


def d1_emulator(db: Path, log: list[list[str]]) -> Callable[[httpx.Request], httpx.Response]:
    """A pytest-httpx callback answering D1's ``/query`` (single and batch forms) from the SQLite
    file ``db``: one transaction per request, every parameter a string as Cloudflare's API types
    them, Cloudflare's envelope around the rows. Each request's SQL is appended to ``log``."""

    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        statements = body.get("batch", [body])
        log.append([statement["sql"] for statement in statements])
        conn = sqlite3.connect(db, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("BEGIN")
            results = []
            for statement in statements:
                params = [None if p is None else str(p) for p in statement["params"]]
                rows = [dict(r) for r in conn.execute(statement["sql"], params).fetchall()]
                results.append({"success": True, "results": rows, "meta": {}})
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            error = {"code": 7500, "message": str(exc)}
            return httpx.Response(400, json={"success": False, "errors": [error], "result": []})
        finally:
            conn.close()
        return httpx.Response(
            200, json={"success": True, "errors": [], "messages": [], "result": results}
        )

    return respond


def signed_in_admin(db: Path) -> TestClient:
    """A dashboard over ``db`` (its folder as the project) with an administrator signed in."""
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
    client = TestClient(app, base_url="http://localhost")
    sign_in(client, db)
    return client
