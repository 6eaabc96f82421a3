"""The data behind the overview page: which queries it runs and how results become panels.

Every number goes through the same ``Query`` → builder → runner path as the JSON API, in one
store round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..periods import Preset
from ..query import parse_query
from ..runner import run_queries
from ..sites import Site
from ..store import Store

__all__ = ["PERIODS", "Overview", "Panel", "load_overview"]

PERIODS: dict[Preset, str] = {
    "day": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "month": "This month",
}
TOP_N = 10


@dataclass(frozen=True, kw_only=True)
class Panel:
    """A "top N" list: rows of (label, visitors, share of the largest in percent)."""

    key: str
    title: str
    label: str
    rows: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class Overview:
    """Everything the overview template shows for one site and period."""

    period: Preset
    first: date
    last: date
    totals: dict[str, int]
    chart: dict[str, list[Any]]
    panels: list[Panel]

    @property
    def is_empty(self) -> bool:
        """True when the period has no events at all."""
        return self.totals["visitors"] == 0 and self.totals["pageviews"] == 0


_TOTALS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]
_PANELS = [
    ("page", "Top pages", "Page"),
    ("source", "Top sources", "Source"),
    ("country", "Countries", "Country"),
    ("device", "Devices", "Device"),
]


def _panel(key: str, title: str, label: str, result: dict[str, Any]) -> Panel:
    rows = [
        {"name": r["dimensions"][0], "visitors": r["metrics"][0], "pageviews": r["metrics"][1]}
        for r in result["results"]
    ]
    top = max((r["visitors"] for r in rows), default=0) or 1
    for row in rows:
        row["pct"] = round(100 * row["visitors"] / top)
    return Panel(key=key, title=title, label=label, rows=rows)


async def load_overview(
    store: Store, *, site: Site, period: Preset, now: datetime | None = None
) -> Overview:
    """Run the overview's queries for ``site`` over ``period`` and shape them for the template."""
    base = {"site_id": site.id, "date_range": period}
    specs: list[dict[str, Any]] = [
        {**base, "metrics": _TOTALS},
        {**base, "metrics": ["visitors", "pageviews"], "dimensions": ["time:day"]},
        *(
            {**base, "metrics": ["visitors", "pageviews"], "dimensions": [dim], "limit": TOP_N}
            for dim, _, _ in _PANELS
        ),
    ]
    queries = [parse_query(spec, timezone=site.timezone, now=now) for spec in specs]
    totals_result, chart_result, *panel_results = await run_queries(store, queries)
    totals = dict(zip(_TOTALS, totals_result["results"][0]["metrics"], strict=True))
    first, last = queries[0].period
    chart = {
        "labels": [r["dimensions"][0] for r in chart_result["results"]],
        "visitors": [r["metrics"][0] for r in chart_result["results"]],
        "pageviews": [r["metrics"][1] for r in chart_result["results"]],
    }
    panels = [
        _panel(key, title, label, result)
        for (key, title, label), result in zip(_PANELS, panel_results, strict=True)
    ]
    return Overview(
        period=period, first=first, last=last, totals=totals, chart=chart, panels=panels
    )
