"""The rolled-up part of a side (``sql_builder``): which of a period's units the plan's rollups
answer (``<prefix>_done``), the whole months and ISO weeks among them (``<prefix>_months``,
``<prefix>_weeks``), and the arms reading their rows. Written from the ``Plan`` alone, with
bound parameters and the rollup kinds' own table names.
"""

from __future__ import annotations

from ..query import Query
from .arms import week_of
from .params import Params
from .plan import Plan
from .where import value_filters_sql

__all__ = ["rollup_arms", "rollup_ctes"]


def rollup_arms(
    query: Query,
    *,
    prefix: str,
    plan: Plan,
    dims: list[tuple[str, str]],
    parts: list[str],
    site: str,
    params: Params,
    within: str = "",
) -> list[str]:
    """The arms reading the plan's rollup rows: per rolled-up day outside the whole spans, then
    per whole span (only the values ``within`` gives, when set)."""
    kind, dim = plan.rollup_kind, plan.rollup_dim
    assert kind is not None and dim is not None, "only for plans the rollups serve"
    select = ["b.i AS u", "b.t AS t", *(f"r.value AS {alias}" for alias, _ in dims)]
    select += [f"r.{part} AS {part}" for part in parts]
    match = f"r.site_id = {site} AND r.dim = {params.ref(dim)}"
    if plan.rollup_filter is not None:
        fdim, fvalue = plan.rollup_filter
        match += f" AND r.fdim = {params.ref(fdim)} AND r.fvalue = {params.ref(fvalue)}"
    if within:
        match += f" AND r.value IN ({within})"
    days = [
        f"SELECT {', '.join(select)} FROM {prefix}_units AS b JOIN {kind.daily} AS r "
        f"ON {match} AND r.day = b.day WHERE b.i IN (SELECT i FROM {prefix}_done)"
        + "".join(
            f" AND {_SPAN_KEYS[key]} NOT IN (SELECT {key} FROM {prefix}_{key}s)"
            for key in plan.spans
        )
    ]
    spans = [
        f"SELECT {', '.join(['NULL AS u', *select[1:]])} FROM {prefix}_{key}s AS b "
        f"JOIN {kind.spans[key][0]} AS r ON {match} AND r.{key} = b.{key}"
        for key in plan.spans
    ]
    if query.filters and plan.rollup_filter is None:
        clause = value_filters_sql(query.filters, expression="r.value", params=params)
        days = [f"{day} AND {clause}" for day in days]
        spans = [f"{span} WHERE {clause}" for span in spans]
    return [*days, *spans]


# SQL: the month and the week of a unit's day.
_SPAN_KEYS = {"month": "substr(b.day, 1, 7)", "week": week_of("b.day")}
_DAYS_IN_MONTH = (
    "CAST(strftime('%d', date(MIN(b.day), 'start of month', '+1 month', '-1 day')) AS INTEGER)"
)


def rollup_ctes(query: Query, *, prefix: str, plan: Plan, site: str, params: Params) -> list[str]:
    """``<prefix>_done`` (the units the rollups answer) and the spans answering some of them."""
    tables = plan.rollup_kind
    assert tables is not None, "only for plans the rollups serve"
    # A listed row counts when it was made for the site's timezone (and holds what the
    # rollups hold now, when its kind says so).
    listed = f"r.tz = {params.ref(query.timezone)}"
    if tables.marked is not None:
        column, value = tables.marked
        listed += f" AND r.{column} = {params.ref(value)}"
    # Days that ended before the site's first raw event have nothing to read: done, with no
    # rows (else a range reaching back before a young site's data reads raw, and its filter
    # subqueries span from there to today).
    empty = (
        f"SELECT b.i AS i FROM {prefix}_units AS b "
        f"WHERE b.end_ms <= (SELECT MIN(e.ts) FROM events AS e WHERE e.site_id = {site})"
    )
    month, week = _SPAN_KEYS["month"], _SPAN_KEYS["week"]
    rows, months_listed = tables.spans["month"]
    # The months of the period whose days are all units here, in one bucket, and listed for
    # the site's timezone; {done} and {held} narrow them per kind.
    months = (
        f"SELECT {month} AS month, MIN(b.t) AS t FROM {prefix}_units AS b {{done}}"
        f"JOIN {months_listed} AS r ON r.site_id = {site} AND r.month = {month} AND {listed} "
        f"{{held}}GROUP BY {month} HAVING COUNT(*) = {_DAYS_IN_MONTH} AND MIN(b.t) = MAX(b.t)"
    )
    if tables.months_alone:
        # Listed months count by themselves (their days' rows may be pruned, or some values
        # not kept): the whole months of the period, in one bucket, listed (and, for a held
        # kind, holding the filter's value), then its listed days (that hold it).
        days = (
            f"SELECT b.i AS i FROM {prefix}_units AS b JOIN {tables.days} AS r "
            f"ON r.site_id = {site} AND r.day = b.day AND {listed}"
        )
        held = ""
        if tables.held:
            assert plan.rollup_filter is not None, "only rollups per filter value hold some"
            fdim, fvalue = plan.rollup_filter
            value = (
                f"h.site_id = {site} AND h.fdim = {params.ref(fdim)} "
                f"AND h.fvalue = {params.ref(fvalue)} AND h.dim = ''"
            )
            days += (
                f" WHERE EXISTS (SELECT 1 FROM {tables.daily} AS h WHERE {value} "
                "AND h.day = b.day)"
            )
            held = f"WHERE EXISTS (SELECT 1 FROM {rows} AS h WHERE {value} AND h.month = {month}) "
        if "month" not in plan.spans:
            return [f"{prefix}_done AS ({days} UNION {empty})"]
        return [
            f"{prefix}_months AS ({months.format(done='', held=held)})",
            f"{prefix}_done AS (SELECT b.i AS i FROM {prefix}_units AS b "
            f"WHERE {month} IN (SELECT month FROM {prefix}_months) UNION {days} UNION {empty})",
        ]
    ctes = [
        f"{prefix}_done AS (SELECT b.i AS i FROM {prefix}_units AS b JOIN {tables.days} AS r "
        f"ON r.site_id = {site} AND r.day = b.day AND {listed} UNION {empty})"
    ]
    if "month" in plan.spans:
        # The months whose days are also all rolled up.
        done = f"JOIN {prefix}_done AS d ON d.i = b.i "
        ctes.append(f"{prefix}_months AS ({months.format(done=done, held='')})")
    if "week" in plan.spans:
        # Then the whole ISO weeks among the other days, on the same conditions.
        ctes.append(
            f"{prefix}_weeks AS (SELECT {week} AS week, MIN(b.t) AS t "
            f"FROM {prefix}_units AS b JOIN {prefix}_done AS d ON d.i = b.i "
            f"JOIN {tables.spans['week'][1]} AS r ON r.site_id = {site} AND r.week = {week} "
            f"AND {listed} "
            f"WHERE {month} NOT IN (SELECT month FROM {prefix}_months) "
            f"GROUP BY {week} HAVING COUNT(*) = 7 AND MIN(b.t) = MAX(b.t))"
        )
    return ctes
