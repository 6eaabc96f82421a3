"""A funnel as ONE statement per period, written with bound parameters only.

Order within a visit needs raw rows, so the statement reads the period's raw events (never the
rollups):

* ``hits``: the events of the period matching any step, with a bit per step in ``m`` (step K is
  ``1 << (K - 1)``), each step matched exactly as a goal is (``sql.goals``: a page step is a page
  goal of its pattern). The query's filters keep whole visits (``sql.where`` on ``sessions``: a
  page filter keeps the visits that viewed that page, not only those pageviews), so a funnel per
  source or device is a filter.
* ``f1`` … ``fN``: per visit, the time it first did step 1, then the first time after that it
  did step 2, and so on. Taking the earliest match at each step finds a visit's way through the
  funnel whenever there is one; other events between steps do not matter. Each ``fK`` row also
  keeps the time of step K-1 (``prev``), so ``ts - prev`` is the time the visit took from step
  K-1 to step K. ``fK`` scans ``hits`` for step K's bit and looks each row's visit up in
  ``f(K-1)`` (CROSS JOIN fixes that order: the other one indexes every hit once per step).
* the result: per step reached, ``visitors`` (distinct visitor ids), ``visits``, and the median of
  the times from that step to the next (``median_ms``, over the visits that went on), read from
  ``f(K+1)`` sorted, at its middle (no window over the rows).

A visit's steps count only within the period, and a step done on a later visit does not count:
each visit is its own way through the funnel. Where the time goes at 10 M events (reading the
range is most of it) is in docs/goals.md, Funnels, Speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..goals import Goal
from ..periods import bounds_ms
from ..query import Query
from ..store import Param
from .goals import match_goal
from .params import Params
from .visits import visits_clause

__all__ = ["funnel_sql"]


def funnel_sql(
    query: Query, steps: Sequence[Goal], *, period: tuple[date, date]
) -> tuple[str, list[Param]]:
    """The statement reporting ``steps`` (each as a goal: ``funnels.step_goals``) over
    ``period`` under ``query``'s filters: rows ``step, visitors, visits, median_ms`` for the
    steps some visit reached (1-based, in order)."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    # Each step's own goal alone (so two steps of one name stay two).
    tests = [match_goal(goal, params) for goal in steps]
    # CASE WHEN tests a step as WHERE does, stopping at the first false term (bench/funnel.py:
    # about 15 % faster than the bare test as a value, which computes every term of each row).
    # Step bits are whole numbers we made: safe inlined, here and below.
    mask = " + ".join(f"CASE WHEN {test} THEN {1 << i} ELSE 0 END"
                      for i, test in enumerate(tests))
    visits = visits_clause(query, site=site, start=start, end=end, params=params)
    ctes = [
        f"hits AS MATERIALIZED (SELECT session_id AS sid, visitor_id AS vid, ts, {mask} AS m "
        f"FROM events WHERE site_id = {site} AND ts >= {params.ref(start)} "
        f"AND ts < {params.ref(end)} AND ({' OR '.join(tests)}){visits})",
        "f1 AS MATERIALIZED (SELECT sid, vid, NULL AS prev, MIN(ts) AS ts FROM hits "
        "WHERE m & 1 GROUP BY sid)",
    ]
    for k in range(2, len(steps) + 1):
        ctes.append(
            f"f{k} AS MATERIALIZED (SELECT f.sid, f.vid, f.ts AS prev, MIN(h.ts) AS ts "
            f"FROM hits AS h CROSS JOIN f{k - 1} AS f ON f.sid = h.sid AND h.ts > f.ts "
            f"WHERE h.m & {1 << (k - 1)} GROUP BY h.sid)"
        )
    arms = []
    for k in range(1, len(steps) + 1):
        median = "NULL"
        if k < len(steps):
            # The time from step K to K+1 is the gap of step K+1's rows, reported under step K:
            # the middle one, or the mean of the middle two.
            n = f"(SELECT COUNT(*) FROM f{k + 1})"
            median = (f"(SELECT AVG(gap) FROM (SELECT ts - prev AS gap FROM f{k + 1} "
                      f"ORDER BY gap LIMIT 2 - {n} % 2 OFFSET ({n} - 1) / 2))")
        arms.append(f"SELECT {k} AS step, COUNT(DISTINCT vid) AS visitors, COUNT(*) AS visits, "
                    f"{median} AS median_ms FROM f{k}")
    sql = (
        "WITH " + ",\n".join(ctes) + "\n"
        "SELECT step, visitors, visits, median_ms FROM (" + "\nUNION ALL ".join(arms) + ")\n"
        "WHERE visits > 0 ORDER BY step"
    )
    return sql, params.check()
