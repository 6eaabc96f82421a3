"""A site's webhooks in its settings (docs/webhooks.md): endpoints with their events and signing
secret, the latest deliveries (status code, attempts, next try), "send a test event" and
"redeliver". The collector signs and delivers; these routes store endpoints and ask it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ...audit import Actor, record
from ...auth.principal import require_user
from ...exceptions import AnalyticsError
from ...reports_client import ReportsClient
from ...sites import Site
from ...webhooks import (
    EVENT_TYPES,
    WebhookError,
    add_endpoint,
    list_deliveries,
    list_endpoints,
    remove_endpoint,
)
from ..forms import read_form
from ..render import Renderer
from .site_sections import admin_site as shared_admin_site
from .site_sections import collector_client, section_template

__all__ = ["make_webhooks_router"]


def make_webhooks_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/sites/{domain}/webhooks`` and its actions (site admins)."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings
    mount = settings.mount_path

    async def admin_site(request: Request, domain: str) -> Site:
        return await shared_admin_site(store, request, domain)

    def client(site: Site) -> ReportsClient:
        return collector_client(settings, site)

    async def section(request: Request, site: Site, *, error: str = "", notice: str = "",
                      typed: str = "", status: int = 200) -> Response:
        return render(request, section_template(request, "webhooks", status), {
            "site": site, "endpoints": await list_endpoints(store, site_id=site.id),
            "deliveries": await list_deliveries(store, site_id=site.id),
            "event_types": EVENT_TYPES, "webhook_error": error, "webhook_notice": notice,
            "webhook_url": typed,
        }, status)

    def back(site: Site) -> Response:
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#webhooks",
                                status_code=303)

    @router.get("/settings/sites/{domain}/webhooks", name="analytics_941_site_webhooks")
    async def webhooks(request: Request, domain: str) -> Response:
        return await section(request, await admin_site(request, domain))

    @router.post("/settings/sites/{domain}/webhooks", name="analytics_941_webhook_add")
    async def webhook_add(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        form = await read_form(request)
        try:
            endpoint = await add_endpoint(store, site_id=site.id, url=form.get("url"),
                                          events=form.all("event"),
                                          allow_private=not settings.looks_deployed())
        except WebhookError as exc:
            return await section(request, site, error=str(exc), typed=form.get("url"),
                                 status=400)
        await record(store, "webhook_create", actor=Actor.of_user(user), sites=[site.id],
                     detail={"url": endpoint.url, "events": ", ".join(endpoint.events)})
        return back(site)

    @router.post("/settings/sites/{domain}/webhooks/{endpoint_id}/remove",
                 name="analytics_941_webhook_remove")
    async def webhook_remove(request: Request, domain: str, endpoint_id: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        endpoint = await remove_endpoint(store, site_id=site.id, endpoint_id=endpoint_id)
        if endpoint is not None:
            await record(store, "webhook_remove", actor=Actor.of_user(user), sites=[site.id],
                         detail={"url": endpoint.url})
        return back(site)

    @router.post("/settings/sites/{domain}/webhooks/{endpoint_id}/test",
                 name="analytics_941_webhook_test")
    async def webhook_test(request: Request, domain: str, endpoint_id: str) -> Response:
        site = await admin_site(request, domain)
        try:
            await client(site).webhook_test(endpoint_id)
        except AnalyticsError as exc:
            return await section(request, site, error=f"No test event was sent. {exc}",
                                 status=502)
        return await section(request, site, notice="A test event is on its way; its delivery "
                             "shows below.")

    @router.post("/settings/sites/{domain}/webhooks/deliveries/{delivery_id}/redeliver",
                 name="analytics_941_webhook_redeliver")
    async def webhook_redeliver(request: Request, domain: str, delivery_id: str) -> Response:
        site = await admin_site(request, domain)
        try:
            await client(site).webhook_redeliver(delivery_id)
        except AnalyticsError as exc:
            return await section(request, site, error=f"Not redelivered. {exc}", status=502)
        return await section(request, site, notice="The message is being delivered again.")

    return router
