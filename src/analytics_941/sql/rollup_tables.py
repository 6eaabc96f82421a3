"""Where the two kinds of rollups live, named once for the rollup job (``rollups``) and the reader
(``sql_builder``): rows per local day and per span, each with the listing that says which are
complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .columns import FILTERED_ROLLUP_SET, FREQUENT_ROLLUP_SET

__all__ = ["PER_FILTER_VALUE", "PER_FREQUENT_VALUE", "PLAIN", "RollupTables"]


@dataclass(frozen=True, kw_only=True)
class RollupTables:
    """One kind of rollup. ``keys`` are its key columns between ``site_id`` and the day (span);
    ``spans`` maps a span (``month``, ``week``) to its (rows, listing) tables; ``marked`` is the
    column of its listings that names what their rows hold and the value it must have now.
    A ``held`` kind keeps rows only for some filter values, decided per day and per month: a
    listed day (month) holds a value when it has that value's totals row (dim '')."""

    keys: str
    daily: str
    days: str
    spans: Mapping[str, tuple[str, str]]
    marked: tuple[str, str] | None = None
    held: bool = False


PLAIN = RollupTables(
    keys="dim",
    daily="rollup_daily",
    days="rollup_days",
    spans={"month": ("rollup_monthly", "rollup_months"), "week": ("rollup_weekly", "rollup_weeks")},
)
# The rollups per filter value keep no weeks: a filtered 30-day range reads its days.
PER_FILTER_VALUE = RollupTables(
    keys="fdim, fvalue, dim",
    daily="rollup_filtered_daily",
    days="rollup_filtered_days",
    spans={"month": ("rollup_filtered_monthly", "rollup_filtered_months")},
    marked=("pairs", FILTERED_ROLLUP_SET),
)
# The rollups per frequent filter value (frequent_rollups.py): recent days and all months,
# each for the values frequent in it.
PER_FREQUENT_VALUE = RollupTables(
    keys="fdim, fvalue, dim",
    daily="rollup_frequent_daily",
    days="rollup_frequent_days",
    spans={"month": ("rollup_frequent_monthly", "rollup_frequent_months")},
    marked=("pairs", FREQUENT_ROLLUP_SET),
    held=True,
)
