"""Rollups per frequent filter value: the panels' other tabs under one page or one country.

``rollup_filtered_*`` hold the first view's breakdowns for every page and country, every day.
The other tabs (``FREQUENT_ROLLUP_DIMENSIONS``) would cost about as many rows again per set of
four, so they are kept only for the values whose raw rows are many: per whole month for the
values with at least ``min_visits`` visits that month (the month job below), and per day, for
the last ``FREQUENT_DAYS`` days only, for those with a thirtieth of that that day (the day's
job, ``frequent_day_statements``, run after the day's batch; pruned as days age). A rarer value
reads raw rows at any range, and they are few.

The job runs after the days, in the cron (``worker/src/rollup/frequent.ts``, the same generated
SQL) and in ``jobs.refresh_rollups``. It takes a month once ``rollup_filtered_months`` lists
it (all its days rolled up), and computes it from raw rows, one statement per call:

1. delete the month's rows;
2. copy the totals row (dim '') of every value with ``min_visits`` visits from
   ``rollup_filtered_monthly``: these rows say which values the month holds;
3. per (filter dimension, dimension) pair, one statement per chunk of the month's days
   (``MONTH_CHUNKS``), over those days as units (so visitors add up per day, as everywhere) and
   only the visits of the held values, each chunk adding to the rows the earlier ones made;
4. list the month — only if its ``rollup_filtered_months`` row is still there and no day of it
   was recomputed since the job began. A late row or a recomputed day removes that row, and a
   trigger removes this listing with it, so between steps and after them a reader either finds
   the month listed with rows as exact as its days, or reads it raw.

A month that began before the site's retention horizon may have lost raw rows: it is never
recomputed, only listed again when it has rows (as ``arms.FROZEN`` keeps such days).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ..periods import bounds_ms
from ..sql.metrics import PARTS
from ..sql.params import Params
from ..store import Param, Store
from .arms import (
    CLAIMED,
    DAY_MS,
    FROZEN,
    ROLLUP_PARAMS,
    RollupStatement,
    day_statement,
    pair_arms,
    units_cte,
    viewed_cte,
)
from .kinds import (
    FILTERED_ROLLUP_SET,
    FREQUENT_DAYS,
    FREQUENT_MIN_VISITS,
    FREQUENT_ROLLUP_SET,
    PER_FREQUENT_VALUE,
    PLAIN,
)

__all__ = [
    "MAX_MONTHS_PER_RUN",
    "MONTH_PARAMS",
    "dense_units_sql",
    "frequent_day_statements",
    "frequent_statements",
    "is_recent",
    "month_params",
    "recent_days",
    "refresh_frequent_months",
    "relist_statement",
    "todo_sql",
    "unlist_day_statement",
]

# Months computed per run: a month of a large site is a minute or two of D1 time.
MAX_MONTHS_PER_RUN = 1
# The named parameters of the month's statements, in ?N order.
MONTH_PARAMS = ("site_id", "units", "month", "tz", "computed_at", "min_visits")


def _columns(key: str) -> str:
    """The columns of the rows keyed by ``key`` ('month' or 'day')."""
    return f"site_id, fdim, fvalue, dim, {key}, value, {', '.join(PARTS)}"


_COLUMNS = _columns("month")
# rollup_frequent_monthly's key (schema.sql).
_KEY = "site_id, month, fdim, fvalue, dim, value"
# The month's days in rollup_days, by key range (?3 is 'YYYY-MM').
_DAYS_OF_MONTH = "d.day >= ?3 || '-01' AND d.day < date(?3 || '-01', '+1 month')"
_STILL_COMPLETE = (
    "EXISTS (SELECT 1 FROM rollup_filtered_months AS f WHERE f.site_id = ?1 AND f.month = ?3 "
    f"AND f.tz = ?4 AND f.pairs = '{FILTERED_ROLLUP_SET}')"
)
_LIST = (
    "INSERT OR REPLACE INTO rollup_frequent_months (site_id, month, tz, pairs, computed_at) "
    f"SELECT ?1, ?3, ?4, '{FREQUENT_ROLLUP_SET}', CAST(?5 AS INTEGER) WHERE {_STILL_COMPLETE}"
)


# A month's pair statements each cover these days (positions in its units): a whole month in one
# statement took up to 6 s at 10 M events, during which D1 answers nothing else.
MONTH_CHUNKS = ((0, 7), (7, 13), (13, 19), (19, 25), (25, 31))


def _pair_sql(
    fdim: str, dim: str, *, span: str = "month", where: str = "",
    days: tuple[int, int] | None = None,
) -> str:
    """One pair's rows of the month (``span`` 'month', ?3 'YYYY-MM') or of the day ('day', ?3
    'YYYY-MM-DD'), for the values whose totals row the span has already; ``where`` guards it.
    With ``days``, the month's days at those positions only, added to the rows already there:
    the parts of a month are sums of its days'."""
    params = Params()
    names = MONTH_PARAMS if span == "month" else ROLLUP_PARAMS
    refs = {name: params.ref(f"<{name}>") for name in names}
    site = refs["site_id"]
    table = PER_FREQUENT_VALUE.spans["month"][0] if span == "month" else PER_FREQUENT_VALUE.daily
    held = (
        f"SELECT h.fvalue FROM {table} AS h WHERE h.site_id = ?1 "
        f"AND h.{span} = ?3 AND h.fdim = '{fdim}' AND h.dim = ''"
    )
    arms, viewed = pair_arms(dim, fdim=fdim, site=site, params=params, held=held)
    ctes = [units_cte(refs["units"], days)] + ([viewed_cte(site, held=held)] if viewed else [])
    sums = ", ".join(f"COALESCE(SUM({part}), 0)" for part in PARTS)
    added = ", ".join(f"{part} = {part} + excluded.{part}" for part in PARTS)
    return (
        f"WITH {', '.join(ctes)}\n"
        f"INSERT INTO {table} ({_columns(span)})\n"
        f"SELECT {site}, '{fdim}', f, dim, ?3, value, {sums}\n"
        f"FROM ({' UNION ALL '.join(arms)})\n"
        + (f"WHERE {where}\n" if where else "")
        + "GROUP BY f, dim, value"
        + (f"\nON CONFLICT ({_KEY}) DO UPDATE SET {added}" if days and days[0] > 0 else "")
    )


