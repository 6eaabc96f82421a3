"""Date ranges finer than a day: Plausible's ``24h`` and ``[date-time, date-time]``.

Such a range is kept as the local days it touches (the query's ``date_range``) plus the instants
it runs between (``Query.clip_ms``). ``clipped`` cuts the counting units to those instants: units
outside are dropped, and a unit cut short keeps no ``day``, so no rollup or imported row (which
hold whole days) answers it and it is read from raw rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .exceptions import QueryError
from .periods import Units

__all__ = ["clipped", "instant_range"]

_DAY_MS = 86_400_000


def _instant(text: str, tz: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(code="invalid_date_range", message=f"date_range: {text[:40]!r} is "
                         "not an ISO 8601 date or date-time") from None
    # A date-time without an offset is the site's local time.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def instant_range(
    value: Any, *, timezone: str, now: datetime
) -> tuple[tuple[date, date], tuple[int, int]] | None:
    """For ``24h`` or two ISO date-times: (the local first and last day, (start_ms, end_ms)),
    the end exclusive; None for anything else (presets and dates are the query's own)."""
    tz = ZoneInfo(timezone)
    if value == "24h":
        end = now
        start = end - timedelta(hours=24)
        end_ms = int(end.timestamp() * 1000)
    elif (isinstance(value, list | tuple) and len(value) == 2
          and all(isinstance(v, str) and "T" in v for v in value)):
        start, last = (_instant(str(v), tz) for v in value)
        if last < start:
            raise QueryError(code="invalid_date_range",
                             message="date_range: the first date-time is after the last")
        # The last instant is included to its second, as Plausible (whose times are seconds).
        end_ms = (int(last.timestamp()) + 1) * 1000
    else:
        return None
    start_ms = int(start.timestamp() * 1000)
    first_day = start.astimezone(tz).date()
    last_day = datetime.fromtimestamp((end_ms - 1) / 1000, tz).date()
    return (first_day, last_day), (start_ms, end_ms)


def clipped(units: Units, clip: tuple[int, int] | None) -> Units:
    """``units`` cut to ``clip`` (start_ms, end_ms), buckets renumbered; as is without one."""
    if clip is None:
        return units
    start, end = clip
    kept: list[tuple[int, int, int, str]] = []
    labels: list[str] = []
    renumbered: dict[int, int] = {}
    for unit_start, unit_end, bucket, day in units.units:
        if unit_end <= start or unit_start >= end:
            continue
        if units.labels and bucket not in renumbered:
            renumbered[bucket] = len(labels)
            labels.append(units.labels[bucket])
        cut = (max(unit_start, start), min(unit_end, end))
        whole = cut == (unit_start, unit_end)
        kept.append((*cut, renumbered.get(bucket, 0), day if whole else ""))
    return Units(units=kept, labels=labels)
