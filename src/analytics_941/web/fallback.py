"""The last route under the mount: a clear 404 or 405 for a path none of the dashboard's routes
answers, carrying the security headers like every other response under the mount.

Without it the host application's router would answer such paths with its own plain 404/405;
a catch-all route keeps the answer ours without touching the host's handlers or middleware. It
is added after the static files mount, so it never hides an asset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Match, Route

from .guard import secured

__all__ = ["make_fallback_route", "make_mount_redirect"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# (request, status, title, message) -> an HTML error page
HtmlErrorRenderer = Callable[[Request, int, str, str], Response]


def _allowed(routes: Sequence[BaseRoute], request: Request) -> set[str]:
    """The methods of the dashboard's routes whose path matches the request (405's ``Allow``)."""
    methods: set[str] = set()
    for item in routes:
        # FastAPI >= 0.16x keeps included routers nested; older versions flatten them.
        inner = item.effective_route_contexts() if hasattr(item, "effective_route_contexts") \
            else [item]
        for route in inner:
            match, _scope = route.matches(request.scope)
            if match == Match.PARTIAL:
                methods |= set(getattr(route, "methods", None) or ())
    return methods


def make_fallback_route(
    *, mount: str, routes: Sequence[BaseRoute], render_error: HtmlErrorRenderer
) -> Route:
    """Return a route answering every method on ``{mount}/...`` with 404, or 405 when another
    method would have been served (``routes`` are the dashboard's own).

    A plain Starlette route, not an ``APIRoute``: it is no endpoint of the dashboard (no
    OpenAPI entry, no route class), only its answer for addresses that are none.
    """

    async def fallback(request: Request) -> Response:
        allowed = _allowed(routes, request)
        if allowed:
            status, code, title = 405, "method_not_allowed", "Not possible"
            message = f"Use {', '.join(sorted(allowed))} for this address."
        else:
            status, code, title = 404, "not_found", "Not found"
            message = "There is nothing at this address."
        wants_json = "/api/" in request.url.path or "json" in request.headers.get("accept", "")
        if wants_json or request.method != "GET":
            response: Response = JSONResponse({"code": code, "message": message}, status)
        else:
            response = render_error(request, status, title, message)
        if allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
        secured(response)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return Route(f"{mount}/{{rest:path}}", fallback, methods=_METHODS,
                 name="analytics_941_fallback", include_in_schema=False)


def make_mount_redirect(*, mount: str) -> Route:
    """Return the route sending the bare mount path (``/admin/analytics``) to the dashboard's
    home (``/admin/analytics/``), with the security headers: the host's router would otherwise
    answer it with a redirect of its own."""

    async def redirect(request: Request) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        return secured(RedirectResponse(f"{mount}/{query}", status_code=307))

    return Route(mount, redirect, methods=["GET", "HEAD"], name="analytics_941_mount",
                 include_in_schema=False)
