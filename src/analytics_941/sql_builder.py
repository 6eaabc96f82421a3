"""The one SQL builder: a ``Query`` in, ``(sql, params)`` out — for every page, partial, API call
and CSV export. ``sql.plan`` decides how the query is answered (the sides read, their metrics,
the rollup kind and whole spans); this module writes that ``Plan`` as SQL and decides nothing.
The per-unit raw arm it shares with the rollup writers lives in ``sql.arms``, the reads of
rolled-up units and spans in ``sql.rollup_reads``.

Rules it keeps, so the same SQL is safe and gives the same answer on local SQLite and on D1:

* values only as bound parameters (numbered ``?N``, deduplicated); identifiers and SQL fragments
  only from the allowlists in ``sql.columns`` and ``sql.metrics``;
* parameters are compared only against typed columns or JSON values, never used in arithmetic,
  because D1's HTTP API may deliver every parameter as a string; integers that shape the
  statement (``LIMIT``/``OFFSET``) are validated and inlined;
* at most 100 bound parameters per statement (D1's limit): value lists travel as ONE JSON
  parameter read with ``json_each``;
* the counting units (local days, or hours) are computed in Python in the site's timezone and
  passed as ONE JSON parameter, so DST days are exactly 23 or 25 hours long.

Shape of a statement (``m`` = the main period, ``c`` = the comparison, when asked)::

    WITH m_units AS (json_each of [start_ms, end_ms, bucket, day] per unit),
         m_done  AS (units whose day is in the rollups, when the query can use them),
         m_e     AS (event parts per unit and dimension values → summed → metrics),
         m_s     AS (the same from sessions),
         m       AS (m_e LEFT JOIN m_s on the dimension values),
         c_...   AS (the same for the comparison period)
    SELECT dimensions, metrics, c_<metric>… FROM m [LEFT JOIN c] ORDER BY … LIMIT … OFFSET …

Each side's parts come from raw rows for units not rolled up, from ``rollup_monthly`` for whole
closed months and ``rollup_weekly`` for whole ISO weeks among the other days when the plan allows
spans (``m_months``, ``m_weeks``), and from ``rollup_daily`` for the other units that are rolled
up (``UNION ALL``), so a 12-month query reads 11 month rows per value, the current month's weeks
and days, and today's raw events. A lone ``is`` filter on one value
of a dimension in ``FILTERED_ROLLUP_FILTERS`` (one page, one country) reads the rollups per
filter value the same way (``rollup_filtered_daily`` and ``_monthly``; they keep no weeks), for
the totals and the breakdowns in ``FILTERED_ROLLUP_DIMENSIONS``; for the other breakdowns in
``FREQUENT_ROLLUP_DIMENSIONS`` it reads ``rollup_frequent_monthly`` and ``_daily`` for the
whole months and the recent days that hold the filter's value (``rollups.frequent``), and raw
rows for every other day. Under one page (``is``, one value), each raw arm is written twice
(``sql.page_reads``): the units where the page is frequent read their time range, the others
the page's rows through the page index.
Output columns: ``d0``, ``d1``… for the dimensions (a time dimension yields its bucket index),
one column per metric (``percentage`` holds visitors; the runner divides), ``c_<metric>`` for the
comparison, and ``total_rows`` when asked.
"""

from __future__ import annotations

import json
from datetime import date
from functools import partial

from .instants import clipped
from .periods import Units, bounds_ms, time_units
from .query import GOAL_DIMENSION, TIME_DIMENSIONS, Query
from .sql.arms import raw_arm
from .sql.arms import units_cte as _units_cte
from .sql.columns import dimension_sql
from .sql.compound import union_all
from .sql.conversions import divisor_ctes, goals_broken_down, metric_sql
from .sql.goal_once import (
    once_arms,
    once_cte,
    once_divisor_arm,
    rolled_divisor_units,
)
from .sql.goal_rollup import (
    goal_rollup_arm,
    goal_rollup_ctes,
    raw_goal_prefilter,
    raw_units_left,
)
from .sql.goals import goal_join, goal_rows_cte
from .sql.imported import imported_arm, imported_ctes
from .sql.metrics import FINALS, REVENUE_METRICS, parts_for
from .sql.page_reads import page_arms, page_ctes
from .sql.params import Params
from .sql.plan import Plan, plan_query
from .sql.revenue import revenue_parts
from .sql.rollup_reads import rollup_arms, rollup_ctes
from .sql.vitals import vitals_side
from .sql.where import Bounds, RawUnits, filters_sql
from .store import Param

