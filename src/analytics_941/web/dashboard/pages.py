"""The member pages of a site: the site list, its dashboard (``routes``), the CSV
export and the realtime page and token.

Thin handlers. Access is one admission (``member``) every page of a site goes through: the site
the guard checked, or the same rule applied here (``access.site_of``); a site the caller may not
see looks missing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute

from ...audit import actor_of, record
from ...auth.principal import STATE_PRINCIPAL, Principal, get_principal
from ...cache import cache_for
from ...realtime import realtime_token, websocket_url
from ...sites import Site, list_sites
from ..access import site_of
from ..render import Renderer
from .clicks_page import load_clicks_page
from .csv_export import build_export
from .data import DIMENSION_LABELS, OP_LABELS
from .ecommerce_page import ShopEvents, load_ecommerce_page
from .errors_page import ERROR_EVENT, load_errors_page
from .journeys_page import load_journeys_page
from .performance_page import BREAKDOWNS, load_performance_page, page_context
from .properties_page import load_properties_page
from .raw_export import EXPECTED_ROWS_HEADER, EXPORT_KINDS, expected_rows, plan_export, stream_csv
from .routes import Admitted, add_dashboard_routes
from .site_goals import with_goals
from .site_list import summarise
from .state import PERIOD_LABELS, DashboardState
from .users_page import load_users_page
from .views import state_of

__all__ = ["make_pages_router"]


def _with_param(url: str, name: str, value: str | None) -> str:
    """``url`` plus ``name=value`` in its query string (unchanged when ``value`` is None)."""
    if value is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({name: value})}"


def _period_links(state: DashboardState, url: str, *, name: str = "page",
                  value: str | None = None) -> list[tuple[str, str, bool]]:
    """(label, URL, current) for the few periods a side page offers, keeping its filters and
    what it shows (``name=value``)."""
    return [
        (label, _with_param(state.url(url, period=key, date_from=None, date_to=None), name,
                            value), key == state.period)
        for key, label in PERIOD_LABELS.items() if key in ("day", "7d", "30d", "month", "12mo")
    ]


def _filter_chips(state: DashboardState) -> list[tuple[str, str, str]]:
    """(dimension label, operator label, value) of each filter, for a side page that keeps the
    dashboard's filters (_side_header.html shows them as chips)."""
    return [(DIMENSION_LABELS.get(d, d), OP_LABELS[o], v) for o, d, v in state.filters]


