"""What a stats query may name: its metrics, dimensions (ours and Plausible's aliases), limits
and date bounds. ``query.Query`` validates against these; the SQL builder maps each name through
its own allowlist (``sql.columns``), and a test proves the two lists agree.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, TypeAlias, get_args

from .dimensions import DIMENSIONS as _DESCRIBED
from .periods import Interval

__all__ = [
    "CONVERSION_METRICS",
    "DIMENSIONS",
    "GOAL_DIMENSION",
    "MAX_DATE",
    "MAX_DIMENSIONS",
    "MAX_HOUR_RANGE_DAYS",
    "MAX_LIMIT",
    "METRICS",
    "MIN_DATE",
    "PROP_PREFIX",
    "TIME_DIMENSIONS",
    "Metric",
    "canonical_dimension",
    "hours_fit",
]

Metric: TypeAlias = Literal[
    "visitors",
    "visits",
    "pageviews",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
    "time_on_page",
    "scroll_depth",
    "events",
    "percentage",
    "conversion_rate",
    "group_conversion_rate",
    # Revenue of revenue goals, in their currency (sql/revenue.py); Plausible's value shape.
    "total_revenue",
    "average_revenue",
    # Core Web Vitals (sql/vitals.py): the 75th percentile of each, Google's shares, samples.
    "vitals_pageviews",
    "lcp",
    "inp",
    "cls",
    "fcp",
    "ttfb",
    "lcp_good",
    "lcp_needs_improvement",
    "lcp_poor",
    "inp_good",
    "inp_needs_improvement",
    "inp_poor",
    "cls_good",
    "cls_needs_improvement",
    "cls_poor",
    "fcp_good",
    "fcp_needs_improvement",
    "fcp_poor",
    "ttfb_good",
    "ttfb_needs_improvement",
    "ttfb_poor",
]
METRICS: tuple[str, ...] = get_args(Metric)
# Converting visitors over all visitors of the same filters (goal filters left out): across
# every dimension, or per group of the other dimensions (Plausible's two names).
CONVERSION_METRICS = frozenset({"conversion_rate", "group_conversion_rate"})

TIME_DIMENSIONS: dict[str, Interval] = {
    "time:hour": "hour",
    "time:day": "day",
    "time:week": "week",
    "time:month": "month",
}
# Every dimension the builder knows, besides time and `event:props:<key>` (dimensions.py).
DIMENSIONS: tuple[str, ...] = tuple(d.name for d in _DESCRIBED)
PROP_PREFIX = "event:props:"
# The site's goals (``goals.py``): a dimension and a filter, matched on raw events.
GOAL_DIMENSION = "event:goal"
# A property key is echoed into a JSON path (as a bound parameter); keep it plain.
_PROP_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

# Plausible's own names, accepted so an existing Stats API v2 client works unchanged.
_ALIASES = {"time": "time:day", **{alias: d.name for d in _DESCRIBED for alias in d.aliases}}
MAX_DIMENSIONS = 3
MAX_LIMIT = 10_000
# time:hour makes one unit per hour; a month of them is 744 buckets.
MAX_HOUR_RANGE_DAYS = 31
# Dates a custom range or comparison may name. Far enough from Python's date limits (years 1 and
# 9999) that a comparison period or the day after the range still exists; before 1970 no web
# analytics were collected.
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(9998, 12, 31)


def hours_fit(first: date, last: date) -> bool:
    """True when the range ``first``..``last`` may be shown by the hour (``time:hour``)."""
    return (last - first).days < MAX_HOUR_RANGE_DAYS


def canonical_dimension(name: str) -> str:
    """Return our name for ``name`` (accepting Plausible's), or raise ``ValueError``."""
    name = _ALIASES.get(name, name)
    if name in DIMENSIONS or name in TIME_DIMENSIONS or name == GOAL_DIMENSION:
        return name
    if name.startswith(PROP_PREFIX) and _PROP_KEY.match(name.removeprefix(PROP_PREFIX)):
        return name
    raise ValueError(f"unknown dimension {name!r}")