# The day's rows are kept for the last FREQUENT_DAYS days (?6: the day's start, ?5: now).
_RECENT = f"CAST(?6 AS INTEGER) >= CAST(?5 AS INTEGER) - {FREQUENT_DAYS * DAY_MS}"
_OLDER = f"day < date(CAST(?5 AS INTEGER) / 1000, 'unixepoch', '-{FREQUENT_DAYS} days')"


def dense_units_sql(*, units: str, site: str, fdim: str, value: str, recent: str) -> str:
    """SQL: the ``i`` of the ``units`` (a relation of ``i``, ``day``) in which the registry says
    ``value`` of ``fdim`` is frequent (placeholders): their day or month holds it, or, for a day
    not rolled up yet (today), it was held on one of the ``recent`` days (a placeholder of a
    JSON list of 'YYYY-MM-DD', ``recent_days``). A few key seeks per unit, whatever the site's
    size. Readers use it to choose how to read raw rows filtered on ``value``."""
    held = f"h.site_id = {site} AND h.fdim = {fdim} AND h.fvalue = {value} AND h.dim = ''"
    monthly, daily = PER_FREQUENT_VALUE.spans["month"][0], PER_FREQUENT_VALUE.daily
    return (
        f"SELECT b.i AS i FROM {units} AS b "
        f"WHERE EXISTS (SELECT 1 FROM {daily} AS h WHERE {held} AND h.day = b.day) "
        f"OR EXISTS (SELECT 1 FROM {monthly} AS h WHERE {held} "
        "AND h.month = substr(b.day, 1, 7)) "
        f"OR (NOT EXISTS (SELECT 1 FROM {PLAIN.days} AS d WHERE d.site_id = {site} "
        f"AND d.day = b.day) AND EXISTS (SELECT 1 FROM {daily} AS h WHERE {held} "
        f"AND h.day IN (SELECT value FROM json_each({recent}))))"
    )


