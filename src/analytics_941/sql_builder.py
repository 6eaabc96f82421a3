"""The one SQL builder: a ``Query`` in, ``(sql, params)`` out.

Rules it keeps, so the same SQL is safe and gives the same answer on local SQLite and on D1:

* values only as bound parameters; identifiers and SQL fragments only from the allowlists below;
* parameters are compared only against typed columns (``ts``, ``started_at``, ``site_id``), never
  used in arithmetic, because D1's HTTP API may deliver every parameter as a string; integers
  that shape the statement (``LIMIT``) are validated and inlined;
* at most 100 bound parameters per statement (D1's limit);
* ``time:day`` buckets are computed in Python in the site's timezone and passed as ONE JSON
  parameter read with ``json_each``, so DST days are exactly 23 or 25 hours long.

Event-level metrics come from ``events``, session-level metrics from ``sessions`` (bucketed by
``started_at``). When both are asked for, each table is aggregated in its own grouped subquery and
the two are joined on the dimension values, as Plausible does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .exceptions import QueryError
from .periods import bounds_ms, day_buckets
from .query import Filter, Query
from .store import Param

__all__ = ["MAX_PARAMS", "build_sql"]

MAX_PARAMS = 100

# Metric -> aggregate, per table. Empty aggregates become 0, not NULL, so results stay numeric.
_EVENT_METRICS = {
    "visitors": "COUNT(DISTINCT visitor_id)",
    "pageviews": "COUNT(CASE WHEN name = 'pageview' THEN 1 END)",
}
_SESSION_METRICS = {
    "visits": "COUNT(*)",
    "bounce_rate": "COALESCE(CAST(ROUND(100.0 * AVG(is_bounce)) AS INTEGER), 0)",
    "visit_duration": "COALESCE(CAST(ROUND(AVG(duration_ms) / 1000.0) AS INTEGER), 0)",
}

# Dimension -> (events expression, sessions expression). The one identifier allowlist.
# On sessions, `page` means the ENTRY page: session metrics "of a page" (visits, bounce rate,
# duration) describe the visits that landed on it. Missing values get a label so rows can be
# joined on them (NULL never equals NULL) and shown as is.
_DIMENSIONS = {
    "page": ("pathname", "entry_page"),
    "source": ("COALESCE(source, 'Direct / None')", "COALESCE(source, 'Direct / None')"),
    "country": ("COALESCE(country, 'Unknown')", "COALESCE(country, 'Unknown')"),
    "device": ("COALESCE(device, 'Unknown')", "COALESCE(device, 'Unknown')"),
    "time:day": ("buckets.label", "buckets.label"),
}
# Table -> (name, timestamp column, position of its expression in _DIMENSIONS values).
_TABLES = {"e": ("events", "ts", 0), "s": ("sessions", "started_at", 1)}

_BUCKETS_CTE = (
    "WITH buckets AS (SELECT json_extract(value, '$[0]') AS start_ms, "
    "json_extract(value, '$[1]') AS end_ms, json_extract(value, '$[2]') AS label "
    "FROM json_each(?))"
)


def _filter_sql(flt: Filter, *, column: str, params: list[Param]) -> str:
    """Return one WHERE clause for ``flt``; one branch per operator, unknown ones refused."""
    op, _dimension, values = flt
    params.extend(values)
    marks = ", ".join("?" for _ in values)
    if op == "is":
        return f"{column} IN ({marks})"
    if op == "is_not":
        return f"{column} NOT IN ({marks})"
    if op == "contains":
        # instr() is case-sensitive and needs no LIKE escaping of % and _ in the value.
        return "(" + " OR ".join(f"instr({column}, ?) > 0" for _ in values) + ")"
    raise QueryError(code="invalid_filters", message=f"filters: unknown operator {op!r}")


def _subquery(query: Query, *, alias: str, metrics: Sequence[str], params: list[Param]) -> str:
    """Aggregate one table (events or sessions) grouped by the query's dimensions."""
    table, ts_column, side = _TABLES[alias]
    aggregates = _EVENT_METRICS if alias == "e" else _SESSION_METRICS
    start_ms, end_ms = bounds_ms(*query.period, tz=query.zone)
    select = [f"{_DIMENSIONS[d][side]} AS d{i}" for i, d in enumerate(query.dimensions)]
    select += [f"{aggregates[m]} AS {m}" for m in metrics]
    source = table
    if "time:day" in query.dimensions:
        source += (
            f" JOIN buckets ON {ts_column} >= buckets.start_ms AND {ts_column} < buckets.end_ms"
        )
    where = ["site_id = ?", f"{ts_column} >= ?", f"{ts_column} < ?"]
    params.extend([query.site_id, start_ms, end_ms])
    for flt in query.filters:
        where.append(_filter_sql(flt, column=_DIMENSIONS[flt[1]][side], params=params))
    sql = f"SELECT {', '.join(select)} FROM {source} WHERE {' AND '.join(where)}"
    if query.dimensions:
        sql += " GROUP BY " + ", ".join(f"d{i}" for i in range(len(query.dimensions)))
    return sql


