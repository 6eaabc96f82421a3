"""The "Identity and returning visitors" section of a site's settings (docs/users.md): opt-in
identity with its declared trait keys, and new vs returning visitors. Site admins only; each
change is audited as a change of the site's settings."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ...audit import Actor, record
from ...auth.principal import require_user
from ...identity_settings import MAX_TRAITS, set_identity
from ...sites import Site, SiteError
from ..forms import read_form
from ..render import Renderer
from .site_sections import admin_site, section_template

__all__ = ["make_identity_router"]


def make_identity_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/sites/{domain}/identity`` (GET shows, POST saves)."""
    router = APIRouter(route_class=route_class)
    store, mount = render.store, render.settings.mount_path

    async def section(request: Request, site: Site, *, error: str = "", typed: str | None = None,
                      status: int = 200) -> Response:
        return render(request, section_template(request, "identity", status), {
            "site": site, "identity_error": error, "max_traits": MAX_TRAITS,
            "traits_typed": " ".join(site.identity_traits) if typed is None else typed,
            "users_url": f"{mount}/{site.domain}/users",
        }, status)

    @router.get("/settings/sites/{domain}/identity", name="analytics_941_site_identity")
    async def identity(request: Request, domain: str) -> Response:
        site = await admin_site(store, request, domain)
        return await section(request, site)

    @router.post("/settings/sites/{domain}/identity", name="analytics_941_site_identity_save")
    async def identity_save(request: Request, domain: str) -> Response:
        site = await admin_site(store, request, domain)
        _principal, user = require_user(request)
        form = await read_form(request)
        try:
            change = await set_identity(
                store, site=site, identity_enabled=form.flag("identity_enabled"),
                identity_traits=(form.get("identity_traits"),),
                returning_enabled=form.flag("returning_enabled"))
        except SiteError as exc:
            return await section(request, site, error=str(exc), typed=form.get("identity_traits"),
                                 status=400)
        if change.changed:
            await record(store, "site_update", actor=Actor.of_user(user), sites=[site.id],
                         detail={"changed": change.changed})
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}?saved=1#identity",
                                status_code=303)

    return router
