"""The dashboard's route trio (view, panel, details) is registered once, for any admission; the
member pages admit through the one access rule (``access``), even behind a route class that
checks nothing."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from fastapi.testclient import TestClient

from analytics_941 import Settings
from analytics_941.auth.principal import STATE_PRINCIPAL, Principal
from analytics_941.sites import get_site
from analytics_941.sqlite_store import SqliteStore
from analytics_941.web.access import visible_site
from analytics_941.web.dashboard.pages import make_pages_router
from analytics_941.web.dashboard.routes import Admitted, add_dashboard_routes
from analytics_941.web.render import Renderer
from analytics_941.web.templating import make_templates


def templates() -> Jinja2Templates:
    made = make_templates(host_dirs=[])
    made.env.globals["analytics_principal"] = lambda request: None  # as setup_analytics does
    return made


def renderer(db: Path) -> Renderer:
    return Renderer(templates=templates(), store=SqliteStore(path=db),
                    settings=Settings(sqlite_path=db, project_dir=db.parent), assets={})


class _ViewerOfS1(APIRoute):
    """A route class that checks nothing: it only says who the caller is."""

    def get_route_handler(self):  # type: ignore[no-untyped-def]
        handler = super().get_route_handler()

        async def as_viewer_of_s1(request: Request) -> Response:
            setattr(request.state, STATE_PRINCIPAL, Principal(kind="user", roles={"s1": "viewer"}))
            return await handler(request)

        return as_viewer_of_s1


def test_the_trio_serves_whatever_its_admission_lets_in(db: Path) -> None:
    render = renderer(db)
    router = APIRouter()
    seen: list[str] = []

    async def by_key(request: Request) -> Admitted | Response:
        key = str(request.path_params["key"])
        seen.append(key)
        site = await get_site(render.store, domain="example.com")
        if key != "open" or site is None:
            return PlainTextResponse("kept out", status_code=418)
        return Admitted(site=site, base="/board/open", headers={"X-Admitted": "yes"})

    add_dashboard_routes(router, path="/board/{key}", names=("v", "p", "d"), admit=by_key,
                         render=render)
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    for suffix in ("", "/panel/pages", "/details/pages"):
        shown = client.get(f"/board/open{suffix}?period=7d")
        assert shown.status_code == 200, shown.text[:300]
        assert shown.headers["X-Admitted"] == "yes"
        assert shown.headers["Vary"].startswith("HX-Request")
        kept = client.get(f"/board/shut{suffix}")
        assert (kept.status_code, kept.text) == (418, "kept out")
    assert seen == ["open", "shut"] * 3
    view = client.get("/board/open?period=7d")
    assert view.context["dashboard"].site.domain == "example.com"  # type: ignore[attr-defined]
    assert view.context["export_url"] is None  # type: ignore[attr-defined]  # no extras given


async def test_one_rule_for_which_site_a_caller_sees(db: Path) -> None:
    store = SqliteStore(path=db)
    viewer = Principal(kind="user", roles={"s1": "viewer"})
    site = await visible_site(store, viewer, "example.com")
    assert site is not None and site.id == "s1"
    assert await visible_site(store, viewer, "other.org") is None
    assert await visible_site(store, viewer, "missing.example") is None
    assert await visible_site(store, None, "example.com") is None


def test_every_member_page_admits_through_the_access_rule(db: Path) -> None:
    # No guard here: each page of a site still refuses one the caller may not see.
    app = FastAPI()
    app.include_router(make_pages_router(render=renderer(db), route_class=_ViewerOfS1))
    client = TestClient(app)
    pages = ("", "/panel/pages", "/details/pages", "/export", "/realtime")
    for suffix in pages:
        if suffix != "/export":  # the export names its user in the audit log; this one has none
            assert client.get(f"/example.com{suffix}?period=7d").status_code == 200, suffix
        for domain in ("other.org", "missing.example"):
            refused = client.get(f"/{domain}{suffix}")
            assert refused.status_code == 404, (domain, suffix)
            assert refused.template.name == "analytics_941/error.html"  # type: ignore[attr-defined]
