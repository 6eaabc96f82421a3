"""The JSON Stats API, shaped after Plausible's Stats API v2 so a Plausible client works unchanged.

``POST {mount}/api/v2/query`` with a JSON body::

    {"site_id": "example.com", "metrics": ["visitors", "bounce_rate"], "date_range": "7d",
     "dimensions": ["visit:source"], "filters": [["is", "visit:country", ["DE"]]],
     "order_by": [["visitors", "desc"]], "pagination": {"limit": 10, "offset": 0},
     "include": {"comparisons": {"mode": "previous_period"}, "time_labels": true,
                 "total_rows": true}}

answers ``{"results": [{"dimensions", "metrics", "comparison"?}], "meta", "query"}``. The older
``GET {mount}/api/stats?site=…&metrics=…`` takes the same fields as query-string parameters. Bad
input answers 400 ``{code, message}`` naming the field. Authentication and site access are the
route class's (``guard``): a dashboard session or an API token. ``POST {mount}/api/v2/funnel``
answers a funnel the same way (``funnel_api``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..auth.principal import STATE_PRINCIPAL, site_not_found
from ..cache import cache_for
from ..exceptions import QueryError
from ..goals import list_goals
from ..plausible_values import present_result
from ..query import Query
from ..runner import run_queries
from ..segments import expand_request_segments
from ..sites import Site
from ..store import Store
from ..stores import Stores
from .access import site_of
from .api_body import (
    comparison_from_include,
    mentions_goals,
    parse_api_body,
    site_stats_start,
)
from .api_echo import echo_query
from .funnel_api import answer_funnel

__all__ = [
    "caller_user_id",
    "comparison_from_include",
    "make_api_router",
    "mentions_goals",
    "parse_api_body",
    "site_stats_start",
]

def api_response(
    result: dict[str, Any], *, query: Query, site: Site, include: Mapping[str, Any],
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The v2 response body for a runner result (which is left untouched: it may be cached)."""
    meta = dict(result["meta"])
    if not include.get("time_labels"):
        meta.pop("time_labels", None)
    return {
        "results": result["results"],
        "meta": meta,
        "query": echo_query(query, site=site, body=body or {}, include=include),
    }


def caller_user_id(request: Request) -> str | None:
    """The person behind a request: the signed-in user, or the API token's creator."""
    principal = getattr(request.state, STATE_PRINCIPAL, None)
    if principal is None:
        return None
    if principal.user is not None:
        return str(principal.user.id)
    return principal.token.user_id if principal.token is not None else None


def _legacy_input(params: Mapping[str, str]) -> dict[str, Any]:
    """Query-string parameters of ``GET /api/stats`` → a v2 body."""
    raw: dict[str, Any] = {}
    date_range = params.get("date_range") or params.get("period") or "30d"
    raw["date_range"] = date_range.split(",") if "," in date_range else date_range
    raw["metrics"] = [m for m in params.get("metrics", "visitors").split(",") if m]
    if params.get("dimensions"):
        raw["dimensions"] = [d for d in params["dimensions"].split(",") if d]
    for field in ("filters", "order_by"):
        if params.get(field):
            try:
                raw[field] = json.loads(params[field])
            except ValueError:
                raise QueryError(
                    code=f"invalid_{field}", message=f"{field} must be written as JSON."
                ) from None
    if params.get("limit"):
        raw["pagination"] = {"limit": params["limit"]}
    return raw


def make_api_router(
    *, store: Store, route_class: type[APIRoute], stores: Stores | None = None
) -> APIRouter:
    """Return the router serving ``/api/v2/query`` and ``/api/stats``.

    Sites are looked up in ``store`` (home); each query runs on the site's data store in
    ``stores`` (default: ``store`` for every site).
    """
    router = APIRouter(route_class=route_class)
    stores = stores or Stores(home=store)

    async def resolve_site(request: Request, domain: str) -> Site:
        # Made on the very site the API answers for: whatever the route class saw, a site the
        # caller may not read answers 404 like a missing one.
        site = await site_of(store, request, domain)
        if site is None:
            raise site_not_found(domain)
        return site

    async def answer(request: Request, body: Any) -> Response:
        domain = body.get("site_id") if isinstance(body, Mapping) else None
        if not isinstance(domain, str) or not domain:
            raise QueryError(code="invalid_site_id",
                             message="site_id is missing: give the site's domain, such as "
                             "example.com.")
        site = await resolve_site(request, domain)
        asked = body
        # Saved segments become their filters; the echo keeps the client's own.
        body = await expand_request_segments(store, body, site_id=site.id,
                                             user_id=caller_user_id(request))
        # The site's goals are read only for a query naming them: one lookup less per request
        # (D1's REST API counts requests).
        goals = await list_goals(store, site_id=site.id) if mentions_goals(body) else []
        query, include = parse_api_body(body, site=site, goals=goals)
        data = stores.for_site(site)
        (result,) = await run_queries(data, [query], cache=cache_for(data))
        # Values shown as the client's dimension names show them (``visit:device``: "Mobile").
        result = present_result(result, [str(d) for d in body.get("dimensions") or []])
        return JSONResponse(api_response(result, query=query, site=site, include=include,
                                         body=asked))

    @router.post("/api/v2/query", name="analytics_941_api_v2_query")
    async def query_v2(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth
            raise QueryError(code="invalid_body",
                             message="The request body is not valid JSON.") from None
        return await answer(request, body)

    @router.post("/api/v2/funnel", name="analytics_941_api_v2_funnel")
    async def funnel_v2(request: Request) -> Response:
        # One row per step of a funnel (web/funnel_api.py), for the sites a query may read.
        try:
            body = json.loads(await request.body() or b"null")
        except (ValueError, RecursionError):
            raise QueryError(code="invalid_body",
                             message="The request body is not valid JSON.") from None
        domain = body.get("site_id") if isinstance(body, Mapping) else None
        if not isinstance(domain, str) or not domain:
            raise QueryError(code="invalid_site_id", message="site_id is missing: give the "
                             "site's domain, such as example.com.")
        site = await resolve_site(request, domain)
        return JSONResponse(await answer_funnel(store, stores.for_site(site), body, site=site))

    @router.get("/api/stats", name="analytics_941_api_stats")
    async def stats(request: Request) -> Response:
        params = dict(request.query_params)
        body = {**_legacy_input(params), "site_id": params.get("site", "")}
        return await answer(request, body)

    return router
