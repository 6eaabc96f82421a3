"""The one identifier allowlist: each dimension's SQL expression on ``events`` and ``sessions``.

Missing values get a label (``Direct / None``, ``(none)``…) so rows can be joined and filtered on
them (NULL never equals NULL) and shown as is. A dimension an entire table lacks has ``None``
there: ``entry_page`` and ``exit_page`` exist only per visit; ``event:name`` and properties only
per event.

On ``sessions`` the ``page`` *dimension* means the entry page: visits, bounce rate and duration
"of a page" describe the visits that landed on it (Plausible's convention). As a *filter*, ``page``
keeps the visits that viewed a matching page (see ``where``).
"""

from __future__ import annotations

import json
import re

from ..query import DIMENSIONS, PROP_PREFIX
from .params import Params

__all__ = [
    "COLUMNS",
    "FILTERED_ROLLUP_DIMENSIONS",
    "FILTERED_ROLLUP_FILTERS",
    "FILTERED_ROLLUP_SET",
    "FREQUENT_DAYS",
    "FREQUENT_MIN_VISITS",
    "FREQUENT_ROLLUP_DIMENSIONS",
    "FREQUENT_ROLLUP_SET",
    "ROLLUP_DIMENSIONS",
    "SESSION_ONLY",
    "dimension_sql",
    "filter_sql_target",
]


def _labelled(column: str, label: str) -> tuple[str, str]:
    expression = f"COALESCE({column}, '{label}')"
    return expression, expression


# dimension -> (events expression, sessions expression); None = not on that table.
COLUMNS: dict[str, tuple[str | None, str | None]] = {
    "page": ("pathname", "entry_page"),
    "entry_page": (None, "entry_page"),
    "exit_page": (None, "exit_page"),
    "hostname": ("hostname", "hostname"),
    "source": _labelled("source", "Direct / None"),
    "channel": _labelled("channel", "Direct"),
    "referrer": _labelled("referrer", "Direct / None"),
    **{
        f"utm_{k}": _labelled(f"utm_{k}", "(none)")
        for k in ("source", "medium", "campaign", "term", "content")
    },
    **{
        k: _labelled(k, "Unknown")
        for k in ("country", "region", "city", "device", "browser", "browser_version", "os")
    },
    **{k: _labelled(k, "Unknown") for k in ("os_version", "screen")},
    "event:name": ("name", None),
}
assert set(COLUMNS) == set(DIMENSIONS), "query.DIMENSIONS and sql.columns.COLUMNS disagree"

SESSION_ONLY = frozenset(d for d, (e, _s) in COLUMNS.items() if e is None)
# Dimensions kept in the daily rollup tables: all but event properties (open-ended keys).
ROLLUP_DIMENSIONS: tuple[str, ...] = tuple(COLUMNS)
# Rollups per filter value (``rollup_filtered_*``): a filter ``<dimension> is <one value>`` on one
# of FILTERED_ROLLUP_FILTERS, crossed with the totals ('') and the dimensions the dashboard's
# first view breaks down (top pages, channels, countries, browsers). A pair costs rows every day
# — at 10 M events a year the pairs below hold about as many rows a day as the day has events —
# so both lists stay short; other filtered breakdowns read raw rows.
FILTERED_ROLLUP_FILTERS: tuple[str, ...] = ("page", "country")
FILTERED_ROLLUP_DIMENSIONS: tuple[str, ...] = ("", "page", "channel", "country", "browser")
assert not set(FILTERED_ROLLUP_DIMENSIONS) & SESSION_ONLY, "pairs are read from events too"
# Names the set above. Listed days and months carry it, so after a change of either list a day
# rolled up for the old set reads raw rows (not missing pairs) until the cron has redone it.
FILTERED_ROLLUP_SET = f"{','.join(FILTERED_ROLLUP_FILTERS)}|{','.join(FILTERED_ROLLUP_DIMENSIONS)}"
assert re.fullmatch(r"[a-z_,|:]+", FILTERED_ROLLUP_SET), "inlined into generated SQL as a literal"
# Monthly rollups per *frequent* filter value (``rollup_frequent_monthly``): the panels' other
# tabs under the same filters, kept per whole month only, and only for the values (pages,
# countries) with at least FREQUENT_MIN_VISITS visits that month. A rarer value has few visits
# to read raw over any range (at most 11 x 2,000 in the closed months of a 12-month view), and
# the frequent ones are few (at 10 M events a year, about 50 pages and 30 countries a month), so
# the rows stay bounded where daily pairs for every tab would cost gigabytes a year.
FREQUENT_ROLLUP_DIMENSIONS: tuple[str, ...] = (
    "entry_page",
    "exit_page",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "region",
    "city",
    "os",
    "screen",
    "device",
)
assert not set(FREQUENT_ROLLUP_DIMENSIONS) & set(FILTERED_ROLLUP_DIMENSIONS), "one kind per pair"
FREQUENT_MIN_VISITS = 2000
# The same tabs per day for the last FREQUENT_DAYS days only (a 30-day view, and the current
# month of a 12-month one), for the values with a thirtieth of the threshold that day.
FREQUENT_DAYS = 32
# As FILTERED_ROLLUP_SET: listed months name the pairs their rows hold. (The threshold needs no
# name: readers ask whether the month holds the value, not whether it should.)
FREQUENT_ROLLUP_SET = f"{','.join(FILTERED_ROLLUP_FILTERS)}|{','.join(FREQUENT_ROLLUP_DIMENSIONS)}"
assert re.fullmatch(r"[a-z_,|:]+", FREQUENT_ROLLUP_SET), "inlined into generated SQL as a literal"


def _prop_sql(name: str, params: Params) -> str:
    key = name.removeprefix(PROP_PREFIX)
    # The key goes into a JSON path as a bound parameter, quoted so dots stay part of the key.
    return f"COALESCE(json_extract(props, {params.ref('$.' + json.dumps(key))}), '(none)')"


def dimension_sql(name: str, *, table: str, params: Params) -> str | None:
    """The expression grouping ``table`` ("events"/"sessions") by ``name``; None if it has none."""
    if name.startswith(PROP_PREFIX):
        return _prop_sql(name, params) if table == "events" else None
    events, sessions = COLUMNS[name]
    return events if table == "events" else sessions


def filter_sql_target(name: str, *, table: str, params: Params) -> str | None:
    """The expression a *filter* on ``name`` tests on ``table``; None means "ask the other table".

    ``page`` filters sessions through their events (the visits that viewed a matching page), not
    through the entry page.
    """
    if name == "page" and table == "sessions":
        return None
    return dimension_sql(name, table=table, params=params)
