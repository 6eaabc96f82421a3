"""Public shared dashboards: ``/share/{slug}`` shows one site's overview read-only.

No login; the link itself is the credential (and a password, if the owner set one). The caller
becomes a ``share`` principal that can view exactly one site and change nothing. The page may be
embedded in other sites (``frame-ancestors *``), unlike the rest of the dashboard.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ..auth.crypto import verify_password
from ..auth.errors import AuthError
from ..auth.principal import STATE_PRINCIPAL, STATE_SITE, Principal
from ..auth.rate_limit import hit
from ..auth.share_links import ShareLink, get_share_link, share_cookie_value
from ..exceptions import QueryError
from ..sites import Site, get_site_by_id
from .authn import client_key
from .forms import read_form
from .guard import SECURITY_HEADERS
from .overview import PERIODS, load_overview
from .render import Renderer

__all__ = ["make_share_router"]

_EMBEDDABLE_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "frame-ancestors 'none'", "frame-ancestors *"
)


def _cookie_name(link: ShareLink) -> str:
    return f"a941_share_{link.id}"


def make_share_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``GET /share/{slug}`` and ``POST /share/{slug}/password``."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings
    mount = settings.mount_path

    async def resolve(slug: str) -> tuple[ShareLink, Site]:
        link = await get_share_link(store, slug=slug)
        site = await get_site_by_id(store, site_id=link.site_id) if link else None
        # Revoked links, and links of deleted sites, are simply gone.
        if link is None or site is None:
            raise AuthError(code="share_not_found", status=404,
                            message="This shared dashboard does not exist or was revoked.")
        return link, site

    @router.get("/share/{slug}", name="analytics_941_share")
    async def shared(request: Request, slug: str) -> Response:
        link, site = await resolve(slug)
        setattr(request.state, STATE_PRINCIPAL,
                Principal(kind="share", share=link, roles={site.id: "viewer"}))
        setattr(request.state, STATE_SITE, site)
        url = f"{mount}/share/{link.id}"
        if link.has_password:
            sent = request.cookies.get(_cookie_name(link), "")
            if not hmac.compare_digest(sent, share_cookie_value(link)):
                return render(request, "auth/share_password.html",
                              {"site": site, "action": f"{url}/password",
                               "wrong": request.query_params.get("wrong") == "1"})
        period = request.query_params.get("period", "30d")
        if period not in PERIODS:
            raise QueryError(code="invalid_date_range",
                             message=f"period must be one of {', '.join(PERIODS)}")
        overview = await load_overview(store, site=site, period=period)
        partial = (request.headers.get("HX-Request") == "true"
                   and request.headers.get("HX-History-Restore-Request") != "true")
        response = render(request, "_overview.html" if partial else "overview.html", {
            "site": site, "overview": overview, "periods": PERIODS, "overview_url": url,
            "snippet": "", "shared": True,
        })
        response.headers["Vary"] = "HX-Request"
        response.headers["Content-Security-Policy"] = _EMBEDDABLE_CSP
        return response

    @router.post("/share/{slug}/password", name="analytics_941_share_password")
    async def share_password(request: Request, slug: str) -> Response:
        await hit(store, key=f"share:{client_key(request)}", limit=settings.login_rate_limit,
                  window_s=600)
        link, _site = await resolve(slug)
        form = await read_form(request)
        url = f"{mount}/share/{link.id}"
        if not link.password_hash or not verify_password(form.get("password"),
                                                          link.password_hash):
            return RedirectResponse(f"{url}?wrong=1", status_code=303)
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            _cookie_name(link), share_cookie_value(link), max_age=30 * 86400, path=url,
            httponly=True, samesite="lax",
            secure=(request.url.hostname or "") not in {"localhost", "127.0.0.1", "::1"},
        )
        return response

    return router