__all__ = ["build_sql"]


def units_cte(name: str, *, units: Units, params: Params) -> str:
    """The CTE reading the units from ONE JSON parameter: ``i, start_ms, end_ms, t, day``."""
    payload = json.dumps([list(u) for u in units.units], separators=(",", ":"))
    return _units_cte(name, source=params.ref(payload))


def _dimension_columns(query: Query, *, table: str, params: Params) -> list[tuple[str, str]]:
    """(alias, expression) for each non-time dimension; time is the ``t`` column."""
    out = []
    for i, name in enumerate(query.dimensions):
        if name in TIME_DIMENSIONS:
            continue
        expression = dimension_sql(name, table=table, params=params)
        assert expression is not None, "plan_query refuses dimensions a read table lacks"
        out.append((f"d{i}", expression))
    return out


def _side(
    query: Query,
    *,
    prefix: str,
    table: str,
    plan: Plan,
    bounds: Bounds,
    site: str,
    params: Params,
    within: str = "",
    dense: bool = False,
    once: str = "",
) -> str:
    """One side's CTE body: its arms (raw, and rollup when usable) summed into metrics;
    ``within``, SQL of the only values of its one dimension needed (a group divisor's);
    ``dense``, whether ``sql.page_reads.page_ctes`` wrote the filters' one page's CTEs;
    ``once``, the side whose ``<side>_once`` holds this divisor's raw units (``sql.goal_once``)."""
    if table == "web_vitals":
        # Percentiles over each page view's row: raw, filtered as the events side.
        return vitals_side(
            metrics=plan.vitals_metrics, units=f"{prefix}_units", site=site,
            dimensions=_dimension_columns(query, table="events", params=params),
            where=filters_sql(query.filters, table="events", site=site, bounds=bounds,
                              params=params, goals=query.goals),
            grouped=bool(query.dimensions),
        )
    metrics = plan.session_metrics if table == "sessions" else plan.event_metrics
    parts = parts_for(metrics)
    dims = _dimension_columns(query, table=table, params=params)
    units = f"{prefix}_units"
    rolled = plan.rollup_kind is not None
    if rolled:
        # Only the units not rolled up read raw rows: their filter subqueries need no more.
        raw = f"FROM {units} WHERE i NOT IN (SELECT i FROM {prefix}_done)"
        bounds = RawUnits(f"(SELECT start_ms, end_ms {raw})")
    where = filters_sql(query.filters, table=table, site=site, bounds=bounds, params=params,
                        goals=query.goals)
    extra = []
    if rolled:
        extra.append(f"b.i NOT IN (SELECT i FROM {prefix}_done)")
    if plan.goal_rollup is not None:
        extra.append(raw_units_left(prefix))
    if GOAL_DIMENSION in query.dimensions and table == "events":
        extra.append(raw_goal_prefilter(query, params))
    if within:
        # An index seek per value where one covers the column (a page: events_path).
        extra.append(f"{dims[0][1]} IN ({within})")
    single = table == "events" and plan.one_pass
    if single:
        extra.append(rolled_divisor_units(prefix))
    join = goal_join() if GOAL_DIMENSION in query.dimensions else ""
    money = (revenue_parts(query, params)
             if table == "events" and REVENUE_METRICS & set(metrics) else None)
    arm = partial(raw_arm, table=table, units=units, site=site, dimensions=dims, parts=parts,
                  join=join, extra_parts=money, values_first=True)
    arms = [arm(where=[*where, *extra])]
    if once:
        assert not where and not dense, "a divisor without filters"
        arms = [once_divisor_arm(once)]
    if single:
        arms += once_arms(query, prefix=prefix, parts=parts, params=params)
    if dense:
        arms = page_arms(query, prefix=prefix, table=table, arm=arm, where=where,
                         extra=extra, bounds=bounds, site=site, params=params)
    if rolled:
        arms += rollup_arms(query, prefix=prefix, plan=plan, dims=dims, parts=parts, site=site,
                             params=params, within=within)
    if plan.goal_rollup is not None:
        arms.append(goal_rollup_arm(prefix=prefix, site=site, dim=plan.goal_rollup, parts=parts,
                                    aliases=[alias for alias, _ in dims], params=params))
    if plan.imported_dim is not None:
        arms.append(imported_arm(query, prefix=prefix, dim=plan.imported_dim,
                                 aliases=[alias for alias, _ in dims], parts=parts, site=site,
                                 params=params))
    keys = ["t", *(alias for alias, _ in dims)] if query.dimensions else []
    finals = [f"{FINALS[m]} AS {m}" for m in metrics]
    selected = ", ".join([*(keys or ["0 AS t"]), *finals])
    body = f"SELECT {selected} FROM ({union_all(arms)})"
    # The values before the bucket: SQLite's sorter compares a leading text key in its fast
    # path, and the bucket alone rarely tells rows apart (-7 % for 12 months of pages at 10 M).
    return body + (f" GROUP BY {', '.join([*keys[1:], *keys[:1]])}" if keys else "")


