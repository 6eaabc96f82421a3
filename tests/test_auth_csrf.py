"""Request forgery: every state-changing route of the mounted app refuses a request that lacks the
dashboard's Origin, and every route behind a session also one that lacks the CSRF token.

The routes are found by walking the app, so a POST route added later is covered without
touching this file; a new route that works without a session must be listed in ``SESSIONLESS``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from auth_support import MOUNT, fill, mounted_routes, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from analytics_941 import Settings, setup_analytics

BASE = "http://localhost"
# Routes that take no session (login, setup, invites, share passwords): the Origin check only.
SESSIONLESS = {
    f"{MOUNT}/auth/setup/options",
    f"{MOUNT}/auth/invite/options",
    f"{MOUNT}/auth/register/verify",
    f"{MOUNT}/auth/login/options",
    f"{MOUNT}/auth/login/verify",
    f"{MOUNT}/share/{{slug}}/password",
}
# Routes whose POST carries its own signed authority and is posted by servers, not browsers (RFC
# 8058's one-click unsubscribe of a report or alert mail, reports.md): no Origin check; without a
# valid token they refuse (400) and change nothing.
SIGNED = {f"{MOUNT}/reports/unsubscribe"}


@pytest.fixture
def client(db: Path) -> TestClient:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
    client = TestClient(app, base_url=BASE)
    sign_in(client, db)
    return client


def state_changing(app: FastAPI) -> list[tuple[str, str]]:
    routes = [(method, path) for path, methods in mounted_routes(app)
              for method in sorted(methods - {"GET", "HEAD", "OPTIONS"})]
    assert len(routes) >= 15, routes
    return routes


def refusal(response: httpx.Response) -> tuple[int, str]:
    """(status, message) of an answer: JSON errors and HTML error pages alike."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, response.json()["message"]
    context = getattr(response, "context", None) or {}
    return response.status_code, str(context.get("message", ""))


# What check_origin and check_token say (analytics_941.auth.csrf).
CSRF_MESSAGES = ("This request came from another site, so it was refused.",
                 "The browser did not say which page sent this request, so it was refused.",
                 "This page is out of date. Reload it and try again.")


def test_every_state_changing_route_needs_the_origin_and_the_csrf_token(
    client: TestClient,
) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    csrf = client.headers.pop("X-CSRF-Token")
    client.headers.pop("Origin")
    for method, route in state_changing(app):
        path = fill(route, "example.com")
        if route in SIGNED:
            for headers in ({}, {"Origin": "https://evil.example"}):
                response = client.request(method, path, headers=headers)
                assert response.status_code == 400, (method, route, headers)
            continue
        for headers in ({}, {"Origin": "https://evil.example", "X-CSRF-Token": csrf}):
            refused = client.request(method, path, headers=headers, follow_redirects=False)
            status, message = refusal(refused)
            assert status == 403 and message in CSRF_MESSAGES[:2], (method, route, headers)
        if route in SESSIONLESS:
            continue
        for headers in ({"Origin": BASE}, {"Origin": BASE, "X-CSRF-Token": "0" * 40}):
            refused = client.request(method, path, headers=headers, follow_redirects=False)
            assert refusal(refused) == (403, CSRF_MESSAGES[2]), (method, route, headers)
    # And the same session with both passes (so the 403s above are the checks, not a blanket).
    out = client.post(f"{MOUNT}/logout", headers={"Origin": BASE, "X-CSRF-Token": csrf},
                      follow_redirects=False)
    assert out.status_code == 303
