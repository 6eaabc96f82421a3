"""The visits a query's filters keep, as one clause: what raw statements that follow whole visits
(funnels, journeys) put on their events.

A filter on a visit (its source, its country, a page it viewed: ``sql.where`` on ``sessions``)
keeps every event of the visits that pass it, so the order of a visit's steps is never cut.
"""

from __future__ import annotations

from ..query import Query
from .params import Params
from .where import DAY_MS, filters_sql

__all__ = ["started_window", "visit_filters", "visits_clause"]


def visit_filters(query: Query, *, site: str, start: int, end: int, params: Params) -> list[str]:
    """The query's filters as clauses on a ``sessions`` row (a visit passes or not, whole)."""
    if not query.filters:
        return []
    return filters_sql(query.filters, table="sessions", site=site, bounds=(start, end),
                       params=params, goals=query.goals)


def started_window(*, start: int, end: int, params: Params) -> tuple[str, str]:
    """The bound starts of the visits a period follows: from a day before ``start`` (a visit
    may start before midnight) to ``end``."""
    return params.ref(start - DAY_MS), params.ref(end)


def visits_clause(query: Query, *, site: str, start: int, end: int, params: Params,
                  column: str = "session_id", window: tuple[str, str] | None = None) -> str:
    """SQL: `` AND <column> IN (the visits passing the query's filters)``; '' without filters.
    ``window`` (SQL of the first and last start) narrows the visits looked at, when only part
    of the period is read raw."""
    clauses = visit_filters(query, site=site, start=start, end=end, params=params)
    if not clauses:
        return ""
    lo, hi = window or started_window(start=start, end=end, params=params)
    return (
        f" AND {column} IN (SELECT id FROM sessions WHERE site_id = {site} "
        f"AND started_at >= {lo} AND started_at < {hi} AND {' AND '.join(clauses)})"
    )
