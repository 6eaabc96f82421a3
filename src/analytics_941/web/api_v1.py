"""Plausible's Stats API v1, as thin adapters over the one query path.

``GET {mount}/api/v1/stats/aggregate``, ``/timeseries`` and ``/breakdown`` read v1's parameters
into a v2 body (``api_v1_params``), run it like ``POST /api/v2/query`` and answer in v1's shapes;
``/realtime/visitors`` answers the collector's count of visitors in the last five minutes (the
realtime snapshot the dashboard's realtime page reads). Tools written for Plausible's v1 (such as
``plausible-mcp``) work with the mount's URL as their base URL and an API token.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..auth.principal import site_not_found
from ..cache import cache_for
from ..exceptions import QueryError
from ..goals import list_goals
from ..plausible_values import present_result
from ..query import Query
from ..realtime import realtime_token
from ..runner import run_queries
from ..segments import expand_request_segments
from ..settings import Settings
from ..sites import Site
from ..store import Store
from ..stores import Stores
from .access import site_of
from .api import caller_user_id
from .api_body import mentions_goals, parse_api_body
from .api_v1_params import breakdown_key, v1_body

__all__ = [
    "make_api_v1_router", "realtime_unavailable", "realtime_visitors", "run_v1", "site_named",
    "site_today",
]

# How long the realtime count may take from the collector before the request gives up.
_SNAPSHOT_TIMEOUT_S = 5.0


def site_today(site: Site) -> date:
    """Today in the site's timezone: what v1's periods count back from."""
    return datetime.now(ZoneInfo(site.timezone)).date()


async def site_named(store: Store, request: Request, params: Mapping[str, str]) -> Site:
    """The site ``site_id=`` (or ``site=``) names, if the caller may read it; else 404."""
    domain = params.get("site_id") or params.get("site") or ""
    if not domain:
        raise QueryError(code="invalid_site_id",
                         message="site_id is missing: give the site's domain, such as "
                         "example.com.")
    site = await site_of(store, request, domain)
    if site is None:
        raise site_not_found(domain)
    return site


async def run_v1(
    store: Store, stores: Stores, site: Site, body: dict[str, Any], *, user_id: str | None = None
) -> tuple[dict[str, Any], Query]:
    """Run a v2 ``body`` made from v1 parameters for ``site``: its result and query. Saved
    segments (``segment==ID``) are those ``user_id`` may use, as in v2."""
    body["site_id"] = site.domain
    body = dict(await expand_request_segments(store, body, site_id=site.id, user_id=user_id))
    goals = await list_goals(store, site_id=site.id) if mentions_goals(body) else []
    query, _include = parse_api_body(body, site=site, goals=goals)
    data = stores.for_site(site)
    (result,) = await run_queries(data, [query], cache=cache_for(data))
    # Plausible's values under Plausible's names (visit:device: "Mobile"), as the v2 API shows.
    return present_result(result, [str(d) for d in body.get("dimensions") or []]), query


async def realtime_visitors(settings: Settings, site: Site) -> int | None:
    """Visitors of the last five minutes, from the collector's realtime snapshot; None when the
    collector does not answer."""
    token = realtime_token(site.domain, settings.secret.get_secret_value(),
                           settings.realtime_token_ttl)
    url = f"{settings.collector_url}/api/realtime/{site.domain}/snapshot"
    try:
        async with httpx.AsyncClient(timeout=_SNAPSHOT_TIMEOUT_S) as client:
            answer = await client.get(url, params={"token": token})
        answer.raise_for_status()
        return int(answer.json()["visitors"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def realtime_unavailable() -> Response:
    """The 503 for a realtime count the collector did not give."""
    return JSONResponse(
        {"code": "realtime_unavailable",
         "message": "The collector did not answer the realtime count; try again."},
        status_code=503, headers={"Retry-After": "10"})


def _aggregate(result: dict[str, Any], metrics: tuple[str, ...]) -> dict[str, Any]:
    empty: dict[str, Any] = {"metrics": [0] * len(metrics)}
    row = result["results"][0] if result["results"] else empty
    out: dict[str, Any] = {}
    for i, metric in enumerate(metrics):
        entry: dict[str, Any] = {"value": row["metrics"][i]}
        if "comparison" in row:
            entry["change"] = row["comparison"]["change"][i]
        out[metric] = entry
    return {"results": out}


def _timeseries(result: dict[str, Any], metrics: tuple[str, ...]) -> dict[str, Any]:
    return {"results": [
        {"date": row["dimensions"][0], **dict(zip(metrics, row["metrics"], strict=True))}
        for row in result["results"]
    ]}


def _breakdown(result: dict[str, Any], metrics: tuple[str, ...], prop: str) -> dict[str, Any]:
    key = breakdown_key(prop)
    return {"results": [
        {key: row["dimensions"][0], **dict(zip(metrics, row["metrics"], strict=True))}
        for row in result["results"]
    ]}


def make_api_v1_router(
    *, store: Store, settings: Settings, route_class: type[APIRoute], stores: Stores | None = None
) -> APIRouter:
    """Return the router of Plausible's v1 stats endpoints."""
    router = APIRouter(route_class=route_class)
    stores = stores or Stores(home=store)

    async def run(request: Request, kind: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        params = dict(request.query_params)
        site = await site_named(store, request, params)
        body = v1_body(kind, params, today=site_today(site))
        result, query = await run_v1(store, stores, site, body,
                                     user_id=caller_user_id(request))
        return result, tuple(query.metrics)

    @router.get("/api/v1/stats/aggregate", name="analytics_941_api_v1_aggregate")
    async def aggregate(request: Request) -> Response:
        result, metrics = await run(request, "aggregate")
        return JSONResponse(_aggregate(result, metrics))

    @router.get("/api/v1/stats/timeseries", name="analytics_941_api_v1_timeseries")
    async def timeseries(request: Request) -> Response:
        result, metrics = await run(request, "timeseries")
        return JSONResponse(_timeseries(result, metrics))

    @router.get("/api/v1/stats/breakdown", name="analytics_941_api_v1_breakdown")
    async def breakdown(request: Request) -> Response:
        result, metrics = await run(request, "breakdown")
        return JSONResponse(_breakdown(result, metrics, request.query_params["property"]))

    @router.get("/api/v1/stats/realtime/visitors", name="analytics_941_api_v1_realtime")
    async def realtime_now(request: Request) -> Response:
        site = await site_named(store, request, dict(request.query_params))
        visitors = await realtime_visitors(settings, site)
        if visitors is None:
            return realtime_unavailable()
        # v1 answers a bare number.
        return JSONResponse(visitors)

    return router
