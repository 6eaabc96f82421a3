"""How numbers read on the dashboard: one formatter per metric, and changes with their sign.

Registered as Jinja filters (``metric``, ``change``, ``trend``) by the pages router.
"""

from __future__ import annotations

from typing import Any

from ...runner import POINTS_METRICS
from ..templating import format_duration

__all__ = ["display_label", "format_change", "format_metric", "register_filters", "trend"]

_SECONDS = frozenset({"visit_duration", "time_on_page"})
_PERCENT = frozenset({"bounce_rate", "scroll_depth", "percentage", "conversion_rate",
                      "group_conversion_rate"})
# Dimensions whose values the collector stores in lower case (device kinds, screen classes).
_NAMES = frozenset({"device", "screen", "browser", "os", "channel"})
# Lower is better for these: a falling bounce rate is good news.
_LOWER_IS_BETTER = frozenset({"bounce_rate"})


def format_metric(value: Any, metric: str) -> str:
    """``12 345`` for counts, ``42%`` for rates, ``3m 05s`` for durations, ``1.85`` per visit."""
    if value is None:
        return "—"
    if metric in _SECONDS:
        return format_duration(int(value))
    if metric in _PERCENT:
        return f"{value:g}%"
    if metric == "views_per_visit":
        return f"{float(value):.2f}"
    return f"{int(value):,}".replace(",", "\u202f")


def display_label(value: str, dimension: str) -> str:
    """A value as the dashboard shows it: ``desktop`` reads ``Desktop``; names already cased
    (``macOS``, ``iOS``), pages, sources and the rest read as stored."""
    if dimension in _NAMES and value.islower():
        return value[:1].upper() + value[1:]
    return value


def format_change(change: Any, metric: str) -> str:
    """``+12%``, ``-3 pts`` (a minus sign; rates change in points), ``—`` without a baseline."""
    if change is None:
        return "—"
    sign = "+" if change > 0 else ("\u2212" if change < 0 else "±")
    # The runner decides which changes are points; the label follows it.
    unit = " pts" if metric in POINTS_METRICS else "%"
    return f"{sign}{abs(change):g}{unit}"


def trend(change: Any, metric: str) -> str:
    """The CSS class of a change: ``good``, ``bad`` or ``flat``."""
    if not change:
        return "flat"
    better = change < 0 if metric in _LOWER_IS_BETTER else change > 0
    return "good" if better else "bad"


def register_filters(env: Any) -> None:
    """Add ``metric``, ``change`` and ``trend`` to a Jinja environment."""
    env.filters["metric"] = format_metric
    env.filters["change"] = format_change
    env.filters["trend"] = trend
