"""Account settings: the user's passkeys and sessions, API tokens, and the audit log; and a
site's goals and funnels (shown in its settings page, which loads them as sections)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ...audit import Actor, goal_detail, list_entries, parse_cursor, record, token_detail
from ...auth.api_tokens import SCOPES, create_token, list_tokens, revoke_token
from ...auth.errors import AuthError
from ...auth.passkeys import list_passkeys, remove_passkey, rename_passkey
from ...auth.principal import require_site, require_user
from ...auth.sessions import list_sessions, revoke_all_sessions, revoke_session
from ...auth.user_agents import describe_user_agent
from ...goals import GoalError, add_goal, list_goals, parse_prop, remove_goal
from ...sites import Site, list_sites
from ..dashboard.site_goals import forget_goals
from ..forms import Form, read_form
from ..render import Renderer
from .alerts_routes import make_alerts_router
from .funnel_settings import add_funnel_routes
from .identity_routes import make_identity_router
from .imports_routes import make_imports_router
from .privacy_routes import make_privacy_router
from .reports_routes import make_reports_router
from .segments_routes import make_segments_router
from .site_sections import admin_site
from .webhooks_routes import make_webhooks_router

__all__ = ["AUDIT_PAGE", "make_settings_router"]

AUDIT_PAGE = 50  # entries per page of the audit log
_GOAL_FIELDS = ("page", "event", "prop", "currency", "name")


def make_settings_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/account`` (passkeys, sessions), ``/settings/tokens``, ``/settings/audit``."""
    router = APIRouter(route_class=route_class)
    store, mount = render.store, render.settings.mount_path
    # A site's email reports and webhooks: modules of their own (sections of the site's page).
    router.include_router(make_reports_router(render=render, route_class=route_class))
    router.include_router(make_webhooks_router(render=render, route_class=route_class))
    router.include_router(make_imports_router(render=render, route_class=route_class))
    router.include_router(make_segments_router(render=render, route_class=route_class))
    router.include_router(make_alerts_router(render=render, route_class=route_class))
    router.include_router(make_privacy_router(render=render, route_class=route_class))
    router.include_router(make_identity_router(render=render, route_class=route_class))

    def back(path: str) -> Response:
        return RedirectResponse(f"{mount}{path}", status_code=303)

    @router.get("/settings", name="analytics_941_settings")
    async def settings_home(request: Request) -> Response:
        return back("/settings/sites")

    @router.get("/settings/account", name="analytics_941_account")
    async def account(request: Request) -> Response:
        principal, user = require_user(request)
        return render(request, "settings/account.html", {
            "user": user,
            "passkeys": await list_passkeys(store, user_id=user.id),
            "sessions": await list_sessions(store, user_id=user.id, idle_ms=render.auth.idle_ms),
            "current_session": principal.session.id if principal.session else "",
            "error": request.query_params.get("error", ""),
            "signed_out": request.query_params.get("signed_out") == "1",
        })

    @router.post("/settings/passkeys/{passkey_id}/rename", name="analytics_941_passkey_rename")
    async def passkey_rename(request: Request, passkey_id: str) -> Response:
        _principal, user = require_user(request)
        form = await read_form(request)
        old = {p.id: p.name for p in await list_passkeys(store, user_id=user.id)}
        if passkey_id in old:
            new = await rename_passkey(store, user_id=user.id, passkey_id=passkey_id,
                                       name=form.get("name"))
            await record(store, "passkey_rename", actor=Actor.of_user(user),
                         detail={"from": old[passkey_id], "to": new})
        return back("/settings/account")

    @router.post("/settings/passkeys/{passkey_id}/delete", name="analytics_941_passkey_delete")
    async def passkey_delete(request: Request, passkey_id: str) -> Response:
        principal, user = require_user(request)
        names = {p.id: p.name for p in await list_passkeys(store, user_id=user.id)}
        try:
            await remove_passkey(store, user_id=user.id, passkey_id=passkey_id)
        except AuthError as exc:
            return back(f"/settings/account?error={exc.code}")
        await record(store, "passkey_remove", actor=Actor.of_user(user),
                     detail={"name": names.get(passkey_id, "")})
        # A passkey is removed because a device is lost or given away: its sessions go too.
        # Sessions do not record their passkey, so every other session of the user ends.
        current = principal.session.id if principal.session else None
        await revoke_all_sessions(store, user_id=user.id, keep=current)
        return back("/settings/account?signed_out=1")

    @router.post("/settings/sessions/{session_id}/revoke", name="analytics_941_session_revoke")
    async def session_revoke(request: Request, session_id: str) -> Response:
        _principal, user = require_user(request)
        mine = {s.id: s.user_agent for s in await list_sessions(
            store, user_id=user.id, idle_ms=render.auth.idle_ms)}
        if session_id in mine:
            await revoke_session(store, session_id=session_id, user_id=user.id)
            await record(store, "session_revoke", actor=Actor.of_user(user),
                         detail={"session": session_id,
                                 "browser": describe_user_agent(mine[session_id])})
        return back("/settings/account")

    async def tokens_page(request: Request, *, secret: str = "", error: str = "",
                          status: int = 200) -> Response:
        principal, user = require_user(request)
        sites = principal.visible(await list_sites(store))
        names = {s.id: s.domain for s in sites}
        tokens = await list_tokens(store, user_id=user.id)
        return render(request, "settings/tokens.html", {
            "sites": sites, "site_names": names, "tokens": tokens, "scopes": SCOPES,
            "new_secret": secret, "error": error,
        }, status)

    @router.get("/settings/tokens", name="analytics_941_tokens")
    async def tokens(request: Request) -> Response:
        return await tokens_page(request)

    @router.post("/settings/tokens", name="analytics_941_token_create")
    async def token_create(request: Request) -> Response:
        principal, user = require_user(request)
        form = await read_form(request)
        visible = {s.id for s in principal.visible(await list_sites(store))}
        wanted = form.all("site")
        # A token can only reach sites its creator can see today (and keeps that bound).
        if not wanted or any(site_id not in visible for site_id in wanted):
            return await tokens_page(request, error="Choose at least one of your sites.",
                                     status=400)
        # Sending events writes a site's data: a site admin's decision, not a viewer's.
        if "ingest" in form.all("scope") and not all(principal.can(i, "admin") for i in wanted):
            return await tokens_page(request, error="Sending events needs the admin role on "
                                     "each of the token's sites.", status=403)
        try:
            secret, token = await create_token(
                store, name=form.get("name"), user_id=user.id, site_ids=wanted,
                scopes=form.all("scope"),
            )
        except AuthError as exc:
            return await tokens_page(request, error=exc.message, status=400)
        await record(store, "token_create", actor=Actor.of_user(user), sites=token.site_ids,
                     detail=token_detail(token))
        return await tokens_page(request, secret=secret)

    @router.get("/settings/audit", name="analytics_941_audit")
    async def audit_log(request: Request) -> Response:
        principal, user = require_user(request)
        sites = await list_sites(store)
        owned = [s for s in sites if principal.can(s.id, "owner")]
        domain = request.query_params.get("site", "")
        # The guard already answered 404 for a site the caller cannot see at all.
        chosen = require_site(request, next((s for s in sites if s.domain == domain), None),
                              needed="owner", domain=domain) if domain else None
        if chosen is not None:
            scope: list[str] | None = [chosen.id]
        else:
            # Owners: their sites and their own account; the instance administrator: everything.
            scope = None if principal.is_admin else [s.id for s in owned]
        entries = await list_entries(
            store, sites=scope, own_user_id=None if chosen else user.id,
            before=parse_cursor(request.query_params.get("before")), limit=AUDIT_PAGE + 1)
        return render(request, "settings/audit.html", {
            "entries": entries[:AUDIT_PAGE], "owned": owned, "chosen": chosen,
            "domains": {s.id: s.domain for s in sites},
            "older": entries[AUDIT_PAGE - 1].cursor if len(entries) > AUDIT_PAGE else "",
            "paged": "before" in request.query_params,
        })

    async def goals_site(request: Request, domain: str) -> Site:
        # Goals are site settings: the same role as the rest of them (admin).
        return await admin_site(store, request, domain)

    async def goals_page(request: Request, site: Site, *, error: GoalError | None = None,
                         typed: Form | None = None) -> Response:
        # htmx loads the section into the site's settings page; opened directly (no
        # JavaScript, or a refused form) it is a page of its own.
        page = "_goals.html" if request.headers.get("HX-Request") and not error else "goals.html"
        return render(request, f"settings/{page}", {
            "site": site, "goals": await list_goals(store, site_id=site.id),
            "goal_error": str(error or ""), "goal_field": error.field if error else "",
            "goal_values": {k: typed.get(k) if typed else "" for k in _GOAL_FIELDS},
        }, 400 if error else 200)

    @router.get("/settings/sites/{domain}/goals", name="analytics_941_site_goals")
    async def goals(request: Request, domain: str) -> Response:
        return await goals_page(request, await goals_site(request, domain))

    @router.post("/settings/sites/{domain}/goals", name="analytics_941_goal_create")
    async def goal_create(request: Request, domain: str) -> Response:
        site = await goals_site(request, domain)
        _principal, user = require_user(request)
        form = await read_form(request)
        page, event, prop = form.get("page"), form.get("event"), form.get("prop")
        try:
            if page and (event or prop or form.get("currency")):
                raise GoalError("Give a page or an event name, not both (a property goes with "
                                "an event, as does a currency).",
                                field="event" if event else "prop" if prop else "currency")
            if not page and not event:
                raise GoalError("Give a page pattern (such as /pricing) or an event name.",
                                field="page")
            goal = await add_goal(store, site_id=site.id, page=page or None,
                                  event=None if page else event,
                                  prop=parse_prop(prop) if prop else None,
                                  name=form.get("name") or None,
                                  currency=form.get("currency") or None)
        except GoalError as exc:
            return await goals_page(request, site, error=exc, typed=form)
        forget_goals(store, site.id)  # the dashboard shows it on its next request
        await record(store, "goal_create", actor=Actor.of_user(user), sites=[site.id],
                     detail=goal_detail(goal))
        return back(f"/settings/sites/{site.domain}#goals")

    @router.post("/settings/sites/{domain}/goals/{goal_id}/remove",
                 name="analytics_941_goal_remove")
    async def goal_remove(request: Request, domain: str, goal_id: str) -> Response:
        site = await goals_site(request, domain)
        _principal, user = require_user(request)
        goal = await remove_goal(store, site_id=site.id, goal_id=goal_id)
        forget_goals(store, site.id)
        if goal is not None:
            await record(store, "goal_remove", actor=Actor.of_user(user), sites=[site.id],
                         detail=goal_detail(goal))
        return back(f"/settings/sites/{site.domain}#goals")

    # Funnels are site settings too, beside the goals their steps may name.
    add_funnel_routes(router, render=render, site_for=goals_site)

    @router.post("/settings/tokens/{token_id}/revoke", name="analytics_941_token_revoke")
    async def token_revoke(request: Request, token_id: str) -> Response:
        _principal, user = require_user(request)
        live = {t.id: t for t in await list_tokens(store, user_id=user.id) if not t.revoked_at}
        if token_id in live:
            await revoke_token(store, token_id=token_id, user_id=user.id)
            await record(store, "token_revoke", actor=Actor.of_user(user),
                         sites=live[token_id].site_ids, detail=token_detail(live[token_id]))
        return back("/settings/tokens")

    return router
