"""Public shared dashboards: ``/share/{slug}`` shows one site's dashboard read-only.

No login; the link itself is the credential (and a password, if the owner set one). The caller
becomes a ``share`` principal that can view exactly one site and change nothing. The view is the
dashboard's own, registered as for members (``routes``: period, comparison, filters,
tabs, details, all in the URL under ``/share/{slug}``) without what belongs to signed-in viewers:
no CSV export, settings, realtime badge or rejected events. The pages may be embedded in other
sites (``frame-ancestors *``), unlike the rest of the dashboard.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ...auth.crypto import verify_password
from ...auth.errors import AuthError
from ...auth.principal import STATE_PRINCIPAL, STATE_SITE, Principal
from ...auth.rate_limit import hit
from ...auth.share_links import ShareLink, get_share_link, share_cookie_value
from ...sites import Site, get_site_by_id
from ..authn import client_key, cookie_secure
from ..forms import read_form
from ..guard import SECURITY_HEADERS
from ..render import Renderer
from .routes import Admitted, add_dashboard_routes

__all__ = ["make_share_router"]

_EMBEDDABLE_HEADERS = {"Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"]
                       .replace("frame-ancestors 'none'", "frame-ancestors *")}


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

    async def admit(request: Request) -> Admitted | Response:
        """The site and URL of the link ``{slug}`` names, or the password page when one is due."""
        link, site = await resolve(str(request.path_params["slug"]))
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
        return Admitted(site=site, base=url, shared=True, headers=_EMBEDDABLE_HEADERS)

    add_dashboard_routes(
        router, path="/share/{slug}", render=render, admit=admit,
        names=("analytics_941_share", "analytics_941_share_panel", "analytics_941_share_details"),
    )

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
            secure=cookie_secure(request),
        )
        return response

    return router
