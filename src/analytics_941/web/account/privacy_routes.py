"""A site's privacy requests in its settings (docs/privacy.md, "Erasure and access requests"):
erase an identified user (two steps: find, then confirm) or download their data as JSON. Site
admins only, CSRF-checked by the guard like every form, and audited with the hash's prefix.

The user is named by the id the site passed to ``identify()`` (the collector turns it into the
stored hash, ``user_hash_client``) or by that hash itself, as the Users view shows it. The
confirmation step carries the hash, never the id, so the id is sent once and never echoed back.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from ...audit import Actor, record
from ...auth.crypto import now_ms
from ...auth.principal import require_user
from ...cache import caches_of
from ...exceptions import AnalyticsError
from ...sites import Site
from ...user_data import (
    UserIdRefused,
    checked_hash,
    count_user,
    erase_user,
    export_user,
    hash_prefix,
)
from ...user_data_cli import export_json
from ...user_hash_client import UserHashClient
from ..render import Renderer
from .site_sections import admin_site as shared_admin_site
from .site_sections import section_template

__all__ = ["RECOMPUTE_LIMIT", "make_privacy_router"]

# Days recomputed within the request (about a second each at 5,000 events a day); older ones
# are left to the rollup job, read raw meanwhile (user_data.erase_user).
RECOMPUTE_LIMIT = 7


def make_privacy_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/sites/{domain}/privacy`` and its two actions (site admins)."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings

    async def admin_site(request: Request, domain: str) -> Site:
        return await shared_admin_site(store, request, domain)

    async def section(request: Request, site: Site, *, status: int = 200,
                      **context: object) -> Response:
        values = {"site": site, "privacy_error": "", "privacy_notice": "", "pending": None,
                  **context}
        return render(request, section_template(request, "privacy", status), values, status)

    async def fields(request: Request) -> dict[str, str]:
        # Read here rather than with read_form, which strips values: an id is hashed exactly
        # as typed, spaces included, as identify() hashed it.
        raw = parse_qs((await request.body())[:65536].decode("utf-8", "replace"),
                       keep_blank_values=True)
        return {name: values[0] for name, values in raw.items() if values}

    def collector(site: Site) -> UserHashClient:
        return UserHashClient(collector_url=settings.collector_url, site_id=site.id,
                              secret=settings.secret.get_secret_value())

    async def user_hash(site: Site, form: dict[str, str]) -> str:
        if form.get("kind") == "hash":
            return checked_hash(form.get("user", "").strip().lower())
        return await collector(site).hash(form.get("user", ""))

    async def refused(request: Request, site: Site, exc: AnalyticsError) -> Response:
        status = 400 if isinstance(exc, UserIdRefused) else 502
        return await section(request, site, status=status, privacy_error=str(exc))

    @router.get("/settings/sites/{domain}/privacy", name="analytics_941_site_privacy")
    async def privacy(request: Request, domain: str) -> Response:
        return await section(request, await admin_site(request, domain))

    @router.post("/settings/sites/{domain}/privacy/erase", name="analytics_941_privacy_erase")
    async def erase(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        form = await fields(request)
        data = render.site_store(site)
        try:
            found = (checked_hash(form.get("user_hash", "")) if form.get("step") == "erase"
                     else await user_hash(site, form))
        except AnalyticsError as exc:
            return await refused(request, site, exc)
        if form.get("step") != "erase":
            visits, traits = await count_user(data, site=site, user_hash=found, home=store)
            return await section(request, site, pending={
                "hash": found, "prefix": hash_prefix(found), "visits": visits, "traits": traits})
        done = await erase_user(data, site=site, user_hash=found, now_ms=now_ms(), home=store,
                                recompute_limit=RECOMPUTE_LIMIT, forget=collector(site).forget)
        await record(store, "user_erase", actor=Actor.of_user(user), sites=[site.id],
                     detail=done.detail())
        caches = caches_of(data)
        if caches is not None:  # kept answers would still count the user
            caches.results.clear()
        later = (f"; the rollup job recomputes the other {len(done.left_to_cron)}"
                 if done.left_to_cron else "")
        return await section(request, site, privacy_notice=(
            f"Erased {done.sessions} visits, {done.events} events and {done.traits} traits of "
            f"user {hash_prefix(found)}…; recomputed {len(done.recomputed)} day(s){later}."
            + (f" Warning: {warning}" if (warning := done.warning()) else "")))

    @router.post("/settings/sites/{domain}/privacy/export", name="analytics_941_privacy_export")
    async def export(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        try:
            found = await user_hash(site, await fields(request))
        except AnalyticsError as exc:
            return await refused(request, site, exc)
        exported = await export_user(render.site_store(site), site=site, user_hash=found,
                                     home=store)
        await record(store, "user_export", actor=Actor.of_user(user), sites=[site.id],
                     detail={"user": hash_prefix(found), "sessions": len(exported["sessions"]),
                             "events": len(exported["events"])})
        name = f"{site.domain}-user-{hash_prefix(found)}.json"
        return Response(export_json(exported), media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    return router
