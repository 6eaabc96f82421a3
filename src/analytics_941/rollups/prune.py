"""Pruning the rows per filter value of old days: a month's rows per filter value hold its days'
sums, so once the month is listed its days' rows are only read by ranges that start or end
inside it. Days older than ``FILTERED_DAILY_KEEP_DAYS`` lose them (and their listing, so such a
range reads those days raw), which bounds the largest rollup family to about two months of days
plus one row set a month.

Only sites without a retention are pruned: their raw rows stay. The purge keeps the raw rows of
a day with no rows per filter value (worker/src/rollup/purge.ts), so a site given a retention
later never loses what its filtered views read. A late row for a pruned month takes the month's
listing out (triggers), and its days are read raw until the cron has redone them all.
"""

from __future__ import annotations

from ..store import Store
from .arms import DAY_MS, RollupStatement
from .kinds import FILTERED_DAILY_KEEP_DAYS, PER_FILTER_VALUE

__all__ = ["MAX_PRUNED_PER_RUN", "PRUNE_PARAMS", "PRUNE_TODO_SQL", "prune_days", "prune_statements"]

# Days pruned per run at most: each is one short batch.
MAX_PRUNED_PER_RUN = 64
# The named parameters of a day's prune, in ?N order.
PRUNE_PARAMS = ("site_id", "day")

_DAYS, _ROWS = PER_FILTER_VALUE.days, PER_FILTER_VALUE.daily
_MONTHS = PER_FILTER_VALUE.spans["month"][1]
# A listed day ``f`` and the listing of its month, for the same timezone and pairs.
_WITH_MONTH = (
    f"{_DAYS} AS f JOIN {_MONTHS} AS m ON m.site_id = f.site_id "
    "AND m.month = substr(f.day, 1, 7) AND m.tz = f.tz AND m.pairs = f.pairs"
)
# The day (?1, ?2) is listed, and its month too.
_PRUNABLE = f"EXISTS (SELECT 1 FROM {_WITH_MONTH} WHERE f.site_id = ?1 AND f.day = ?2)"
# The days to prune (?1: now, ms): listed with their month, older than the days kept, of sites
# without a retention; oldest first.
PRUNE_TODO_SQL = (
    f"SELECT f.site_id AS site_id, f.day AS day FROM {_WITH_MONTH} "
    "JOIN sites AS s ON s.id = f.site_id AND COALESCE(s.retention_days, 0) < 1 "
    "WHERE f.day < date(CAST(?1 AS INTEGER) / 1000, 'unixepoch', "
    f"'-{FILTERED_DAILY_KEEP_DAYS} days') "
    f"ORDER BY f.day LIMIT {MAX_PRUNED_PER_RUN}"
)
assert FILTERED_DAILY_KEEP_DAYS * DAY_MS > 31 * DAY_MS, "a 30-day view keeps its days"


def prune_statements() -> list[RollupStatement]:
    """One day's prune, in ONE batch: its rows, then its listing, while it and its month are
    listed (a day being recomputed, or a month a late row took out, is left alone)."""
    return [
        RollupStatement(
            sql=f"DELETE FROM {_ROWS} WHERE site_id = ?1 AND day = ?2 AND {_PRUNABLE}",
            params=PRUNE_PARAMS,
        ),
        RollupStatement(
            sql=f"DELETE FROM {_DAYS} WHERE site_id = ?1 AND day = ?2 AND {_PRUNABLE}",
            params=PRUNE_PARAMS,
        ),
    ]


async def prune_days(store: Store, *, now_ms: int) -> list[tuple[str, str]]:
    """Prune up to ``MAX_PRUNED_PER_RUN`` days; return the (site id, day) pairs taken."""
    rows = await store.execute(PRUNE_TODO_SQL, [now_ms])
    done = [(str(row["site_id"]), str(row["day"])) for row in rows]
    for site_id, day in done:
        await store.batch([(s.sql, [site_id, day]) for s in prune_statements()])
    return done
