"""Calendar arithmetic in a site's timezone: date-range presets, day bounds and day buckets.

SQLite (and so D1) has no IANA timezone support, so every boundary is computed here with
``zoneinfo`` and handed to SQL as UTC milliseconds: a day is [local midnight, next local midnight),
which is 23 or 25 hours long on DST change days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

__all__ = [
    "PRESETS",
    "DayBucket",
    "Preset",
    "bounds_ms",
    "day_buckets",
    "local_midnight_ms",
    "resolve_period",
]

Preset: TypeAlias = Literal["day", "7d", "30d", "month"]
PRESETS: tuple[Preset, ...] = ("day", "7d", "30d", "month")

# (start_ms inclusive, end_ms exclusive, "YYYY-MM-DD" label)
DayBucket: TypeAlias = tuple[int, int, str]


def resolve_period(date_range: Preset | tuple[date, date], *, today: date) -> tuple[date, date]:
    """Return the inclusive (first, last) local dates a date range covers.

    Presets end today (so today's visits show up): ``day`` is today, ``7d`` and ``30d`` are the
    last 7 / 30 days including today, ``month`` runs from the 1st of this month to today.
    """
    if date_range == "day":
        return today, today
    if date_range == "7d":
        return today - timedelta(days=6), today
    if date_range == "30d":
        return today - timedelta(days=29), today
    if date_range == "month":
        return today.replace(day=1), today
    return date_range


def local_midnight_ms(day: date, *, tz: ZoneInfo) -> int:
    """Return the UTC Unix milliseconds of local midnight starting ``day`` in ``tz``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


def bounds_ms(first: date, last: date, *, tz: ZoneInfo) -> tuple[int, int]:
    """Return [start, end) in UTC ms for the local dates ``first``..``last`` inclusive."""
    return local_midnight_ms(first, tz=tz), local_midnight_ms(last + timedelta(days=1), tz=tz)


def day_buckets(first: date, last: date, *, tz: ZoneInfo) -> list[DayBucket]:
    """Return one ``(start_ms, end_ms, label)`` bucket per local day from ``first`` to ``last``."""
    buckets: list[DayBucket] = []
    day = first
    while day <= last:
        start, end = bounds_ms(day, day, tz=tz)
        buckets.append((start, end, day.isoformat()))
        day += timedelta(days=1)
    return buckets
