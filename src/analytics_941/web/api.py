"""The JSON stats API: query-string parameters → ``Query`` → runner → Plausible v2 shape.

``GET {mount}/api/stats?site=example.com&period=7d&metrics=visitors,pageviews&dimensions=page``.
``filters`` and ``order_by`` take JSON (``[["is","page",["/"]]]``); ``date_range`` takes either a
preset or ``YYYY-MM-DD,YYYY-MM-DD``. Bad input answers 400 ``{code, message}``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..exceptions import QueryError
from ..query import parse_query
from ..runner import run_query
from ..sites import get_site
from ..store import Store

__all__ = ["make_api_router"]


def _json_param(value: str, *, field: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise QueryError(code=f"invalid_{field}", message=f"{field}: not valid JSON") from None


def _query_input(params: dict[str, str]) -> dict[str, Any]:
    """Translate query-string parameters into ``parse_query`` input."""
    raw: dict[str, Any] = {}
    date_range = params.get("date_range") or params.get("period") or "30d"
    raw["date_range"] = date_range.split(",") if "," in date_range else date_range
    raw["metrics"] = [m for m in params.get("metrics", "visitors").split(",") if m]
    if params.get("dimensions"):
        raw["dimensions"] = [d for d in params["dimensions"].split(",") if d]
    for field in ("filters", "order_by"):
        if params.get(field):
            raw[field] = _json_param(params[field], field=field)
    if params.get("limit"):
        raw["limit"] = params["limit"]
    return raw


def make_api_router(*, store: Store, route_class: type[APIRoute]) -> APIRouter:
    """Return the router serving ``/api/stats``."""
    router = APIRouter(route_class=route_class)

    @router.get("/api/stats", name="analytics_941_api_stats")
    async def stats(request: Request) -> Response:
        params = dict(request.query_params)
        domain = params.get("site", "")
        if not domain:
            raise QueryError(code="invalid_site_id", message="site: the site's domain is required")
        site = await get_site(store, domain=domain)
        if site is None:
            body = {"code": "site_not_found", "message": f"site: no site {domain!r} is tracked"}
            return JSONResponse(body, status_code=404)
        query = parse_query({**_query_input(params), "site_id": site.id}, timezone=site.timezone)
        result = await run_query(store, query)
        return JSONResponse(result, headers={"Cache-Control": "no-store"})

    return router
