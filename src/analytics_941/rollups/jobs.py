"""The rollup job: the loop the Worker's cron runs on D1 (``worker/src/rollup/cron.ts``, from the
constants and SQL generated here) and its Python twin ``refresh_rollups``, used by the bench and
the tests (and usable from a host's own scheduler when the data lives in a local SQLite file).

Each run retires rollups made for another timezone or another set of pairs (``RETIME``), reads
the dirty quarter-hours (``DIRTY_SQL``), turns them into the closed site-local days to recompute
(``choose_days``, contract-tested against the Worker's twin), recomputes them oldest first, then
computes the month of rollups per frequent value (``frequent``) and prunes old days' rows per
filter value (``prune``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..periods import bounds_ms
from ..rebuilds import rebuild_tables
from ..store import Param, Statement, Store
from .days import GRACE_MS, SLOT_MS, rollup_day
from .frequent import MAX_MONTHS_PER_RUN, refresh_frequent_months
from .funnels import refresh_funnel_rollups
from .goals import refresh_goal_rollups
from .journeys import refresh_journey_rollups
from .kinds import FREQUENT_MIN_VISITS, KINDS, RollupKind
from .prune import prune_days

__all__ = [
    "DIRTY_SQL", "GAP_DAYS_SQL", "MAX_DAYS_PER_RUN", "RETIME", "choose_days", "refresh_rollups",
]

# Site-days recomputed per run by default (the Worker's ``ROLLUP_DAYS_PER_RUN`` var): a day is
# about 46 short D1 calls, and D1 allows 1,000 queries per Worker invocation (paid plan), which
# the months, the purge and table rebuilds share.
MAX_DAYS_PER_RUN = 12
# The dirty quarter-hours that ended before ?1 (now - grace, in slots), oldest first.
DIRTY_SQL = (
    "SELECT d.site_id AS site_id, d.slot AS slot, s.timezone AS tz FROM rollup_dirty AS d "
    "JOIN sites AS s ON s.id = d.site_id WHERE d.slot < ? ORDER BY d.slot LIMIT 20000"
)

# A month gets its rows only once every one of its days is listed, and a day is listed only once
# something marks it dirty: a day without a single event (before the site's first, a quiet day on
# a small site) never is, so its month was read day by day for ever and its days' rows per filter
# value were never pruned. So mark the unlisted days of a month next to its listed ones: from a
# listed day at the edge of a gap, k whole days of 24 hours on, plus 12, lands inside the k-th day
# (days are 23 to 25 hours long, and a month holds at most two changes). An empty day then rolls
# up to no rows and is listed. Only in months that are over (two days of slack for the site's
# timezone; ?1: slots that ended, as DIRTY_SQL): a month's rows wait for its end anyway. A few a
# run, so gaps never crowd out fresh days; they are oldest, so ``choose_days`` takes them first.
GAP_DAYS_PER_RUN = 4
_EDGE = (
    "NOT EXISTS (SELECT 1 FROM rollup_days AS x WHERE x.site_id = r.site_id "
    "AND x.day = date(r.day, '{} day'))"
)
GAP_DAYS_SQL = (
    "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 30), "
    "edge AS (SELECT r.site_id, r.day, r.start_ms, r.end_ms FROM rollup_days AS r "
    "JOIN sites AS s ON s.id = r.site_id AND s.timezone = r.tz "
    f"WHERE {_EDGE.format('-1')} OR {_EDGE.format('+1')}), "
    "near AS (SELECT e.site_id, e.day, date(e.day, '-' || k.n || ' day') AS near, "
    "(e.start_ms - k.n * 86400000 + 43200000) / 900000 AS slot FROM edge AS e, k "
    "UNION ALL SELECT e.site_id, e.day, date(e.day, '+' || k.n || ' day'), "
    "(e.end_ms + (k.n - 1) * 86400000 + 43200000) / 900000 FROM edge AS e, k) "
    "INSERT OR IGNORE INTO rollup_dirty (site_id, slot) "
    # A day between two edges is reached from both: one slot a day.
    "SELECT g.site_id, g.slot FROM (SELECT n.site_id, n.near, MIN(n.slot) AS slot FROM near AS n "
    "WHERE substr(n.near, 1, 7) = substr(n.day, 1, 7) GROUP BY n.site_id, n.near) AS g "
    "WHERE g.slot < ?1 AND date(g.near, 'start of month', '+1 month') "
    "<= date(?1 * 900, 'unixepoch', '-2 days') "
    "AND NOT EXISTS (SELECT 1 FROM rollup_days AS x WHERE x.site_id = g.site_id "
    "AND x.day = g.near) "
    "AND NOT EXISTS (SELECT 1 FROM rollup_dirty AS y WHERE y.site_id = g.site_id "
    "AND y.slot = g.slot) "
    f"ORDER BY g.near LIMIT {GAP_DAYS_PER_RUN}"
)


def _relisted(kind: RollupKind, column: str, value: str) -> list[Statement]:
    """Queue again the days ``kind`` listed with another ``column`` than ``value``, and drop
    those days' and spans' listings."""
    listings = [kind.days, *(listed for _rows, listed in kind.spans.values())]
    return [
        (
            "INSERT OR IGNORE INTO rollup_dirty (site_id, slot) "
            f"SELECT r.site_id, r.start_ms / {SLOT_MS} FROM rollup_days AS r "
            f"JOIN {kind.days} AS f ON f.site_id = r.site_id AND f.day = r.day "
            f"WHERE f.{column} != '{value}'",
            [],
        ),
        *((f"DELETE FROM {table} WHERE {column} != '{value}'", []) for table in listings),
    ]


# Sites whose timezone changed: their days were cut at other midnights. Mark each old day's first
# quarter-hour dirty (it lies in exactly one new day) and stop serving the old rollups.
RETIME: list[Statement] = [
    (
        "INSERT OR IGNORE INTO rollup_dirty (site_id, slot) "
        f"SELECT r.site_id, r.start_ms / {SLOT_MS} FROM rollup_days AS r "
        "JOIN sites AS s ON s.id = r.site_id WHERE r.tz != s.timezone",
        [],
    ),
    (
        "DELETE FROM rollup_days "
        "WHERE tz != (SELECT timezone FROM sites WHERE sites.id = rollup_days.site_id)",
        [],
    ),
    # Days and months rolled up for another set of pairs (an earlier version's FILTERED_ROLLUP_*
    # or FREQUENT_ROLLUP_DIMENSIONS): queue the days again and read them raw meanwhile (months
    # are rebuilt from their days, or by the month job, which takes any month not listed).
    *(
        statement
        for kind in KINDS
        if kind.marked is not None
        for statement in _relisted(kind, *kind.marked)
    ),
]


def choose_days(
    rows: Iterable[Mapping[str, Param]], *, now_ms: int, max_days: int, grace_ms: int = GRACE_MS
) -> list[tuple[str, date, str]]:
    """The (site id, local day, timezone) to recompute from the rows of ``DIRTY_SQL``: the days
    holding a dirty slot that ended ``grace_ms`` ago, oldest first, at most ``max_days``. A row
    of an unknown timezone is skipped: nothing can be rolled up for it."""
    todo: dict[tuple[str, date], str] = {}
    for row in rows:
        try:
            tz = ZoneInfo(str(row["tz"]))
        except (ZoneInfoNotFoundError, ValueError):
            continue
        day = datetime.fromtimestamp(int(row["slot"] or 0) * SLOT_MS / 1000, tz=tz).date()
        _start, end = bounds_ms(day, day, tz=tz)
        if end + grace_ms <= now_ms:
            todo.setdefault((str(row["site_id"]), day), str(row["tz"]))
    chosen = sorted(todo, key=lambda key: key[1])[:max_days]
    return [(site_id, day, todo[(site_id, day)]) for site_id, day in chosen]


async def refresh_rollups(
    store: Store,
    *,
    now_ms: int,
    max_days: int = MAX_DAYS_PER_RUN,
    grace_ms: int = GRACE_MS,
    max_months: int = MAX_MONTHS_PER_RUN,
    min_visits: int = FREQUENT_MIN_VISITS,
) -> list[tuple[str, date]]:
    """Recompute the closed days with dirty marks (oldest first, at most ``max_days``), then up
    to ``max_months`` months of the rollups per frequent filter value (``min_visits``: their
    threshold), then prune old days' rows per filter value, then run steps of pending table
    rebuilds (``rebuilds``). Returns the (site id, day) pairs
    recomputed."""
    ended = (now_ms - grace_ms) // SLOT_MS
    await store.batch([*RETIME, (GAP_DAYS_SQL, [ended])])
    rows = await store.execute(DIRTY_SQL, [ended])
    done = choose_days(rows, now_ms=now_ms, max_days=max_days, grace_ms=grace_ms)
    for site_id, day, tz in done:
        await rollup_day(
            store, site_id=site_id, day=day, tz=ZoneInfo(tz), now_ms=now_ms, min_visits=min_visits
        )
    # After the days: a goal's day is taken once its day is rolled up (``goals``).
    await refresh_goal_rollups(store)
    await refresh_journey_rollups(store)
    await refresh_funnel_rollups(store)
    await refresh_frequent_months(
        store, now_ms=now_ms, max_months=max_months, min_visits=min_visits
    )
    await prune_days(store, now_ms=now_ms)
    await rebuild_tables(store, now_ms=now_ms)
    return [(site_id, day) for site_id, day, _tz in done]
