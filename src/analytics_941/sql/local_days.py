"""A period's local days as SQL, split into those a rollup answers and those read raw: the
frame the journey and funnel readers share (``sql.journey_rollup``, ``sql.funnel``)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ..periods import local_midnight_ms

__all__ = ["day_split_ctes", "rolled_day_join", "units_param"]


def units_param(period: tuple[date, date], *, tz: ZoneInfo) -> str:
    """The period's local days as ONE JSON parameter of ``[start_ms, end_ms, day]`` rows."""
    first, last = period
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return json.dumps([[local_midnight_ms(d, tz=tz), local_midnight_ms(d + timedelta(days=1),
                                                                        tz=tz), d.isoformat()]
                       for d in days], separators=(",", ":"))


def rolled_day_join(*, site: str, tz: str) -> str:
    """SQL: ``CROSS JOIN rollup_days AS r`` on a day ``u`` (of ``<prefix>units``) rolled up for
    timezone ``tz`` with the day's own bounds; a rollup of the day answers only if it was made
    for ``r.computed_at``."""
    return (f"CROSS JOIN rollup_days AS r ON r.site_id = {site} AND r.day = u.day "
            f"AND r.tz = {tz} AND r.start_ms = u.start_ms AND r.end_ms = u.end_ms")


def day_split_ctes(prefix: str, *, units: str, done: str) -> list[str]:
    """``<prefix>units`` (the days of the ``units`` parameter: ``start_ms, end_ms, day``),
    ``<prefix>done`` (``done``: a SELECT over ``<prefix>units AS u`` of the days a rollup
    answers, with a ``day`` column) and ``<prefix>raw`` (the others' bounds, read raw)."""
    return [
        # A rollup's rows are joined CROSS after the days: the days lead, each finding its rows
        # by key (SQLite otherwise may scan a table's rows of the site and probe the days).
        f"{prefix}units AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS start_ms, "
        "json_extract(value, '$[1]') AS end_ms, json_extract(value, '$[2]') AS day "
        f"FROM json_each({units}))",
        f"{prefix}done AS MATERIALIZED ({done})",
        f"{prefix}raw AS MATERIALIZED (SELECT start_ms, end_ms FROM {prefix}units "
        f"WHERE day NOT IN (SELECT day FROM {prefix}done))",
    ]
