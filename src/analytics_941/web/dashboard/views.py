"""The dashboard's views as (template, context): the whole view (page or HTMX partial), one panel
(a tab switch) and a report's details view, under the dashboard at ``base``.

The URL becomes a ``DashboardState``, the state becomes queries (``data``), results become
template context. Who may see which site, and where its dashboard lives, is the caller's
(``routes``): these functions answer for the site they are given.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from ...cache import ResultCache
from ...exceptions import QueryError
from ...periods import PRESETS
from ...query import hours_fit
from ...sites import Site
from ...store import Store
from .data import DIMENSION_LABELS, OP_LABELS, load_dashboard, load_panel, load_report
from .goal_panel import load_goal_panel
from .reports import PANELS, REPORTS
from .state import (
    BUILDER_FIELDS,
    CHART_METRICS,
    INTERVALS,
    PERIOD_KEYS,
    PERIOD_LABELS,
    DashboardState,
)

__all__ = [
    "VARY",
    "dashboard_links",
    "dashboard_view",
    "details_view",
    "goals_view",
    "panel_view",
    "state_of",
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


def dashboard_links(
    state: DashboardState, base: str, first: date, last: date, *, today: date
) -> dict[str, Any]:
    """Every URL the dashboard's controls point at, each a whole state."""
    compare_labels = [("off", "No comparison"), ("previous_period", "Previous period"),
                      ("year_over_year", "Year over year")]
    keep = [(k, v) for k, v in state.params() if k not in ("period", "from", "to")]
    before = state.stepped(first, last, today=today, forward=False)
    after = state.stepped(first, last, today=today, forward=True)
    return {
        "period_links": [
            (key, PERIOD_LABELS[key], state.url(base, period=key, interval=None),
             PERIOD_KEYS[key])
            for key in PRESETS
        ],
        "previous_url": before.url(base) if before else None,
        "next_url": after.url(base) if after else None,
        # What the compare key (x) does: turn the comparison on, or off.
        "compare_toggle": "off" if state.compare else "previous_period",
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


def state_of(request: Request) -> DashboardState:
    """The dashboard state the request's URL carries (``QueryError`` on a bad parameter)."""
    return DashboardState.from_params(request.query_params.multi_items())


async def dashboard_view(
    store: Store,
    request: Request,
    *,
    site: Site,
    base: str,
    cache: ResultCache | None,
    shared: bool = False,
    home: Store | None = None,
) -> tuple[str, dict[str, Any]]:
    """The dashboard at ``base`` under the URL's state: (template, context).

    ``store`` holds the site's analytics data, ``home`` the drop counts (default: ``store``).
    ``shared`` is the read-only public view (a share link): no export, realtime badge, install
    hint or rejected-events section; routes add those for signed-in viewers.
    """
    state = state_of(request)
    dashboard = await load_dashboard(
        store, site=site, state=state, base=base, cache=cache, with_rejections=not shared,
        home=home,
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
        "switch_sites": [],
        **dashboard_links(state, base, dashboard.first, dashboard.last, today=dashboard.today),
        "filter_form_url": state.url(f"{base}/filter-form"),
        "goals_panel_url": state.url(f"{base}/goals"),
        "shortcuts_url": f"{base}/shortcuts",
        # A filter from the builder's form: the address bar shows the state's own URL.
        "push_url": state.url(base) if request.query_params.get(BUILDER_FIELDS[2]) else None,
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
    home: Store | None = None,
) -> tuple[str, dict[str, Any]]:
    """One panel of the dashboard at ``base`` (a tab switch): (template, context); the site's
    goals, when a filter names one, are read from ``home`` (default: ``store``)."""
    spec = next((p for p in PANELS if p.key == panel_key), None)
    if spec is None:
        raise QueryError(code="invalid_panel", message=f"panel: no panel {panel_key!r}")
    state = state_of(request)
    view = await load_panel(store, site=site, state=state, panel=spec, base=base, cache=cache,
                            home=home)
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


async def goals_view(
    store: Store,
    request: Request,
    *,
    site: Site,
    base: str,
    cache: ResultCache | None,
    shared: bool = False,
    home: Store | None = None,
) -> tuple[str, dict[str, Any]]:
    """The Goal conversions panel of the dashboard at ``base`` (loaded once scrolled into view):
    (template, context). A share page lists no events to make goals of."""
    goals = await load_goal_panel(store, site=site, state=state_of(request), base=base,
                                  cache=cache, home=home, with_candidates=not shared)
    return "_goals_panel.html", {"site": site, "goals": goals, "shared": shared}


async def details_view(
    store: Store,
    request: Request,
    *,
    site: Site,
    report_key: str,
    base: str,
    cache: ResultCache | None,
    home: Store | None = None,
) -> tuple[str, dict[str, Any]]:
    """A report's details view under the dashboard at ``base``: (template, context)."""
    report = REPORTS.get(report_key)
    if report is None:
        raise QueryError(code="invalid_report", message=f"report: no report {report_key!r}")
    state = state_of(request)
    search = request.query_params.get("q", "").strip()[:200]
    try:
        limit = int(request.query_params.get("limit", DETAILS_PAGE))
    except ValueError:
        raise QueryError(code="invalid_limit", message="limit: a whole number") from None
    limit = max(1, min(limit, MAX_DETAILS_ROWS))
    rows, total, query = await load_report(
        store, site=site, state=state, report=report, base=base, limit=limit,
        search=search, cache=cache, home=home,
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
