"""Running a journey: ``Query`` (period, filters) and a page in, where visits move out.

The two statements ``sql.journeys`` writes run in one batch: the pages before and after the
page with the common paths from and to it, and the period's entry → exit pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .query import Query
from .resolve import resolve_filters
from .sql.journeys import SEPARATOR, flow_sql, journey_sql
from .store import Row, Store

__all__ = ["ENTRANCE", "EXIT", "Journey", "journey_from_rows", "run_journey"]

AROUND_ROWS = 10
ENTRANCE = "(entrance)"
EXIT = "(exit)"


@dataclass(frozen=True, kw_only=True)
class Journey:
    """Where visits came to a page from and went to, their common paths, and the period's
    entry → exit pairs. Pairs count visits; the rest count times (a visit that views the page
    twice counts twice)."""

    page: str
    came_from: list[tuple[str, int]] = field(default_factory=list)
    went_to: list[tuple[str, int]] = field(default_factory=list)
    paths_from: list[tuple[list[str], int]] = field(default_factory=list)
    paths_to: list[tuple[list[str], int]] = field(default_factory=list)
    flow: list[tuple[str, str, int]] = field(default_factory=list)


def journey_from_rows(page: str, rows: list[Row], flow: list[Row]) -> Journey:
    """Shape the batch's two row sets."""
    def kind(name: str) -> list[Row]:
        return [r for r in rows if r["kind"] == name]

    def ranked(name: str, missing: str) -> list[tuple[str, int]]:
        found = [(missing if r["value"] is None else str(r["value"]), int(r["times"]))
                 for r in kind(name)]
        return sorted(found, key=lambda item: (-item[1], item[0]))[:AROUND_ROWS]

    def paths(name: str) -> list[tuple[list[str], int]]:
        # Reloads of the other pages along a path are one step too: merge what they split.
        merged: dict[tuple[str, ...], int] = {}
        for r in kind(name):
            pages = str(r["value"]).split(SEPARATOR)
            steps = tuple(p for i, p in enumerate(pages) if i == 0 or p != pages[i - 1])
            merged[steps] = merged.get(steps, 0) + int(r["times"])
        ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
        return [(list(steps), times) for steps, times in ranked]

    return Journey(
        page=page, came_from=ranked("from", ENTRANCE), went_to=ranked("to", EXIT),
        paths_from=paths("path_from"), paths_to=paths("path_to"),
        flow=[(str(r["entry"]), str(r["exit"]), int(r["visits"])) for r in flow],
    )


async def run_journey(store: Store, query: Query, page: str) -> Journey:
    """The journey of ``page`` over ``query``'s period under its filters."""
    period = query.period
    query = await resolve_filters(store, query)  # regexes and Plausible values, as the runner
    rowsets: list[Any] = await store.batch([
        journey_sql(query, page, period=period), flow_sql(query, period=period)])
    return journey_from_rows(page, *rowsets)
