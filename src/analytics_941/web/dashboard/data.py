"""The data behind the dashboard: which queries a view runs and how results become its parts.

A whole view — top stats, graph and the four panels, each with its comparison — is ONE call to
``run_queries``: one D1 request (none when cached). Every number goes through the same
``Query`` → builder → runner path as the JSON API and the CSV export.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...cache import ResultCache, caches_of
from ...query import GOAL_DIMENSION, Query
from ...runner import run_batch, run_queries
from ...sites import Site
from ...sql.drops import drops_statement
from ...store import Store
from .formatting import display_label
from .page_titles import PAGE_DIMENSIONS, page_titles
from .rejections import DropGroup, Rejections, rejections
from .reports import PANELS, REPORTS, Panel, Report
from .site_goals import with_goals
from .site_imports import imported_in, imports_statement, kept_imports, remember_imports
from .state import CHART_METRICS, DashboardState, search_condition
from .view_shapes import Dashboard, PanelView, Row, Stat, TabMenu

__all__ = [
    "PANEL_ROWS",
    "Dashboard",
    "DropGroup",
    "PanelView",
    "Rejections",
    "Row",
    "Stat",
    "TabMenu",
    "load_dashboard",
    "load_panel",
    "load_report",
    "panel_query",
    "rejections",
    "report_query",
]

PANEL_ROWS = 9
MAP_ROWS = 250
TOP_METRICS = tuple(CHART_METRICS)
DIMENSION_LABELS = {r.dimension: r.label for r in REPORTS.values()} | {
    "page": "Page", GOAL_DIMENSION: "Goal"}
OP_LABELS = {
    "is": "is", "is_not": "is not", "contains": "contains", "contains_not": "does not contain",
    "matches": "matches the regex", "matches_not": "does not match the regex",
    "matches_wildcard": "matches", "matches_wildcard_not": "does not match",
}


def report_query(
    site: Site,
    state: DashboardState,
    report: Report,
    *,
    limit: int,
    offset: int = 0,
    search: str = "",
    metrics: tuple[str, ...] | None = None,
    compare: bool = True,
    now: datetime | None = None,
) -> Query:
    """The query of ``report`` under ``state`` (``search`` narrows it to values containing it)."""
    return state.query(
        site, metrics=metrics or report.metrics, dimensions=[report.dimension],
        search=search_condition(report.dimension, search) if search else None,
        compare=compare, limit=limit, offset=offset, total_rows=True, now=now,
    )


def _shown(dimension: str, name: str) -> bool:
    # UTM tabs leave out visits without the parameter (Plausible does); the API keeps them.
    return not (dimension.startswith("utm_") and name == "(none)")


def _rows(result: dict[str, Any], query: Query, *, state: DashboardState, base: str,
          dimension: str) -> list[Row]:
    """The report's rows as shown (with each row's ``change`` when compared)."""
    rows = []
    items = [r for r in result["results"] if _shown(dimension, str(r["dimensions"][0]))]
    top = max((r["metrics"][0] for r in items), default=0) or 1
    for item in items:
        name = str(item["dimensions"][0])
        values = dict(zip(query.metrics, item["metrics"], strict=True))
        if "comparison" in item:
            values["change"] = item["comparison"]["change"][0]
        rows.append(Row(
            name=name,
            label=display_label(name, dimension),
            metrics=values,
            pct=round(100 * item["metrics"][0] / top),
            filter_url=state.with_filter("is", dimension, name).url(base),
        ))
    return rows


def _chart(result: dict[str, Any], query: Query, *, now: datetime) -> dict[str, Any]:
    """The graph's data; buckets that start after ``now`` (site-local, the rest of today's
    hours) are None, drawn as nothing rather than as zeros."""
    labels = result["meta"].get("time_labels", [])
    # Labels are "YYYY-MM-DD" or "YYYY-MM-DD HH:00:00": compared as text at their own length.
    clock = now.strftime("%Y-%m-%d %H:%M:%S")
    future = [label > clock[: len(label)] for label in labels]
    series = {
        m: [None if later else r["metrics"][i]
            for r, later in zip(result["results"], future, strict=True)]
        for i, m in enumerate(query.metrics)
    }
    chart: dict[str, Any] = {"labels": labels, "series": series, "metrics": CHART_METRICS}
    if query.comparison is not None:
        chart["compare_labels"] = [r["comparison"]["dimensions"][0] for r in result["results"]]
        chart["compare"] = {
            m: [r["comparison"]["metrics"][i] for r in result["results"]]
            for i, m in enumerate(query.metrics)
        }
    return chart


def panel_query(
    site: Site, state: DashboardState, panel: Panel, *, now: datetime | None = None
) -> Query:
    """The query of the tab ``panel`` shows (visitors, and the conversion rate of each row under
    a goal filter; every country for the map)."""
    tab = state.tab(panel.key)
    report = REPORTS[panel.report_of(tab)]
    limit = MAP_ROWS if tab in ("map", "globe") else PANEL_ROWS
    metrics = ("visitors", "group_conversion_rate") if state.uses_goals else ("visitors",)
    return report_query(
        site, state, report, limit=limit, metrics=metrics, compare=False, now=now
    )


def _panel_view(
    panel: Panel, query: Query, result: dict[str, Any], *, state: DashboardState, base: str,
    site: Site,
) -> PanelView:
    tab = state.tab(panel.key)
    report = REPORTS[panel.report_of(tab)]
    # A tab whose site setting is off is left out, unless the URL asks for it.
    off = {key for key, flag in panel.site_flags if not getattr(site, flag) and key != tab}
    tabs = [(key, label, state.with_tab(panel.key, key).url(base), key == tab)
            for key, label, _r in panel.tabs if key not in off]
    items = [t for t in tabs if t[0] in panel.menu_tabs]
    menu = None
    if items:
        current = next((label for _key, label, _url, active in items if active), "")
        menu = TabMenu(label=panel.menu_label, current=current, items=items,
                       item=panel.menu_item)
    return PanelView(
        key=panel.key, title=panel.title, tab=tab,
        tabs=[t for t in tabs if t[0] not in panel.menu_tabs],
        menu=menu,
        report=report,
        rows=_rows(result, query, state=state, base=base, dimension=report.dimension),
        details_url=state.url(f"{base}/details/{report.key}"),
        # The map's countries link to this URL with the code in place of the marker.
        filter_template=state.with_filter("is", report.dimension, "__VALUE__").url(base),
        conversion="group_conversion_rate" in query.metrics,
    )


async def load_panel(
    store: Store,
    *,
    site: Site,
    state: DashboardState,
    panel: Panel,
    base: str,
    cache: ResultCache | None = None,
    now: datetime | None = None,
    home: Store | None = None,
) -> PanelView:
    """One panel alone (a tab switch): one query (and the site's goals under a goal filter)."""
    state = await with_goals(state, store if home is None else home, site.id)
    query = panel_query(site, state, panel, now=now)
    (result,) = await run_queries(store, [query], cache=cache)
    return _panel_view(panel, query, result, state=state, base=base, site=site)


async def load_dashboard(
    store: Store,
    *,
    site: Site,
    state: DashboardState,
    base: str,
    cache: ResultCache | None = None,
    now: datetime | None = None,
    with_rejections: bool = True,
    home: Store | None = None,
) -> Dashboard:
    """Run a whole view's queries in one batch and shape them for the template.

    With ``with_rejections``, the collector's drop counts for the period (kept in ``home``, by
    default ``store``) ride in the same batch when ``home`` is the site's data store, else in
    a second call to ``home`` (and are cached as long as a live result where results are).
    A goal filter first reads the site's goals from ``home`` (``site_goals``: kept a while on D1).
    The goal panel is not here: it loads on its own (``goal_panel``) once scrolled into view.
    """
    home = store if home is None else home
    state = await with_goals(state, home, site.id)
    totals = state.query(site, metrics=TOP_METRICS, now=now)
    first, last = totals.period
    interval = state.interval_for(first, last)
    chart = state.query(site, metrics=tuple(CHART_METRICS), dimensions=[f"time:{interval}"],
                        now=now)
    reports = [panel_query(site, state, panel, now=now) for panel in PANELS]
    drops_key = f"{site.id}\n{first.isoformat()}\n{last.isoformat()}"
    caches = caches_of(home) if cache is not None else None
    drops_cache = caches.ingest_drops if caches is not None else None
    drops = drops_cache.get(drops_key) if drops_cache is not None else None
    extra = []
    if with_rejections and drops is None:
        extra.append(drops_statement(site_id=site.id, first=first, last=last))
    queries = [totals, chart, *reports]
    # Imported history lives with the site's data: its ranges ride in the queries' batch
    # unless kept (site_imports).
    ranges = kept_imports(store, site.id)
    mine = [imports_statement(site.id)] if ranges is None else []
    if home is store:
        results, extra_rows = await run_batch(store, queries, extra=[*extra, *mine], cache=cache)
    else:  # a data database: its queries there, the drops at home
        results, own = await run_batch(store, queries, extra=mine, cache=cache)
        extra_rows = [*await home.batch(extra), *own]
    if mine:
        ranges = remember_imports(store, site.id, extra_rows.pop())
    if extra:
        drops = rejections(extra_rows[0])
        if drops_cache is not None:
            drops_cache.put(drops_key, drops)
    (total_row,) = results[0]["results"]
    comparison = total_row.get("comparison")
    stats = []
    for i, metric in enumerate(TOP_METRICS):
        stats.append(Stat(
            key=metric, label=CHART_METRICS[metric], value=total_row["metrics"][i],
            previous=comparison["metrics"][i] if comparison else None,
            change=comparison["change"][i] if comparison else None,
        ))
    panels = [
        _panel_view(panel, query, result, state=state, base=base, site=site)
        for panel, query, result in zip(PANELS, reports, results[2:], strict=True)
    ]
    compare = totals.comparison_period
    filters = [
        {"label": DIMENSION_LABELS.get(dim, dim), "op": OP_LABELS[op], "value": value,
         "shown": display_label(value, dim), "remove_url": state.without_filter(i).url(base)}
        for i, (op, dim, value) in enumerate(state.filters)
    ]
    return Dashboard(
        site=site, state=state, first=first, last=last, today=totals.today,
        compare_first=compare[0] if compare else None,
        compare_last=compare[1] if compare else None,
        interval=interval, stats=stats, panels=panels,
        nothing_to_compare=bool(comparison) and not comparison["metrics"][0],
        chart=_chart(results[1], chart,
                     now=(now or datetime.now(UTC)).astimezone(ZoneInfo(site.timezone))),
        filters=filters, rejected=drops if with_rejections else None,
        imported=imported_in(ranges or (), first, last),
    )


async def load_report(
    store: Store,
    *,
    site: Site,
    state: DashboardState,
    report: Report,
    base: str,
    limit: int,
    search: str = "",
    cache: ResultCache | None = None,
    now: datetime | None = None,
    home: Store | None = None,
) -> tuple[list[Row], int, Query]:
    """One report's rows (for the details view): rows, total row count, and the query."""
    state = await with_goals(state, store if home is None else home, site.id)
    query = report_query(site, state, report, limit=limit, search=search, now=now)
    (result,) = await run_queries(store, [query], cache=cache)
    rows = _rows(result, query, state=state, base=base, dimension=report.dimension)
    total = int(result["meta"].get("total_rows", len(rows)))
    if report.dimension in PAGE_DIMENSIONS:
        titles = await page_titles(store, site.id, [row.name for row in rows])
        rows = [replace(row, note=titles.get(row.name, "")) for row in rows]
    return rows, total, query
