"""The HTML pages: the site list, a site's dashboard (whole page or HTMX partial), one panel,
a report's details view and the CSV export.

Thin handlers: the URL becomes a ``DashboardState``, the state becomes queries (``dashboard``,
``csv_export``), results become template context. Access checks are the route class's
(``guard``), which also looks the site up (``request.state``).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from ..audit import actor_of
from ..auth.principal import STATE_PRINCIPAL, STATE_SITE, Principal, get_principal
from ..cache import ResultCache, cache_for
from ..exceptions import QueryError
from ..periods import PRESETS
from ..query import hours_fit
from ..realtime import realtime_token, websocket_url
from ..settings import Settings
from ..sites import Site, get_site, list_sites
from ..store import Store
from .csv_export import build_export
from .dashboard import DIMENSION_LABELS, OP_LABELS, load_dashboard, load_panel, load_report
from .formatting import register_filters
from .reports import PANELS, REPORTS
from .state import CHART_METRICS, INTERVALS, PERIOD_LABELS, DashboardState

__all__ = [
    "VARY",
    "dashboard_links",
    "dashboard_view",
    "details_view",
    "make_pages_router",
    "panel_view",
]

DETAILS_PAGE = 100
MAX_DETAILS_ROWS = 2000
METRIC_LABELS = {
    **CHART_METRICS,
    "time_on_page": "Time on page",
    "scroll_depth": "Scroll depth",
    "events": "Events",
    "visitors": "Visitors",
    "visits": "Visits",
}


def _is_partial(request: Request) -> bool:
    # HTMX asks for the swapped fragment only; a history restore needs the whole page.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _swaps_view(request: Request) -> bool:
    """True when HTMX swaps the whole view (``#dashboard``), not a part of it.

    The dashboard and a details view both are the element ``#dashboard``, so a link from one
    to the other swaps it in place; a search inside a details view swaps only its table.
    """
    return _is_partial(request) and request.headers.get("HX-Target") == "dashboard"


# Responses differ by these request headers: caches must keep the variants apart.
VARY = "HX-Request, HX-Target, HX-History-Restore-Request"


def _intervals(first: date, last: date) -> list[str]:
    days = (last - first).days + 1
    allowed = [("hour", hours_fit(first, last)), ("day", True), ("week", days >= 14),
               ("month", days >= 45)]
    return [name for name, ok in allowed if ok and name in INTERVALS]


def dashboard_links(state: DashboardState, base: str, first: date, last: date) -> dict[str, Any]:
    """Every URL the dashboard's controls point at, each a whole state."""
    compare_labels = [("off", "No comparison"), ("previous_period", "Previous period"),
                      ("year_over_year", "Year over year")]
    keep = [(k, v) for k, v in state.params() if k not in ("period", "from", "to")]
    return {
        "period_links": [
            (key, PERIOD_LABELS[key], state.url(base, period=key, interval=None))
            for key in PRESETS
        ],
        "compare_links": [
            (key, label, state.url(base, compare=None if key == "off" else key))
            for key, label in compare_labels
        ],
        "metric_urls": {m: state.url(base, metric=m) for m in CHART_METRICS},
        "interval_links": [
            (key, key.capitalize(), state.url(base, interval=key))
            for key in _intervals(first, last)
        ],
        "clear_url": state.url(base, filters=()),
        "keep_params": [(k, v) for k, v in keep if k != "interval"],
        "panel_urls": {
            panel.key: {
                tab: state.with_tab(panel.key, tab).url(f"{base}/panel/{panel.key}")
                for tab, _label, _report in panel.tabs
            }
            for panel in PANELS
        },
    }


def _state_of(request: Request) -> DashboardState:
    return DashboardState.from_params(request.query_params.multi_items())


async def dashboard_view(
    store: Store,
    request: Request,
    *,
    site: Site,
    base: str,
    cache: ResultCache | None,
    shared: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The dashboard at ``base`` under the URL's state: (template, context).

    ``shared`` is the read-only public view (a share link): no export, realtime badge, install
    hint or rejected-events section; routes add those for signed-in viewers.
    """
    state = _state_of(request)
    dashboard = await load_dashboard(
        store, site=site, state=state, base=base, cache=cache, with_rejections=not shared
    )
    partial = _is_partial(request)
    context: dict[str, Any] = {
        "site": site,
        "dashboard": dashboard,
        "base_url": base,
        "shared": shared,
        "partial": partial,
        "export_url": None,
        "realtime_url": None,
        "realtime_token_url": None,
        "snippet": "",
        **dashboard_links(state, base, dashboard.first, dashboard.last),
    }
    # The shared page has its own name so a host can override the public page alone.
    whole = "overview.html" if shared else "dashboard.html"
    return ("_dashboard.html" if partial else whole), context


async def panel_view(
    store: Store,
    request: Request,
    *,
    site: Site,
    panel_key: str,
    base: str,
    cache: ResultCache | None,
) -> tuple[str, dict[str, Any]]:
    """One panel of the dashboard at ``base`` (a tab switch): (template, context)."""
    spec = next((p for p in PANELS if p.key == panel_key), None)
    if spec is None:
        raise QueryError(code="invalid_panel", message=f"panel: no panel {panel_key!r}")
    state = _state_of(request)
    view = await load_panel(store, site=site, state=state, panel=spec, base=base, cache=cache)
    context = {
        "site": site,
        "panel": view,
        "panel_urls": {
            panel_key: {
                tab: state.with_tab(panel_key, tab).url(f"{base}/panel/{panel_key}")
                for tab, _label, _report in spec.tabs
            }
        },
    }
    return "_panel.html", context


async def details_view(
    store: Store,
    request: Request,
    *,
    site: Site,
    report_key: str,
    base: str,
    cache: ResultCache | None,
) -> tuple[str, dict[str, Any]]:
    """A report's details view under the dashboard at ``base``: (template, context)."""
    report = REPORTS.get(report_key)
    if report is None:
        raise QueryError(code="invalid_report", message=f"report: no report {report_key!r}")
    state = _state_of(request)
    search = request.query_params.get("q", "").strip()[:200]
    try:
        limit = int(request.query_params.get("limit", DETAILS_PAGE))
    except ValueError:
        raise QueryError(code="invalid_limit", message="limit: a whole number") from None
    limit = max(1, min(limit, MAX_DETAILS_ROWS))
    rows, total, query = await load_report(
        store, site=site, state=state, report=report, base=base, limit=limit,
        search=search, cache=cache,
    )
    details_path = f"{base}/details/{report.key}"
    extra = [("q", search)] if search else []
    more = None
    if total > len(rows) and limit < MAX_DETAILS_ROWS:
        pairs = [*state.params(), *extra, ("limit", str(limit + DETAILS_PAGE))]
        more = f"{details_path}?{urlencode(pairs)}"
    first, last = query.period
    label = PERIOD_LABELS.get(state.period) or f"{first.isoformat()} \u2013 {last.isoformat()}"
    context = {
        "site": site,
        "report": report,
        "rows": rows,
        "total_rows": total,
        "compared": query.comparison is not None,
        "metric_labels": METRIC_LABELS,
        "period_label": label,
        "filters": [
            (DIMENSION_LABELS.get(d, d), OP_LABELS[o], v) for o, d, v in state.filters
        ],
        "back_url": state.url(base),
        "details_url": details_path,
        "keep_params": state.params(),
        "search": search,
        "more_url": more,
        # Without base.html: the view alone, swapped in place of the dashboard.
        "partial": _swaps_view(request),
    }
    table_only = _is_partial(request) and not _swaps_view(request)
    return ("_details_table.html" if table_only else "details.html"), context


def make_pages_router(
    *,
    store: Store,
    templates: Jinja2Templates,
    settings: Settings,
    route_class: type[APIRoute],
    assets: dict[str, str],
) -> APIRouter:
    """Return the router serving the site list and every page of a site's dashboard."""
    router = APIRouter(route_class=route_class)
    cache = cache_for(store)
    register_filters(templates.env)

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        static = {
            key: str(request.url_for("analytics_941_static", path=file).path)
            for key, file in assets.items()
        }
        base = {"mount_path": settings.mount_path, "assets": static}
        return templates.TemplateResponse(
            request, f"analytics_941/{name}", {**base, **context}, status_code=status
        )

    async def site_of(request: Request, domain: str) -> Site | None:
        # The route class has looked the site up and checked access; reuse it (one query less).
        site = getattr(request.state, STATE_SITE, None)
        if isinstance(site, Site) and site.domain == domain:
            return site
        # Not what the route class checked: check access here too, so no page ever depends on
        # what the guard happened to look at (a site the caller may not see looks missing).
        site = await get_site(store, domain=domain)
        principal = getattr(request.state, STATE_PRINCIPAL, None)
        if site is None or not isinstance(principal, Principal) or not principal.can(site.id,
                                                                                       "viewer"):
            return None
        return site

    def not_found(request: Request, domain: str) -> Response:
        missing = {"title": "Site not found", "message": f"No site {domain!r} is tracked."}
        return page(request, "error.html", missing, status=404)

    @router.get("/", name="analytics_941_sites")
    async def sites_page(request: Request) -> Response:
        sites = await list_sites(store)
        # Only the sites the caller may see (the route class put the caller on the request).
        principal = getattr(request.state, STATE_PRINCIPAL, None)
        if isinstance(principal, Principal):
            sites = principal.visible(sites)
        if len(sites) == 1:
            url = request.url_for("analytics_941_overview", domain=sites[0].domain)
            return RedirectResponse(str(url.path), status_code=303)
        return page(request, "sites.html", {"sites": sites})

    @router.get("/{domain}/export", name="analytics_941_export")
    async def export(request: Request, domain: str) -> Response:
        site = await site_of(request, domain)
        if site is None:
            return not_found(request, domain)
        filename, body = await build_export(store, site=site, state=_state_of(request), cache=cache,
                                            audited_as=actor_of(get_principal(request)))
        return Response(
            body,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @router.get("/{domain}/panel/{panel_key}", name="analytics_941_panel")
    async def panel(request: Request, domain: str, panel_key: str) -> Response:
        site = await site_of(request, domain)
        if site is None:
            return not_found(request, domain)
        base = str(request.url_for("analytics_941_overview", domain=domain).path)
        template, context = await panel_view(
            store, request, site=site, panel_key=panel_key, base=base, cache=cache
        )
        response = page(request, template, context)
        response.headers["Vary"] = VARY
        return response

    @router.get("/{domain}/details/{report_key}", name="analytics_941_details")
    async def details(request: Request, domain: str, report_key: str) -> Response:
        site = await site_of(request, domain)
        if site is None:
            return not_found(request, domain)
        base = str(request.url_for("analytics_941_overview", domain=domain).path)
        template, context = await details_view(
            store, request, site=site, report_key=report_key, base=base, cache=cache
        )
        response = page(request, template, context)
        response.headers["Vary"] = VARY
        return response

    @router.get("/{domain}/realtime", name="analytics_941_realtime")
    async def realtime_page(request: Request, domain: str) -> Response:
        site = await site_of(request, domain)
        if site is None:
            return not_found(request, domain)
        base = str(request.url_for("analytics_941_overview", domain=domain).path)
        context = {
            "site": site,
            "base_url": base,
            "token_url": f"{base}/realtime/token",
            "collector_url": settings.collector_url,
        }
        return page(request, "realtime.html", context)

    @router.get("/{domain}/realtime/token", name="analytics_941_realtime_token")
    async def realtime_token_json(request: Request, domain: str) -> Response:
        # Behind the same access check as the pages: only who may see the site gets a token.
        site = await site_of(request, domain)
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

    @router.get("/{domain}", name="analytics_941_overview")
    async def overview_page(request: Request, domain: str) -> Response:
        site = await site_of(request, domain)
        if site is None:
            return not_found(request, domain)
        base = str(request.url_for("analytics_941_overview", domain=domain).path)
        template, context = await dashboard_view(store, request, site=site, base=base, cache=cache)
        context |= {
            "export_url": context["dashboard"].state.url(f"{base}/export"),
            "realtime_url": f"{base}/realtime",
            "realtime_token_url": f"{base}/realtime/token",
            "snippet": (
                f'<script defer data-domain="{site.domain}" '
                f'src="{settings.collector_url}/script.js"></script>'
            ),
        }
        response = page(request, template, context)
        response.headers["Vary"] = VARY
        return response

    return router