def recent_days(last: date) -> list[str]:
    """The ``FREQUENT_DAYS`` days before ``last`` and ``last``: the days whose rows per frequent
    value are kept (so "today" asks yesterday and before)."""
    return [(last - timedelta(days=n)).isoformat() for n in range(FREQUENT_DAYS + 1)]


def unlist_day_statement() -> RollupStatement:
    """For the day's steps (``days``): a day this run claimed leaves ``rollup_frequent_days``
    while its rows are redone (a day past the retention horizon stays, as its rows do)."""
    return day_statement(
        f"DELETE FROM rollup_frequent_days WHERE site_id = ?1 AND day = ?3 AND {CLAIMED}"
    )


def is_recent(*, start_ms: int, now_ms: int) -> bool:
    """Whether a day starting at ``start_ms`` gets rows per frequent value (``FREQUENT_DAYS``)."""
    return start_ms >= now_ms - FREQUENT_DAYS * DAY_MS


def frequent_day_statements() -> list[RollupStatement]:
    """A recent day's rows per frequent value, after the day's batch, each statement in its own
    call (so the batch, one transaction, stays as short as it was): delete the day's rows and
    those past ``FREQUENT_DAYS``; copy the totals rows of the day's frequent values from
    ``rollup_filtered_daily``; one statement per pair; list the day, only if its ``rollup_days``
    row is still the one this run wrote (no late row took it out, no other run redid it).
    Parameters: ``arms.ROLLUP_PARAMS``."""
    columns = _columns("day")
    return [
        day_statement(
            f"DELETE FROM rollup_frequent_daily WHERE site_id = ?1 AND day = ?3 "
            f"AND NOT {FROZEN}"
        ),
        *(
            day_statement(
                f"DELETE FROM {table} WHERE site_id = ?1 AND {_OLDER}"
            )
            for table in ("rollup_frequent_daily", "rollup_frequent_days")
        ),
        day_statement(
            
                f"INSERT INTO rollup_frequent_daily ({columns}) SELECT {columns} "
                "FROM rollup_filtered_daily WHERE site_id = ?1 AND day = ?3 AND dim = '' "
                f"AND visits * 30 >= CAST(?8 AS INTEGER) AND {_RECENT} AND NOT {FROZEN}"
            
        ),
        *(
            day_statement(
                _pair_sql(fdim, dim, span="day", where=f"NOT {FROZEN}")
            )
            for fdim, dim in PER_FREQUENT_VALUE.pairs()
        ),
        day_statement(
            
                "INSERT OR REPLACE INTO rollup_frequent_days (site_id, day, tz, pairs) "
                f"SELECT ?1, ?3, ?4, '{FREQUENT_ROLLUP_SET}' WHERE {_RECENT} "
                "AND EXISTS (SELECT 1 FROM rollup_days AS d WHERE d.site_id = ?1 "
                "AND d.day = ?3 AND d.tz = ?4 AND d.computed_at = CAST(?5 AS INTEGER)) "
                f"AND (NOT {FROZEN} OR EXISTS (SELECT 1 FROM rollup_frequent_daily AS r "
                "WHERE r.site_id = ?1 AND r.day = ?3))"
            
        ),
    ]


def frequent_statements() -> list[RollupStatement]:
    """Computing one month: run in order, each in its own call (see the module's steps)."""
    return [
        RollupStatement(
            sql="DELETE FROM rollup_frequent_monthly WHERE site_id = ?1 AND month = ?3",
            params=MONTH_PARAMS[:3],
        ),
        RollupStatement(
            sql=(
                f"INSERT INTO rollup_frequent_monthly ({_COLUMNS}) SELECT {_COLUMNS} "
                "FROM rollup_filtered_monthly WHERE site_id = ?1 AND month = ?3 AND dim = '' "
                "AND visits >= CAST(?6 AS INTEGER)"
            ),
            params=MONTH_PARAMS,
        ),
        *(
            RollupStatement(sql=_pair_sql(fdim, dim, days=days), params=MONTH_PARAMS[:3])
            for fdim, dim in PER_FREQUENT_VALUE.pairs()
            for days in MONTH_CHUNKS
        ),
        RollupStatement(
            sql=(
                f"{_LIST} AND NOT EXISTS (SELECT 1 FROM rollup_days AS d WHERE d.site_id = ?1 "
                f"AND {_DAYS_OF_MONTH} AND d.computed_at > CAST(?5 AS INTEGER))"
            ),
            params=MONTH_PARAMS[:5],
        ),
    ]


