"""The rollup kinds, described once: which rows each keeps, in which tables, for which spans.

Everything else comes from this table: the reader's choice of table (``sql.plan``), the write
statements (``rollups.days``, ``rollups.spans``, ``rollups.frequent``), the generated TypeScript
the cron runs, and ``tests/test_schema.py``, which checks ``schema.sql`` has exactly these
tables with exactly these columns.

A kind's tables are named from its ``prefix``: ``<prefix>_daily`` rows and ``<prefix>_days``
listing the complete days, then per span ``<prefix>_monthly``/``_months`` and
``<prefix>_weekly``/``_weeks``. A listing either names the set of pairs its rows hold
(``marked``: after a change of the lists below, a day rolled up for the old set reads raw rows,
not missing pairs, until the cron has redone it) or stamps when they were computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..sql.columns import COLUMNS, LOOKED_UP, SESSION_ONLY
from ..sql.metrics import PARTS

__all__ = [
    "FILTERED_DAILY_KEEP_DAYS",
    "FILTERED_ROLLUP_DIMENSIONS",
    "FILTERED_ROLLUP_FILTERS",
    "FILTERED_ROLLUP_SET",
    "FREQUENT_DAYS",
    "FREQUENT_MIN_VISITS",
    "FREQUENT_ROLLUP_DIMENSIONS",
    "FREQUENT_ROLLUP_SET",
    "GOAL_ROLLUP",
    "KINDS",
    "PER_FILTER_VALUE",
    "PER_FREQUENT_VALUE",
    "PLAIN",
    "ROLLUP_DIMENSIONS",
    "SPAN_TABLES",
    "GoalRollupKind",
    "RollupKind",
]

# Dimensions kept in the plain rollups: all but event properties (open-ended keys) and those
# looked up at query time (a page's title changes after the day is rolled up).
ROLLUP_DIMENSIONS: tuple[str, ...] = tuple(d for d in COLUMNS if d not in LOOKED_UP)
# Rollups per filter value: a filter ``<dimension> is <one value>`` on one of
# FILTERED_ROLLUP_FILTERS, crossed with the totals ('') and the dimensions the dashboard's first
# view breaks down. A pair costs rows every day, so both lists stay short; other filtered
# breakdowns read raw rows or the rollups per frequent value.
FILTERED_ROLLUP_FILTERS: tuple[str, ...] = ("page", "country")
FILTERED_ROLLUP_DIMENSIONS: tuple[str, ...] = ("", "page", "channel", "country", "browser")
assert not set(FILTERED_ROLLUP_DIMENSIONS) & SESSION_ONLY, "pairs are read from events too"
# Rollups per *frequent* filter value: the panels' other tabs under the same filters, kept per
# whole month for the values with at least FREQUENT_MIN_VISITS visits that month, and per day for
# the last FREQUENT_DAYS days for those with a thirtieth of that (``rollups.frequent``). A rarer
# value has few raw rows to read; the frequent ones are few, so the rows stay bounded.
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
FREQUENT_DAYS = 32
# Rows per filter value of a day are kept this many days; older days of a month the monthly rows
# hold are pruned (``rollups.prune``): a 12-month view reads the months, and a range that starts
# or ends inside such a month reads those days raw. Sites with a retention keep them (their raw
# rows go).
FILTERED_DAILY_KEEP_DAYS = 62


def _set_name(filters: tuple[str, ...], dimensions: tuple[str, ...]) -> str:
    name = f"{','.join(filters)}|{','.join(dimensions)}"
    assert re.fullmatch(r"[a-z_,|:]+", name), "inlined into generated SQL as a literal"
    return name


FILTERED_ROLLUP_SET = _set_name(FILTERED_ROLLUP_FILTERS, FILTERED_ROLLUP_DIMENSIONS)
FREQUENT_ROLLUP_SET = _set_name(FILTERED_ROLLUP_FILTERS, FREQUENT_ROLLUP_DIMENSIONS)

# A span's (rows, listing) table suffixes.
SPAN_TABLES = {"month": ("monthly", "months"), "week": ("weekly", "weeks")}


@dataclass(frozen=True, kw_only=True)
class RollupKind:
    """One kind of rollup.

    ``filters`` are the filter dimensions its rows are kept per value of (none for the plain
    kind), ``dimensions`` the breakdowns it keeps ('' = totals). ``held`` kinds keep rows only
    for some filter values, decided per day and per month: a listed day (month) holds a value
    when it has that value's totals row (dim '').
    """

    prefix: str
    filters: tuple[str, ...]
    dimensions: tuple[str, ...]
    # Per key (``day``, then the spans: ``month``, ``week``): its listing's columns after
    # ``site_id, <key>, tz``.
    listings: dict[str, tuple[str, ...]]
    marked: tuple[str, str] | None = None
    held: bool = False
    # Readers take its listed months whether or not their days are listed: the days' rows may be
    # pruned once the month holds them (``rollups.prune``), or only some values kept (held).
    months_alone: bool = False

    @property
    def keys(self) -> str:
        """Its key columns between ``site_id`` and the day (span)."""
        return "fdim, fvalue, dim" if self.filters else "dim"

    @property
    def daily(self) -> str:
        return f"{self.prefix}_daily"

    @property
    def days(self) -> str:
        return f"{self.prefix}_days"

    @property
    def spans(self) -> dict[str, tuple[str, str]]:
        """Span key (``month``, ``week``) -> its (rows, listing) tables."""
        return {
            key: tuple(f"{self.prefix}_{suffix}" for suffix in SPAN_TABLES[key])  # type: ignore[misc]
            for key in self.listings
            if key != "day"
        }

    def pairs(self) -> list[tuple[str, str]]:
        """(filter dimension, dimension) pairs of its rows; a filter on the dimension broken
        down is answered by the plain rollups themselves."""
        return [(f, d) for f in self.filters for d in self.dimensions if d != f]

    def row_columns(self, key: str) -> tuple[str, ...]:
        """The columns of its rows per ``key`` (``day``, ``month``, ``week``)."""
        return ("site_id", *self.keys.split(", "), key, "value", *PARTS)

    def listing_columns(self, key: str) -> tuple[str, ...]:
        """The columns of its listing per ``key``."""
        return ("site_id", key, "tz", *self.listings[key])

    def tables(self) -> dict[str, tuple[str, ...]]:
        """Every table of the kind -> its columns."""
        out = {self.daily: self.row_columns("day"), self.days: self.listing_columns("day")}
        for key, (rows, listing) in self.spans.items():
            out[rows] = self.row_columns(key)
            out[listing] = self.listing_columns(key)
        return out


PLAIN = RollupKind(
    prefix="rollup",
    filters=(),
    dimensions=("", *ROLLUP_DIMENSIONS),
    listings={
        "day": ("start_ms", "end_ms", "computed_at"),
        "month": ("computed_at",),
        "week": ("computed_at",),
    },
)
# The rollups per filter value keep no weeks: a filtered 30-day range reads its days.
PER_FILTER_VALUE = RollupKind(
    prefix="rollup_filtered",
    filters=FILTERED_ROLLUP_FILTERS,
    dimensions=FILTERED_ROLLUP_DIMENSIONS,
    listings={"day": ("pairs",), "month": ("pairs",)},
    marked=("pairs", FILTERED_ROLLUP_SET),
    months_alone=True,
)
PER_FREQUENT_VALUE = RollupKind(
    prefix="rollup_frequent",
    filters=FILTERED_ROLLUP_FILTERS,
    dimensions=FREQUENT_ROLLUP_DIMENSIONS,
    listings={"day": ("pairs",), "month": ("pairs", "computed_at")},
    marked=("pairs", FREQUENT_ROLLUP_SET),
    held=True,
    months_alone=True,
)
KINDS: tuple[RollupKind, ...] = (PLAIN, PER_FILTER_VALUE, PER_FREQUENT_VALUE)


@dataclass(frozen=True, kw_only=True)
class GoalRollupKind:
    """The goal rollups (``rollups.goals``): per site, goal, local day and value of each of its
    ``dimensions``, its ``parts``; listed
    per day with the goal definitions they were computed for (``goals``, SQLite's JSON text of
    the site's goals) and when, so a goal added, edited or removed, or a day whose raw rows
    changed since, reads raw until the cron has redone the day."""

    prefix: str
    # The breakdowns kept per goal ('' = the goal's totals): a goal-filtered panel's.
    dimensions: tuple[str, ...]
    parts: tuple[str, ...]
    listing: tuple[str, ...]

    @property
    def daily(self) -> str:
        return f"{self.prefix}_daily"

    @property
    def days(self) -> str:
        return f"{self.prefix}_days"

    def tables(self) -> dict[str, tuple[str, ...]]:
        """Its tables -> their columns."""
        return {
            self.daily: ("site_id", "goal_id", "dim", "day", "value", *self.parts),
            self.days: ("site_id", "day", "tz", *self.listing),
        }


# Revenue in the goal's own currency only (sql.revenue): the panel's total and average.
GOAL_ROLLUP = GoalRollupKind(
    prefix="goal_rollup",
    dimensions=("", "page", "channel", "source", "country", "device", "browser", "os"),
    parts=("visitors", "events", "revenue_sum", "revenue_n"),
    listing=("goals", "computed_at"),
)
