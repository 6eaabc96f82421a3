"""The Clicks page: rage and dead clicks the tracker's clicks add-on reports, per page.

The add-on sends ``Rage click`` and ``Dead click`` custom events whose one prop, ``selector``,
describes the element (tag, id, classes: docs/tracker.md). Everything here is one batch of the
one query path under the page's state (period and filters): per page, the clicks of each kind
and the visitors who made them, then each page's elements. Selectors and paths are text a
visitor's browser sent: the template shows them escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...cache import cache_for
from ...filters import Condition
from ...runner import run_queries
from ...sites import Site
from ...store import Store
from .state import DashboardState

__all__ = ["CLICK_EVENTS", "ClickPage", "ClicksPage", "load_clicks_page"]

# The event names the tracker's clicks add-on sends (worker/tracker/script.js), rage first.
CLICK_EVENTS = ("Rage click", "Dead click")
MAX_PAGES = 50
# Element rows over all pages: the most frequent ones.
MAX_ELEMENTS = 500


@dataclass(kw_only=True)
class ClickPage:
    """One page: its rage and dead clicks, the visitors behind them, and its elements as
    (kind, selector, clicks, visitors), most clicked first."""

    path: str
    rage: int = 0
    dead: int = 0
    visitors: int = 0
    elements: list[tuple[str, str, int, int]] = field(default_factory=list)


@dataclass(kw_only=True)
class ClicksPage:
    """What the Clicks page shows."""

    pages: list[ClickPage] = field(default_factory=list)
    rage: int = 0
    dead: int = 0
    visitors: int = 0


async def load_clicks_page(store: Store, *, site: Site, state: DashboardState) -> ClicksPage:
    """The Clicks page of ``site`` under ``state``."""
    clicks = Condition(op="is", dimension="event:name", values=CLICK_EVENTS)
    queries = [
        state.query(site, metrics=("visitors",), dimensions=("event:page",), search=clicks,
                    limit=MAX_PAGES, compare=False),
        state.query(site, metrics=("events",), dimensions=("event:page", "event:name"),
                    search=clicks, limit=MAX_PAGES * 2, compare=False),
        state.query(site, metrics=("events", "visitors"),
                    dimensions=("event:page", "event:name", "event:props:selector"),
                    search=clicks, limit=MAX_ELEMENTS, compare=False),
        state.query(site, metrics=("events", "visitors"), dimensions=("event:name",),
                    search=clicks, compare=False),
        state.query(site, metrics=("visitors",), search=clicks, compare=False),
    ]
    by_page, kinds, elements, totals, visitors = await run_queries(
        store, queries, cache=cache_for(store))
    page = ClicksPage()
    pages = {}
    for row in by_page["results"]:
        path = str(row["dimensions"][0])
        pages[path] = ClickPage(path=path, visitors=int(row["metrics"][0] or 0))
    for row in kinds["results"]:
        path, name = (str(v) for v in row["dimensions"])
        if path in pages:
            setattr(pages[path], "rage" if name == CLICK_EVENTS[0] else "dead",
                    int(row["metrics"][0] or 0))
    for row in elements["results"]:
        path, name, selector = (str(v) for v in row["dimensions"])
        if path in pages:
            pages[path].elements.append((
                "Rage" if name == CLICK_EVENTS[0] else "Dead", selector,
                int(row["metrics"][0] or 0), int(row["metrics"][1] or 0)))
    page.pages = sorted(pages.values(), key=lambda p: (-(p.rage + p.dead), p.path))
    for row in totals["results"]:
        count = int(row["metrics"][0] or 0)
        if str(row["dimensions"][0]) == CLICK_EVENTS[0]:
            page.rage = count
        else:
            page.dead = count
    if visitors["results"]:
        page.visitors = int(visitors["results"][0]["metrics"][0] or 0)
    return page
