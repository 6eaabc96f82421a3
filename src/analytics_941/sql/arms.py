"""The SQL pieces the reader (``sql_builder``) and the rollup writers (``rollups``) share: the
units CTE, the per-unit raw arm, and the ISO week of a date. Shared so a rolled-up day holds
exactly the parts a raw query aggregates for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .metrics import EVENT_PARTS, SESSION_DRIVEN_PARTS, SESSION_PARTS

__all__ = ["TS", "raw_arm", "units_cte", "week_of"]

# The time column each raw table is cut into units by.
TS = {"events": "ts", "sessions": "started_at"}


def units_cte(name: str, *, source: str, keys: tuple[int, int] | None = None) -> str:
    """The CTE ``name`` reading units from ONE JSON parameter (``source``, a ``?N``) of
    ``[start_ms, end_ms, bucket, day]`` items: ``i, start_ms, end_ms, t, day``; with ``keys``
    (first, end), only the items at those positions."""
    only = f" WHERE key >= {int(keys[0])} AND key < {int(keys[1])}" if keys else ""
    return (
        f"{name} AS (SELECT key AS i, json_extract(value, '$[0]') AS start_ms, "
        f"json_extract(value, '$[1]') AS end_ms, json_extract(value, '$[2]') AS t, "
        f"json_extract(value, '$[3]') AS day FROM json_each({source}){only})"
    )


def raw_arm(
    *,
    table: str,
    units: str,
    site: str,
    dimensions: Sequence[tuple[str, str]],
    parts: Sequence[str],
    where: Sequence[str],
    join: str = "",
    extra_parts: Mapping[str, str] | None = None,
    ids: str = "",
    values_first: bool = False,
) -> str:
    """Parts of ``table`` per unit and dimension values: ``u, t, <aliases>, <parts>``.

    ``dimensions`` are (alias, expression) pairs; ``parts`` are names from ``sql.metrics``;
    ``join`` an extra JOIN clause (the rollups' rows of visits by viewed page); ``extra_parts``
    parts written for one query (revenue in its currency, ``sql.revenue``). The units drive the
    join (CROSS JOIN fixes the order) so each unit is one index range scan. ``ids``, a SELECT of
    distinct ``id``s of ``table``: those rows are read by their key instead of every row of the
    units (each finds its unit), for a few rows over a long range. ``values_first`` groups by
    the values before the unit: SQLite sorts faster on a leading text key (the reader's 12
    months of pages, 10 M events: -8 %; the writers' generated statements keep the unit first).
    """
    ts = TS[table]
    sources = EVENT_PARTS if table == "events" else {**SESSION_PARTS, **SESSION_DRIVEN_PARTS}
    sources = {**sources, **(extra_parts or {})}
    select = ["b.i AS u", "b.t AS t"]
    select += [f"{expression} AS {alias}" for alias, expression in dimensions]
    select += [f"{sources[part]} AS {part}" for part in parts]
    within = (f"{table}.site_id = {site} AND {table}.{ts} >= b.start_ms "
              f"AND {table}.{ts} < b.end_ms")
    source = (f"({ids}) AS p CROSS JOIN {table} ON {table}.id = p.id CROSS JOIN {units} AS b"
              if ids else f"{units} AS b CROSS JOIN {table}")
    sql = (
        f"SELECT {', '.join(select)} FROM {source} ON {within}"
    )
    if join:
        sql += f" {join}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    keys = [alias for alias, _ in dimensions]
    return sql + " GROUP BY " + ", ".join([*keys, "b.i"] if values_first else ["b.i", *keys])


def week_of(day: str) -> str:
    """SQL: the Monday (``YYYY-MM-DD``) starting the ISO week of the date expression ``day``."""
    return f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"
