"""Raw reads under one page (a lone ``is`` of one value), chosen per unit inside the statement.

The rows per frequent value (``rollups.frequent``) say where the page is frequent: the units
whose day or month holds it, and the units not rolled up yet (today) when one of the recent
days does (``<prefix>_dense``). Those read their time range, as every filtered read did; the
other raw units (``<prefix>_sparse``), where the page is rare, read its events through the page
index (events_path) and, while its visits are few, those visits by their key. A rare page's
12 months went from seconds to tens of milliseconds at 10 M events; the answers are the same.
A visit read by its key finds its unit among the UTC days each sparse unit overlaps
(``<prefix>_sparse_days``): an equality SQLite answers through an automatic index, where a
time range would scan every unit for every visit (a year's 363 units times 16,000 visits).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from ..filters import FilterNode
from ..query import Query
from ..rollups.frequent import dense_units_sql as frequent_units_sql
from ..rollups.frequent import recent_days
from .params import Params
from .where import DAY_MS, Bounds, filters_sql, lone_page

__all__ = ["few_visits_sql", "page_arms", "page_ctes", "page_sessions_sql"]

# Reading a visit by its key (and its unit by its UTC day) costs about as much as reading 17-19
# of the range's visits by time, however many units (12 months at 1 M and 10 M events): worth
# it while the page has under a twentieth of all visits. A short range always is.
_KEY_READ_COST = 20
_SHORT_UNITS = 62


def few_visits_sql(nodes: tuple[FilterNode, ...], *, site: str, units: str, sparse: str,
                   params: Params) -> str:
    """SQL, true when the ``lone_page``'s visits are few enough, over the months of ``units``
    (``rollup_filtered_monthly`` against ``rollup_monthly``), to read them by their key in
    the ``sparse`` units (``page_sessions_sql``) rather than every visit of those units."""
    page = lone_page(nodes)
    assert page is not None, "only under one page"
    months = f"SELECT DISTINCT substr(day, 1, 7) FROM {units}"
    count = f"(SELECT COUNT(*) FROM {sparse})"
    return (
        f"({count} <= {_SHORT_UNITS} OR COALESCE((SELECT SUM(r.visits) FROM "
        f"rollup_filtered_monthly AS r WHERE r.site_id = {site} AND r.month IN ({months}) "
        f"AND r.fdim = {params.ref('page')} AND r.fvalue = {params.ref(page.values[0])} "
        f"AND r.dim = ''), 0) * {_KEY_READ_COST} < COALESCE((SELECT SUM(r.visits) "
        f"FROM rollup_monthly AS r WHERE r.site_id = {site} AND r.dim = '' "
        f"AND r.month IN ({months}) AND r.value = ''), 0))"
    )


def page_sessions_sql(nodes: tuple[FilterNode, ...], *, site: str, units: str,
                      params: Params) -> str:
    """A SELECT of the distinct ids of the visits with an event on the ``lone_page`` in
    ``units`` (SQL of rows ``start_ms, end_ms``), widened by a day as ``_leaf_sql`` does,
    through the page index."""
    page = lone_page(nodes)
    assert page is not None, "only under one page"
    return (
        f"SELECT DISTINCT e.session_id AS id FROM {units} AS u CROSS JOIN events AS e "
        f"ON e.site_id = {site} AND e.ts >= u.start_ms AND e.ts < u.end_ms + {DAY_MS} "
        f"WHERE likelihood(e.pathname = {params.ref(page.values[0])}, 0.001)"
    )


def page_ctes(
    query: Query, *, prefix: str, last: date, site: str, params: Params, rolled: bool
) -> list[str]:
    """``<prefix>_dense`` and ``<prefix>_sparse`` (the units of ``<prefix>_units``, ending on
    ``last``, where the filters' one page is frequent, and the other raw ones, as a table),
    and ``<prefix>_sparse_days`` (each sparse unit once per UTC day ``k`` it overlaps: a visit
    read by its key finds its unit by ``k``); none without such a page."""
    page = lone_page(query.filters)
    if page is None:
        return []
    dense = frequent_units_sql(
        units=f"{prefix}_units", site=site, fdim=params.ref("page"),
        value=params.ref(page.values[0]),
        recent=params.ref(json.dumps(recent_days(last), separators=(",", ":"))),
    )
    done = f" AND i NOT IN (SELECT i FROM {prefix}_done)" if rolled else ""
    # A unit (a day of at most 25 hours, or an hour) overlaps at most three UTC days.
    day = f"s.start_ms / {DAY_MS}"
    return [f"{prefix}_dense AS ({dense})",
            f"{prefix}_sparse AS MATERIALIZED (SELECT * FROM {prefix}_units "
            f"WHERE i NOT IN (SELECT i FROM {prefix}_dense){done})",
            f"{prefix}_sparse_days AS MATERIALIZED (SELECT s.*, {day} + o.n AS k "
            f"FROM {prefix}_sparse AS s JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL "
            f"SELECT 2) AS o ON {day} + o.n <= (s.end_ms - 1) / {DAY_MS})"]


def page_arms(
    query: Query, *, prefix: str, table: str, arm: Callable[..., str], where: list[str],
    extra: list[str], bounds: Bounds, site: str, params: Params,
) -> list[str]:
    """The raw arms of ``table`` (``arm``: ``sql.arms.raw_arm`` with the side's arguments) with
    ``where`` (the filters) and ``extra`` (the side's other clauses): the dense units by time,
    the sparse ones through the page index (visits by their key while the page's are few)."""
    hinted = filters_sql(query.filters, table=table, site=site, bounds=bounds, params=params,
                         goals=query.goals, page_index=True)
    dense, sparse = f"{prefix}_dense", f"{prefix}_sparse"
    if table == "events":
        return [arm(where=[*where, *extra, f"b.i IN (SELECT i FROM {dense})"]),
                arm(where=[*hinted, *extra], units=sparse)]
    few = few_visits_sql(query.filters, site=site, units=f"{prefix}_units", sparse=sparse,
                         params=params)
    ids = page_sessions_sql(query.filters, site=site, params=params,
                            units=f"(SELECT start_ms, end_ms FROM {sparse} WHERE {few})")
    # Each visit read by its key meets only the units overlapping its UTC day (the equality
    # on ``k``), then the time range picks its own.
    day = f"b.k = {table}.started_at / {DAY_MS}"
    return [arm(where=[*where, *extra, f"(b.i IN (SELECT i FROM {dense}) OR NOT {few})"]),
            arm(where=[*hinted, *extra, day], ids=ids, units=f"{sparse}_days")]
