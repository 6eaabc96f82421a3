"""How far each visit got through a funnel, in SQL: the CTEs the funnel reader (``sql.funnel``)
and the funnel rollups (``rollups.funnels``) share, so a rolled-up day holds exactly what a raw
read of that day counts.

Both start from a CTE ``hits`` of the events matching any step: ``sid`` (the visit), ``d`` (the
local day it was read under: a visit is followed within one day, cut at midnight, as journeys
are), ``vid``, ``ts`` and ``m``, a bit per step (step K is ``1 << (K - 1)``).

``f1`` … ``fN``: per visit and day, the time it first did step 1, then the first time after that
it did step 2, and so on. Taking the earliest match at each step finds a visit's way through the
funnel whenever there is one; other events between steps do not matter. Each ``fK`` row keeps
the time of step K-1 (``prev``), so ``ts - prev`` is the time from step K-1 to step K. ``fK``
scans ``hits`` for step K's bit and looks each row's visit up in ``f(K-1)`` (CROSS JOIN fixes
that order: the other one indexes every hit once per step).
"""

from __future__ import annotations

__all__ = ["median", "progress_ctes"]


def progress_ctes(steps: int) -> list[str]:
    """The CTEs ``f1`` … ``f<steps>`` over ``hits`` (the module docstring)."""
    ctes = ["f1 AS MATERIALIZED (SELECT sid, d, vid, NULL AS prev, MIN(ts) AS ts FROM hits "
            "WHERE m & 1 GROUP BY sid, d)"]
    for k in range(2, steps + 1):
        # Step bits are whole numbers we made: safe inlined.
        ctes.append(
            f"f{k} AS MATERIALIZED (SELECT f.sid, f.d, f.vid, f.ts AS prev, MIN(h.ts) AS ts "
            f"FROM hits AS h CROSS JOIN f{k - 1} AS f ON f.sid = h.sid AND f.d = h.d "
            f"AND h.ts > f.ts WHERE h.m & {1 << (k - 1)} GROUP BY h.sid, h.d)"
        )
    return ctes


def median(rows: str) -> str:
    """SQL: the median of ``rows`` (a SELECT of one column, ``gap``): the middle value, or the
    mean of the middle two; NULL when there are none. Numbered in order, the first row past
    each middle position is the value there."""
    return (
        "(SELECT (MIN(CASE WHEN c > (t - 1) / 2 THEN gap END) + MIN(CASE WHEN c > t / 2 "
        "THEN gap END)) / 2.0 FROM (SELECT gap, ROW_NUMBER() OVER (ORDER BY gap) AS c, "
        f"COUNT(*) OVER () AS t FROM ({rows})))"
    )
