"""The Funnels section of a site's settings: list, add (a name and up to eight step fields),
remove.

Loaded into the site's settings page by htmx like the Goals section, or a page of its own (no
JavaScript, or a refused form). Funnels are site settings: the admin role, CSRF-checked and
audited like goals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from ...audit import Actor, record
from ...auth.principal import require_user
from ...funnels import MAX_STEPS, Funnel, FunnelError, add_funnel, list_funnels, remove_funnel
from ...goals import list_goals
from ...sites import Site
from ..forms import Form, read_form
from ..render import Renderer

__all__ = ["add_funnel_routes", "typed_steps"]


def typed_steps(form: Form) -> list[str]:
    """The steps typed in the form's ``step`` fields, in order, empty fields left out."""
    return [value.strip() for value in form.all("step") if value.strip()]


def _detail(funnel: Funnel) -> dict[str, object]:
    return {"funnel": funnel.name, "steps": len(funnel.steps)}


def add_funnel_routes(
    router: APIRouter, *, render: Renderer, site_for: Callable[[Request, str], Awaitable[Site]]
) -> None:
    """Add ``/settings/sites/{domain}/funnels`` (GET, POST) and ``…/{funnel_id}/remove``;
    ``site_for`` admits the caller to the site (the admin role)."""
    store, mount = render.store, render.settings.mount_path

    async def page(request: Request, site: Site, *, error: FunnelError | None = None,
                   typed: Form | None = None) -> Response:
        section = request.headers.get("HX-Request") and not error
        return render(request, f"settings/{'_funnels' if section else 'funnels'}.html", {
            "site": site, "funnels": await list_funnels(store, site_id=site.id),
            "goals": await list_goals(store, site_id=site.id), "max_steps": MAX_STEPS,
            "funnel_error": str(error or ""), "funnel_field": error.field if error else "",
            "funnel_name": typed.get("name") if typed else "",
            "funnel_steps": typed.all("step") if typed else [],
        }, 400 if error else 200)

    def back(site: Site) -> Response:
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#funnels", status_code=303)

    @router.get("/settings/sites/{domain}/funnels", name="analytics_941_site_funnels")
    async def funnels(request: Request, domain: str) -> Response:
        return await page(request, await site_for(request, domain))

    @router.post("/settings/sites/{domain}/funnels", name="analytics_941_funnel_create")
    async def funnel_create(request: Request, domain: str) -> Response:
        site = await site_for(request, domain)
        _principal, user = require_user(request)
        form = await read_form(request)
        try:
            funnel = await add_funnel(store, site_id=site.id, name=form.get("name"),
                                      steps=typed_steps(form))
        except FunnelError as exc:
            return await page(request, site, error=exc, typed=form)
        await record(store, "funnel_create", actor=Actor.of_user(user), sites=[site.id],
                     detail=_detail(funnel))
        return back(site)

    @router.post("/settings/sites/{domain}/funnels/{funnel_id}/remove",
                 name="analytics_941_funnel_remove")
    async def funnel_remove(request: Request, domain: str, funnel_id: str) -> Response:
        site = await site_for(request, domain)
        _principal, user = require_user(request)
        funnel = await remove_funnel(store, site_id=site.id, funnel_id=funnel_id)
        if funnel is not None:
            await record(store, "funnel_remove", actor=Actor.of_user(user), sites=[site.id],
                         detail=_detail(funnel))
        return back(site)
