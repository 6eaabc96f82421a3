"""A site's email reports in its settings (docs/reports.md): recipients and their kinds, the last
send of each, a preview of the next report and "send a test now"; and the public unsubscribe
page every mail links to. The collector renders and sends; these routes store subscriptions
and ask the collector (``reports_client``)."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse

from ...alerts import remove_recipient
from ...audit import Actor, record
from ...auth.principal import require_user
from ...exceptions import AnalyticsError
from ...reports import KINDS, ReportError, ReportKind, list_subscriptions, subscribe, unsubscribe
from ...reports_client import ReportsClient
from ...reports_tokens import UnsubscribeRefused, read_unsubscribe_token
from ...sites import Site, get_site_by_id
from ..forms import read_form
from ..render import Renderer
from .site_sections import admin_site as shared_admin_site
from .site_sections import collector_client, section_template

__all__ = ["PREVIEW_CSP", "make_reports_router", "make_unsubscribe_router"]

# The preview is the mail's own HTML (inline styles, no script, no remote content), shown in a
# sandboxed frame of the settings page: it may be framed by us and may load nothing.
PREVIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'self'")


def _with_notes(mail_html: str, notes: list[str]) -> str:
    """The preview with the dashboard's notes (not part of the mail) at the top of its body."""
    if not notes:
        return mail_html
    banner = "".join(
        '<p style="margin:0 0 8px;padding:8px 12px;background:#fef3c7;color:#78350f;'
        f'font:14px sans-serif;border-radius:6px">{html.escape(note)}</p>' for note in notes)
    at = mail_html.find(">", mail_html.find("<body")) + 1
    return mail_html[:at] + banner + mail_html[at:] if at > 0 else banner + mail_html


def _kind(text: str | None) -> ReportKind:
    return "monthly" if text == "monthly" else "weekly"


def make_reports_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/sites/{domain}/reports`` and its actions (site admins)."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings
    mount = settings.mount_path

    async def admin_site(request: Request, domain: str) -> Site:
        return await shared_admin_site(store, request, domain)

    def client(site: Site) -> ReportsClient:
        return collector_client(settings, site)

    async def section(request: Request, site: Site, *, error: str = "", notice: str = "",
                      typed: str = "", status: int = 200) -> Response:
        return render(request, section_template(request, "reports", status), {
            "site": site, "subscriptions": await list_subscriptions(store, site_id=site.id),
            "kinds": KINDS, "report_error": error, "report_notice": notice,
            "report_email": typed,
        }, status)

    @router.get("/settings/sites/{domain}/reports", name="analytics_941_site_reports")
    async def reports(request: Request, domain: str) -> Response:
        return await section(request, await admin_site(request, domain))

    @router.post("/settings/sites/{domain}/reports", name="analytics_941_report_subscribe")
    async def report_subscribe(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        form = await read_form(request)
        try:
            sub = await subscribe(store, site_id=site.id, email=form.get("email"),
                                  weekly=form.flag("weekly"), monthly=form.flag("monthly"))
        except ReportError as exc:
            return await section(request, site, error=str(exc), typed=form.get("email"),
                                 status=400)
        await record(store, "report_subscribe", actor=Actor.of_user(user), sites=[site.id],
                     detail={"email": sub.email, "kinds": ", ".join(sub.kinds)})
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#reports", status_code=303)

    @router.post("/settings/sites/{domain}/reports/remove", name="analytics_941_report_remove")
    async def report_remove(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        form = await read_form(request)
        if await unsubscribe(store, site_id=site.id, email=form.get("email")):
            await record(store, "report_unsubscribe", actor=Actor.of_user(user),
                         sites=[site.id], detail={"email": form.get("email").strip().lower()})
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#reports", status_code=303)

    @router.post("/settings/sites/{domain}/reports/test", name="analytics_941_report_test")
    async def report_test(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        form = await read_form(request)
        email, kind = form.get("email"), _kind(form.get("kind"))
        try:
            await client(site).send_test(kind, email)
        except AnalyticsError as exc:
            return await section(request, site, error=f"The test was not sent. {exc}",
                                 status=502)
        return await section(request, site, notice=f"A test {kind} report is on its way to "
                             f"{email}.")

    @router.get("/settings/sites/{domain}/reports/preview", name="analytics_941_report_preview")
    async def report_preview(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        kind = _kind(request.query_params.get("kind"))
        try:
            preview = await client(site).preview(kind)
        except AnalyticsError as exc:
            return PlainTextResponse(f"No preview: {exc}", status_code=502)
        notes = [] if preview.configured else [
            f"Reports are not being sent: {preview.problem} (docs/reports.md)."]
        if not preview.ready:
            notes.append(f"The rollups have not caught up with {preview.first} to {preview.last} "
                         "yet: the mail waits for them, and these numbers may still change.")
        if request.query_params.get("part") == "text":
            head = "".join(f"[{note}]\n" for note in notes)
            return PlainTextResponse(f"{head}Subject: {preview.subject}\n\n{preview.text}")
        return HTMLResponse(_with_notes(preview.html, notes),
                            headers={"Content-Security-Policy": PREVIEW_CSP})

    return router


def make_unsubscribe_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/reports/unsubscribe?t=…``: no login. GET asks (mail scanners open links), POST acts.

    The POST is also RFC 8058's one-click unsubscribe: a mail provider posts
    ``List-Unsubscribe=One-Click`` to the mail's ``List-Unsubscribe`` URL from its own servers,
    with no Origin header and no session. The signed token is the whole authority (it names one
    address of one site and can only remove it), so this route skips the guard's Origin check.
    """

    class SignedRoute(route_class):  # type: ignore[valid-type,misc]
        signed_post = True

    router = APIRouter(route_class=SignedRoute)
    store, settings = render.store, render.settings

    async def page(request: Request, *, done: bool) -> Response:
        token = request.query_params.get("t", "")
        if request.method == "POST" and not token:
            token = (await read_form(request)).get("t")
        try:
            claims = read_unsubscribe_token(token, settings.secret.get_secret_value())
        except UnsubscribeRefused as exc:
            return render(request, "settings/_reports_unsubscribe.html",
                          {"refused": str(exc), "token": ""}, 400)
        site = await get_site_by_id(store, site_id=claims.site_id)
        removed = False
        if done and site is not None:
            if claims.mail_list == "alerts":
                removed = await remove_recipient(store, site_id=site.id, email=claims.email)
            else:
                removed = await unsubscribe(store, site_id=site.id, email=claims.email)
        return render(request, "settings/_reports_unsubscribe.html", {
            "refused": "", "token": token, "email": claims.email, "mail_list": claims.mail_list,
            "domain": site.domain if site else "", "done": done, "removed": removed,
        })

    @router.get("/reports/unsubscribe", name="analytics_941_report_unsubscribe")
    async def unsubscribe_ask(request: Request) -> Response:
        return await page(request, done=False)

    @router.post("/reports/unsubscribe", name="analytics_941_report_unsubscribe_post")
    async def unsubscribe_do(request: Request) -> Response:
        return await page(request, done=True)

    return router