def _period_ctes(
    query: Query, *, prefix: str, period: tuple[date, date], plan: Plan, params: Params,
    within: str = "", once: str = "",
) -> list[str]:
    """The CTEs of one period of ``query`` (``within``: a group divisor's, ``once``: the side
    holding its raw units, ``_side``)."""
    site = params.ref(query.site_id)
    units = time_units(*period, tz=query.zone, interval=query.interval)
    if period == query.period:
        units = clipped(units, query.clip_ms)
    bounds = bounds_ms(*period, tz=query.zone)
    ctes = [units_cte(f"{prefix}_units", units=units, params=params)]
    if plan.rollup_kind is not None:
        ctes += rollup_ctes(query, prefix=prefix, plan=plan, site=site, params=params)
    if plan.imported_dim is not None:
        ctes += imported_ctes(prefix=prefix, site=site)
    if plan.goal_rollup is not None:
        ctes += goal_rollup_ctes(query, prefix=prefix, site=site, params=params)
    if plan.one_pass:
        ctes.append(once_cte(query, prefix=prefix, site=site, params=params))
    sides = plan.sides
    page = page_ctes(query, prefix=prefix, last=period[1], site=site, params=params,
                     rolled=plan.rollup_kind is not None)
    ctes += page
    for table in sides:
        body = _side(
            query, prefix=prefix, table=table, plan=plan, bounds=bounds, site=site, params=params,
            within=within if len(query.non_time_dimensions) == 1 else "",
            dense=bool(page), once=once,
        )
        name = prefix if len(sides) == 1 else f"{prefix}_{table[0]}"
        ctes.append(f"{name} AS ({body})")
    if len(sides) >= 2:
        # The first side drives; the others join on the bucket and the values. Sums missing on
        # a side are 0; web vitals stay NULL (nothing measured is not a fast page).
        keys = _join_keys(query)
        driver = sides[0][0]
        columns = [f"{driver}.{k} AS {k}" for k in keys]
        joins = []
        for table in sides:
            alias = table[0]
            metrics = {"events": plan.event_metrics, "sessions": plan.session_metrics,
                       "web_vitals": plan.vitals_metrics}[table]
            zero = table == "sessions" and alias != driver
            columns += [f"COALESCE({alias}.{m}, 0) AS {m}" if zero else f"{alias}.{m} AS {m}"
                        for m in metrics]
            if alias == driver:
                continue
            on = " AND ".join(f"{alias}.{k} = {driver}.{k}" for k in keys)
            joins.append(f"LEFT JOIN {prefix}_{alias} AS {alias} ON {on}" if query.dimensions
                         else f"CROSS JOIN {prefix}_{alias} AS {alias}")
        source = f"{prefix}_{driver} AS {driver} {' '.join(joins)}"
        ctes.append(f"{prefix} AS (SELECT {', '.join(columns)} FROM {source})")
    return ctes


