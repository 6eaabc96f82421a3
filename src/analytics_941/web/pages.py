"""The HTML pages: the site list and a site's overview (full page, or an HTMX partial)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from ..exceptions import QueryError
from ..periods import Preset
from ..settings import Settings
from ..sites import get_site, list_sites
from ..store import Store
from .overview import PERIODS, load_overview

__all__ = ["DEFAULT_PERIOD", "make_pages_router"]

DEFAULT_PERIOD: Preset = "30d"


def _is_partial(request: Request) -> bool:
    # HTMX asks for the swapped fragment only; a history restore needs the whole page.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def make_pages_router(
    *,
    store: Store,
    templates: Jinja2Templates,
    settings: Settings,
    route_class: type[APIRoute],
    assets: dict[str, str],
) -> APIRouter:
    """Return the router serving ``/`` (site list) and ``/{domain}`` (overview)."""
    router = APIRouter(route_class=route_class)

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        static = {
            key: str(request.url_for("analytics_941_static", path=file).path)
            for key, file in assets.items()
        }
        base = {"mount_path": settings.mount_path, "assets": static}
        return templates.TemplateResponse(
            request, f"analytics_941/{name}", {**base, **context}, status_code=status
        )

    @router.get("/", name="analytics_941_sites")
    async def sites_page(request: Request) -> Response:
        sites = await list_sites(store)
        if len(sites) == 1:
            url = request.url_for("analytics_941_overview", domain=sites[0].domain)
            return RedirectResponse(str(url.path), status_code=303)
        return page(request, "sites.html", {"sites": sites})

    @router.get("/{domain}", name="analytics_941_overview")
    async def overview_page(request: Request, domain: str) -> Response:
        period = request.query_params.get("period", DEFAULT_PERIOD)
        if period not in PERIODS:
            allowed = ", ".join(PERIODS)
            raise QueryError(code="invalid_date_range", message=f"period must be one of {allowed}")
        site = await get_site(store, domain=domain)
        if site is None:
            missing = {"title": "Site not found", "message": f"No site {domain!r} is tracked."}
            return page(request, "error.html", missing, status=404)
        overview = await load_overview(store, site=site, period=period)
        context: dict[str, Any] = {
            "site": site,
            "overview": overview,
            "periods": PERIODS,
            "overview_url": str(request.url_for("analytics_941_overview", domain=domain).path),
            "snippet": (
                f'<script defer data-domain="{site.domain}" '
                f'src="{settings.collector_url}/script.js"></script>'
            ),
        }
        template = "_overview.html" if _is_partial(request) else "overview.html"
        response = page(request, template, context)
        response.headers["Vary"] = "HX-Request"
        return response

    return router
