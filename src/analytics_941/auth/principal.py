"""Who is asking, and which sites they may see: the one object every dashboard route reads.

The guard (``analytics_941.web.guard``) authenticates each request to a ``Principal`` and stores
it on ``request.state``; routes read it with ``get_principal(request)`` (or the FastAPI
dependency ``CurrentPrincipal``). How routes stay inside the caller's sites:

- A route whose path has a ``{domain}`` parameter, or whose query string has ``site=DOMAIN``, or
  whose body parses as JSON with ``"site_id": DOMAIN`` (whatever its Content-Type), is checked
  by the guard **before** the handler runs — every one of those names, not just the first: a
  site the caller may not see answers 404 ``site_not_found``, exactly like a missing site. The
  first named ``Site`` is then on ``request.state.analytics_941_site``. A handler that uses a
  site named elsewhere still checks it itself with ``require_site`` (the Stats API does).
- A route listing sites must filter them: ``principal.visible(sites)``.
- Anything else naming a site (a site id in a form, say) calls ``require_site(request, site)``.

Roles are ``viewer`` < ``admin`` < ``owner`` (see ``roles``); ``principal.can(site_id, "admin")``
answers "may this caller change this site's settings".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal, TypeVar

from fastapi import Depends, Request

from ..sites import Site
from .api_tokens import ApiToken
from .csrf import csrf_token
from .errors import AuthError
from .roles import Role, at_least
from .sessions import AuthSession
from .share_links import ShareLink
from .users import User

__all__ = [
    "STATE_PRINCIPAL",
    "STATE_SITE",
    "CurrentPrincipal",
    "Principal",
    "get_principal",
    "require_site",
    "require_user",
    "site_not_found",
]

STATE_PRINCIPAL = "analytics_941_principal"
STATE_SITE = "analytics_941_site"
_S = TypeVar("_S", bound=Site)


@dataclass(frozen=True, kw_only=True)
class Principal:
    """An authenticated caller: a logged-in user, an API token or a share-link visitor."""

    kind: Literal["user", "token", "share"]
    user: User | None = None
    session: AuthSession | None = None
    session_token: str | None = field(default=None, repr=False)
    token: ApiToken | None = None
    share: ShareLink | None = None
    roles: Mapping[str, Role] = field(default_factory=dict)
    all_sites: bool = False

    def role_for(self, site_id: str) -> Role | None:
        """The caller's role on ``site_id``; None when the site is invisible to them."""
        if self.all_sites:
            return "owner"
        return self.roles.get(site_id)

    def can(self, site_id: str, needed: Role = "viewer") -> bool:
        """True when the caller holds at least ``needed`` on ``site_id``."""
        # Tokens and share links read; they never change anything, whatever their site role.
        if self.kind != "user" and needed != "viewer":
            return False
        return at_least(self.role_for(site_id), needed)

    def visible(self, sites: Sequence[_S]) -> list[_S]:
        """The subset of ``sites`` the caller may see."""
        return [s for s in sites if self.can(s.id)]

    @property
    def is_admin(self) -> bool:
        """Instance administrator (may create sites, sees everything)."""
        return self.kind == "user" and self.all_sites

    @property
    def csrf(self) -> str:
        """The CSRF token forms and HTMX requests of this session must send ('' without one)."""
        return csrf_token(self.session_token) if self.session_token else ""


def site_not_found(domain: str) -> AuthError:
    """The one answer for a missing site and for a site the caller may not see."""
    return AuthError(
        code="site_not_found", message=f"No site {domain!r} is tracked here.", status=404
    )


def get_principal(request: Request) -> Principal:
    """The caller of this request (set by the guard); raises 401 when there is none."""
    principal = getattr(request.state, STATE_PRINCIPAL, None)
    if not isinstance(principal, Principal):
        raise AuthError(code="unauthenticated", message="Sign in to see this page.", status=401)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_user(request: Request) -> tuple[Principal, User]:
    """The logged-in user; tokens and share links are refused (403)."""
    principal = get_principal(request)
    if principal.kind != "user" or principal.user is None:
        raise AuthError(code="forbidden", status=403,
                        message="Only a signed-in person can do this.")
    return principal, principal.user


def require_site(request: Request, site: Site | None, *, needed: Role = "viewer",
                 domain: str = "") -> Site:
    """``site`` if the caller holds ``needed`` on it.

    Invisible sites answer 404 like missing ones; visible ones without the role answer 403.
    """
    principal = get_principal(request)
    if site is None or not principal.can(site.id, "viewer"):
        raise site_not_found(site.domain if site else domain)
    if not principal.can(site.id, needed):
        raise AuthError(
            code="forbidden", message=f"This needs the {needed} role on {site.domain}.",
            status=403,
        )
    return site
