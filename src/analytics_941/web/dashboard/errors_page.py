"""The Errors page: the JavaScript errors the tracker's errors add-on reports, grouped.

The add-on sends each error as a custom event named ``JS error`` whose props carry its message,
type, place, stack and a fingerprint (docs/tracker.md). Everything here is a query of the one
path under the page's state (period and filters): groups by fingerprint with occurrences and
visitors, first and last day seen, a daily error rate against the pageviews, and for one
chosen group its pages, browsers and stacks. Messages and stacks are visitor-controlled text:
the template shows them escaped, like paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...cache import cache_for
from ...filters import Condition
from ...runner import run_queries
from ...sites import Site
from ...store import Store
from .state import DashboardState

__all__ = ["ERROR_EVENT", "ErrorGroup", "ErrorsPage", "load_errors_page"]

# The event name the tracker's errors add-on sends (worker/tracker/script.js).
ERROR_EVENT = "JS error"
MAX_GROUPS = 50
# A chosen group's pages, browsers and stacks: the most frequent few.
DETAIL_ROWS = 10
_FINGERPRINT = "event:props:fingerprint"
_GROUP_DIMENSIONS = (_FINGERPRINT, "event:props:type", "event:props:message")
_DAYS_LIMIT = 10_000


@dataclass(frozen=True, kw_only=True)
class ErrorGroup:
    """One fingerprint: the same error, wherever and however often it happened."""

    fingerprint: str
    type: str
    message: str
    events: int
    visitors: int
    first_seen: str
    last_seen: str


@dataclass(kw_only=True)
class ErrorsPage:
    """What the Errors page shows."""

    groups: list[ErrorGroup] = field(default_factory=list)
    errors: int = 0
    error_visitors: int = 0
    visitors: int = 0
    pageviews: int = 0
    # Per day: (day, errors, pageviews, errors per 100 pageviews).
    days: list[tuple[str, int, int, float]] = field(default_factory=list)
    chosen: ErrorGroup | None = None
    # Of the chosen group: (value, occurrences) lists.
    pages: list[tuple[str, int]] = field(default_factory=list)
    browsers: list[tuple[str, int]] = field(default_factory=list)
    stacks: list[tuple[str, int]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Errors per 100 pageviews over the period."""
        return round(100 * self.errors / self.pageviews, 1) if self.pageviews else 0.0

    @property
    def affected(self) -> float:
        """The share of visitors who met an error, percent."""
        return round(100 * self.error_visitors / self.visitors, 1) if self.visitors else 0.0

    @property
    def peak(self) -> float:
        """The highest daily rate (the series' scale)."""
        return max((rate for *_, rate in self.days), default=0.0)


def _is(dimension: str, value: str) -> Condition:
    return Condition(op="is", dimension=dimension, values=(value,))


def _pairs(result: dict[str, Any]) -> list[tuple[str, int]]:
    return [(str(r["dimensions"][0]), int(r["metrics"][0] or 0)) for r in result["results"]]


async def load_errors_page(
    store: Store, *, site: Site, state: DashboardState, fingerprint: str | None
) -> ErrorsPage:
    """The Errors page of ``site`` under ``state``; ``fingerprint`` chooses a group to detail."""
    errors = _is("event:name", ERROR_EVENT)
    queries = [
        state.query(site, metrics=("events", "visitors"), dimensions=_GROUP_DIMENSIONS,
                    search=errors, limit=MAX_GROUPS, compare=False),
        state.query(site, metrics=("events",), dimensions=(_FINGERPRINT, "time:day"),
                    search=errors, limit=_DAYS_LIMIT, compare=False),
        state.query(site, metrics=("events", "visitors"), dimensions=("time:day",),
                    search=errors, limit=_DAYS_LIMIT, compare=False),
        state.query(site, metrics=("pageviews", "visitors"), dimensions=("time:day",),
                    limit=_DAYS_LIMIT, compare=False),
        state.query(site, metrics=("events", "visitors"), search=errors, compare=False),
        state.query(site, metrics=("visitors",), compare=False),
    ]
    chosen_state = state.with_filter("is", _FINGERPRINT, fingerprint) if fingerprint else None
    if chosen_state is not None:
        queries += [
            chosen_state.query(site, metrics=("events",), dimensions=(dimension,),
                               search=errors, limit=DETAIL_ROWS, compare=False)
            for dimension in ("event:page", "visit:browser", "event:props:stack")
        ]
    results = await run_queries(store, queries, cache=cache_for(store))
    groups, days, error_days, pageview_days, error_total, visitor_total = results[:6]

    seen: dict[str, list[str]] = {}
    for row in days["results"]:
        if row["metrics"][0]:
            seen.setdefault(str(row["dimensions"][0]), []).append(str(row["dimensions"][1]))
    page = ErrorsPage()
    for row in groups["results"]:
        fp, kind, message = (str(v) for v in row["dimensions"])
        spans = sorted(seen.get(fp, [""]))
        page.groups.append(ErrorGroup(
            fingerprint=fp, type=kind, message=message, events=int(row["metrics"][0]),
            visitors=int(row["metrics"][1]), first_seen=spans[0][:10], last_seen=spans[-1][:10]))
    totals = error_total["results"][0]["metrics"] if error_total["results"] else [0, 0]
    page.errors, page.error_visitors = int(totals[0] or 0), int(totals[1] or 0)
    views = {str(r["dimensions"][0]): int(r["metrics"][0] or 0) for r in pageview_days["results"]}
    page.pageviews = sum(views.values())
    page.visitors = int(visitor_total["results"][0]["metrics"][0] or 0) if visitor_total[
        "results"] else 0
    for row in error_days["results"]:
        day, count = str(row["dimensions"][0]), int(row["metrics"][0] or 0)
        shown = views.get(day, 0)
        page.days.append((day, count, shown, round(100 * count / shown, 1) if shown else 0.0))
    if chosen_state is not None:
        page.chosen = next((g for g in page.groups if g.fingerprint == fingerprint), None)
        page.pages, page.browsers, page.stacks = (_pairs(r) for r in results[6:9])
    return page
