"""A site's alerts in its settings (docs/alerts.md): the rules, who receives them, the goals that
mean "added to cart" and "purchased" (for the commerce webhooks), the latest fired alerts and
"send a test alert". The collector's cron measures and delivers; these routes store and ask it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ...alerts import (
    KIND_LABELS,
    AlertError,
    AlertSettings,
    add_rule,
    get_settings,
    list_log,
    list_rules,
    parse_rule,
    remove_rule,
    save_settings,
)
from ...audit import Actor, record
from ...auth.principal import require_user
from ...exceptions import AnalyticsError
from ...goals import list_goals
from ...sites import Site
from ..forms import Form, read_form
from ..render import Renderer
from .site_sections import admin_site as shared_admin_site
from .site_sections import collector_client, section_template

__all__ = ["make_alerts_router"]


def make_alerts_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/sites/{domain}/alerts`` and its actions (site admins)."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings
    mount = settings.mount_path

    async def admin_site(request: Request, domain: str) -> Site:
        return await shared_admin_site(store, request, domain)

    async def goal_names(site: Site) -> list[str]:
        return [g.name for g in await list_goals(store, site_id=site.id)]

    async def section(request: Request, site: Site, *, error: str = "", notice: str = "",
                      form: Form | None = None, typed: AlertSettings | None = None,
                      status: int = 200) -> Response:
        return render(request, section_template(request, "alerts", status), {
            "site": site, "rules": await list_rules(store, site_id=site.id),
            "alert_settings": typed or await get_settings(store, site_id=site.id),
            "fired": await list_log(store, site_id=site.id), "goals": await goal_names(site),
            "kinds": KIND_LABELS, "alert_error": error, "alert_notice": notice,
            "alert_form": form,
        }, status)

    def back(site: Site) -> Response:
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#alerts", status_code=303)

    @router.get("/settings/sites/{domain}/alerts", name="analytics_941_site_alerts")
    async def alerts(request: Request, domain: str) -> Response:
        return await section(request, await admin_site(request, domain))

    @router.post("/settings/sites/{domain}/alerts", name="analytics_941_alert_add")
    async def alert_add(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        form = await read_form(request)
        try:
            rule = parse_rule(kind=form.get("kind"), goal=form.get("goal"),
                              threshold=form.get("threshold"),
                              window_hours=form.get("window_hours"),
                              min_volume=form.get("min_volume"),
                              cooldown_minutes=form.get("cooldown_minutes"),
                              goals=await goal_names(site))
            await add_rule(store, site_id=site.id, rule=rule)
        except AlertError as exc:
            return await section(request, site, error=str(exc), form=form, status=400)
        await record(store, "alert_create", actor=Actor.of_user(user), sites=[site.id],
                     detail={"kind": rule.kind, "goal": rule.goal,
                             "threshold": f"{rule.threshold:g}"})
        return back(site)

    @router.post("/settings/sites/{domain}/alerts/settings",
                 name="analytics_941_alert_settings")
    async def alert_settings(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        form = await read_form(request)
        try:
            saved = await save_settings(store, site_id=site.id, recipients=form.get("recipients"),
                                        cart_goal=form.get("cart_goal"),
                                        purchase_goal=form.get("purchase_goal"))
        except AlertError as exc:
            typed = AlertSettings(recipients=(form.get("recipients"),),
                                  cart_goal=form.get("cart_goal"),
                                  purchase_goal=form.get("purchase_goal"))
            return await section(request, site, error=str(exc), typed=typed, status=400)
        await record(store, "alert_settings", actor=Actor.of_user(user), sites=[site.id],
                     detail={"recipients": ", ".join(saved.recipients),
                             "goals": f"{saved.cart_goal} / {saved.purchase_goal}"})
        return back(site)

    @router.post("/settings/sites/{domain}/alerts/{rule_id}/remove",
                 name="analytics_941_alert_remove")
    async def alert_remove(request: Request, domain: str, rule_id: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        rule = await remove_rule(store, site_id=site.id, rule_id=rule_id)
        if rule is not None:
            await record(store, "alert_remove", actor=Actor.of_user(user), sites=[site.id],
                         detail={"kind": rule.kind, "goal": rule.goal})
        return back(site)

    @router.post("/settings/sites/{domain}/alerts/{rule_id}/test",
                 name="analytics_941_alert_test")
    async def alert_test(request: Request, domain: str, rule_id: str) -> Response:
        site = await admin_site(request, domain)
        client = collector_client(settings, site)
        try:
            answer = await client.alert_test(rule_id)
        except AnalyticsError as exc:
            return await section(request, site, error=f"No test alert was sent. {exc}",
                                 status=502)
        mailed = {"sent": "mailed to the recipients", "failed": "its mail failed",
                  "none": "no mail (no recipients or no mailer configured)"}
        return await section(request, site, notice=(
            f"Test alert sent: {mailed.get(str(answer.get('mail')), '')}, "
            f"{len(answer.get('deliveries') or [])} webhook delivery(ies). "
            f"Now: {answer.get('reason', '')}."))

    return router
