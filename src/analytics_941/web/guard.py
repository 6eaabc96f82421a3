"""The route class every dashboard route uses: authentication, site scoping, CSRF, rate limits,
error pages and security headers.

Keeping these in a route class (instead of middleware or exception handlers) is what leaves the
host application untouched: nothing here runs for the host's own routes. ``make_route_class``
builds one class per kind of route:

- ``public``: login, setup, invite and share pages. No login needed; state-changing requests must
  come from the dashboard's own origin.
- ``page``: dashboard pages and partials. A logged-in user, or (GET only) an API token — so CSV
  downloads work with a bearer token too. Not logged in: redirect to the login page (or to the
  setup page while no user exists).
- ``api``: the JSON API. A logged-in user or an API token; errors are JSON, 401 when anonymous.
- ``settings``: settings pages. A logged-in user only; never a token.

Every non-public route is scoped to the caller's sites before its handler runs (see
``analytics_941.auth.principal`` for the rules routes can rely on): every site a request names
is checked, and a body is read as JSON whatever its Content-Type. API tokens need the
``export`` scope on routes whose path or name mentions ``csv`` or ``export``, else ``stats``.

Before any of that, the body is read up to ``max_body_bytes`` (413 past it) and a JSON body with
a lone surrogate is refused (400); each caller's concurrent requests are bounded (``limits``).
Errors are ``{code, message}`` (an HTML page for browsers); a 5xx never shows the exception's
text (SQL, stored values, column aliases), only an id that its log entry carries too.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Coroutine, Mapping
from http import HTTPStatus
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response as StarletteResponse

from ..auth.csrf import SAFE_METHODS, check_origin, check_token
from ..auth.errors import AuthError, RateLimited
from ..auth.principal import STATE_PRINCIPAL, STATE_SITE, Principal, site_not_found
from ..auth.users import count_users
from ..exceptions import ConfigError, DatabaseUnknown, QueryError, QueryTimeout, StoreError
from ..realtime import websocket_url
from .access import visible_site
from .authn import AuthContext, authenticate, bearer_secret, request_origin
from .limits import BodyTooLarge, ConcurrencyLimiter, TooManyQueries, caller_key, read_body
from .upload import parse_multipart

__all__ = [
    "SECURITY_HEADERS", "RouteKind", "connect_src", "error_id", "make_route_class", "secured",
]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
_R = TypeVar("_R", bound=StarletteResponse)


def secured(response: _R, headers: Mapping[str, str] = SECURITY_HEADERS) -> _R:
    """``response`` with each security header it does not set itself: every response under the
    mount carries them (the route class's, the fallback's, the static files')."""
    for header, value in headers.items():
        response.headers.setdefault(header, value)
    return response


RouteKind = Literal["public", "page", "api", "settings"]


def connect_src(collector_url: str) -> str:
    """The CSP ``connect-src`` directive: our origin plus the collector's, over HTTP and WebSocket
    (the realtime page's socket and its snapshot fallback)."""
    scheme, _, rest = collector_url.partition("://")
    origin = f"{scheme}://{rest.split('/', 1)[0]}"
    return f"connect-src 'self' {origin} {websocket_url(origin)}"

_log = logging.getLogger("analytics_941")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# (request, status, title, message) -> an HTML error page
HtmlErrorRenderer = Callable[[Request, int, str, str], Response]


def error_id() -> str:
    """A short random id tying an error shown to a user to its full entry in the log."""
    return secrets.token_hex(6)


def _reject_surrogates(body: bytes) -> None:
    """Refuse a JSON body whose strings hold a lone UTF-16 surrogate (``"\\ud800"``, or its
    bytes sent raw, which Python's JSON parser decodes as one): no store can bind it, and it is
    never a real site name, filter value or setting."""
    # Written either way a surrogate shows: an escape, or the lead byte of its raw UTF-8 form.
    if b"\\u" not in body and b"\xed" not in body:
        return
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return  # not JSON: the handler answers for it
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        message = "body: a string holds a lone surrogate (invalid Unicode)"
        raise QueryError(code="invalid_body", message=message) from None


def _token_scope(request: Request) -> str:
    route = request.scope.get("route")
    # The route's template and name, never the URL itself: a site called export.example must
    # not turn its dashboard into an export route, nor csv.example its API calls.
    name = f"{getattr(route, 'path', request.url.path)} {getattr(route, 'name', '')}".lower()
    return "export" if "csv" in name or "export" in name else "stats"


async def _named_domains(request: Request) -> list[str]:
    """Every site a request names: ``{domain}`` in the path, ``site=`` (``site_id=`` in
    Plausible's v1 API), a body's ``site_id``.

    The body is read whatever its Content-Type: the API parses any body as JSON, so a
    ``text/plain`` body must not slip a site past this check.
    """
    # An empty name is left to the handler, which answers 400 for it.
    names = [str(request.path_params.get("domain") or ""), request.query_params.get("site", ""),
             request.query_params.get("site_id", "")]
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        body = None
    if isinstance(body, dict) and isinstance(body.get("site_id"), str):
        names.append(body["site_id"])
    return list(dict.fromkeys(name for name in names if name))


def make_route_class(
    *,
    kind: RouteKind,
    auth: AuthContext,
    render_error: HtmlErrorRenderer,
    json_errors: bool | None = None,
    limiter: ConcurrencyLimiter | None = None,
) -> type[APIRoute]:
    """Return an ``APIRoute`` subclass enforcing the rules of ``kind`` (see the module doc).

    ``limiter`` bounds each caller's concurrent requests; share one between all route classes
    of a dashboard (``setup_analytics`` does) so the bound holds across kinds of routes.
    """
    json_out = kind == "api" if json_errors is None else json_errors
    max_body = auth.settings.max_body_bytes
    slots = limiter or ConcurrencyLimiter(
        per_key=auth.settings.max_concurrent_queries, wait_s=auth.settings.query_queue_wait_s
    )
    mount = auth.settings.mount_path
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": f"{SECURITY_HEADERS['Content-Security-Policy']}; "
        f"{connect_src(auth.settings.collector_url)}",
    }

    def error(request: Request, status: int, code: str, title: str, message: str,
              ref: str | None = None) -> Response:
        # JSON for the API, for any request that itself speaks JSON (the passkey ceremonies),
        # and for bearer-token callers of page routes (the CSV export): programs, not browsers.
        if (json_out or request.headers.get("content-type", "").startswith("application/json")
                or bearer_secret(request) is not None):
            body = {"code": code, "message": message} | ({"id": ref} if ref else {})
            if json_out:
                # The API's clients may be Plausible's: its error key, beside our code.
                body["error"] = message
            return JSONResponse(body, status_code=status)
        return render_error(request, status, title,
                            f"{message} (error id {ref})" if ref else message)

    def failure(request: Request, exc: Exception) -> Response:
        """A 5xx whose body says what happened in general and carries an id; the log has the
        rest. Never the exception's text: it may hold SQL, stored values or column aliases."""
        ref = error_id()
        _log.error("analytics_941: error %s on %s %s", ref, request.method, request.url.path,
                   exc_info=exc)
        if isinstance(exc, DatabaseUnknown):
            # The deployer's settings lack a database a site is placed in: say which.
            return error(request, 503, exc.code, "Analytics unavailable", str(exc), ref)
        if isinstance(exc, QueryTimeout):
            return error(request, 503, "query_timeout", "Query took too long",
                         "This query took too long and was stopped; try a shorter period or "
                         "fewer filters.", ref)
        if isinstance(exc, StoreError):
            return error(request, 503, "store_unavailable", "Analytics unavailable",
                         "The analytics database could not answer; try again shortly.", ref)
        if isinstance(exc, ConfigError):
            # The deployer's own settings (e.g. wrangler's file is missing): say which.
            return error(request, 503, "store_unavailable", "Analytics unavailable",
                         str(exc), ref)
        return error(request, 500, "internal_error", "Something went wrong",
                     "Something went wrong on our side.", ref)

    async def anonymous(request: Request) -> Response:
        if json_out:
            response = error(request, 401, "unauthenticated", "Log in", "Log in or send "
                             "an API token: Authorization: Bearer <token>.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="analytics"'
            return response
        # First run: nobody can log in yet, so everything leads to the setup page.
        if await count_users(auth.store) == 0:
            return RedirectResponse(f"{mount}/setup", status_code=303)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{mount}/login?next={quote(target, safe='')}", status_code=303)

    async def authorize(request: Request, principal: Principal) -> None:
        # Tokens read; a token on a state-changing page route is a mistake or an attack.
        if principal.kind == "token":
            assert principal.token is not None
            if kind == "page" and request.method not in SAFE_METHODS:
                raise AuthError(code="forbidden", message="API tokens are read-only.", status=403)
            scope = _token_scope(request)
            if scope not in principal.token.scopes:
                raise AuthError(code="insufficient_scope",
                                message=f"This API token lacks the {scope!r} scope.", status=403)
        elif request.method not in SAFE_METHODS:
            # A cookie rides along on cross-site requests: demand the origin and the token.
            check_origin(origin=request.headers.get("origin"),
                         fetch_site=request.headers.get("sec-fetch-site"),
                         expected=request_origin(request, auth.settings))
            sent = request.headers.get("x-csrf-token")
            if sent is None and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                from urllib.parse import parse_qs

                form = parse_qs((await request.body()).decode("utf-8", "replace"))
                sent = next(iter(form.get("csrf_token") or []), None)
            elif sent is None:
                # A file upload's form (web/upload.py) carries its token as a field too.
                field = parse_multipart(await request.body(),
                                        request.headers.get("content-type", "")).get("csrf_token")
                sent = field.content.decode("utf-8", "replace") if field else None
            assert principal.session_token is not None
            check_token(sent=sent, session_token=principal.session_token)
        # Every name is checked, not just the first: ?site=A must not vouch for a body's B.
        sites = []
        for domain in await _named_domains(request):
            site = await visible_site(auth.store, principal, domain)
            if site is None:
                raise site_not_found(domain)
            sites.append(site)
        if sites:
            setattr(request.state, STATE_SITE, sites[0])

    class AnalyticsRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    # A route may take more (a file upload): its own ``max_body_bytes``.
                    await read_body(request, limit=getattr(self, "max_body_bytes", max_body))
                    _reject_surrogates(await request.body())
                    principal = await authenticate(
                        request, auth,
                        allow_bearer=kind == "api" or (kind == "page" and request.method == "GET"),
                    )
                    if principal is not None:
                        setattr(request.state, STATE_PRINCIPAL, principal)
                    if kind == "public":
                        # A route whose POST carries its own signed authority (a one-click
                        # unsubscribe, posted by a mail provider's server) sets signed_post.
                        if request.method not in SAFE_METHODS and not getattr(
                                self, "signed_post", False):
                            check_origin(origin=request.headers.get("origin"),
                                         fetch_site=request.headers.get("sec-fetch-site"),
                                         expected=request_origin(request, auth.settings))
                        response = await limited(request, principal)
                    elif principal is None:
                        response = await anonymous(request)
                    elif kind == "settings" and principal.kind != "user":
                        raise AuthError(code="forbidden", status=403,
                                        message="Settings need a logged-in user.")
                    else:
                        await authorize(request, principal)
                        response = await limited(request, principal)
                except BodyTooLarge as exc:
                    response = error(request, 413, "body_too_large", "Too large",
                                     f"The request body is larger than {exc.limit} bytes.")
                except TooManyQueries:
                    response = error(request, 429, "too_many_queries", "Slow down",
                                     "Too many queries at once; wait for one to finish.")
                    response.headers["Retry-After"] = "1"
                except RateLimited as exc:
                    response = error(request, 429, exc.code, "Slow down", exc.message)
                    response.headers["Retry-After"] = str(exc.retry_after)
                except AuthError as exc:
                    titles = {401: "Log in", 403: "Not allowed", 404: "Not found"}
                    title = titles.get(exc.status, "Not possible")
                    if exc.code == "site_not_found":
                        title = "Site not found"
                    response = error(request, exc.status, exc.code, title, exc.message)
                except QueryError as exc:
                    response = error(request, 400, exc.code, "Invalid query", exc.message)
                except RequestValidationError:
                    response = error(request, 400, "invalid_request", "Invalid request",
                                     "The request's parameters are malformed.")
                except HTTPException as exc:  # raised by FastAPI itself, e.g. an unreadable form
                    response = error(request, exc.status_code, "http_error", "Not possible",
                                     HTTPStatus(exc.status_code).phrase)
                except Exception as exc:  # logged with an id, never a bare 500
                    response = failure(request, exc)
                secured(response, headers)
                response.headers.setdefault("Cache-Control", "no-store")
                return response

            async def limited(request: Request, principal: Principal | None) -> Response:
                key = caller_key(principal, request)
                if key is None:
                    return await handler(request)
                async with slots.slot(key):
                    return await handler(request)

            return guarded

    return AnalyticsRoute
