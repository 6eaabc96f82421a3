"""One site-local day of rollups: the statements of its batch and the call that runs them.

The statements are made of the reader's own per-unit arms (``sql.arms.raw_arm``, through
``arms.pair_arms``) with the same dimension expressions and metric parts a raw query uses, so a
rolled-up day holds exactly the parts a raw query would aggregate for it (``tests/test_rollups.py``
checks it). One batch writes every kind's day (``kinds``), lists it, clears its dirty marks and
rebuilds its spans (``spans``); a recent day's rows per frequent value follow (``frequent``).

Late rows: triggers on ``events`` and ``sessions`` mark the row's quarter-hour in
``rollup_dirty`` and drop its day from ``rollup_days`` (triggers drop the other listings with
it), so readers use raw rows for that day until it is recomputed here.
"""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

from ..periods import bounds_ms
from ..sql.metrics import PARTS
from ..sql.params import Params
from ..store import Param, Store
from .arms import FROZEN, ROLLUP_PARAMS, RollupStatement, pair_arms, units_cte, viewed_cte
from .frequent import frequent_day_statements, is_recent, unlist_day_statement
from .kinds import FILTERED_ROLLUP_SET, FREQUENT_MIN_VISITS, PER_FILTER_VALUE, PLAIN
from .spans import span_statements

__all__ = ["GRACE_MS", "SLOT_MS", "day_params", "rollup_day", "rollup_steps"]

SLOT_MS = 900_000
# A day is rolled up once it ended this long ago: visits still running at midnight and late
# engagement reports have landed by then (a later one only sends the day back to raw reads).
GRACE_MS = 3_600_000


def _insert_sql(dim: str, *, fdim: str | None = None) -> str:
    """One dimension's rows of a day, or one (filter, dimension) pair's (D1 caps compound SELECTs,
    so one statement each)."""
    params = Params()
    refs = {name: params.ref(f"<{name}>") for name in ROLLUP_PARAMS}
    site = refs["site_id"]
    arms, viewed = pair_arms(dim, fdim=fdim, site=site, params=params)
    ctes = [units_cte(refs["units"])] + ([viewed_cte(site)] if viewed else [])
    sums = ", ".join(f"COALESCE(SUM({part}), 0)" for part in PARTS)
    kind, values = (PLAIN, "dim") if fdim is None else (PER_FILTER_VALUE, f"'{fdim}', f, dim")
    return (
        f"WITH {', '.join(ctes)}\n"
        f"INSERT INTO {kind.daily} (site_id, {kind.keys}, day, value, {', '.join(PARTS)})\n"
        f"SELECT {site}, {values}, {refs['day']}, value, {sums}\n"
        f"FROM ({' UNION ALL '.join(arms)})\n"
        f"WHERE NOT {FROZEN}\n"
        f"GROUP BY {'f, ' if fdim is not None else ''}dim, value"
    )


# The day's rollup_days row while this run recomputes it: no reader, purge or span counts a
# listing of another timezone, and a late row for the day deletes it (the triggers on events
# and sessions delete by bounds), which tells the last step not to list the day.
_CLAIMED = (
    "EXISTS (SELECT 1 FROM rollup_days AS c WHERE c.site_id = ?1 AND c.day = ?3 AND c.tz = '' "
    "AND c.computed_at = CAST(?5 AS INTEGER))"
)
_DAY_OF_SLOTS = (
    f"slot >= CAST(?6 AS INTEGER) / {SLOT_MS} AND slot < CAST(?7 AS INTEGER) / {SLOT_MS}"
)


# Statements per call: each reads one day's (a span's) rows, so a call stays far under a second
# at 10 M events a year while the day needs a few calls, not dozens.
STEP_SIZE = 4


def _chunks(statements: list[RollupStatement]) -> list[list[RollupStatement]]:
    return [statements[i : i + STEP_SIZE] for i in range(0, len(statements), STEP_SIZE)]


def _step(sql: str, params: int = 7) -> list[RollupStatement]:
    return [RollupStatement(sql=sql, params=ROLLUP_PARAMS[:params])]


