"""The building blocks of every rollup statement, shared by the day's batch (``days``), the
spans (``spans``) and the rollups per frequent value (``frequent``): the statement type and its
named parameters, the visit x viewed page CTE, the per-table arms that compute the additive
parts (from ``sql.arms``, as the reader's), and the guard keeping days past retention as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..sql.arms import raw_arm
from ..sql.arms import units_cte as _units_cte
from ..sql.columns import FILTERED_BY_VIEWS, SESSION_ONLY, dimension_sql, filter_sql_target
from ..sql.metrics import EVENT_PARTS, PARTS, SESSION_DRIVEN_PARTS, SESSION_PARTS
from ..sql.params import Params

__all__ = [
    "CLAIMED",
    "DAY_MS",
    "FROZEN",
    "ROLLUP_PARAMS",
    "RollupStatement",
    "day_statement",
    "pair_arms",
    "units_cte",
    "viewed_cte",
]

# The named parameters of a day's statements, in ?N order (``min_visits``: the monthly threshold
# of the rollups per frequent value, ``frequent``).
ROLLUP_PARAMS = (
    "site_id", "units", "day", "tz", "computed_at", "start_ms", "end_ms", "min_visits",
)


@dataclass(frozen=True, kw_only=True)
class RollupStatement:
    """One statement of a day's recompute and the names of its parameters (``?1``…``?N``)."""

    sql: str
    params: tuple[str, ...]


def bound_params(sql: str) -> int:
    """How many of the values ``?1``..``?N`` a statement binds: its highest ``?N`` (D1 refuses
    more values than a statement has parameters)."""
    return max((int(n) for n in re.findall(r"\?(\d+)", sql)), default=0)


def day_statement(sql: str) -> RollupStatement:
    """A statement of a day's recompute, bound to as many of ``ROLLUP_PARAMS`` as it refers to."""
    return RollupStatement(sql=sql, params=ROLLUP_PARAMS[:bound_params(sql)])


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
                assert fdim in FILTERED_BY_VIEWS and table == "sessions", "only views reach across"
                target, viewed = "p.pathname", True
                join = "JOIN viewed AS p ON p.session_id = sessions.id"
            elif held is not None:
                where.append(f"{target} IN ({held})")
            dims.append(("f", target))
        if held is not None:
            # Constant, so evaluated once: a day or month holding no value scans nothing.
            where.append(f"EXISTS ({held})")
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


def units_cte(units: str, keys: tuple[int, int] | None = None) -> str:
    """The ``units`` CTE of a rollup statement, from the JSON parameter ``units`` (the items at
    positions ``keys`` only, when given)."""
    return _units_cte("units", source=units, keys=keys)


def viewed_cte(site: str, *, held: str | None = None) -> str:
    """The ``viewed`` CTE (visit x page it viewed), optionally of the pages in ``held`` only."""
    return _VIEWED.format(site=site, held=f" AND e.pathname IN ({held})" if held else "")


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
FROZEN = (
    "(COALESCE(CAST(?6 AS INTEGER) < (SELECT CAST(?5 AS INTEGER) - "
    f"CAST(s.retention_days AS INTEGER) * {DAY_MS} FROM sites AS s "
    "WHERE s.id = ?1 AND s.retention_days >= 1), 0) "
    "AND EXISTS (SELECT 1 FROM rollup_daily AS k WHERE k.site_id = ?1 AND k.day = ?3))"
)
# True while this run holds its claim on the day (``days.rollup_steps``): the day's rollup_days
# row with no timezone (no reader, purge or span counts it) stamped with this run's ?5. A late
# row for the day deletes it (the triggers on events and sessions delete by bounds).
CLAIMED = (
    "EXISTS (SELECT 1 FROM rollup_days AS c WHERE c.site_id = ?1 AND c.day = ?3 AND c.tz = '' "
    "AND c.computed_at = CAST(?5 AS INTEGER))"
)