def make_pages_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """Return the router serving the site list and every page of a site's dashboard."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings

    async def member(request: Request) -> Admitted | Response:
        """The site ``{domain}`` names and its dashboard's URL, or a 404 page."""
        domain = str(request.path_params["domain"])
        site = await site_of(store, request, domain)
        if site is None:
            missing = {"title": "Site not found", "message": f"No site {domain!r} is tracked."}
            return render(request, "error.html", missing, 404)
        base = str(request.url_for("analytics_941_overview", domain=domain).path)
        return Admitted(site=site, base=base)

    async def side_state(request: Request, site: Site) -> DashboardState:
        """A side page's state: the dashboard's period and filters (goals read when a filter
        names one), no panel tabs."""
        return await with_goals(replace(state_of(request), tabs={}), store, site.id)

    def side_render(request: Request, template: str, admitted: Admitted, state: DashboardState,
                    url: str, context: dict[str, Any], *, name: str = "page",
                    value: str | None = None) -> Response:
        """A side page with what every side page shows: its site, the way back to the
        dashboard and the period links (keeping ``name=value``, what the page shows)."""
        return render(request, template, {
            "site": admitted.site, "back_url": state.url(admitted.base),
            "period_label": PERIOD_LABELS.get(state.period, "Custom range"),
            "periods": _period_links(state, url, name=name, value=value), **context,
        })

    async def visible_sites(request: Request) -> list[Site]:
        sites = await list_sites(store)
        # Only the sites the caller may see (the route class put the caller on the request).
        principal = getattr(request.state, STATE_PRINCIPAL, None)
        return principal.visible(sites) if isinstance(principal, Principal) else sites

    async def member_links(request: Request, admitted: Admitted,
                           state: DashboardState) -> dict[str, Any]:
        base, domain = admitted.base, admitted.site.domain
        # The switcher keeps the period and comparison; filters and tabs belong to one site.
        keep = replace(state, filters=(), tabs={})
        others = [s for s in await visible_sites(request) if s.id != admitted.site.id]
        return {
            "switch_sites": [
                (s.name, s.domain, keep.url(str(request.url_for(
                    "analytics_941_overview", domain=s.domain).path)))
                for s in others
            ],
            "export_url": state.url(f"{base}/export"),
            "raw_export_urls": [(kind, state.url(f"{base}/export/{kind}.csv"))
                                for kind in EXPORT_KINDS],
            "realtime_url": f"{base}/realtime",
            "realtime_token_url": f"{base}/realtime/token",
            "errors_url": state.url(f"{base}/errors"),
            "clicks_url": state.url(f"{base}/clicks"),
            "journeys_url": state.url(f"{base}/journeys"),
            "properties_url": state.url(f"{base}/properties"),
            "ecommerce_url": state.url(f"{base}/ecommerce"),
            "performance_url": state.url(f"{base}/performance"),
            "users_url": state.url(f"{base}/users"),
            "snippet": (
                f'<script defer data-domain="{domain}" '
                f'src="{settings.collector_url}/script.js"></script>'
            ),
        }

    @router.get("/", name="analytics_941_sites")
    async def sites_page(request: Request) -> Response:
        sites = await visible_sites(request)
        if len(sites) == 1:
            url = request.url_for("analytics_941_overview", domain=sites[0].domain)
            return RedirectResponse(str(url.path), status_code=303)
        state = DashboardState()
        summaries = await summarise(render.site_store, sites, state=state)
        return render(request, "sites.html", {"sites": sites, "summaries": summaries,
                                              "period_label": PERIOD_LABELS[state.period]})

    @router.get("/{domain}/export", name="analytics_941_export")
    async def export(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        data = render.site_store(admitted.site)
        filename, body = await build_export(data, site=admitted.site, state=state_of(request),
                                            cache=cache_for(data), home=store,
                                            audited_as=actor_of(get_principal(request)))
        return Response(
            body,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @router.get("/{domain}/export/{kind}.csv", name="analytics_941_raw_export")
    async def raw_export(request: Request, kind: str) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        if kind not in EXPORT_KINDS:
            missing = {"title": "Export not found", "message": f"No export {kind!r}."}
            return render(request, "error.html", missing, 404)
        data = render.site_store(admitted.site)
        plan = await plan_export(data, kind=kind, site=admitted.site,
                                 state=state_of(request), home=store)
        await record(store, "export", actor=actor_of(get_principal(request)),
                     sites=[admitted.site.id],
                     detail={"kind": kind, "from": plan.first.isoformat(),
                             "to": plan.last.isoformat()})
        # Counted before the first byte, so the dashboard's progress knows the whole.
        total = await expected_rows(data, plan)
        return StreamingResponse(
            stream_csv(data, plan), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{plan.filename}"',
                     EXPECTED_ROWS_HEADER: str(total)},
        )

    @router.get("/{domain}/realtime", name="analytics_941_realtime")
    async def realtime_page(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        context = {
            "site": admitted.site,
            "base_url": admitted.base,
            "token_url": f"{admitted.base}/realtime/token",
            "collector_url": settings.collector_url,
        }
        return render(request, "realtime.html", context)

    @router.get("/{domain}/errors", name="analytics_941_errors")
    async def errors_page(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        state = await side_state(request, admitted.site)
        # A fingerprint is a short base-36 hash; anything longer names no group.
        chosen = request.query_params.get("error", "")[:32] or None
        page = await load_errors_page(render.site_store(admitted.site), site=admitted.site,
                                      state=state, fingerprint=chosen)
        errors_url = f"{admitted.base}/errors"
        return side_render(request, "errors.html", admitted, state, errors_url, {
            "page": page, "event_name": ERROR_EVENT, "errors_url": errors_url,
            "group_url": lambda fp: _with_param(state.url(errors_url), "error", fp),
        })

    @router.get("/{domain}/clicks", name="analytics_941_clicks")
    async def clicks_page(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        state = await side_state(request, admitted.site)
        page = await load_clicks_page(render.site_store(admitted.site), site=admitted.site,
                                      state=state)
        clicks_url = f"{admitted.base}/clicks"
        return side_render(request, "clicks.html", admitted, state, clicks_url, {"page": page})

    @router.get("/{domain}/journeys", name="analytics_941_journeys")
    async def journeys_page(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        state = await side_state(request, admitted.site)
        chosen = request.query_params.get("page", "").strip()[:2000] or None
        page = await load_journeys_page(render.site_store(admitted.site), site=admitted.site,
                                        state=state, page=chosen)
        url = f"{admitted.base}/journeys"
        return side_render(request, "journeys.html", admitted, state, url, {
            "page": page, "journeys_url": url, "keep_params": state.params(),
            "page_url": lambda path: _with_param(state.url(url), "page", path),
        }, value=page.journey.page if page.journey else None)

    @router.get("/{domain}/properties", name="analytics_941_properties")
    async def properties_page(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        state = await side_state(request, admitted.site)
        chosen = request.query_params.get("key", "").strip()[:64] or None
        page = await load_properties_page(render.site_store(admitted.site), site=admitted.site,
                                          state=state, key=chosen)
        url = f"{admitted.base}/properties"
        return side_render(request, "properties.html", admitted, state, url, {
            "page": page, "key_url": lambda key: _with_param(state.url(url), "key", key),
            "metric_labels": {"visitors": "Visitors", "events": "Events",
                              "group_conversion_rate": "CR"},
        }, name="key", value=page.key)

    @router.get("/{domain}/ecommerce", name="analytics_941_ecommerce")
    async def ecommerce_page(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        state = await side_state(request, admitted.site)
        events = ShopEvents.for_site(settings.ecommerce_events, admitted.site.domain)
        page = await load_ecommerce_page(render.site_store(admitted.site), site=admitted.site,
                                         state=state, events=events)
        url = f"{admitted.base}/ecommerce"
        return side_render(request, "ecommerce.html", admitted, state, url, {"page": page})

    @router.get("/{domain}/performance", name="analytics_941_performance")
    async def performance_page(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        state = await side_state(request, admitted.site)
        by = request.query_params.get("by", "page")
        by = by if by in BREAKDOWNS else "page"
        page = await load_performance_page(render.site_store(admitted.site), site=admitted.site,
                                           state=state, by=by)
        url = f"{admitted.base}/performance"
        dimension = BREAKDOWNS[by][0]
        return side_render(request, "performance.html", admitted, state, url, page_context(page) | {
            "filters": _filter_chips(state),
            "clear_url": _with_param(replace(state, filters=()).url(url), "by", by),
            "by_url": lambda key: _with_param(state.url(url), "by", key),
            "filter_url": lambda value: _with_param(
                state.with_filter("is", dimension, value).url(url), "by", by),
            "snippet": (f'<script defer data-domain="{admitted.site.domain}" '
                        f'src="{settings.collector_url}/script.web-vitals.js"></script>'),
        }, name="by", value=by)

    @router.get("/{domain}/users", name="analytics_941_users")
    async def users_page(request: Request) -> Response:
        admitted = await member(request)
        if isinstance(admitted, Response):
            return admitted
        state = await side_state(request, admitted.site)
        page = await load_users_page(render.site_store(admitted.site), site=admitted.site,
                                     state=state)
        if request.url.path.endswith(".json"):
            return JSONResponse(page.as_json())
        url = f"{admitted.base}/users"
        return side_render(request, "users.html", admitted, state, url, {
            "page": page, "settings_url": f"{settings.mount_path}/settings/sites/"
                                          f"{admitted.site.domain}#identity",
            "filters": _filter_chips(state),
            "clear_url": replace(state, filters=()).url(url),
            "returning_url": lambda label: state.with_filter("is", "returning", label).url(
                admitted.base),
        })

    # The same numbers as JSON (docs/users.md), behind the same admission.
    router.add_api_route("/{domain}/users.json", users_page, methods=["GET"],
                         name="analytics_941_users_json")

    @router.get("/{domain}/realtime/token", name="analytics_941_realtime_token")
    async def realtime_token_json(request: Request, domain: str) -> Response:
        # Behind the same access check as the pages: only who may see the site gets a token.
        site = await site_of(store, request, domain)
        if site is None:
            return JSONResponse({"code": "site_not_found", "message": "no such site"}, 404)
        ttl = settings.realtime_token_ttl
        token = realtime_token(site.domain, settings.secret.get_secret_value(), ttl)
        return JSONResponse({
            "token": token,
            "ttl": ttl,
            "socket_url": f"{websocket_url(settings.collector_url)}/api/realtime/{site.domain}",
            "snapshot_url": f"{settings.collector_url}/api/realtime/{site.domain}/snapshot",
        })

    # Last: the dashboard's own path is the catch-all /{domain}.
    add_dashboard_routes(
        router, path="/{domain}", render=render, admit=member, extras=member_links,
        names=("analytics_941_overview", "analytics_941_panel", "analytics_941_details"),
    )
    return router
