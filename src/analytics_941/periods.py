"""Calendar arithmetic in a site's timezone: presets, comparison periods and time buckets.

SQLite (and so D1) has no IANA timezone support, so every boundary is computed here with
``zoneinfo`` and handed to SQL as UTC milliseconds: a day is [local midnight, next local midnight),
which is 23 or 25 hours long on DST change days.

Visitors are counted per *unit*: a local day, or a local hour for ``time:hour``. The visitor hash
rotates daily, so a visitor over several days is a sum of daily uniques (Plausible's convention);
every larger bucket (week, month, the whole range) is a sum over its units, on the raw path and on
the rollup path alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeAlias, get_args
from zoneinfo import ZoneInfo

__all__ = [
    "PRESETS",
    "Comparison",
    "DateRange",
    "Interval",
    "Preset",
    "Units",
    "bounds_ms",
    "comparison_period",
    "local_midnight_ms",
    "resolve_period",
    "time_units",
]

Preset: TypeAlias = Literal[
    "day", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all"
]
PRESETS: tuple[Preset, ...] = get_args(Preset)
DateRange: TypeAlias = Preset | tuple[date, date]
Comparison: TypeAlias = Literal["previous_period", "year_over_year"] | tuple[date, date]
Interval: TypeAlias = Literal["hour", "day", "week", "month"]

# How far back "all" reaches at most, so a site created long ago never makes a 20,000-day query.
ALL_TIME_MAX_DAYS = 10 * 366


def _months_back(today: date, months: int) -> date:
    """The first day of the month ``months - 1`` months before ``today``'s month."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def resolve_period(
    date_range: DateRange, *, today: date, stats_start: date | None = None
) -> tuple[date, date]:
    """Return the inclusive (first, last) local dates a date range covers.

    Presets end today, so today's visits show up: ``day`` is today; ``7d``/``28d``/``30d``/``91d``
    are the last N days including today; ``month`` and ``year`` run from the 1st of this month /
    year; ``6mo`` and ``12mo`` are this month and the 5 / 11 before it, whole; ``all`` starts at
    ``stats_start`` (the site's first day), at most ``ALL_TIME_MAX_DAYS`` back.
    """
    if isinstance(date_range, tuple):
        return date_range
    days = {"day": 1, "7d": 7, "28d": 28, "30d": 30, "91d": 91}
    if date_range in days:
        return today - timedelta(days=days[date_range] - 1), today
    if date_range == "month":
        return today.replace(day=1), today
    if date_range == "6mo":
        return _months_back(today, 6), today
    if date_range == "12mo":
        return _months_back(today, 12), today
    if date_range == "year":
        return today.replace(month=1, day=1), today
    oldest = today - timedelta(days=ALL_TIME_MAX_DAYS - 1)
    start = min(max(stats_start or today, oldest), today)
    return start, today


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def comparison_period(
    period: tuple[date, date], comparison: Comparison
) -> tuple[date, date]:
    """Return the (first, last) local dates ``comparison`` compares ``period`` against.

    ``previous_period`` is the same number of days right before; ``year_over_year`` the same
    dates one year earlier; a custom range is taken as is.
    """
    first, last = period
    if isinstance(comparison, tuple):
        return comparison
    if comparison == "previous_period":
        length = (last - first).days + 1
        return first - timedelta(days=length), first - timedelta(days=1)
    return _year_earlier(first), _year_earlier(last)


def local_midnight_ms(day: date, *, tz: ZoneInfo) -> int:
    """Return the UTC Unix milliseconds of local midnight starting ``day`` in ``tz``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


def bounds_ms(first: date, last: date, *, tz: ZoneInfo) -> tuple[int, int]:
    """Return [start, end) in UTC ms for the local dates ``first``..``last`` inclusive."""
    return local_midnight_ms(first, tz=tz), local_midnight_ms(last + timedelta(days=1), tz=tz)


@dataclass(frozen=True, kw_only=True)
class Units:
    """The counting units of a period and the time buckets they fall in.

    ``units`` rows are ``[start_ms, end_ms, bucket, day]``: a local day (or hour) as UTC ms, the
    index of its time bucket in ``labels`` (0 when the query has no time dimension) and its local
    date ``YYYY-MM-DD`` (what rollups are keyed by). The builder passes them as ONE JSON parameter.
    """

    units: list[tuple[int, int, int, str]]
    labels: list[str]


def _bucket_label(day: date, interval: Interval, first: date) -> str:
    if interval == "week":
        return max(day - timedelta(days=day.weekday()), first).isoformat()
    if interval == "month":
        return max(day.replace(day=1), first).isoformat()
    return day.isoformat()


def time_units(
    first: date, last: date, *, tz: ZoneInfo, interval: Interval | None
) -> Units:
    """Return the units from ``first`` to ``last`` and the bucket of each for ``interval``.

    Hours are real hours (UTC-spaced) labelled with their local wall-clock start: a DST change
    day has 23 or 25 of them, and the repeated autumn hour appears twice, in order.
    """
    units: list[tuple[int, int, int, str]] = []
    labels: list[str] = []
    day = first
    while day <= last:
        start, end = bounds_ms(day, day, tz=tz)
        if interval == "hour":
            for hour_start in range(start, end, 3_600_000):
                local = datetime.fromtimestamp(hour_start / 1000, tz=tz)
                labels.append(local.strftime("%Y-%m-%d %H:00:00"))
                hour_end = min(hour_start + 3_600_000, end)
                units.append((hour_start, hour_end, len(labels) - 1, day.isoformat()))
        elif interval is None:
            units.append((start, end, 0, day.isoformat()))
        else:
            label = _bucket_label(day, interval, first)
            if not labels or labels[-1] != label:
                labels.append(label)
            units.append((start, end, len(labels) - 1, day.isoformat()))
        day += timedelta(days=1)
    return Units(units=units, labels=labels)
