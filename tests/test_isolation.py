"""Tenant isolation: a user, API token or share link of site A can never read site B.

Every dashboard route naming a site — found by walking the app's routes, so routes added later
are covered too — is requested for a site the caller may not see, and must answer 404 exactly as
for a site that does not exist.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from auth_support import MOUNT, add_user, fill, mounted_routes, sign_in
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from seeding import seed

from analytics_941 import Settings, setup_analytics
from analytics_941.auth.api_tokens import create_token
from analytics_941.auth.errors import AuthError
from analytics_941.auth.principal import STATE_PRINCIPAL, STATE_SITE, Principal
from analytics_941.auth.share_links import create_share_link
from analytics_941.sqlite_store import SqliteStore
from analytics_941.web.api import make_api_router
from analytics_941.web.authn import AuthContext
from analytics_941.web.guard import make_route_class

TZ = "Europe/Berlin"
BASE = "http://localhost"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return seed(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo(TZ)).date(), timezone=TZ)


@pytest.fixture
def app(db: Path) -> FastAPI:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
    return app


@pytest.fixture
def viewer_a(app: FastAPI, db: Path) -> TestClient:
    """A viewer of example.com (s1) only."""
    client = TestClient(app, base_url=BASE)
    sign_in(client, db, user_id=add_user(db, name="Val", is_admin=False, roles={"s1": "viewer"}))
    return client


def site_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """(path, methods) of every dashboard route with a ``{domain}`` parameter."""
    return [(path, methods) for path, methods in mounted_routes(app) if "{domain}" in path]


def test_every_site_route_hides_other_sites(app: FastAPI, viewer_a: TestClient) -> None:
    routes = site_routes(app)
    assert len(routes) >= 5
    for route_path, methods in routes:
        for method in methods:
            path = fill(route_path, "other.org")
            response = viewer_a.request(method, path, headers={"HX-Request": "true"})
            assert response.status_code == 404, (method, route_path, response.status_code)
            missing = viewer_a.request(method, fill(route_path, "missing.example"))
            assert missing.status_code == 404, (method, route_path)


def test_pages_partials_and_api_for_a_visible_site(viewer_a: TestClient) -> None:
    assert viewer_a.get(f"{MOUNT}/example.com").status_code == 200
    assert viewer_a.get(f"{MOUNT}/example.com?period=7d",
                        headers={"HX-Request": "true"}).status_code == 200
    assert viewer_a.get(f"{MOUNT}/api/stats?site=example.com").status_code == 200
    other = viewer_a.get(f"{MOUNT}/api/stats?site=other.org")
    assert other.status_code == 404 and other.json()["code"] == "site_not_found"
    body = {"site_id": "other.org", "metrics": ["visitors"], "date_range": "7d"}
    assert viewer_a.post(f"{MOUNT}/api/v2/query", json=body).status_code == 404


V2 = f"{MOUNT}/api/v2/query"
FOREIGN = json.dumps({"site_id": "other.org", "metrics": ["visitors"], "date_range": "7d"})


@pytest.mark.parametrize(("url", "headers"), [
    (V2, {"Content-Type": "text/plain"}),
    (V2, {}),
    (f"{V2}?site=example.com", {"Content-Type": "application/json"}),
    (f"{V2}?site=example.com", {"Content-Type": "text/plain"}),
])
def test_api_body_naming_another_site_is_not_found(
    viewer_a: TestClient, url: str, headers: dict[str, str]
) -> None:
    # The API parses any body as JSON, so the site it answers for is checked whatever the
    # Content-Type, and whatever other site the query string names.
    response = viewer_a.post(url, content=FOREIGN, headers=headers)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "site_not_found"


async def test_api_token_body_naming_another_site_is_not_found(app: FastAPI, db: Path) -> None:
    secret, _ = await create_token(SqliteStore(path=db), name="a", user_id=None,
                                   site_ids=["s1"], scopes=["stats"])
    client = TestClient(app, base_url=BASE, headers={"Authorization": f"Bearer {secret}"})
    mine = json.dumps({"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"})
    assert client.post(V2, content=mine, headers={"Content-Type": "text/plain"}).status_code == 200
    for url, headers in [(V2, {"Content-Type": "text/plain"}), (V2, {}),
                         (f"{V2}?site=example.com", {"Content-Type": "application/json"})]:
        response = client.post(url, content=FOREIGN, headers=headers)
        assert response.status_code == 404, (url, headers, response.text)


def test_the_api_checks_the_site_it_answers_for_by_itself(db: Path) -> None:
    # Behind a route class that checks nothing, the API still refuses a site the caller may not
    # see: its own check does not depend on what the guard happened to look at.
    class SignedIn(APIRoute):
        def get_route_handler(self):  # type: ignore[no-untyped-def]
            handler = super().get_route_handler()

            async def as_viewer_of_s1(request: Request) -> Response:
                principal = Principal(kind="user", roles={"s1": "viewer"})
                setattr(request.state, STATE_PRINCIPAL, principal)
                return await handler(request)

            return as_viewer_of_s1

    app = FastAPI()
    app.include_router(make_api_router(store=SqliteStore(path=db), route_class=SignedIn))
    client = TestClient(app)
    assert client.get("/api/stats?site=example.com").status_code == 200
    for domain in ("other.org", "missing.example"):
        # No guard here to turn the error into a response: it reaches the test.
        with pytest.raises(AuthError) as refused:
            client.post("/api/v2/query", json={"site_id": domain, "metrics": ["visitors"]})
        assert (refused.value.status, refused.value.code) == (404, "site_not_found")


def test_the_guard_checks_every_site_a_request_names(db: Path) -> None:
    # Any route of the route class gets this, not just the API: a handler that reads the body's
    # site_id, even without a JSON Content-Type, never sees a site the caller may not.
    settings = Settings(sqlite_path=db, project_dir=db.parent)
    auth = AuthContext(store=SqliteStore(path=db), settings=settings)
    route_class = make_route_class(kind="api", auth=auth,
                                   render_error=lambda *_: Response(status_code=500))
    router = APIRouter(route_class=route_class)

    @router.post(f"{MOUNT}/probe")
    async def probe(request: Request) -> dict[str, str]:
        return {"site": getattr(request.state, STATE_SITE).domain}

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app, base_url=BASE)
    sign_in(client, db, user_id=add_user(db, is_admin=False, roles={"s1": "viewer"}))
    mine = json.dumps({"site_id": "example.com"})
    assert client.post(f"{MOUNT}/probe", content=mine).json() == {"site": "example.com"}
    for url in (f"{MOUNT}/probe", f"{MOUNT}/probe?site=example.com"):
        for headers in ({}, {"Content-Type": "text/plain"}):
            response = client.post(url, content=FOREIGN, headers=headers)
            assert response.status_code == 404, (url, headers)
    assert client.post(f"{MOUNT}/probe?site=other.org", content=mine).status_code == 404


def test_a_deeply_nested_body_is_a_bad_request(viewer_a: TestClient) -> None:
    response = viewer_a.post(V2, content="[" * 50_000, headers={"Content-Type": "text/plain"})
    assert response.status_code == 400


def test_site_lists_show_only_visible_sites(viewer_a: TestClient) -> None:
    grid = viewer_a.get(f"{MOUNT}/settings/sites")
    assert [c.site.domain for c in grid.context["cards"]] == ["example.com"]  # type: ignore[attr-defined]
    listing = viewer_a.get(f"{MOUNT}/", follow_redirects=False)
    if listing.status_code == 200:
        assert [s.domain for s in listing.context["sites"]] == ["example.com"]  # type: ignore[attr-defined]
    else:
        assert listing.headers["location"] == f"{MOUNT}/example.com"
    tokens = viewer_a.get(f"{MOUNT}/settings/tokens")
    assert [s.domain for s in tokens.context["sites"]] == ["example.com"]  # type: ignore[attr-defined]
    forged = viewer_a.post(f"{MOUNT}/settings/tokens",
                           data={"name": "x", "site": "s2", "scope": "stats"})
    assert forged.status_code == 400


def test_viewers_cannot_change_settings(viewer_a: TestClient) -> None:
    assert viewer_a.get(f"{MOUNT}/settings/sites/example.com").status_code == 403
    for path in ("", "/delete", "/invites", "/share"):
        response = viewer_a.post(f"{MOUNT}/settings/sites/example.com{path}",
                                 data={"confirm": "example.com", "role": "viewer"})
        assert response.status_code == 403, path
    assert viewer_a.post(f"{MOUNT}/settings/sites",
                         data={"domain": "new.example"}).status_code == 403


async def test_api_token_reaches_only_its_sites(app: FastAPI, db: Path) -> None:
    store = SqliteStore(path=db)
    secret, _ = await create_token(store, name="a", user_id=None, site_ids=["s1"],
                                   scopes=["stats"])
    client = TestClient(app, base_url=BASE, headers={"Authorization": f"Bearer {secret}"})
    assert client.get(f"{MOUNT}/api/stats?site=example.com").status_code == 200
    assert client.get(f"{MOUNT}/api/stats?site=other.org").status_code == 404
    assert client.get(f"{MOUNT}/other.org").status_code == 404
    # Tokens never open settings, and never change anything.
    assert client.get(f"{MOUNT}/settings/tokens").status_code == 403
    assert client.post(f"{MOUNT}/settings/sites/example.com/delete").status_code == 403
    # A viewer's token loses what the viewer loses.
    user = add_user(db, is_admin=False, roles={"s1": "viewer"})
    mine, _ = await create_token(store, name="b", user_id=user, site_ids=["s1"], scopes=["stats"])
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM site_members WHERE user_id = ?", (user,))
    conn.close()
    lost = client.get(f"{MOUNT}/api/stats?site=example.com",
                      headers={"Authorization": f"Bearer {mine}"})
    assert lost.status_code == 404


async def test_csv_export_with_a_bearer_token(app: FastAPI, db: Path) -> None:
    store = SqliteStore(path=db)

    async def bearer(site_id: str, scope: str) -> dict[str, str]:
        secret, _ = await create_token(store, name=scope, user_id=None, site_ids=[site_id],
                                       scopes=[scope])
        return {"Authorization": f"Bearer {secret}"}

    client = TestClient(app, base_url=BASE)
    url = f"{MOUNT}/example.com/export?period=7d"
    export = client.get(url, headers=await bearer("s1", "export"))
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    stats_only = client.get(url, headers=await bearer("s1", "stats"))
    # A token's caller is a program: errors come as JSON, as from the API.
    assert stats_only.status_code == 403
    assert stats_only.json() == {"code": "insufficient_scope",
                                 "message": "This API token lacks the 'export' scope."}
    other_site = client.get(url, headers=await bearer("s2", "export"))
    assert other_site.status_code == 404 and other_site.json()["code"] == "site_not_found"
    bad = client.get(f"{url}&f=is,nope,x", headers=await bearer("s1", "export"))
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_f", bad.text
    # A browser (no bearer) still gets the page.
    assert client.get(url).status_code in (303, 200)


async def test_token_scope_follows_the_route_not_the_site_name(app: FastAPI, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO sites (id, domain, name, created_at) "
                     "VALUES ('s3', 'export.example', 'Export', 0)")
    conn.close()
    store = SqliteStore(path=db)
    stats, _ = await create_token(store, name="s", user_id=None, site_ids=["s3"],
                                  scopes=["stats"])
    export, _ = await create_token(store, name="e", user_id=None, site_ids=["s3"],
                                   scopes=["export"])
    client = TestClient(app, base_url=BASE)
    page = f"{MOUNT}/export.example"
    assert client.get(page, headers={"Authorization": f"Bearer {stats}"}).status_code == 200
    assert client.get(page, headers={"Authorization": f"Bearer {export}"}).status_code == 403
    csv = f"{page}/export"
    assert client.get(csv, headers={"Authorization": f"Bearer {export}"}).status_code == 200
    assert client.get(csv, headers={"Authorization": f"Bearer {stats}"}).status_code == 403


async def test_token_scope_and_rate_limit(db: Path) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent, api_rate_limit=2))
    secret, _ = await create_token(SqliteStore(path=db), name="a", user_id=None,
                                   site_ids=["s1"], scopes=["export"])
    client = TestClient(app, base_url=BASE, headers={"Authorization": f"Bearer {secret}"})
    scope = client.get(f"{MOUNT}/api/stats?site=example.com")
    assert (scope.status_code, scope.json()["code"]) == (403, "insufficient_scope")
    client.get(f"{MOUNT}/api/stats?site=example.com")
    limited = client.get(f"{MOUNT}/api/stats?site=example.com")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    bad = client.get(f"{MOUNT}/api/stats?site=example.com",
                     headers={"Authorization": "Bearer a941_t_nope"})
    assert bad.status_code == 401


async def test_share_link_shows_one_site_and_nothing_else(app: FastAPI, db: Path) -> None:
    store = SqliteStore(path=db)
    link = await create_share_link(store, site_id="s1", name="public", password=None,
                                   created_by=None)
    client = TestClient(app, base_url=BASE)
    page = client.get(f"{MOUNT}/share/{link.id}")
    assert page.status_code == 200
    assert page.context["site"].domain == "example.com"  # type: ignore[attr-defined]
    assert "frame-ancestors *" in page.headers["Content-Security-Policy"]
    assert "/settings" not in page.text
    # The share visitor has no session: everything else is the login page.
    for path in ("/other.org", "/example.com", "/settings/sites"):
        response = client.get(f"{MOUNT}{path}", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith((f"{MOUNT}/login", f"{MOUNT}/setup"))
    assert client.get(f"{MOUNT}/api/stats?site=example.com").status_code == 401
    assert client.get(f"{MOUNT}/share/{link.id}?site=other.org").context[  # type: ignore[attr-defined]
        "site"].domain == "example.com"
    assert client.get(f"{MOUNT}/share/nope").status_code == 404


async def test_share_link_password_and_revocation(app: FastAPI, db: Path) -> None:
    store = SqliteStore(path=db)
    link = await create_share_link(store, site_id="s1", name="p", password="hunter2",  # noqa: S106
                                   created_by=None)
    client = TestClient(app, base_url=BASE, headers={"Origin": BASE})
    url = f"{MOUNT}/share/{link.id}"
    gate = client.get(url)
    assert gate.template.name == "analytics_941/auth/share_password.html"  # type: ignore[attr-defined]
    wrong = client.post(f"{url}/password", data={"password": "nope"}, follow_redirects=False)
    assert wrong.headers["location"].endswith("?wrong=1")
    client.post(f"{url}/password", data={"password": "hunter2"})
    assert client.get(url).template.name == "analytics_941/overview.html"  # type: ignore[attr-defined]
    admin = TestClient(app, base_url=BASE)
    sign_in(admin, db)
    revoked = admin.post(f"{url.replace('/share/', '/settings/sites/example.com/share/')}/revoke")
    assert revoked.status_code in (200, 303)
    assert client.get(url).status_code == 404




def test_pages_check_the_site_they_answer_for_by_themselves(db: Path) -> None:
    # As for the API: behind a route class that checks nothing, a page (here the realtime token,
    # which would let its holder watch the site live) still refuses a site the caller may not see.
    from analytics_941.web.dashboard.pages import make_pages_router
    from analytics_941.web.render import Renderer
    from analytics_941.web.templating import make_templates

    class SignedIn(APIRoute):
        def get_route_handler(self):  # type: ignore[no-untyped-def]
            handler = super().get_route_handler()

            async def as_viewer_of_s1(request: Request) -> Response:
                viewer = Principal(kind="user", roles={"s1": "viewer"})
                setattr(request.state, STATE_PRINCIPAL, viewer)
                return await handler(request)

            return as_viewer_of_s1

    app = FastAPI()
    render = Renderer(store=SqliteStore(path=db), templates=make_templates(host_dirs=[]),
                      settings=Settings(sqlite_path=db, project_dir=db.parent), assets={})
    app.include_router(make_pages_router(render=render, route_class=SignedIn))
    client = TestClient(app)
    assert client.get("/example.com/realtime/token").status_code == 200
    for domain in ("other.org", "missing.example"):
        assert client.get(f"/{domain}/realtime/token").status_code == 404