def _order_by(query: Query) -> str:
    dims: dict[str, str] = {d: f"d{i}" for i, d in enumerate(query.dimensions)}
    if query.order_by:
        terms = [(dims.get(name, name), direction.upper()) for name, direction in query.order_by]
    elif "time:day" in dims:
        terms = [(dims["time:day"], "ASC")]
    else:
        terms = [(query.metrics[0], "DESC")]
    # Dimension values break ties so the order (and so the golden tests) is deterministic.
    named = {term for term, _ in terms}
    terms += [(alias, "ASC") for alias in dims.values() if alias not in named]
    return ", ".join(f"{term} {direction}" for term, direction in terms)


def build_sql(query: Query) -> tuple[str, list[Param]]:
    """Translate ``query`` into one parameterised SELECT and its parameters.

    Output columns: ``d0``, ``d1``… for the dimensions in order, then one column per metric named
    after it. Raises ``QueryError`` if the statement would need more than 100 parameters.
    """
    params: list[Param] = []
    lines: list[str] = []
    if "time:day" in query.dimensions:
        buckets = day_buckets(*query.period, tz=query.zone)
        lines.append(_BUCKETS_CTE)
        params.append(json.dumps([list(b) for b in buckets], separators=(",", ":")))

    event_metrics = [m for m in query.metrics if m in _EVENT_METRICS]
    session_metrics = [m for m in query.metrics if m in _SESSION_METRICS]
    # Events drive the join: every session's first event is in events, so no dimension value
    # that sessions have can be missing from the events side.
    parts = [(alias, ms) for alias, ms in (("e", event_metrics), ("s", session_metrics)) if ms]
    primary = parts[0][0]
    dims = [f"{primary}.d{i} AS d{i}" for i in range(len(query.dimensions))]
    table_of = {m: ("e" if m in _EVENT_METRICS else "s") for m in query.metrics}
    # The secondary side of a LEFT JOIN may have no row for a dimension value: that means 0.
    columns = [
        f"{primary}.{m} AS {m}" if table_of[m] == primary else f"COALESCE(s.{m}, 0) AS {m}"
        for m in query.metrics
    ]
    lines.append("SELECT " + ", ".join(dims + columns))
    for n, (alias, ms) in enumerate(parts):
        sub = f"({_subquery(query, alias=alias, metrics=ms, params=params)}) AS {alias}"
        if n == 0:
            lines.append(f"FROM {sub}")
        elif query.dimensions:
            width = len(query.dimensions)
            on = " AND ".join(f"{alias}.d{i} = {primary}.d{i}" for i in range(width))
            lines.append(f"LEFT JOIN {sub} ON {on}")
        else:
            lines.append(f"CROSS JOIN {sub}")
    if query.dimensions:
        lines.append(f"ORDER BY {_order_by(query)}")
        # A lone time dimension is bounded by its buckets; the limit would cut days off.
        if query.dimensions != ("time:day",):
            lines.append(f"LIMIT {int(query.limit)}")
    if len(params) > MAX_PARAMS:
        raise QueryError(
            code="invalid_filters",
            message=f"filters: the query needs {len(params)} parameters, D1 allows {MAX_PARAMS}",
        )
    return "\n".join(lines), params
