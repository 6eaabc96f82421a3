"""The Funnels panel: one of the site's saved funnels (``?funnel=NAME``, else the first by
name) under the dashboard's period, filters and comparison, one bar per step.

Like the Goal conversions panel it loads on its own once scrolled into view, so the dashboard's
first load neither waits for it nor carries any script for it: the bars are the panels' own
(``data-pct``), the funnel is picked with a plain form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import Request

from ...funnel_report import run_funnel
from ...funnels import Funnel, FunnelError, list_funnels
from ...sites import Site
from ...store import Store
from .site_goals import read_goals
from .views import state_of

__all__ = ["FunnelPanel", "funnel_view", "load_funnel_panel"]


@dataclass(frozen=True, kw_only=True)
class FunnelPanel:
    """What ``_funnel_panel.html`` shows: the funnels to pick from, the one shown, its rows
    (``funnel_report``'s, each with ``pct``, its bar width), or why it cannot be shown."""

    funnels: list[Funnel] = field(default_factory=list)
    chosen: Funnel | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    compared: bool = False
    error: str = ""


async def load_funnel_panel(
    store: Store, *, site: Site, request: Request, home: Store | None = None
) -> FunnelPanel:
    """The panel for the request's state and ``funnel``: definitions from ``home`` (default
    ``store``), events from ``store``."""
    home = store if home is None else home
    funnels = await list_funnels(home, site_id=site.id)
    if not funnels:
        return FunnelPanel()
    wanted = request.query_params.get("funnel", "")
    chosen = next((f for f in funnels if f.name == wanted), funnels[0])
    state = state_of(request)
    goals = await read_goals(home, site.id)
    query = replace(state, goals=goals).query(site, metrics=("visitors",))
    try:
        result = await run_funnel(store, query, chosen.steps, goals=goals)
    except FunnelError as exc:  # a goal a step names was removed since
        return FunnelPanel(funnels=funnels, chosen=chosen, error=str(exc))
    rows = [{**row, "pct": round(row["conversion_rate"])} for row in result["results"]]
    return FunnelPanel(funnels=funnels, chosen=chosen, rows=rows,
                       compared=query.comparison is not None)


async def funnel_view(
    store: Store,
    request: Request,
    *,
    site: Site,
    base: str,
    shared: bool = False,
    home: Store | None = None,
) -> tuple[str, dict[str, Any]]:
    """The Funnels panel of the dashboard at ``base``: (template, context). A funnel is one
    batch over raw events, run each time the panel loads (no result cache)."""
    panel = await load_funnel_panel(store, site=site, request=request, home=home)
    state = state_of(request)
    return "_funnel_panel.html", {
        "site": site, "funnel": panel, "shared": shared,
        "funnel_url": f"{base}/funnels", "state_params": state.params(),
    }
