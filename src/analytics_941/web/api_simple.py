"""The simple GET API: one URL per question, for scripts and spreadsheets.

``GET {mount}/api/v1/stats``, ``/pages``, ``/sources``, ``/countries``, ``/events`` and
``/realtime``, each with ``site_id``, ``period`` (and ``date``) and ``filters`` written as in
Plausible's v1 API (``api_v1_params``), answered through the same query path as every other
endpoint. Each API token may call these ``api_simple_rate_limit`` times a minute (429 with
``Retry-After`` past it), on top of the hourly limit every token has.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..auth.principal import get_principal
from ..auth.rate_limit import hit
from ..settings import Settings
from ..store import Store
from ..stores import Stores
from .api import caller_user_id
from .api_v1 import realtime_unavailable, realtime_visitors, run_v1, site_named, site_today
from .api_v1_params import v1_body

__all__ = ["make_api_simple_router"]

_TOTALS = ("visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration")
# path -> (the v1 property broken down, the key of its values, its metrics)
_LISTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "pages": ("event:page", "page", ("visitors", "pageviews")),
    "sources": ("visit:source", "source", ("visitors", "visits", "bounce_rate")),
    "countries": ("visit:country", "country", ("visitors", "visits")),
    "events": ("event:name", "name", ("visitors", "events")),
}


def make_api_simple_router(
    *, store: Store, settings: Settings, route_class: type[APIRoute], stores: Stores | None = None
) -> APIRouter:
    """Return the router of the simple GET API."""
    router = APIRouter(route_class=route_class)
    stores = stores or Stores(home=store)

    async def limited(request: Request) -> None:
        principal = get_principal(request)
        if principal.token is not None:
            await hit(store, key=f"token-minute:{principal.token.id}",
                      limit=settings.api_simple_rate_limit, window_s=60)

    async def answer(request: Request, kind: str, extra: dict[str, str]) -> Any:
        await limited(request)
        params = {**dict(request.query_params), **extra}
        site = await site_named(store, request, params)
        body = v1_body(kind, params, today=site_today(site))
        if kind == "breakdown" and params["property"] == "event:name":
            # Custom events only: every visit has pageviews.
            body.setdefault("filters", []).append(["is_not", "event:name", ["pageview"]])
        result, query = await run_v1(store, stores, site, body,
                                     user_id=caller_user_id(request))
        first, last = query.period
        period = {"from": first.isoformat(), "to": last.isoformat()}
        return site, result, tuple(query.metrics), period

    @router.get("/api/v1/stats", name="analytics_941_api_simple_stats")
    async def totals(request: Request) -> Response:
        site, result, metrics, period = await answer(
            request, "aggregate", {"metrics": ",".join(_TOTALS)})
        row = result["results"][0]["metrics"] if result["results"] else [0] * len(metrics)
        return JSONResponse({"site_id": site.domain, "period": period,
                             **dict(zip(metrics, row, strict=True))})

    def list_route(path: str) -> None:
        prop, key, wanted = _LISTS[path]

        @router.get(f"/api/v1/{path}", name=f"analytics_941_api_simple_{path}")
        async def listing(request: Request) -> Response:
            site, result, metrics, period = await answer(
                request, "breakdown", {"property": prop, "metrics": ",".join(wanted)})
            rows = [{key: r["dimensions"][0], **dict(zip(metrics, r["metrics"], strict=True))}
                    for r in result["results"]]
            return JSONResponse({"site_id": site.domain, "period": period, "results": rows})

    for path in _LISTS:
        list_route(path)

    @router.get("/api/v1/realtime", name="analytics_941_api_simple_realtime")
    async def realtime(request: Request) -> Response:
        await limited(request)
        site = await site_named(store, request, dict(request.query_params))
        visitors = await realtime_visitors(settings, site)
        if visitors is None:
            return realtime_unavailable()
        return JSONResponse({"site_id": site.domain, "visitors": visitors})

    return router
