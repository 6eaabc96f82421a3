"""The site list's numbers: each site's visitors over the default period and a sparkline of
them by day, read through the dashboard's own state and queries (one batch per database)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...cache import cache_for
from ...exceptions import DatabaseUnknown, QueryError
from ...runner import run_queries
from ...sites import Site
from ...store import Store
from ..account.sites_routes import sparkline_points
from .state import DashboardState

__all__ = ["SiteSummary", "summarise"]


@dataclass(frozen=True, kw_only=True)
class SiteSummary:
    """One site of the list: its visitors (None when its data cannot be read) and sparkline."""

    site: Site
    visitors: int | None
    days: list[int]
    points: str


async def summarise(
    stores: Callable[[Site], Store], sites: list[Site], *, state: DashboardState
) -> list[SiteSummary]:
    """Each of ``sites`` with its visitors under ``state`` (its period) and their days."""
    by_store: dict[str, list[Site]] = {}
    for site in sites:
        by_store.setdefault(site.database, []).append(site)
    numbers: dict[str, tuple[int, list[int]]] = {}
    for placed in by_store.values():
        try:
            store = stores(placed[0])
            queries = [
                query
                for site in placed
                for query in (
                    state.query(site, metrics=("visitors",), compare=False),
                    state.query(site, metrics=("visitors",), dimensions=["time:day"],
                                compare=False),
                )
            ]
            results = await run_queries(store, queries, cache=cache_for(store))
        except (DatabaseUnknown, QueryError):
            continue  # the site's own dashboard says why
        for i, site in enumerate(placed):
            total, by_day = results[2 * i]["results"], results[2 * i + 1]["results"]
            visitors = int(total[0]["metrics"][0] or 0) if total else 0
            numbers[site.id] = (visitors, [int(r["metrics"][0] or 0) for r in by_day])
    summaries = []
    for site in sites:
        visitors, days = numbers.get(site.id, (0, []))
        summaries.append(SiteSummary(site=site, visitors=visitors if site.id in numbers else None,
                                     days=days, points=sparkline_points(days)))
    return summaries
