"""The route class every dashboard route uses: access guard, error pages and security headers.

Keeping these in a route class (instead of middleware or exception handlers) is what leaves the
host application untouched: nothing here runs for the host's own routes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..exceptions import ConfigError, QueryError, StoreError

__all__ = ["SECURITY_HEADERS", "make_route_class"]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
REFUSAL = (
    "The analytics dashboard has no login yet, so it refuses to serve anyone. Pass "
    "allow_unauthenticated=True to setup_analytics() only on a trusted network or behind your "
    "own authentication."
)

_log = logging.getLogger("analytics_941")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# (request, status, title, message) -> an HTML error page
HtmlErrorRenderer = Callable[[Request, int, str, str], Response]


def make_route_class(
    *, allowed: bool, json_errors: bool, render_error: HtmlErrorRenderer
) -> type[APIRoute]:
    """Return an ``APIRoute`` subclass closing over the access decision and the error renderer."""

    def error(request: Request, status: int, code: str, title: str, message: str) -> Response:
        if json_errors:
            return JSONResponse({"code": code, "message": message}, status_code=status)
        return render_error(request, status, title, message)

    class AnalyticsRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                if not allowed:
                    response = error(request, 403, "unauthenticated", "Access refused", REFUSAL)
                else:
                    try:
                        response = await handler(request)
                    except QueryError as exc:
                        response = error(request, 400, exc.code, "Invalid query", exc.message)
                    except (StoreError, ConfigError) as exc:
                        # Logged with the traceback; shown as a clear message, never a bare 500.
                        _log.exception("analytics_941: the store could not answer")
                        response = error(
                            request, 503, "store_unavailable", "Analytics unavailable", str(exc)
                        )
                response.headers.update(SECURITY_HEADERS)
                return response

            return guarded

    return AnalyticsRoute