def rollup_steps() -> list[list[RollupStatement]]:
    """The steps recomputing one day, in order: each step one call (one short transaction), so
    the database answers readers and ingest flushes between them.

    Parameters by name: ``site_id``, ``units`` (JSON ``[[start_ms, end_ms, 0, day]]``), ``day``
    (``YYYY-MM-DD``), ``tz``, ``computed_at`` (ms, the job's now, unique to the run), ``start_ms``,
    ``end_ms``, ``min_visits`` (the monthly threshold of the rollups per frequent value).

    The first step claims the day (``_CLAIMED``); the rows are rewritten a statement a step while
    readers read the day raw; the last step, one transaction, deletes the dirty marks and lists
    the day only if the claim still stands. A late write lands before the rows are read (and is
    counted) or deletes the claim (the marks stay, and the next run redoes the day); a run that
    stops half way leaves its marks too, and the next run's ``jobs.RETIME`` drops the claim. A
    day older than the site's retention horizon that has rollups keeps them (``FROZEN``): its
    raw rows may be purged; it is only listed again.
    """
    return [
        _step(
            "INSERT OR REPLACE INTO rollup_days (site_id, day, tz, start_ms, end_ms, computed_at) "
            f"SELECT ?1, ?3, '', ?6, ?7, CAST(?5 AS INTEGER) WHERE NOT {FROZEN}"
        ),
        # rollup_daily's last: FROZEN asks whether the day has rows there.
        [unlist_day_statement()],
        *(
            _step(f"DELETE FROM {table} WHERE site_id = ?1 AND day = ?3 AND NOT {FROZEN}", 6)
            for table in (PER_FILTER_VALUE.daily, PLAIN.daily)
        ),
        # Pairs first, for the same reason; a few inserts a call (each reads one day's rows).
        *_chunks(
            [
                *(RollupStatement(sql=_insert_sql(d, fdim=f), params=ROLLUP_PARAMS[:6])
                  for f, d in PER_FILTER_VALUE.pairs()),
                *(RollupStatement(sql=_insert_sql(d), params=ROLLUP_PARAMS[:6])
                  for d in PLAIN.dimensions),
            ]
        ),
        [
            RollupStatement(
                sql=f"DELETE FROM rollup_dirty WHERE site_id = ?1 AND {_DAY_OF_SLOTS} "
                f"AND ({_CLAIMED} OR {FROZEN})",
                params=ROLLUP_PARAMS[:7],
            ),
            RollupStatement(
                sql="INSERT OR REPLACE INTO rollup_days "
                "(site_id, day, tz, start_ms, end_ms, computed_at) "
                f"SELECT ?1, ?3, ?4, ?6, ?7, CAST(?5 AS INTEGER) WHERE {_CLAIMED} OR {FROZEN}",
                params=ROLLUP_PARAMS[:7],
            ),
            # Listed for filtered reads once its rows are in, or when it is kept as it is (past
            # the retention horizon) and has such rows from before.
            RollupStatement(
                sql="INSERT OR REPLACE INTO rollup_filtered_days (site_id, day, tz, pairs) "
                f"SELECT ?1, ?3, ?4, '{FILTERED_ROLLUP_SET}' WHERE (NOT {FROZEN} "
                "OR EXISTS (SELECT 1 FROM rollup_filtered_daily AS f WHERE f.site_id = ?1 "
                "AND f.day = ?3)) AND EXISTS (SELECT 1 FROM rollup_days AS d "
                "WHERE d.site_id = ?1 AND d.day = ?3 AND d.tz = ?4 "
                "AND d.computed_at = CAST(?5 AS INTEGER))",
                params=ROLLUP_PARAMS[:6],
            ),
        ],
        # A span's four statements (unlist, delete, sum, list) in one call: rebuilt whole.
        *_chunks(span_statements()),
    ]


def day_params(
    *, site_id: str, day: date, tz: ZoneInfo, now_ms: int, min_visits: int = FREQUENT_MIN_VISITS
) -> dict[str, Param]:
    """The named parameters for recomputing ``day`` of ``site_id`` in ``tz``."""
    start, end = bounds_ms(day, day, tz=tz)
    return {
        "site_id": site_id,
        "units": json.dumps([[start, end, 0, day.isoformat()]], separators=(",", ":")),
        "day": day.isoformat(),
        "tz": str(tz.key),
        "computed_at": now_ms,
        "start_ms": start,
        "end_ms": end,
        "min_visits": min_visits,
    }


async def rollup_day(
    store: Store,
    *,
    site_id: str,
    day: date,
    tz: ZoneInfo,
    now_ms: int,
    min_visits: int = FREQUENT_MIN_VISITS,
) -> None:
    """Recompute one day's rollups (``rollup_steps``), then (a recent day) its rows per frequent
    value (``frequent.frequent_day_statements``). The Worker runs them a step a call, so D1
    answers others in between; here each runs as one batch: on a local file that is as safe (the
    steps check their claim, which one transaction keeps) and spares a connection per step."""
    values = day_params(site_id=site_id, day=day, tz=tz, now_ms=now_ms, min_visits=min_visits)
    await store.batch(
        [(s.sql, [values[name] for name in s.params]) for step in rollup_steps() for s in step]
    )
    if is_recent(start_ms=int(values["start_ms"] or 0), now_ms=now_ms):
        await store.batch(
            [(s.sql, [values[name] for name in s.params]) for s in frequent_day_statements()]
        )
