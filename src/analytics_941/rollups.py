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
kinds. A trigger drops that listing with the day's ``rollup_days`` row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .periods import bounds_ms
from .sql.columns import (
    FILTERED_ROLLUP_DIMENSIONS,
    FILTERED_ROLLUP_FILTERS,
    FILTERED_ROLLUP_SET,
    FREQUENT_MIN_VISITS,
    ROLLUP_DIMENSIONS,
    SESSION_ONLY,
    dimension_sql,
    filter_sql_target,
)
from .sql.metrics import EVENT_PARTS, PARTS, SESSION_DRIVEN_PARTS, SESSION_PARTS
from .sql.params import Params
from .sql.rollup_tables import PER_FILTER_VALUE, PLAIN
from .sql_builder import raw_arm, week_of
from .store import Param, Statement, Store

__all__ = [
    "DAY_MS",
    "ROLLUP_PARAMS",
    "RollupStatement",
    "day_params",
    "pair_arms",
    "refresh_rollups",
    "rollup_day",
    "rollup_statements",
    "units_cte",
    "viewed_cte",
]

SLOT_MS = 900_000
# A day is rolled up once it ended this long ago: visits still running at midnight and late
# engagement reports have landed by then (a later one only sends the day back to raw reads).
GRACE_MS = 3_600_000
# The named parameters every statement draws from, in ?N order.
ROLLUP_PARAMS = ("site_id", "units", "day", "tz", "computed_at", "start_ms", "end_ms")


@dataclass(frozen=True, kw_only=True)
class RollupStatement:
    """One statement of a day's recompute and the names of its parameters (``?1``…``?N``)."""

    sql: str
    params: tuple[str, ...]


# A page filter keeps the visits that *viewed* a matching page (sql.where): for rollups per page
# filter value, one row per visit and page it viewed, its events bounded as the raw filter's.
_VIEWED = (
    "viewed AS (SELECT DISTINCT e.session_id AS session_id, e.pathname AS pathname "
    "FROM units AS b CROSS JOIN events AS e ON e.site_id = {site} AND e.ts >= b.start_ms "
    "AND e.ts < b.end_ms + 86400000{held})"
)


def pair_arms(
    dim: str, *, fdim: str | None, site: str, params: Params, held: str | None = None
) -> tuple[list[str], bool]:
    """The arms of a day's rows for ``dim`` (one filter value ``f`` per row too, with ``fdim``):
    events and sessions each give the parts they hold, zeros for the others. Also says whether
    the arms read the ``viewed`` CTE (``viewed_cte``). ``held``, a subquery of filter values,
    keeps only the rows of those values (the viewed CTE takes it too)."""
    arms: list[str] = []
    viewed = False
    tables = []
    if dim not in SESSION_ONLY:
        tables.append(("events", list(EVENT_PARTS)))
    if not dim or dimension_sql(dim, table="sessions", params=params) is not None:
        extra = list(SESSION_DRIVEN_PARTS) if dim in SESSION_ONLY else []
        tables.append(("sessions", [*extra, *SESSION_PARTS]))
    for table, parts in tables:
        dims: list[tuple[str, str]] = []
        where: list[str] = []
        join = ""
        if fdim is not None:
            target = filter_sql_target(fdim, table=table, params=params)
            if target is None:
                assert fdim == "page" and table == "sessions", "only page filters reach across"
                target, viewed = "p.pathname", True
                join = "JOIN viewed AS p ON p.session_id = sessions.id"
            elif held is not None:
                where.append(f"{target} IN ({held})")
            dims.append(("f", target))
        expression = dimension_sql(dim, table=table, params=params) if dim else None
        if expression:
            dims.append(("v", expression))
        inner = raw_arm(
            table=table,
            units="units",
            site=site,
            dimensions=dims,
            parts=parts,
            where=where,
            join=join,
        )
        columns = ["f"] if fdim is not None else []
        columns += [f"'{dim}' AS dim", "v AS value" if expression else "'' AS value"]
        columns += [part if part in parts else f"0 AS {part}" for part in PARTS]
        arms.append(f"SELECT {', '.join(columns)} FROM ({inner})")
    return arms, viewed


_UNITS = (
    "units AS (SELECT key AS i, json_extract(value, '$[0]') AS start_ms, "
    "json_extract(value, '$[1]') AS end_ms, json_extract(value, '$[2]') AS t, "
    "json_extract(value, '$[3]') AS day FROM json_each({units}))"
)


def units_cte(units: str) -> str:
    """The ``units`` CTE of a rollup statement, from the JSON parameter ``units``."""
    return _UNITS.format(units=units)


def viewed_cte(site: str, *, held: str | None = None) -> str:
    """The ``viewed`` CTE (visit x page it viewed), optionally of the pages in ``held`` only."""
    return _VIEWED.format(site=site, held=f" AND e.pathname IN ({held})" if held else "")


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
        f"WHERE NOT {_FROZEN}\n"
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


