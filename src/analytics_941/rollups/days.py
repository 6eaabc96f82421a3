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
from .arms import (
    CLAIMED,
    FROZEN,
    ROLLUP_PARAMS,
    RollupStatement,
    day_statement,
    pair_arms,
    units_cte,
    viewed_cte,
)
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
        f"WHERE {CLAIMED}\n"
        f"GROUP BY {'f, ' if fdim is not None else ''}dim, value"
    )


_DAY_OF_SLOTS = (
    f"slot >= CAST(?6 AS INTEGER) / {SLOT_MS} AND slot < CAST(?7 AS INTEGER) / {SLOT_MS}"
)


# Statements per call: each reads one day's (a span's) rows, so a call stays far under a second
# at 10 M events a year while the day needs a few calls, not dozens.
STEP_SIZE = 4


def _chunks(statements: list[RollupStatement]) -> list[list[RollupStatement]]:
    return [statements[i : i + STEP_SIZE] for i in range(0, len(statements), STEP_SIZE)]


def _step(sql: str) -> list[RollupStatement]:
    return [day_statement(sql)]


def rollup_steps() -> list[list[RollupStatement]]:
    """The steps recomputing one day, in order: each step one call (one short transaction), so
    the database answers readers and ingest flushes between them.

    Parameters by name: ``site_id``, ``units`` (JSON ``[[start_ms, end_ms, 0, day]]``), ``day``
    (``YYYY-MM-DD``), ``tz``, ``computed_at`` (ms, the job's now, unique to the run), ``start_ms``,
    ``end_ms``, ``min_visits`` (the monthly threshold of the rollups per frequent value).

    The first step claims the day (``arms.CLAIMED``), unless it is past the retention horizon
    with rollups (``FROZEN``): those are kept and only listed again. The rows are rewritten a few
    statements a step, each only while the claim stands, and readers read the day raw meanwhile;
    the last step, one transaction, deletes the dirty marks and lists the day only if the claim
    still stands. A late write lands before the rows are read (and is
    counted) or deletes the claim (the marks stay, and the next run redoes the day); a run that
    stops half way leaves its marks too, and the next run's ``jobs.RETIME`` drops the claim.
    Asking the claim, not ``FROZEN``, is what lets a day past the horizon with no rollups yet get
    all of them: ``FROZEN`` turns true with its first row.
    """
    return [
        [
            day_statement(
                "INSERT OR REPLACE INTO rollup_days "
                "(site_id, day, tz, start_ms, end_ms, computed_at) "
                f"SELECT ?1, ?3, '', ?6, ?7, CAST(?5 AS INTEGER) WHERE NOT {FROZEN}"
            ),
            # The claim replaces the day's listing without its triggers: drop the other
            # listings of its days here, so no reader takes rows while they are rewritten.
            day_statement(
                f"DELETE FROM {PER_FILTER_VALUE.days} WHERE site_id = ?1 AND day = ?3 "
                f"AND {CLAIMED}"
            ),
            unlist_day_statement(),
        ],
        *(
            _step(f"DELETE FROM {table} WHERE site_id = ?1 AND day = ?3 AND {CLAIMED}")
            for table in (PER_FILTER_VALUE.daily, PLAIN.daily)
        ),
        # A few inserts a call (each reads one day's rows).
        *_chunks(
            [
                *(day_statement(_insert_sql(d, fdim=f)) for f, d in PER_FILTER_VALUE.pairs()),
                *(day_statement(_insert_sql(d)) for d in PLAIN.dimensions),
            ]
        ),
        [
            day_statement(
                f"DELETE FROM rollup_dirty WHERE site_id = ?1 AND {_DAY_OF_SLOTS} "
                f"AND ({CLAIMED} OR {FROZEN})",
            ),
            # Listed for filtered reads once its rows are in, or when it is kept as it is (past
            # the retention horizon) and has such rows from before.
            day_statement(
                "INSERT OR REPLACE INTO rollup_filtered_days (site_id, day, tz, pairs) "
                f"SELECT ?1, ?3, ?4, '{FILTERED_ROLLUP_SET}' WHERE {CLAIMED} OR ({FROZEN} "
                "AND EXISTS (SELECT 1 FROM rollup_filtered_daily AS f WHERE f.site_id = ?1 "
                "AND f.day = ?3))",
            ),
            # Last: it replaces the claim the statements above ask about.
            day_statement(
                "INSERT OR REPLACE INTO rollup_days "
                "(site_id, day, tz, start_ms, end_ms, computed_at) "
                f"SELECT ?1, ?3, ?4, ?6, ?7, CAST(?5 AS INTEGER) WHERE {CLAIMED} OR {FROZEN}",
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
