"""Site settings: the sites grid, create, edit, delete (typed confirmation, purges data), the
install snippet with "verify installation", members and invites, and public share links.

Viewing a site's settings needs the ``admin`` role on it; deleting needs ``owner``; creating a
site needs an instance administrator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ...audit import Actor, record
from ...auth.crypto import now_ms
from ...auth.errors import AuthError
from ...auth.invites import create_invite, list_invites, revoke_invite
from ...auth.principal import Principal, require_site, require_user
from ...auth.roles import ROLES, at_least, check_role, list_members, remove_member
from ...auth.share_links import create_share_link, list_share_links, revoke_share_link
from ...exceptions import ConfigError, DatabaseUnknown, QueryError
from ...query import parse_query
from ...runner import run_queries
from ...sites import Site, SiteError, add_site, delete_site, list_sites, update_site
from ...store import Store
from ..access import site_of
from ..forms import Form, read_form
from ..render import Renderer
from .snippet import FEATURES, Install, script_tag

__all__ = ["SiteCard", "make_sites_router", "sparkline_points"]

VERIFY_WINDOW_MS = 10 * 60 * 1000
_NEW_SITE_FIELDS = ("domain", "name", "timezone", "also_domains")


@dataclass(frozen=True, kw_only=True)
class SiteCard:
    """One tile of the sites grid."""

    site: Site
    role: str
    today: int
    week: list[int]
    points: str


def _whole(form: Form, name: str, label: str) -> int | None:
    """A whole number from the form; None when the field is missing or empty (keep as is)."""
    value = form.get(name)
    if not value:
        return None
    if not value.isdigit():
        raise SiteError(f"{label}: {value!r} is not a whole number.", field=name)
    return int(value)


def _refusal(exc: ConfigError) -> dict[str, str]:
    """The page context of a refused form: the message, and the field it belongs to (if any)."""
    return {"error": str(exc), "error_field": getattr(exc, "field", "")}


def sparkline_points(values: list[int], *, width: int = 120, height: int = 32) -> str:
    """SVG ``polyline`` points for ``values``, scaled into ``width`` x ``height`` (2px margin)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )


async def _numbers(store: Store, sites: list[Site]) -> dict[str, tuple[Any, Any]]:
    """Site id -> (today's visitors, the last 7 days by day) for ``sites``, all in ``store``:
    one batch. A site whose numbers cannot be read gets none (its dashboard says why)."""
    specs: list[Any] = []
    for site in sites:
        base = {"site_id": site.id, "metrics": ["visitors"]}
        specs.append(parse_query({**base, "date_range": "day"}, timezone=site.timezone))
        specs.append(parse_query({**base, "date_range": "7d", "dimensions": ["time:day"]},
                                 timezone=site.timezone))
    try:
        results = await run_queries(store, specs) if specs else []
    except QueryError:
        return {}
    return {site.id: (results[2 * i], results[2 * i + 1]) for i, site in enumerate(sites)}


async def _cards(stores: Callable[[Site], Store], principal: Principal,
                 sites: list[Site]) -> list[SiteCard]:
    # One batch per database holding some of the sites.
    by_database: dict[str, list[Site]] = {}
    for site in sites:
        by_database.setdefault(site.database, []).append(site)
    numbers: dict[str, tuple[Any, Any]] = {}
    for placed in by_database.values():
        try:
            numbers |= await _numbers(stores(placed[0]), placed)
        except DatabaseUnknown:
            continue
    cards = []
    for site in sites:
        today, week_rows = numbers.get(site.id, (None, None))
        total = int(today["results"][0]["metrics"][0]) if today and today["results"] else 0
        week = [int(r["metrics"][0] or 0) for r in week_rows["results"]] if week_rows else []
        cards.append(SiteCard(site=site, role=principal.role_for(site.id) or "viewer",
                              today=total, week=week, points=sparkline_points(week)))
    return cards


