"""A site's saved segments (docs/segments.md): saved from the dashboard's filter bar (its filters
as they are), listed in the site's settings with a link applying each, removable. Any member
saves personal segments; site-wide ones are the site admins' (to save and to remove)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ...audit import Actor, record
from ...auth.principal import require_site, require_user
from ...auth.roles import check_role
from ...exceptions import QueryError
from ...segments import SegmentError, add_segment, list_segments, remove_segment
from ...sites import Site
from ..access import site_of
from ..dashboard.state import DashboardState
from ..forms import read_form
from ..render import Renderer
from .site_sections import section_template

__all__ = ["make_segments_router"]


def make_segments_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/sites/{domain}/segments`` and its actions."""
    router = APIRouter(route_class=route_class)
    store, mount = render.store, render.settings.mount_path

    async def member_site(request: Request, domain: str) -> Site:
        site = await site_of(store, request, domain)
        return require_site(request, site, needed="viewer", domain=domain)

    async def section(request: Request, site: Site, *, error: str = "",
                      status: int = 200) -> Response:
        principal, user = require_user(request)
        segments = await list_segments(store, site_id=site.id, user_id=user.id)
        dashboard = f"{mount}/{site.domain}"
        applied = {
            s.id: f"{dashboard}?" + urlencode([("f", f"{f[0]},{f[1]},{f[2][0]}")
                                               for f in s.filters])
            for s in segments
        }
        # Filters to save, sent by the dashboard's "Save as segment" (checked as its URL is).
        try:
            pending = DashboardState.from_params(
                [("f", value) for value in request.query_params.getlist("f")]).filters
        except QueryError:
            pending = ()
        return render(request, section_template(request, "segments", status), {
            "site": site, "segments": segments, "applied": applied, "segment_error": error,
            "may_share": principal.can(site.id, check_role("admin")), "pending": pending,
        }, status)

    @router.get("/settings/sites/{domain}/segments", name="analytics_941_site_segments")
    async def segments(request: Request, domain: str) -> Response:
        return await section(request, await member_site(request, domain))

    @router.post("/settings/sites/{domain}/segments", name="analytics_941_segment_add")
    async def segment_add(request: Request, domain: str) -> Response:
        site = await member_site(request, domain)
        principal, user = require_user(request)
        form = await read_form(request)
        shared = form.get("scope") == "site"
        if shared and not principal.can(site.id, check_role("admin")):
            return await section(request, site, status=403,
                                 error="Only the site's admins save segments for everyone.")
        try:
            # The dashboard's own filters (op,dimension,value), checked as its URL is.
            state = DashboardState.from_params([("f", value) for value in form.all("f")])
        except QueryError as exc:
            return await section(request, site, error=exc.message, status=400)
        filters = [[op, dimension, [value]] for op, dimension, value in state.filters]
        try:
            segment = await add_segment(store, site_id=site.id, name=form.get("name"),
                                        filters=filters, owner_id=None if shared else user.id)
        except SegmentError as exc:
            return await section(request, site, error=str(exc), status=400)
        await record(store, "segment_create", actor=Actor.of_user(user), sites=[site.id],
                     detail={"segment": segment.id, "name": segment.name,
                             "scope": "site" if shared else "personal"})
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#segments",
                                status_code=303)

    @router.post("/settings/sites/{domain}/segments/{segment_id}/remove",
                 name="analytics_941_segment_remove")
    async def segment_drop(request: Request, domain: str, segment_id: int) -> Response:
        site = await member_site(request, domain)
        principal, user = require_user(request)
        removed = await remove_segment(store, site_id=site.id, segment_id=segment_id,
                                       user_id=user.id,
                                       may_remove_shared=principal.can(site.id,
                                                                       check_role("admin")))
        if removed is not None:
            await record(store, "segment_remove", actor=Actor.of_user(user), sites=[site.id],
                         detail={"segment": removed.id, "name": removed.name})
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#segments",
                                status_code=303)

    return router