def relist_statement() -> RollupStatement:
    """Listing again a month past the retention horizon that has rows (never recomputed)."""
    return RollupStatement(
        sql=(
            f"{_LIST} AND EXISTS (SELECT 1 FROM rollup_frequent_monthly AS r "
            "WHERE r.site_id = ?1 AND r.month = ?3)"
        ),
        params=MONTH_PARAMS[:5],
    )


def todo_sql() -> str:
    """The months to compute (``?1``: now): complete for the site's timezone, not listed here;
    newest first (the ones most read). ``frozen`` says the month began before the site's
    retention horizon (its raw rows may be purged: list it again, never recompute it); such a
    month is one only when it has rows to list again: without, it would come back every run."""
    frozen = (
        "COALESCE(s.retention_days, 0) >= 1 AND COALESCE((SELECT d.start_ms FROM rollup_days "
        "AS d WHERE d.site_id = f.site_id AND d.day = f.month || '-01') < CAST(?1 AS INTEGER) - "
        f"CAST(s.retention_days AS INTEGER) * {DAY_MS}, 1)"
    )
    return (
        "SELECT site_id, month, tz, frozen FROM (SELECT f.site_id AS site_id, "
        f"f.month AS month, f.tz AS tz, ({frozen}) AS frozen FROM rollup_filtered_months AS f "
        "JOIN sites AS s ON s.id = f.site_id AND s.timezone = f.tz "
        f"WHERE f.pairs = '{FILTERED_ROLLUP_SET}' AND NOT EXISTS (SELECT 1 FROM "
        "rollup_frequent_months AS q WHERE q.site_id = f.site_id AND q.month = f.month "
        f"AND q.tz = f.tz AND q.pairs = '{FREQUENT_ROLLUP_SET}')) AS m "
        "WHERE NOT frozen OR EXISTS (SELECT 1 FROM rollup_frequent_monthly AS r "
        "WHERE r.site_id = m.site_id AND r.month = m.month) "
        "ORDER BY month DESC, site_id LIMIT 100"
    )


def month_params(
    *, site_id: str, month: str, tz: ZoneInfo, now_ms: int, min_visits: int
) -> dict[str, Param]:
    """The named parameters for computing ``month`` ('YYYY-MM') of ``site_id`` in ``tz``."""
    first = date.fromisoformat(f"{month}-01")
    after = (first + timedelta(days=32)).replace(day=1)
    days = [first + timedelta(days=n) for n in range((after - first).days)]
    units = [[*bounds_ms(day, day, tz=tz), 0, day.isoformat()] for day in days]
    return {
        "site_id": site_id,
        "units": json.dumps(units, separators=(",", ":")),
        "month": month,
        "tz": str(tz.key),
        "computed_at": now_ms,
        "min_visits": min_visits,
    }


async def refresh_frequent_months(
    store: Store,
    *,
    now_ms: int,
    max_months: int = MAX_MONTHS_PER_RUN,
    min_visits: int = FREQUENT_MIN_VISITS,
) -> list[tuple[str, str]]:
    """Compute up to ``max_months`` months (and list again the frozen ones that have rows).

    Returns the (site id, month) pairs computed. What the Worker's cron does after the days.
    """
    rows = await store.execute(todo_sql(), [now_ms])
    done: list[tuple[str, str]] = []
    for row in rows:
        tz = ZoneInfo(str(row["tz"]))
        month = str(row["month"])
        values = month_params(
            site_id=str(row["site_id"]),
            month=month,
            tz=tz,
            now_ms=now_ms,
            min_visits=min_visits,
        )
        if row["frozen"]:
            statement = relist_statement()
            await store.execute(statement.sql, [values[n] for n in statement.params])
            continue
        if len(done) >= max_months:
            continue
        for statement in frequent_statements():
            await store.execute(statement.sql, [values[n] for n in statement.params])
        done.append((str(row["site_id"]), month))
    return done
