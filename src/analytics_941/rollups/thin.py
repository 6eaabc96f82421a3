"""Thinning old months of rollups per filter value: most pages are rare, and a month keeps about
as many rows per page value as those pages have events (one per country, channel, browser seen).
For a rare page the raw rows are few and an index (``events_path``) finds them, so once a month's
days are pruned (``prune``) the month loses the rows of every page with fewer than ``THIN_BELOW``
events and visits that month, totals row (dim '') included, and is listed in
``rollup_filtered_thinned``. A reader (``sql_builder``) takes a thinned month's rows for a page
only when the page's totals row is there, and reads the month raw otherwise: exact either way.

Country values are never thinned: no index finds a country's raw rows, so a rare country would
read the whole month. Only months of sites without a retention whose days' rows per filter value
were all pruned are thinned: the purge keeps the raw rows of such days (worker/src/rollup/purge.ts),
so the raw rows a thinned month falls back to stay. A month is listed before its rows go, and
each statement removes whole values (all their rows, one transaction), so a reader meets every
page either with all its rows or with none, whichever statement it comes between.
"""

from __future__ import annotations

from ..store import Store
from .arms import RollupStatement
from .kinds import FILTERED_ROLLUP_SET, PER_FILTER_VALUE

__all__ = [
    "MAX_THINNED_PER_RUN",
    "MAX_THIN_STATEMENTS",
    "THINNED_FILTERS",
    "THIN_BELOW",
    "THIN_PARAMS",
    "THIN_TODO_SQL",
    "thin_months",
    "thin_statements",
]

# The filter dimensions whose rare values' month rows go: those whose raw rows an index finds.
THINNED_FILTERS: tuple[str, ...] = ("page",)
# A page keeps its month rows from this many events (or visits) that month on: below it, its
# raw rows are at most a few hundred, read by index in a few milliseconds.
THIN_BELOW = 300
# Months thinned per run, and statements a month at most (each removes THIN_VALUES values).
MAX_THINNED_PER_RUN = 4
MAX_THIN_STATEMENTS = 64
THIN_VALUES = 500
# The named parameters of a month's statements, in ?N order.
THIN_PARAMS = ("site_id", "month")

_ROWS = PER_FILTER_VALUE.spans["month"][0]
_MONTHS = PER_FILTER_VALUE.spans["month"][1]
# Month ?2 of site ?1 may be thinned: listed for the current pairs, no day of it listed (all
# pruned: their raw rows stay), the site without a retention.
_THINNABLE = (
    f"EXISTS (SELECT 1 FROM {_MONTHS} AS m JOIN sites AS s ON s.id = m.site_id "
    "AND COALESCE(s.retention_days, 0) < 1 "
    f"WHERE m.site_id = ?1 AND m.month = ?2 AND m.pairs = '{FILTERED_ROLLUP_SET}') "
    f"AND NOT EXISTS (SELECT 1 FROM {PER_FILTER_VALUE.days} AS f WHERE f.site_id = ?1 "
    "AND f.day >= ?2 || '-01' AND f.day < date(?2 || '-01', '+1 month'))"
)
# The months to thin: listed, not thinned yet, thinnable; oldest first.
THIN_TODO_SQL = (
    f"SELECT m.site_id AS site_id, m.month AS month FROM {_MONTHS} AS m "
    "JOIN sites AS s ON s.id = m.site_id AND COALESCE(s.retention_days, 0) < 1 "
    f"WHERE m.pairs = '{FILTERED_ROLLUP_SET}' "
    "AND NOT EXISTS (SELECT 1 FROM rollup_filtered_thinned AS z "
    "WHERE z.site_id = m.site_id AND z.month = m.month) "
    f"AND NOT EXISTS (SELECT 1 FROM {PER_FILTER_VALUE.days} AS f WHERE f.site_id = m.site_id "
    "AND f.day >= m.month || '-01' AND f.day < date(m.month || '-01', '+1 month')) "
    f"ORDER BY m.month LIMIT {MAX_THINNED_PER_RUN}"
)
_FILTERS = ", ".join(f"'{f}'" for f in THINNED_FILTERS)


def thin_statements() -> tuple[RollupStatement, RollupStatement, RollupStatement]:
    """A month's statements: list it as thinned (when it may be); then, while the third finds a
    rare value left (at most ``MAX_THIN_STATEMENTS`` times: values left keep all their rows,
    still exact), the second: remove the rows of up to ``THIN_VALUES`` rare values, every row
    of each at once."""
    listing = RollupStatement(
        sql=(
            "INSERT OR IGNORE INTO rollup_filtered_thinned (site_id, month, below) "
            f"SELECT ?1, ?2, {THIN_BELOW} WHERE {_THINNABLE}"
        ),
        params=THIN_PARAMS,
    )
    rare = (
        f"SELECT h.fdim, h.fvalue FROM {_ROWS} AS h WHERE h.site_id = ?1 AND h.month = ?2 "
        f"AND h.fdim IN ({_FILTERS}) AND h.dim = '' AND h.events < {THIN_BELOW} "
        f"AND h.visits < {THIN_BELOW} AND EXISTS (SELECT 1 FROM rollup_filtered_thinned AS z "
        f"WHERE z.site_id = ?1 AND z.month = ?2) LIMIT {THIN_VALUES}"
    )
    remove = RollupStatement(
        sql=(
            f"DELETE FROM {_ROWS} WHERE site_id = ?1 AND month = ?2 AND fdim IN ({_FILTERS}) "
            f"AND (fdim, fvalue) IN ({rare})"
        ),
        params=THIN_PARAMS,
    )
    left = RollupStatement(sql=f"SELECT 1 AS rare FROM ({rare}) LIMIT 1", params=THIN_PARAMS)
    return listing, remove, left


async def thin_months(store: Store) -> list[tuple[str, str]]:
    """Thin up to ``MAX_THINNED_PER_RUN`` months; return the (site id, month) pairs taken."""
    rows = await store.execute(THIN_TODO_SQL, [])
    listing, remove, left = thin_statements()
    done = [(str(row["site_id"]), str(row["month"])) for row in rows]
    for site_id, month in done:
        await store.execute(listing.sql, [site_id, month])
        for _ in range(MAX_THIN_STATEMENTS):
            if not await store.execute(left.sql, [site_id, month]):
                break
            await store.execute(remove.sql, [site_id, month])
    return done
