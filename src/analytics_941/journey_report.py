"""Running a journey: ``Query`` (period, filters) and a page in, where visits move out.

The four statements ``sql.journeys`` writes run in one batch: the pages before and after the
page, the common paths from and to it, and the period's entry → exit pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .query import Query
from .sql.journeys import around_sql, flow_sql, paths_sql
from .store import Row, Store

__all__ = ["Journey", "journey_from_rows", "run_journey"]

AROUND_ROWS = 10


@dataclass(frozen=True, kw_only=True)
class Journey:
    """Where visits came to a page from and went to, their common paths, and the period's
    entry → exit pairs. Pairs and paths count visits; ``came_from``/``went_to`` count times."""

    page: str
    came_from: list[tuple[str, int]] = field(default_factory=list)
    went_to: list[tuple[str, int]] = field(default_factory=list)
    paths_from: list[tuple[list[str], int]] = field(default_factory=list)
    paths_to: list[tuple[list[str], int]] = field(default_factory=list)
    flow: list[tuple[str, str, int]] = field(default_factory=list)


def _path(row: Row) -> list[str]:
    return [str(row[f"p{i}"]) for i in range(1, 6) if row[f"p{i}"] is not None]


def journey_from_rows(page: str, around: list[Row], paths_from: list[Row], paths_to: list[Row],
                      flow: list[Row]) -> Journey:
    """Shape the batch's four row sets."""
    def side(name: str) -> list[tuple[str, int]]:
        return [(str(r["page"]), int(r["times"])) for r in around if r["side"] == name][
            :AROUND_ROWS]

    return Journey(
        page=page, came_from=side("from"), went_to=side("to"),
        paths_from=[(_path(r), int(r["visits"])) for r in paths_from],
        paths_to=[(_path(r), int(r["visits"])) for r in paths_to],
        flow=[(str(r["entry"]), str(r["exit"]), int(r["visits"])) for r in flow],
    )


async def run_journey(store: Store, query: Query, page: str) -> Journey:
    """The journey of ``page`` over ``query``'s period under its filters."""
    period = query.period
    rowsets: list[Any] = await store.batch([
        around_sql(query, page, period=period),
        paths_sql(query, page, period=period, direction="from"),
        paths_sql(query, page, period=period, direction="to"),
        flow_sql(query, period=period),
    ])
    return journey_from_rows(page, *rowsets)
