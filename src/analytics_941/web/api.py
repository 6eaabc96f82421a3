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
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..auth.principal import STATE_PRINCIPAL, site_not_found
from ..cache import cache_for
from ..exceptions import QueryError
from ..goals import Goal, list_goals
from ..instants import instant_range
from ..plausible_values import present_result
from ..query import GOAL_DIMENSION, MAX_LIMIT, Query, parse_query
from ..runner import run_queries
from ..segments import expand_segments, list_segments, mentions_segments
from ..sites import Site
from ..store import Store
from ..stores import Stores
from .access import site_of
from .api_echo import echo_query
from .api_errors import readable
from .funnel_api import answer_funnel

__all__ = [
    "comparison_from_include",
    "make_api_router",
    "mentions_goals",
    "parse_api_body",
    "site_stats_start",
]

_QUERY_FIELDS = {"metrics", "date_range", "dimensions", "filters", "order_by", "pagination"}
_INCLUDE = {"comparisons", "time_labels", "total_rows", "imports"}


def site_stats_start(site: Site) -> Any:
    """The site's first local day (where ``all`` begins): the day it was added."""
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(site.created_at / 1000, tz=ZoneInfo(site.timezone)).date()


def comparison_from_include(value: Any) -> Any:
    """Plausible's ``include.comparisons`` → our ``comparison`` field (None when off).

    ``{"mode": "previous_period"}``, ``{"mode": "year_over_year"}``, ``{"mode": "custom",
    "date_range": [first, last]}``; ``true`` means the previous period. Raises ``QueryError``
    naming the field for anything else — a custom comparison without its range included: turning
    the comparison off instead would answer a question the client did not ask.
    """
    if value in (None, False):
        return None
    if value is True:
        return "previous_period"
    if not isinstance(value, Mapping):
        raise QueryError(
            code="invalid_include",
            message='include.comparisons must be true or an object such as '
            '{"mode": "previous_period"}.',
        )
    mode = value.get("mode")
    if mode in ("previous_period", "year_over_year"):
        return mode
    if mode != "custom":
        raise QueryError(
            code="invalid_include",
            message="include.comparisons.mode must be previous_period, year_over_year or "
            "custom.",
        )
    date_range = value.get("date_range")
    if (
        not isinstance(date_range, list | tuple)
        or len(date_range) != 2
        or not all(isinstance(day, str) for day in date_range)
    ):
        raise QueryError(
            code="invalid_include",
            message='include.comparisons.date_range is needed with mode "custom": two dates '
            '["YYYY-MM-DD", "YYYY-MM-DD"].',
        )
    return tuple(date_range)


def mentions_goals(body: Any) -> bool:
    """True when a request body names ``event:goal`` anywhere (a dimension, a filter, an
    order) or a revenue metric (whose currency is the goals'), so its query needs the site's
    goals."""
    text = json.dumps(body, ensure_ascii=False)
    return GOAL_DIMENSION in text or "_revenue" in text


def parse_api_body(
    body: Any, *, site: Site, now: datetime | None = None, goals: Sequence[Goal] = ()
) -> tuple[Query, dict[str, Any]]:
    """Validate a v2 request body for ``site`` (whose goals are ``goals``); return the ``Query``
    and the ``include`` flags."""
    if not isinstance(body, Mapping):
        raise QueryError(code="invalid_body", message="The request body must be a JSON object.")
    unknown = set(body) - _QUERY_FIELDS - {"site_id", "include", "comparison"}
    if unknown:
        name = sorted(unknown)[0]
        known = ", ".join(sorted(_QUERY_FIELDS | {"site_id", "include"}))
        raise QueryError(code=f"invalid_{name}",
                         message=f"{name} is not a field of a query. The fields are {known}.")
    include = body.get("include") or {}
    if not isinstance(include, Mapping) or set(include) - _INCLUDE:
        raise QueryError(
            code="invalid_include",
            message=f"include must be an object with any of {', '.join(sorted(_INCLUDE))}.",
        )
    raw: dict[str, Any] = {k: v for k, v in body.items() if k in _QUERY_FIELDS}
    raw["site_id"] = site.id
    pagination = raw.get("pagination")
    if pagination is None or (isinstance(pagination, Mapping) and "limit" not in pagination):
        # Plausible's default page: 10,000 rows (the dashboard's own queries take fewer).
        raw["pagination"] = {**(pagination or {}), "limit": MAX_LIMIT}
    comparison = body.get("comparison", comparison_from_include(include.get("comparisons")))
    if comparison is not None:
        raw["comparison"] = comparison
    raw["total_rows"] = bool(include.get("total_rows"))
    raw["include_imports"] = include.get("imports") is True
    # ``24h`` and date-times: the local days they touch, cut to their instants (``instants``).
    cut = instant_range(raw.get("date_range"), timezone=site.timezone,
                        now=now or datetime.now(UTC))
    if cut is not None:
        raw["date_range"], raw["clip_ms"] = cut
    try:
        query = parse_query(
            raw, timezone=site.timezone, now=now, stats_start=site_stats_start(site), goals=goals
        )
    except QueryError as exc:
        raise readable(exc) from None
    return query, dict(include)


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


def _user_id(request: Request) -> str | None:
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
        if mentions_segments(body.get("filters")):
            # Saved segments become their filters; the echo keeps the client's own.
            segments = await list_segments(store, site_id=site.id, user_id=_user_id(request))
            body = {**body, "filters": expand_segments(body.get("filters"), segments)}
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