def _join_keys(query: Query) -> list[str]:
    """The columns two relations of the same query join on: the time bucket and the values."""
    return ["t", *(f"d{i}" for i, d in enumerate(query.dimensions) if d not in TIME_DIMENSIONS)]


def _order_by(query: Query) -> str:
    return ", ".join(f"{term} {direction}" for term, direction in _order_terms(query))


def _order_terms(query: Query) -> list[tuple[str, str]]:
    """The final ORDER BY as (output column, ASC/DESC): a total order of the rows."""
    dims = {d: f"d{i}" for i, d in enumerate(query.dimensions)}
    if query.order_by:
        terms = [(dims.get(name, name), direction.upper()) for name, direction in query.order_by]
    elif query.interval is not None:
        terms = [(dims[d], "ASC") for d in query.dimensions if d in TIME_DIMENSIONS]
        if query.non_time_dimensions:
            terms.append((query.metrics[0], "DESC"))  # Plausible's default, as echoed
    else:
        terms = [(query.metrics[0], "DESC")]
    # Dimension values break ties so the order (and so the golden tests) is deterministic.
    named = {term for term, _ in terms}
    terms += [(alias, "ASC") for alias in dims.values() if alias not in named]
    return terms


def build_sql(query: Query) -> tuple[str, list[Param]]:
    """Translate ``query`` into ONE parameterised SELECT and its parameters.

    Raises ``QueryError`` for metric/dimension combinations no table answers, or if the
    statement would need more than 100 parameters.
    """
    plan = plan_query(query)
    params = Params()
    ctes = []
    if GOAL_DIMENSION in query.dimensions:
        ctes.append(goal_rows_cte(goals_broken_down(query), params))
    ctes += _period_ctes(query, prefix="m", period=query.period, plan=plan, params=params)
    compare = query.comparison_period
    if compare is not None:
        ctes += _period_ctes(query, prefix="c", period=compare, plan=plan, params=params)
    # The divisors of conversion rates: the same query without its goal filters (and goals).
    order = _order_terms(query)
    divisors = divisor_ctes(query, side="m", period=query.period, order=order)
    if compare is not None:
        divisors += divisor_ctes(query, side="c", period=compare, order=order)
    for divisor in divisors:
        ctes += _period_ctes(divisor.query, prefix=divisor.prefix, period=divisor.period,
                             plan=plan_query(divisor.query), params=params,
                             within=divisor.within, once="m" if plan.one_pass else "")
    dims = [
        f"m.t AS d{i}" if d in TIME_DIMENSIONS else f"m.d{i} AS d{i}"
        for i, d in enumerate(query.dimensions)
    ]
    columns = dims + [f"{metric_sql(m, side='m')} AS {m}" for m in query.metrics]
    source = "m"
    if compare is not None:
        columns += [f"{metric_sql(m, side='c')} AS c_{m}" for m in query.metrics]
        keys = _join_keys(query)
        if query.non_time_dimensions:
            source += " LEFT JOIN c ON " + " AND ".join(f"c.{k} = m.{k}" for k in keys)
        elif query.dimensions:
            # Time alone: buckets pair up by position, and a comparison bucket whose main bucket
            # is empty must still show (a chart's second line), so join every bucket index.
            source = (
                "(SELECT t FROM m UNION SELECT t FROM c) AS k LEFT JOIN m ON m.t = k.t "
                "LEFT JOIN c ON c.t = k.t"
            )
            columns[0] = "k.t AS d0"
        else:
            source += " CROSS JOIN c"
    source += "".join(f" {divisor.join}" for divisor in divisors)
    if query.total_rows:
        columns.append("COUNT(*) OVER () AS total_rows")
    lines = ["WITH " + ",\n".join(ctes), f"SELECT {', '.join(columns)}", f"FROM {source}"]
    if query.dimensions:
        lines.append(f"ORDER BY {_order_by(query)}")
        # Time alone is bounded by its buckets; a limit would cut some off.
        if query.non_time_dimensions:
            lines.append(f"LIMIT {int(query.limit)} OFFSET {int(query.offset)}")
    return "\n".join(lines), params.check()
