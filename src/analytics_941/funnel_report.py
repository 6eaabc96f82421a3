"""Running a funnel: ``Query`` (period, comparison, filters) and steps in, one row per step out.

The period's statement and the comparison's run in one batch (``sql.funnel`` writes them).
Each step row carries:

* ``visitors`` (and ``visits``) that reached the step in order within one visit;
* ``conversion_rate``: percent of the first step's visitors;
* ``drop_off`` / ``drop_off_rate``: visitors of the previous step who did not reach this one
  (0 for the first step);
* ``median_seconds_to_next``: the median time visits took from this step to the next (None on
  the last step, or when no visit went on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .funnels import Step, step_goals
from .goals import Goal
from .query import Query
from .resolve import resolve_filters
from .runner import change
from .sql.funnel import funnel_sql
from .store import Row, Store

__all__ = ["funnel_rows", "run_funnel"]


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def funnel_rows(steps: Sequence[Step], rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The statement's rows (steps reached only) as one row per step, zeros filled in."""
    found = {int(row["step"]): row for row in rows}
    out: list[dict[str, Any]] = []
    first = int(found[1]["visitors"]) if 1 in found else 0
    previous = first
    for k, step in enumerate(steps, start=1):
        row = found.get(k, {})
        visitors = int(row.get("visitors") or 0)
        median = row.get("median_ms")
        drop = previous - visitors if k > 1 else 0
        out.append({
            "step": k,
            "kind": step.kind,
            "label": step.target,
            "visitors": visitors,
            "visits": int(row.get("visits") or 0),
            "conversion_rate": _percent(visitors, first),
            "drop_off": drop,
            "drop_off_rate": _percent(drop, previous) if k > 1 else 0.0,
            "median_seconds_to_next": (
                round(float(median) / 1000, 1) if median is not None and k < len(steps) else None
            ),
        })
        previous = visitors
    return out


_COMPARED = ("visitors", "conversion_rate", "drop_off_rate")


async def run_funnel(
    store: Store, query: Query, steps: Sequence[Step], *, goals: Sequence[Goal]
) -> dict[str, Any]:
    """Report ``steps`` under ``query`` (its period, comparison and filters); ``goals`` are the
    site's. Raises ``FunnelError`` for a step naming a goal the site lacks."""
    matched = step_goals(steps, goals)
    query = await resolve_filters(store, query)  # regexes and Plausible values, as the runner
    statements = [funnel_sql(query, matched, period=query.period)]
    compare = query.comparison_period
    if compare is not None:
        statements.append(funnel_sql(query, matched, period=compare))
    rowsets = await store.batch(statements)
    results = funnel_rows(steps, rowsets[0])
    first, last = query.period
    meta: dict[str, Any] = {"timezone": query.timezone,
                            "date_range": [first.isoformat(), last.isoformat()]}
    if compare is not None:
        meta["comparison_date_range"] = [d.isoformat() for d in compare]
        for row, base in zip(results, funnel_rows(steps, rowsets[1]), strict=True):
            row["comparison"] = {
                **{name: base[name] for name in ("visitors", "visits", "conversion_rate",
                                                 "drop_off", "drop_off_rate",
                                                 "median_seconds_to_next")},
                "change": {name: change(_metric(name), row[name], base[name])
                           for name in _COMPARED},
            }
    return {"results": results, "meta": meta}


def _metric(name: str) -> str:
    # Rates change in points, as the runner's conversion rates do; visitors in percent.
    return "conversion_rate" if name.endswith("rate") else name
