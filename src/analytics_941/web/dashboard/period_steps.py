"""The previous and next period of what the dashboard shows (its arrows and arrow keys).

A period of whole months (this month, the last 6 or 12 months, this year, or a custom range
from a 1st to a month's end) steps by its number of months; any other steps by its number of
days. A step never reaches past today, and "all time" has no neighbours.
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["next_period", "previous_period"]

_MONTHLY = frozenset({"month", "6mo", "12mo", "year"})


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _months(period: str, first: date, last: date) -> int:
    """How many months the period spans when it is made of whole months, else 0."""
    if period == "year":
        return 12
    whole = first.day == 1 and (period in _MONTHLY or (last + timedelta(days=1)).day == 1)
    return _month_index(last) - _month_index(first) + 1 if whole else 0


def previous_period(period: str, first: date, last: date) -> tuple[date, date] | None:
    """The range right before ``first``..``last`` (``period`` the state's preset or custom)."""
    if period == "all":
        return None
    months = _months(period, first, last)
    if months:
        start = _month_start(_month_index(first) - months)
        return start, first - timedelta(days=1)
    days = (last - first).days + 1
    return first - timedelta(days=days), first - timedelta(days=1)


def next_period(
    period: str, first: date, last: date, *, today: date
) -> tuple[date, date] | None:
    """The range right after ``first``..``last``, cut at ``today``; None once it reaches today."""
    if period == "all" or last >= today:
        return None
    months = _months(period, first, last)
    if months:
        end = _month_start(_month_index(last) + months + 1) - timedelta(days=1)
        return last + timedelta(days=1), min(end, today)
    days = (last - first).days + 1
    return last + timedelta(days=1), min(last + timedelta(days=days), today)
