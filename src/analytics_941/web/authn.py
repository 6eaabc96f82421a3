"""Turning an HTTP request into a ``Principal``: session cookie or bearer token.

Also owns the session cookie itself (name, flags) and the relying party (origin and host name
passkeys are bound to), since both depend on how the request reached us.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response

from .. import audit
from ..auth.api_tokens import ApiToken, authenticate_token
from ..auth.ceremonies import RelyingParty
from ..auth.crypto import hash_token
from ..auth.errors import AuthError
from ..auth.principal import Principal
from ..auth.rate_limit import hit
from ..auth.roles import Role, roles_for_user
from ..auth.sessions import load_session_and_roles
from ..cache import caches_of
from ..settings import Settings, is_loopback
from ..store import Store

__all__ = [
    "SESSION_COOKIE",
    "AuthContext",
    "authenticate",
    "clear_session_cookie",
    "client_key",
    "cookie_secure",
    "relying_party",
    "request_origin",
    "set_session_cookie",
]

SESSION_COOKIE = "a941_session"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def cookie_secure(request: Request) -> bool:
    """Whether a cookie set on ``request`` is ``Secure``: always, except on the local hosts,
    where browsers refuse Secure cookies over plain http."""
    return (request.url.hostname or "") not in _LOCAL_HOSTS


@dataclass(frozen=True, kw_only=True)
class AuthContext:
    """What authentication needs: the store and the settings."""

    store: Store
    settings: Settings

    @property
    def idle_ms(self) -> int:
        """Idle session lifetime in milliseconds."""
        return self.settings.session_idle_minutes * 60_000

    @property
    def max_ms(self) -> int:
        """Absolute session lifetime in milliseconds."""
        return self.settings.session_max_days * 86_400_000


def request_origin(request: Request, settings: Settings) -> str:
    """The dashboard's origin: ``public_url`` if configured, else the request's own."""
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.url.scheme}://{request.url.netloc}"


def relying_party(request: Request, settings: Settings) -> RelyingParty:
    """The WebAuthn relying party for this dashboard.

    Without ``public_url`` the origin comes from the request's Host header, which anyone can
    set: passkeys would be bound to whatever host a request names. That is only acceptable on a
    loopback host (local development); elsewhere every ceremony answers 503 until it is set.
    """
    if not settings.public_url and not is_loopback(request.url.hostname):
        raise AuthError(
            code="public_url_required", status=503,
            message="Passkeys are disabled until the dashboard knows its address: set "
                    "ANALYTICS_941_PUBLIC_URL to its origin (https://stats.example.com) and "
                    "restart.",
        )
    origin = request_origin(request, settings)
    return RelyingParty(
        id=urlsplit(origin).hostname or "localhost", name=settings.rp_name, origin=origin
    )


def client_key(request: Request) -> str:
    """The client address used for per-client rate limits (set by the ASGI server)."""
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, request: Request, settings: Settings,
                       token: str, max_age_s: int) -> None:
    """Put the session token in an HttpOnly, SameSite=Lax cookie scoped to the dashboard."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        path=settings.mount_path,
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request, settings: Settings) -> None:
    """Delete the session cookie (same name, path and flags)."""
    response.delete_cookie(
        SESSION_COOKIE,
        path=settings.mount_path,
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
    )


def bearer_secret(request: Request) -> str | None:
    """The secret of an ``Authorization: Bearer`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _token_roles(ctx: AuthContext, token: ApiToken) -> dict[str, Role]:
    roles: dict[str, Role] = dict.fromkeys(token.site_ids, "viewer")
    if token.user_id is not None:
        # A user's token never reaches further than the user does today.
        from ..auth.users import get_user

        user = await get_user(ctx.store, user_id=token.user_id)
        if user is None:
            roles = {}
        elif not user.is_admin:
            mine = await roles_for_user(ctx.store, user_id=user.id)
            roles = {site: role for site, role in roles.items() if site in mine}
    return roles


async def _token_lookup(ctx: AuthContext, secret: str) -> tuple[ApiToken, dict[str, Role]]:
    """The live token behind bearer ``secret`` and the roles it opens, kept for a few seconds
    on the D1 HTTP store (``store.caches.tokens``); raises ``AuthError`` (401)."""
    key = hash_token(secret)
    caches = caches_of(ctx.store)
    kept: tuple[ApiToken, dict[str, Role]] | None = (
        caches.tokens.get(key) if caches is not None else None)
    if kept is None:
        token = await authenticate_token(ctx.store, secret=secret)
        kept = (token, await _token_roles(ctx, token))
        if caches is not None:
            caches.tokens.put(key, kept)
    return kept


async def authenticate(
    request: Request, ctx: AuthContext, *, allow_bearer: bool
) -> Principal | None:
    """The caller of ``request``, or None when it carries no valid credentials.

    A request with an ``Authorization: Bearer`` header is judged by the token alone (an invalid
    one is a 401, never a fall-back to the cookie). Bearer tokens are rate limited per token.
    """
    bearer = bearer_secret(request)
    if bearer is not None:
        if not allow_bearer:
            raise AuthError(
                code="token_not_allowed", message="API tokens cannot be used here.", status=403
            )
        token, roles = await _token_lookup(ctx, bearer)
        # Every token-authenticated read is audited: a per-day counter, in the same round trip.
        await hit(ctx.store, key=f"token:{token.id}", limit=ctx.settings.api_rate_limit,
                  window_s=3600, extra=audit.token_read_statements(token, sites=sorted(roles)))
        return Principal(kind="token", token=token, roles=roles)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = await load_session_and_roles(ctx.store, token=cookie, idle_ms=ctx.idle_ms)
    if found is None:
        return None
    session, roles = found
    return Principal(
        kind="user",
        user=session.user,
        session=session,
        session_token=cookie,
        roles={} if session.user.is_admin else roles,
        all_sites=session.user.is_admin,
    )
