"""``setup_analytics``: the one public entry point, mounting the dashboard into a host app.

It adds exactly two things to the host: an ``APIRouter`` under ``settings.mount_path`` and one
``StaticFiles`` mount (``include_router`` would drop a mounted sub-app, so it is mounted on the
host explicitly). No middleware, no exception handlers: errors are handled by the routes' own
route class (see ``guard``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.responses import Response as StarletteResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ..settings import Settings
from ..store import open_store
from .api import make_api_router
from .guard import make_route_class
from .pages import make_pages_router
from .resources import load_manifest, resource_dir
from .templating import make_templates

__all__ = ["setup_analytics"]

_log = logging.getLogger("analytics_941")


class _HashedStaticFiles(StaticFiles):
    """Static files whose names carry a content hash, so they may be cached for a year."""

    def file_response(self, *args: Any, **kwargs: Any) -> StarletteResponse:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def get_response(self, path: str, scope: Scope) -> StarletteResponse:
        # manifest.json is build metadata, not an asset.
        if path == "manifest.json":
            return StarletteResponse(status_code=404)
        return await super().get_response(path, scope)


def setup_analytics(
    app: FastAPI, settings: Settings | None = None, *, allow_unauthenticated: bool = False
) -> None:
    """Mount the analytics dashboard into ``app`` at ``settings.mount_path``.

    ``settings`` defaults to ``Settings()`` (``ANALYTICS_941_*`` environment variables). There is
    no login yet, so every route answers 403 unless ``allow_unauthenticated=True`` is passed here
    (or ``ANALYTICS_941_ALLOW_UNAUTHENTICATED=true`` is set); when allowed, a warning is logged.
    """
    settings = settings or Settings()
    allowed = allow_unauthenticated or settings.allow_unauthenticated
    if allowed:
        _log.warning(
            "analytics_941: the dashboard at %s is served WITHOUT authentication; anyone who "
            "can reach this app can read your analytics",
            settings.mount_path,
        )
    store = open_store(settings)
    templates = make_templates(host_dirs=[settings.project_dir / "templates"])
    dist_dir = resource_dir("static") / "dist"
    assets = load_manifest(dist_dir)

    def render_error(request: Request, status: int, title: str, message: str) -> Response:
        context = {
            "title": title,
            "message": message,
            "mount_path": settings.mount_path,
            "assets": {
                key: str(request.url_for("analytics_941_static", path=file).path)
                for key, file in assets.items()
            },
        }
        return templates.TemplateResponse(
            request, "analytics_941/error.html", context, status_code=status
        )

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        # Runs inside the host's lifespan (FastAPI merges router lifespans): close the store.
        yield
        await store.aclose()

    router = APIRouter(prefix=settings.mount_path, lifespan=lifespan)
    api_route = make_route_class(allowed=allowed, json_errors=True, render_error=render_error)
    page_route = make_route_class(allowed=allowed, json_errors=False, render_error=render_error)
    router.include_router(make_api_router(store=store, route_class=api_route))
    router.include_router(
        make_pages_router(
            store=store,
            templates=templates,
            settings=settings,
            route_class=page_route,
            assets=assets,
        )
    )
    app.include_router(router)
    app.mount(
        f"{settings.mount_path}/static",
        _HashedStaticFiles(directory=dist_dir, check_dir=False),
        name="analytics_941_static",
    )