def make_sites_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/sites`` and ``/settings/sites/{domain}/…``."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings
    mount = settings.mount_path

    def back(path: str) -> Response:
        return RedirectResponse(f"{mount}{path}", status_code=303)

    async def site_for(request: Request, domain: str, needed: str) -> Site:
        # The site the guard checked (or the same rule applied here), then the role it needs.
        site = await site_of(store, request, domain)
        return require_site(request, site, needed=check_role(needed), domain=domain)


    async def sites_page(request: Request, *, refused: dict[str, str] | None = None,
                         typed: Form | None = None, status: int = 200) -> Response:
        principal, _user = require_user(request)
        sites = principal.visible(await list_sites(store))
        # A refused form comes back as it was typed, the message next to its field.
        values = {name: typed.get(name) if typed else "" for name in _NEW_SITE_FIELDS}
        values["timezone"] = values["timezone"] or "UTC"
        return render(request, "settings/sites.html", {
            "cards": await _cards(render.site_store, principal, sites),
            "can_create": principal.is_admin, "values": values,
            "error": "", "error_field": "", **(refused or {}),
        }, status)

    @router.get("/settings/sites", name="analytics_941_settings_sites")
    async def sites(request: Request) -> Response:
        return await sites_page(request)

    @router.post("/settings/sites", name="analytics_941_site_create")
    async def site_create(request: Request) -> Response:
        principal, user = require_user(request)
        if not principal.is_admin:
            raise AuthError(code="forbidden", message="Only administrators add sites.", status=403)
        form = await read_form(request)
        try:
            site = await add_site(
                store, domain=form.get("domain"), name=form.get("name") or None,
                timezone=form.get("timezone") or "UTC",
                also_domains=tuple(h for h in form.get("also_domains").split() if h),
            )
        except ConfigError as exc:
            return await sites_page(request, refused=_refusal(exc), typed=form, status=400)
        await record(store, "site_create", actor=Actor.of_user(user), sites=[site.id],
                     detail={"domain": site.domain})
        return back(f"/settings/sites/{site.domain}?created=1")

    async def site_page(request: Request, site: Site, *, error: str = "", secret_link: str = "",
                        status: int = 200) -> Response:
        principal, _user = require_user(request)
        role = principal.role_for(site.id)
        # The snippet's options come as a GET form, so the page rebuilds it without JavaScript.
        install = Install.chosen(request.query_params.getlist("feature"),
                                 hash_routing="hash" in request.query_params,
                                 consent="consent" in request.query_params)
        return render(request, "settings/site.html", {
            "site": site, "role": role, "is_owner": at_least(role, "owner"),
            "members": await list_members(store, site_id=site.id),
            "invites": await list_invites(store, site_id=site.id),
            "share_links": await list_share_links(store, site_id=site.id),
            "roles": [r for r in ROLES if at_least(role, r)],
            "snippet": script_tag(collector_url=settings.collector_url, domain=site.domain,
                                  install=install),
            "install": install, "features": FEATURES,
            "error": error, "invite_link": secret_link,
            "origin": f"{request.url.scheme}://{request.url.netloc}",
            "flash": request.query_params.get("saved") or request.query_params.get("created"),
        }, status)

    @router.get("/settings/sites/{domain}", name="analytics_941_site_settings")
    async def site_settings(request: Request, domain: str) -> Response:
        return await site_page(request, await site_for(request, domain, "admin"))

    @router.post("/settings/sites/{domain}", name="analytics_941_site_update")
    async def site_update(request: Request, domain: str) -> Response:
        site = await site_for(request, domain, "admin")
        form = await read_form(request)
        retention = form.get("retention_days")
        try:
            bounce_s = _whole(form, "bounce_threshold_s", "the bounce threshold")
            updated = await update_site(
                store, site=site, name=form.get("name"),
                timezone=form.get("timezone") or site.timezone,
                also_domains=tuple(form.get("domains").split()),
                allow_subdomains=form.flag("allow_subdomains"),
                excluded_paths=tuple(form.get("excluded_paths").split()),
                retention_days=int(retention) if retention.isdigit() else None,
                rate_limit_visitor=_whole(form, "rate_limit_visitor", "events per visitor"),
                rate_limit_site=_whole(form, "rate_limit_site", "events per site"),
                bounce_threshold_ms=None if bounce_s is None else bounce_s * 1000,
                archive_raw=form.flag("archive_raw"),
                keep_query_params=tuple(form.get("keep_query_params").split()),
            )
        except ConfigError as exc:
            return await site_page(request, site, error=str(exc), status=400)
        # What changed, before and after (site settings hold no secrets).
        changed = {f.name: [getattr(site, f.name), getattr(updated, f.name)]
                   for f in fields(site) if getattr(site, f.name) != getattr(updated, f.name)}
        await record(store, "site_update", actor=Actor.of_user(require_user(request)[1]),
                     sites=[site.id], detail={"changed": changed})
        return back(f"/settings/sites/{site.domain}?saved=1")

    @router.get("/settings/sites/{domain}/verify", name="analytics_941_site_verify")
    async def site_verify(request: Request, domain: str) -> Response:
        site = await site_for(request, domain, "admin")
        now = now_ms()
        # Bounded above too (one minute of clock skew): rows stamped in the future prove nothing.
        rows = await render.site_store(site).execute(
            "SELECT MAX(ts) AS last FROM events WHERE site_id = ? AND ts > ? AND ts < ?",
            [site.id, now - VERIFY_WINDOW_MS, now + 60_000],
        )
        last = rows[0]["last"] if rows else None
        seconds = None if last is None else max(0, (now_ms() - int(last)) // 1000)
        # htmx swaps in the result alone; a link opened directly (no JavaScript, a new tab)
        # gets a whole page around it.
        page = "_verify.html" if request.headers.get("HX-Request") else "verify.html"
        return render(request, f"settings/{page}", {"site": site, "seconds": seconds})

    @router.post("/settings/sites/{domain}/delete", name="analytics_941_site_delete")
    async def site_delete(request: Request, domain: str) -> Response:
        site = await site_for(request, domain, "owner")
        form = await read_form(request)
        # Typed confirmation: deleting purges every event, with no undo.
        if form.get("confirm") != site.domain:
            return await site_page(request, site, status=400,
                                   error=f"Type {site.domain} exactly to delete the site.")
        await delete_site(store, site=site, data=render.site_store(site))
        await record(store, "site_delete", actor=Actor.of_user(require_user(request)[1]),
                     sites=[site.id], detail={"domain": site.domain})
        return back("/settings/sites")

    @router.post("/settings/sites/{domain}/invites", name="analytics_941_invite_create")
    async def invite_create(request: Request, domain: str) -> Response:
        site = await site_for(request, domain, "admin")
        principal, user = require_user(request)
        form = await read_form(request)
        role = check_role(form.get("role") or "viewer")
        # Nobody hands out more than they hold.
        if not at_least(principal.role_for(site.id), role):
            raise AuthError(code="forbidden", status=403,
                            message=f"You cannot invite someone as {role}: it is more than your "
                                    "own role on this site.")
        secret, invite = await create_invite(store, roles={site.id: role}, created_by=user.id)
        await record(store, "invite_create", actor=Actor.of_user(user), sites=[site.id],
                     detail={"invite": invite.id, "role": role})
        link = f"{request.url.scheme}://{request.url.netloc}{mount}/invite/{secret}"
        return await site_page(request, site, secret_link=link)

    @router.post("/settings/sites/{domain}/invites/{invite_id}/revoke",
                 name="analytics_941_invite_revoke")
    async def invite_revoke(request: Request, domain: str, invite_id: str) -> Response:
        site = await site_for(request, domain, "admin")
        principal, user = require_user(request)
        pending = {i.id: i for i in await list_invites(store, site_id=site.id)}
        invite = pending.get(invite_id)
        # The same rule as creating one: nobody withdraws more than they could hand out.
        if invite is not None and not at_least(principal.role_for(site.id), invite.role):
            raise AuthError(code="forbidden", status=403,
                            message=f"Only someone with the {invite.role} role can revoke this "
                                    "invite.")
        if invite is not None and await revoke_invite(store, site_id=site.id,
                                                      invite_id=invite_id):
            await record(store, "invite_revoke", actor=Actor.of_user(user), sites=[site.id],
                         detail={"invite": invite_id, "role": invite.role})
        return back(f"/settings/sites/{site.domain}#members-title")

    @router.post("/settings/sites/{domain}/members/{user_id}/remove",
                 name="analytics_941_member_remove")
    async def member_remove(request: Request, domain: str, user_id: str) -> Response:
        site = await site_for(request, domain, "admin")
        principal, user = require_user(request)
        members = {m["user_id"]: m for m in await list_members(store, site_id=site.id)}
        target = members.get(user_id)
        if target is not None and not at_least(principal.role_for(site.id),
                                                check_role(target["role"])):
            raise AuthError(code="forbidden", message="You cannot remove this member.", status=403)
        await remove_member(store, site_id=site.id, user_id=user_id)
        if target is not None:
            await record(store, "member_remove", actor=Actor.of_user(user), sites=[site.id],
                         detail={"user": user_id, "name": target["name"], "role": target["role"]})
        return back(f"/settings/sites/{site.domain}")

    @router.post("/settings/sites/{domain}/share", name="analytics_941_share_create")
    async def share_create(request: Request, domain: str) -> Response:
        site = await site_for(request, domain, "admin")
        _principal, user = require_user(request)
        form = await read_form(request)
        link = await create_share_link(store, site_id=site.id, name=form.get("name"),
                                       password=form.get("password") or None, created_by=user.id)
        # The slug opens the dashboard: only its first characters are logged.
        await record(store, "share_create", actor=Actor.of_user(user), sites=[site.id],
                     detail={"link": f"{link.id[:4]}…", "name": link.name,
                             "password": link.has_password})
        return back(f"/settings/sites/{site.domain}#share")

    @router.post("/settings/sites/{domain}/share/{slug}/revoke", name="analytics_941_share_revoke")
    async def share_revoke(request: Request, domain: str, slug: str) -> Response:
        site = await site_for(request, domain, "admin")
        links = {link.id: link for link in await list_share_links(store, site_id=site.id)}
        await revoke_share_link(store, site_id=site.id, slug=slug)
        if slug in links:
            await record(store, "share_revoke", actor=Actor.of_user(require_user(request)[1]),
                         sites=[site.id], detail={"link": f"{slug[:4]}…", "name": links[slug].name})
        return back(f"/settings/sites/{site.domain}#share")

    return router
