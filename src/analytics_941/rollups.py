"""Daily rollups: the statements that compute one site-local day, and the job that runs them.

The statements are made by the SQL builder's own per-unit arms (``sql_builder.raw_arm``) with the
same dimension expressions and metric parts a raw query uses, so a rolled-up day holds exactly
the parts a raw query would aggregate for it: rollup and raw paths give identical numbers by
construction (and ``tests/test_rollups.py`` checks it).

The Worker's cron runs the same statements: ``scripts/gen_rollup_statements.py`` writes them into
``worker/src/rollup/statements.ts``, and a test fails when that file is stale. ``refresh_rollups``
is the Python twin of the cron's loop, used by the bench and the tests (and usable from a host's
own scheduler when the data lives in a local SQLite file).

Late rows: triggers on ``events`` and ``sessions`` (migration 0003) mark the row's quarter-hour
in ``rollup_dirty`` and drop its day from ``rollup_days``, so readers use raw events for that day
until it is recomputed here.

The same batch writes the rollups per filter value (``rollup_filtered_daily``: the pairs of
``filtered_pairs``) and lists the day in ``rollup_filtered_days``; the month rebuild sums both
kinds. A trigger drops that listing with the day's ``rollup_days`` row. It also writes a recent
day's rollups per frequent filter value (``frequent_rollups``), whose months the cron computes
after the days. The arms and guards every statement is made of are in ``rollup_arms``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .frequent_rollups import (
    MONTH_PARAMS,
    frequent_day_statements,
    frequent_statements,
    is_recent,
    refresh_frequent_months,
    relist_statement,
    todo_sql,
    unlist_day_statement,
)
from .periods import bounds_ms
from .rollup_arms import (
    DAY_MS,
    FROZEN,
    ROLLUP_PARAMS,
    RollupStatement,
    pair_arms,
    units_cte,
    viewed_cte,
)
from .sql.columns import (
    FILTERED_ROLLUP_DIMENSIONS,
    FILTERED_ROLLUP_FILTERS,
    FILTERED_ROLLUP_SET,
    FREQUENT_DAYS,
    FREQUENT_MIN_VISITS,
    ROLLUP_DIMENSIONS,
)
from .sql.metrics import PARTS
from .sql.params import Params
from .sql.rollup_tables import PER_FILTER_VALUE, PER_FREQUENT_VALUE, PLAIN, RollupTables
from .sql_builder import week_of
from .store import Param, Statement, Store

__all__ = [
    "DAY_MS",
    "ROLLUP_PARAMS",
    "RollupStatement",
    "day_params",
    "refresh_rollups",
    "rollup_day",
    "rollup_statements",
]

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
    tables, values = (PLAIN, "dim") if fdim is None else (PER_FILTER_VALUE, f"'{fdim}', f, dim")
    return (
        f"WITH {', '.join(ctes)}\n"
        f"INSERT INTO {tables.daily} (site_id, {tables.keys}, day, value, {', '.join(PARTS)})\n"
        f"SELECT {site}, {values}, {refs['day']}, value, {sums}\n"
        f"FROM ({' UNION ALL '.join(arms)})\n"
        f"WHERE NOT {FROZEN}\n"
        f"GROUP BY {'f, ' if fdim is not None else ''}dim, value"
    )


def filtered_pairs() -> list[tuple[str, str]]:
    """(filter dimension, dimension) pairs kept in ``rollup_filtered_*``: a filter on the
    dimension broken down is answered by ``rollup_daily`` itself."""
    return [
        (fdim, dim)
        for fdim in FILTERED_ROLLUP_FILTERS
        for dim in FILTERED_ROLLUP_DIMENSIONS
        if dim != fdim
    ]


def rollup_statements() -> list[RollupStatement]:
    """The statements recomputing one day, to run in ONE batch (one transaction).

    Parameters by name: ``site_id``, ``units`` (JSON ``[[start_ms, end_ms, 0, day]]``), ``day``
    (``YYYY-MM-DD``), ``tz``, ``computed_at`` (ms, the job's now), ``start_ms``, ``end_ms``,
    ``min_visits`` (the monthly threshold of the rollups per frequent value). A day
    older than the site's retention horizon that has rollups keeps them (see ``FROZEN``): its
    raw rows may be purged. Deleting the dirty marks in the same transaction as the recompute is
    what makes a concurrent late write safe: it lands before (and is counted) or after (and
    marks the day again).
    """
    return [
        # rollup_daily's last: FROZEN asks whether the day has rows there.
        unlist_day_statement(),
        *(
            RollupStatement(
                sql=f"DELETE FROM {table} WHERE site_id = ?1 AND day = ?3 AND NOT {FROZEN}",
                params=ROLLUP_PARAMS[:6],
            )
            for table in (PER_FILTER_VALUE.daily, PLAIN.daily)
        ),
        # Pairs first, for the same reason.
        *(
            RollupStatement(sql=_insert_sql(dim, fdim=fdim), params=ROLLUP_PARAMS[:6])
            for fdim, dim in filtered_pairs()
        ),
        *(
            RollupStatement(sql=_insert_sql(dim), params=ROLLUP_PARAMS[:6])
            for dim in ("", *ROLLUP_DIMENSIONS)
        ),
        RollupStatement(
            sql=(
                "INSERT OR REPLACE INTO rollup_days "
                "(site_id, day, tz, start_ms, end_ms, computed_at) "
                "VALUES (?1, ?3, ?4, ?6, ?7, ?5)"
            ),
            params=ROLLUP_PARAMS[:7],
        ),
        # Listed for filtered reads once its rows are in, or when it is kept as it is (past
        # the retention horizon) and has such rows from before.
        RollupStatement(
            sql=(
                "INSERT OR REPLACE INTO rollup_filtered_days (site_id, day, tz, pairs) "
                f"SELECT ?1, ?3, ?4, '{FILTERED_ROLLUP_SET}' WHERE NOT {FROZEN} "
                "OR EXISTS (SELECT 1 FROM "
                "rollup_filtered_daily AS f WHERE f.site_id = ?1 AND f.day = ?3)"
            ),
            params=ROLLUP_PARAMS[:6],
        ),
        RollupStatement(
            sql=(
                "DELETE FROM rollup_dirty WHERE site_id = ?1 "
                f"AND slot >= CAST(?6 AS INTEGER) / {SLOT_MS} "
                f"AND slot < CAST(?7 AS INTEGER) / {SLOT_MS}"
            ),
            params=ROLLUP_PARAMS[:7],
        ),
        *_span_statements(),
    ]


@dataclass(frozen=True, kw_only=True)
class Span:
    """A span of whole local days summed into coarser rollups (its tables: ``RollupTables``):
    its key column and, as SQL on the date expression ``?3``, its key, its first day, the day
    after it and its number of days."""

    key_column: str
    key: str
    first: str
    after: str
    days: str


SPANS: tuple[Span, ...] = (
    Span(
        key_column="month",
        key="substr(?3, 1, 7)",
        first="date(?3, 'start of month')",
        after="date(?3, 'start of month', '+1 month')",
        days="CAST(strftime('%d', date(?3, 'start of month', '+1 month', '-1 day')) AS INTEGER)",
    ),
    Span(
        key_column="week",
        key=week_of("?3"),
        first=week_of("?3"),
        after=f"date({week_of('?3')}, '+7 days')",
        days="7",
    ),
)


def _span_statements() -> list[RollupStatement]:
    """Rebuild the month and the week of the recomputed day from their days' rows, once all
    their days are rolled up (and listed) for timezone ?4 (this day included: these statements
    run after it is listed). Their rows are plain sums of the daily rows, so they are exact by
    construction.
    """
    sums = ", ".join(f"SUM({part})" for part in PARTS)
    out: list[RollupStatement] = []
    for span in SPANS:
        key = span.key_column
        for tables in (PLAIN, PER_FILTER_VALUE):
            if key not in tables.spans:
                continue
            rows, listed = tables.spans[key]
            # A listing either names what its rows hold (its days must name the same) or
            # stamps when they were computed.
            column, value, same = "computed_at", "?5", ""
            if tables.marked is not None:
                column, value = tables.marked[0], f"'{tables.marked[1]}'"
                same = f" AND d.{column} = {value}"
            daily, days, keys = tables.daily, tables.days, tables.keys
            complete = (
                f"(SELECT COUNT(*) FROM {days} AS d WHERE d.site_id = ?1 "
                f"AND d.day >= {span.first} AND d.day < {span.after} AND d.tz = ?4{same}) "
                f"= {span.days}"
            )
            out += [
                RollupStatement(
                    sql=f"DELETE FROM {listed} WHERE site_id = ?1 AND {key} = {span.key}",
                    params=ROLLUP_PARAMS[:3],
                ),
                RollupStatement(
                    sql=f"DELETE FROM {rows} WHERE site_id = ?1 AND {key} = {span.key}",
                    params=ROLLUP_PARAMS[:3],
                ),
                RollupStatement(
                    sql=(
                        f"INSERT INTO {rows} (site_id, {keys}, {key}, value, {', '.join(PARTS)}) "
                        f"SELECT ?1, {keys}, {span.key}, value, {sums} FROM {daily} "
                        f"WHERE site_id = ?1 AND day >= {span.first} AND day < {span.after} "
                        f"AND {complete} GROUP BY {keys}, value"
                    ),
                    params=ROLLUP_PARAMS[:4],
                ),
                RollupStatement(
                    sql=(
                        f"INSERT INTO {listed} (site_id, {key}, tz, {column}) "
                        f"SELECT ?1, {span.key}, ?4, {value} WHERE {complete}"
                    ),
                    params=ROLLUP_PARAMS[:4] if tables.marked else ROLLUP_PARAMS[:5],
                ),
            ]
    return out


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
    """Recompute one day's rollups in one batch, then (a recent day) its rows per frequent
    value (``frequent_rollups.frequent_day_statements``). The Worker runs those a statement a
    call, to keep D1 answering in between; on a local file one more batch is as safe (their
    last statement checks that nothing changed since the first) and spares 30 connections."""
    values = day_params(site_id=site_id, day=day, tz=tz, now_ms=now_ms, min_visits=min_visits)
    await store.batch([(s.sql, [values[name] for name in s.params]) for s in rollup_statements()])
    if is_recent(start_ms=int(values["start_ms"] or 0), now_ms=now_ms):
        await store.batch(
            [(s.sql, [values[name] for name in s.params]) for s in frequent_day_statements()]
        )


def _relisted(tables: RollupTables, column: str, value: str) -> list[Statement]:
    """Queue again the days ``tables`` listed with another ``column`` than ``value``, and drop
    those days' and spans' listings."""
    listings = [tables.days, *(listed for _rows, listed in tables.spans.values())]
    return [
        (
            "INSERT OR IGNORE INTO rollup_dirty (site_id, slot) "
            f"SELECT r.site_id, r.start_ms / {SLOT_MS} FROM rollup_days AS r "
            f"JOIN {tables.days} AS f ON f.site_id = r.site_id AND f.day = r.day "
            f"WHERE f.{column} != '{value}'",
            [],
        ),
        *((f"DELETE FROM {table} WHERE {column} != '{value}'", []) for table in listings),
    ]


# Sites whose timezone changed: their days were cut at other midnights. Mark each old day's first
# quarter-hour dirty (it lies in exactly one new day) and stop serving the old rollups.
_RETIME: list[Statement] = [
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
        for tables in (PER_FILTER_VALUE, PER_FREQUENT_VALUE)
        if tables.marked is not None
        for statement in _relisted(tables, *tables.marked)
    ),
]


async def refresh_rollups(
    store: Store,
    *,
    now_ms: int,
    max_days: int = 64,
    grace_ms: int = GRACE_MS,
    max_months: int = 1,
    min_visits: int = FREQUENT_MIN_VISITS,
) -> list[tuple[str, date]]:
    """Recompute the closed days with dirty marks (oldest first, at most ``max_days``), then up
    to ``max_months`` months of the rollups per frequent filter value (``frequent_rollups``;
    ``min_visits``: their threshold).

    Returns the (site id, day) pairs recomputed. What the Worker's cron does on D1.
    """
    await store.batch(_RETIME)
    rows = await store.execute(
        "SELECT d.site_id AS site_id, d.slot AS slot, s.timezone AS tz FROM rollup_dirty AS d "
        "JOIN sites AS s ON s.id = d.site_id WHERE d.slot < ? ORDER BY d.slot LIMIT 20000",
        [(now_ms - grace_ms) // SLOT_MS],
    )
    todo: dict[tuple[str, date], ZoneInfo] = {}
    for row in rows:
        tz = ZoneInfo(str(row["tz"]))
        day = datetime.fromtimestamp(int(row["slot"]) * SLOT_MS / 1000, tz=tz).date()
        _start, end = bounds_ms(day, day, tz=tz)
        if end + grace_ms <= now_ms:
            todo.setdefault((str(row["site_id"]), day), tz)
    done = sorted(todo, key=lambda key: key[1])[:max_days]
    for site_id, day in done:
        await rollup_day(
            store, site_id=site_id, day=day, tz=todo[(site_id, day)], now_ms=now_ms,
            min_visits=min_visits,
        )
    await refresh_frequent_months(
        store, now_ms=now_ms, max_months=max_months, min_visits=min_visits
    )
    return done


def days_between(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last`` inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def typescript_module() -> str:
    """``worker/src/rollup/statements.ts``: the statements above for the Worker's cron.

    Generated (``python scripts/gen_rollup_statements.py``) so the cron runs exactly the SQL the
    Python side tests; ``tests/test_rollups.py`` fails when the file is stale.
    """

    def listed(items: list[RollupStatement]) -> list[dict[str, object]]:
        return [{"sql": s.sql, "params": list(s.params)} for s in items]

    statements = listed(rollup_statements())
    retime = [sql for sql, _params in _RETIME]
    month_param = " | ".join(json.dumps(p) for p in MONTH_PARAMS)
    return (
        "// GENERATED by scripts/gen_rollup_statements.py from src/analytics_941/rollups.py: do\n"
        "// not edit. The statements recomputing one site-local day of rollups, made by the\n"
        "// Python SQL builder's own arms so rollups and raw reads agree exactly.\n\n"
        "/** A statement and the names of its parameters, in ?1..?N order. */\n"
        "export interface RollupStatement {\n  sql: string;\n  params: RollupParam[];\n}\n\n"
        f"export type RollupParam = {' | '.join(json.dumps(p) for p in ROLLUP_PARAMS)};\n\n"
        f"/** Quarter-hour slots of rollup_dirty, in ms. */\nexport const SLOT_MS = {SLOT_MS};\n"
        f"/** How long after its end a day is rolled up, in ms. */\n"
        f"export const GRACE_MS = {GRACE_MS};\n\n"
        "/** Recompute one day: run in ONE batch (one transaction). */\n"
        "export const ROLLUP_STATEMENTS: RollupStatement[] = "
        f"{json.dumps(statements, indent=2)};\n\n"
        "/** Retire rollups of sites whose timezone changed (marking their days dirty). */\n"
        f"export const RETIME_STATEMENTS: string[] = {json.dumps(retime, indent=2)};\n\n"
        "// The monthly rollups per frequent filter value (frequent_rollups.py).\n\n"
        "/** A month's statement and the names of its parameters, in ?1..?N order. */\n"
        "export interface MonthStatement {\n  sql: string;\n  params: MonthParam[];\n}\n\n"
        f"export type MonthParam = {month_param};\n\n"
        "/** Visits a value needs in a month to be held. */\n"
        f"export const FREQUENT_MIN_VISITS = {FREQUENT_MIN_VISITS};\n\n"
        "/** The months to compute (site_id, month, tz, frozen: past retention); ?1: now. */\n"
        f"export const FREQUENT_TODO = {json.dumps(todo_sql())};\n\n"
        "/** Compute one month: run in order, each statement in its own call. */\n"
        "export const FREQUENT_STATEMENTS: MonthStatement[] = "
        f"{json.dumps(listed(frequent_statements()), indent=2)};\n\n"
        "/** Days that began this long before now get rows per frequent value, in ms. */\n"
        f"export const FREQUENT_RECENT_MS = {FREQUENT_DAYS * DAY_MS};\n\n"
        "/** A recent day's rows per frequent value: after the day's batch, one call each. */\n"
        "export const FREQUENT_DAY_STATEMENTS: RollupStatement[] = "
        f"{json.dumps(listed(frequent_day_statements()), indent=2)};\n\n"
        "/** List again a month past the retention horizon that has rows. */\n"
        "export const FREQUENT_RELIST: MonthStatement = "
        f"{json.dumps(listed([relist_statement()])[0], indent=2)};\n"
    )
