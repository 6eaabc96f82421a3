"""``setup_analytics``: the one public entry point, mounting the dashboard into a host app.

It adds to the host only paths under ``settings.mount_path``: an ``APIRouter``, one
``StaticFiles`` mount (``include_router`` would drop a mounted sub-app, so it is mounted on the
host explicitly), the icon (``favicon``) and, after them, a catch-all route answering any other
path under the mount with our own 404/405 (``fallback``), so every response there carries the
security headers. No
middleware, no exception handlers: authentication, site scoping, CSRF and
errors are handled by the routes' own route classes (see ``guard``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response as StarletteResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ..auth.principal import STATE_PRINCIPAL
from ..auth.setup_tokens import issue_setup_token
from ..auth.user_agents import describe_user_agent
from ..auth.users import count_users
from ..exceptions import AnalyticsError
from ..settings import Settings
from ..store import Store
from ..stores import open_stores
from .account.auth_routes import make_auth_router, make_logout_router
from .account.reports_routes import make_unsubscribe_router
from .account.settings_routes import make_settings_router
from .account.sites_routes import make_sites_router
from .api import make_api_router
from .api_simple import make_api_simple_router
from .api_v1 import make_api_v1_router
from .authn import AuthContext
from .dashboard.pages import make_pages_router
from .dashboard.share import make_share_router
from .fallback import make_fallback_route, make_mount_redirect
from .favicon import make_favicon_routes
from .guard import make_route_class, secured
from .limits import ConcurrencyLimiter
from .render import Renderer
from .resources import load_manifest, resource_dir
from .templating import make_templates

__all__ = ["announce_setup", "setup_analytics"]

_log = logging.getLogger("analytics_941")


class _HashedStaticFiles(StaticFiles):
    """Static files whose names carry a content hash, so they may be cached for a year."""

    def file_response(self, *args: Any, **kwargs: Any) -> StarletteResponse:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    async def get_response(self, path: str, scope: Scope) -> StarletteResponse:
        # manifest.json is build metadata, not an asset.
        try:
            if path == "manifest.json":
                raise HTTPException(status_code=404)
            response = await super().get_response(path, scope)
        except HTTPException as exc:  # a missing file: answered here, not by the host's handler
            response = StarletteResponse(HTTPStatus(exc.status_code).phrase, exc.status_code)
        # Every response under the mount carries them, a missing file's 404 too.
        return secured(response)


async def announce_setup(store: Store, settings: Settings) -> str | None:
    """While no user exists, log where to register the first passkey; return the link.

    Uses ``ANALYTICS_941_SETUP_TOKEN`` if set (without logging it), else a fresh one-time token.
    A store that cannot be reached yet only logs how to get a link later.
    """
    try:
        if await count_users(store) > 0:
            return None
        base = f"{settings.public_url or ''}{settings.mount_path}/setup"
        if settings.setup_token is not None:
            _log.warning("analytics_941: no user yet; open %s?token=<ANALYTICS_941_SETUP_TOKEN> "
                         "to register the first passkey", base)
            return None
        link = f"{base}?token={await issue_setup_token(store)}"
    except AnalyticsError as exc:
        _log.warning("analytics_941: could not check for a first user (%s); run "
                     "`analytics-941 setup-link` once the database exists", exc)
        return None
    _log.warning("analytics_941: no user yet; register the first passkey at %s", link)
    return link


def format_ms(ms: int | None) -> str:
    """A stored millisecond timestamp as ``2026-03-10 14:02 UTC`` (pages show UTC times)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(int(ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def setup_analytics(app: FastAPI, settings: Settings | None = None) -> None:
    """Mount the analytics dashboard into ``app`` at ``settings.mount_path``.

    ``settings`` defaults to ``Settings()`` (``ANALYTICS_941_*`` environment variables). Every
    page needs a passkey login (or, for the API and CSV, an API token); while no user exists,
    the only page served is the setup page, and its one-time link is logged at start-up.

    Raises ``ConfigError`` when the dashboard looks deployed (D1, or a public ``public_url``)
    with the public development secret or one too short (``Settings.check_secret``).
    """
    settings = settings or Settings()
    settings.check_secret()
    stores = open_stores(settings)
    store = stores.home
    templates = make_templates(host_dirs=[settings.project_dir / "templates"])
    templates.env.globals["analytics_principal"] = lambda request: getattr(
        request.state, STATE_PRINCIPAL, None
    )
    templates.env.filters["when"] = format_ms
    templates.env.filters["browser"] = describe_user_agent
    dist_dir = resource_dir("static") / "dist"
    assets = load_manifest(dist_dir)
    render = Renderer(templates=templates, settings=settings, store=store, assets=assets,
                      stores=stores)

    def render_error(request: Request, status: int, title: str, message: str) -> Response:
        return render(request, "error.html",
                      {"title": title, "message": message, "status": status}, status)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        # Runs inside the host's lifespan (FastAPI merges router lifespans): close the stores.
        await announce_setup(store, settings)
        yield
        await stores.aclose()

    auth = AuthContext(store=store, settings=settings)

    # One per dashboard: a caller's concurrent requests count across every kind of route.
    limiter = ConcurrencyLimiter(
        per_key=settings.max_concurrent_queries, wait_s=settings.query_queue_wait_s
    )

    def route(kind: Any) -> type[APIRoute]:
        return make_route_class(kind=kind, auth=auth, render_error=render_error, limiter=limiter)

    router = APIRouter(prefix=settings.mount_path, lifespan=lifespan)
    # Fixed paths first: the pages router ends with the catch-all /{domain}.
    router.include_router(make_auth_router(render=render, route_class=route("public")))
    router.include_router(make_share_router(render=render, route_class=route("public")))
    router.include_router(make_unsubscribe_router(render=render, route_class=route("public")))
    router.include_router(make_logout_router(render=render, route_class=route("settings")))
    router.include_router(make_settings_router(render=render, route_class=route("settings")))
    router.include_router(make_sites_router(render=render, route_class=route("settings")))
    router.include_router(make_api_router(store=store, stores=stores, route_class=route("api")))
    router.include_router(make_api_v1_router(store=store, stores=stores, settings=settings,
                                             route_class=route("api")))
    router.include_router(make_api_simple_router(store=store, stores=stores, settings=settings,
                                                 route_class=route("api")))
    router.include_router(make_pages_router(render=render, route_class=route("page")))
    # The icon first: the pages router would read /favicon.svg as a site's domain.
    app.router.routes.extend(make_favicon_routes(mount=settings.mount_path))
    # Our login, settings and API paths are no part of the host's API description (its /docs).
    app.include_router(router, include_in_schema=False)
    app.mount(
        f"{settings.mount_path}/static",
        _HashedStaticFiles(directory=dist_dir, check_dir=False),
        name="analytics_941_static",
    )
    # Last, after the static files: any other path under the mount is our 404 (or 405).
    app.router.routes.append(make_fallback_route(
        mount=settings.mount_path, routes=router.routes, render_error=render_error
    ))
    app.router.routes.append(make_mount_redirect(mount=settings.mount_path))