DAY_MS = 86_400_000
# True when this day's stored rollups must be kept as they are: the day began before the site's
# retention horizon (``now - retention_days``, with ?5 = now) and has rollups already. The purge
# (worker/src/rollup/purge.ts) deletes raw rows only of rolled-up days older than local midnight of
# the day holding ``now - retention_days`` — never later than the horizon — so a day starting at or
# after it is whole, while an older one may have lost its raw rows: recomputing it would overwrite
# real numbers with zeros (after a timezone change re-queues every day, or a late row marks it).
# Kept, it is listed again for the site's current timezone (its numbers cut at the midnights it
# was computed for: the best answer left once raw rows are gone); a late row that old goes with
# the purge uncounted, as any raw row past retention. A day without rollups is computed: the purge
# never touched it.
_FROZEN = (
    "(COALESCE(CAST(?6 AS INTEGER) < (SELECT CAST(?5 AS INTEGER) - "
    f"CAST(s.retention_days AS INTEGER) * {DAY_MS} FROM sites AS s "
    "WHERE s.id = ?1 AND s.retention_days >= 1), 0) "
    "AND EXISTS (SELECT 1 FROM rollup_daily AS k WHERE k.site_id = ?1 AND k.day = ?3))"
)


def rollup_statements() -> list[RollupStatement]:
    """The statements recomputing one day, to run in ONE batch (one transaction).

    Parameters by name: ``site_id``, ``units`` (JSON ``[[start_ms, end_ms, 0, day]]``), ``day``
    (``YYYY-MM-DD``), ``tz``, ``computed_at`` (ms, the job's now), ``start_ms``, ``end_ms``. A day
    older than the site's retention horizon that has rollups keeps them (see ``_FROZEN``): its
    raw rows may be purged. Deleting the dirty marks in the same transaction as the recompute is
    what makes a concurrent late write safe: it lands before (and is counted) or after (and
    marks the day again).
    """
    return [
        *(
            RollupStatement(
                sql=f"DELETE FROM {table} WHERE site_id = ?1 AND day = ?3 AND NOT {_FROZEN}",
                params=ROLLUP_PARAMS[:6],
            )
            for table in (PER_FILTER_VALUE.daily, PLAIN.daily)
        ),
        # Pairs first: _FROZEN asks whether the day has rollup_daily rows already.
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
            params=ROLLUP_PARAMS,
        ),
        # Listed for filtered reads once its rows are in, or when it is kept as it is (past
        # the retention horizon) and has such rows from before.
        RollupStatement(
            sql=(
                "INSERT OR REPLACE INTO rollup_filtered_days (site_id, day, tz, pairs) "
                f"SELECT ?1, ?3, ?4, '{FILTERED_ROLLUP_SET}' WHERE NOT {_FROZEN} "
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
            params=ROLLUP_PARAMS,
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


def day_params(*, site_id: str, day: date, tz: ZoneInfo, now_ms: int) -> dict[str, Param]:
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
    }


async def rollup_day(store: Store, *, site_id: str, day: date, tz: ZoneInfo, now_ms: int) -> None:
    """Recompute one day's rollups in one batch."""
    values = day_params(site_id=site_id, day=day, tz=tz, now_ms=now_ms)
    await store.batch([(s.sql, [values[name] for name in s.params]) for s in rollup_statements()])


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
    # Days and months rolled up for another set of pairs per filter value (an earlier version's
    # FILTERED_ROLLUP_*): queue the days again and read them raw meanwhile.
    (
        "INSERT OR IGNORE INTO rollup_dirty (site_id, slot) "
        f"SELECT r.site_id, r.start_ms / {SLOT_MS} FROM rollup_days AS r "
        "JOIN rollup_filtered_days AS f ON f.site_id = r.site_id AND f.day = r.day "
        f"WHERE f.pairs != '{FILTERED_ROLLUP_SET}'",
        [],
    ),
    *(
        (f"DELETE FROM {table} WHERE pairs != '{FILTERED_ROLLUP_SET}'", [])
        for table in ("rollup_filtered_days", "rollup_filtered_months")
    ),
]


async def refresh_rollups(
    store: Store,
    *,
    now_ms: int,
    max_days: int = 64,
    grace_ms: int = GRACE_MS,
    max_months: int = 1,
    min_visits: int | None = None,
) -> list[tuple[str, date]]:
    """Recompute the closed days with dirty marks (oldest first, at most ``max_days``), then up
    to ``max_months`` months of the rollups per frequent filter value (``frequent_rollups``;
    ``min_visits`` defaults to ``FREQUENT_MIN_VISITS``).

    Returns the (site id, day) pairs recomputed. What the Worker's cron does on D1.
    """
    # Imported here: frequent_rollups builds on this module's arms.
    from .frequent_rollups import refresh_frequent_months

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
        await rollup_day(store, site_id=site_id, day=day, tz=todo[(site_id, day)], now_ms=now_ms)
    await refresh_frequent_months(
        store,
        now_ms=now_ms,
        max_months=max_months,
        **({} if min_visits is None else {"min_visits": min_visits}),
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
    from . import frequent_rollups as frequent  # builds on this module (see refresh_rollups)

    def listed(items: list[RollupStatement]) -> list[dict[str, object]]:
        return [{"sql": s.sql, "params": list(s.params)} for s in items]

    statements = listed(rollup_statements())
    retime = [sql for sql, _params in _RETIME]
    month_param = " | ".join(json.dumps(p) for p in frequent.MONTH_PARAMS)
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
        "/** The months to compute (site_id, month, tz, retention_days), newest first. */\n"
        f"export const FREQUENT_TODO = {json.dumps(frequent.todo_sql())};\n\n"
        "/** Compute one month: run in order, each statement in its own call. */\n"
        "export const FREQUENT_STATEMENTS: MonthStatement[] = "
        f"{json.dumps(listed(frequent.frequent_statements()), indent=2)};\n\n"
        "/** List again a month past the retention horizon that has rows. */\n"
        "export const FREQUENT_RELIST: MonthStatement = "
        f"{json.dumps(listed([frequent.relist_statement()])[0], indent=2)};\n"
    )
