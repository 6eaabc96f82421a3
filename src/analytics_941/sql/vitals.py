"""Core Web Vitals metrics: the 75th percentile of each vital and Google's good / needs
improvement / poor shares, per time bucket and dimension values, from ``web_vitals`` (one row per
page view that reported any, migration 0019) joined to its pageview in ``events``.

Percentiles are not sums of parts, so these metrics never come from rollups: the builder reads
them as a side of their own (``web_vitals``) beside the events and sessions sides, with the same
units, dimension expressions and filters as the events side (the pageview row carries them).
The 75th percentile is the nearest-rank one (the smallest value with at least 75 % of the
values at or below it), a value that occurred, computed with window functions because SQLite has
no percentile aggregate. A metric with no value in a group is NULL, not 0: no measurement is not
a fast page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["NULLABLE_METRICS", "VITALS", "VITALS_METRICS", "Vital", "vitals_side"]


@dataclass(frozen=True)
class Vital:
    """One Core Web Vital: its column, the factor from stored to shown units, and Google's
    thresholds in shown units (good up to ``good``, poor above ``poor``)."""

    name: str
    column: str
    scale: float
    good: float
    poor: float
    unit: str

    def stored(self, value: float) -> int:
        """A threshold in the column's units (CLS is stored in ten-thousandths)."""
        return round(value * self.scale)


VITALS: tuple[Vital, ...] = (
    Vital("lcp", "lcp_ms", 1, 2500, 4000, "ms"),
    Vital("inp", "inp_ms", 1, 200, 500, "ms"),
    Vital("cls", "cls_e4", 10_000, 0.1, 0.25, ""),
    Vital("fcp", "fcp_ms", 1, 1800, 3000, "ms"),
    Vital("ttfb", "ttfb_ms", 1, 800, 1800, "ms"),
)
SHARES = ("good", "needs_improvement", "poor")
# Page views that reported any web vital: how many measurements a row stands on.
SAMPLES = "vitals_pageviews"
VITALS_METRICS: frozenset[str] = frozenset({
    SAMPLES, *(v.name for v in VITALS), *(f"{v.name}_{s}" for v in VITALS for s in SHARES),
})
# The metrics that are NULL, not 0, where nothing was measured.
NULLABLE_METRICS = VITALS_METRICS - {SAMPLES}


def _finals(vital: Vital) -> dict[str, str]:
    column, rank, count = vital.column, f"{vital.name}_r", f"{vital.name}_n"
    p75 = f"MIN(CASE WHEN 4 * {rank} >= 3 * {count} THEN {column} END)"
    if vital.scale != 1:
        p75 = f"ROUND({p75} / {float(vital.scale)}, 4)"
    good, poor = vital.stored(vital.good), vital.stored(vital.poor)

    def share(test: str) -> str:
        return f"ROUND(100.0 * COUNT(CASE WHEN {test} THEN 1 END) / COUNT({column}), 1)"

    return {
        vital.name: p75,
        f"{vital.name}_good": share(f"{column} <= {good}"),
        f"{vital.name}_needs_improvement": share(f"{column} > {good} AND {column} <= {poor}"),
        f"{vital.name}_poor": share(f"{column} > {poor}"),
    }


FINALS: dict[str, str] = {SAMPLES: "COUNT(*)"}
for _vital in VITALS:
    FINALS.update(_finals(_vital))


def vitals_side(
    *,
    metrics: Sequence[str],
    units: str,
    site: str,
    dimensions: Sequence[tuple[str, str]],
    where: Sequence[str],
    grouped: bool,
) -> str:
    """The side's CTE body: ``t``, the dimension aliases and ``metrics`` per group.

    ``units`` is the period's units CTE, ``dimensions`` (alias, expression on ``events``) pairs,
    ``where`` the events side's filter clauses; ``grouped`` is False for totals (one row).
    """
    aliases = [alias for alias, _ in dimensions]
    keys = ["t", *aliases] if grouped else []
    vitals = [v for v in VITALS if any(m == v.name or m.startswith(f"{v.name}_") for m in metrics)]
    # web_vitals' key columns renamed, so the filters' bare names (events columns) stay unique.
    rows = (
        f"SELECT b.t AS t, {''.join(f'{e} AS {a}, ' for a, e in dimensions)}"
        + ", ".join(f"w.{v.column} AS {v.column}" for v in VITALS)
        + f" FROM {units} AS b CROSS JOIN (SELECT site_id AS w_site, ts AS w_ts, "
        f"event_id AS w_id, {', '.join(v.column for v in VITALS)} FROM web_vitals) AS w "
        f"ON w.w_site = {site} AND w.w_ts >= b.start_ms AND w.w_ts < b.end_ms "
        "CROSS JOIN events ON events.site_id = w.w_site AND events.ts = w.w_ts "
        "AND events.id = w.w_id"
        + (" WHERE " + " AND ".join(where) if where else "")
    )
    partition = f"PARTITION BY {', '.join(keys)} " if keys else ""
    # Each vital's rank among the group's values (NULLs last) and their count.
    windows = [
        f"row_number() OVER ({partition}ORDER BY {v.column} IS NULL, {v.column}) AS {v.name}_r, "
        f"COUNT({v.column}) OVER ({partition.strip() or ''}) AS {v.name}_n"
        for v in vitals
    ]
    ranked = f"SELECT *{''.join(', ' + w for w in windows)} FROM ({rows})"
    selected = [*(keys or ["0 AS t"]), *(f"{FINALS[m]} AS {m}" for m in metrics)]
    body = f"SELECT {', '.join(selected)} FROM ({ranked})"
    return body + (f" GROUP BY {', '.join(keys)}" if keys else "")
