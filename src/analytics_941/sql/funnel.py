"""A funnel as ONE statement per period, written with bound parameters only.

Order within a visit needs raw rows, so the statement reads the period's raw events (never the
rollups):

* ``hits``: the events of the period matching any step, with one 0/1 column per step (``s1`` …),
  each step matched exactly as a goal is (``sql.goals``: a page step is a page goal of its
  pattern). The query's filters keep whole visits (``sql.where`` on ``sessions``: a page filter
  keeps the visits that viewed that page, not only those pageviews), so a funnel per source or
  device is a filter.
* ``f1`` … ``fN``: per visit, the time it first did step 1, then the first time after that it
  did step 2, and so on. Taking the earliest match at each step finds a visit's way through the
  funnel whenever there is one; other events between steps do not matter. Each ``fK`` row also
  keeps the time of step K-1 (``prev``), so ``ts - prev`` is the time the visit took from step
  K-1 to step K.
* the result: per step reached, ``visitors`` (distinct visitor ids), ``visits``, and the median of
  the times from that step to the next (``median_ms``, over the visits that went on).

A visit's steps count only within the period, and a step done on a later visit does not count:
each visit is its own way through the funnel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..filters import Condition
from ..goals import Goal
from ..periods import bounds_ms
from ..query import GOAL_DIMENSION, Query
from ..store import Param
from .goals import goal_test
from .params import Params
from .visits import visits_clause

__all__ = ["funnel_sql"]


def _step_test(goal: Goal, params: Params) -> str:
    # The goal filter's own match, for this one goal alone (so two steps of one name stay two).
    condition = Condition(op="is", dimension=GOAL_DIMENSION, values=(goal.name,))
    return goal_test(condition, [goal], params)


def funnel_sql(
    query: Query, steps: Sequence[Goal], *, period: tuple[date, date]
) -> tuple[str, list[Param]]:
    """The statement reporting ``steps`` (each as a goal: ``funnels.step_goals``) over
    ``period`` under ``query``'s filters: rows ``step, visitors, visits, median_ms`` for the
    steps some visit reached (1-based, in order)."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    tests = [_step_test(goal, params) for goal in steps]
    # CASE WHEN tests a step as WHERE does, stopping at the first false term (bench/funnel.py:
    # about 15 % faster than the bare test as a value, which computes every term of each row).
    flags = ", ".join(f"CASE WHEN {test} THEN 1 ELSE 0 END AS s{i}"
                      for i, test in enumerate(tests, start=1))
    visits = visits_clause(query, site=site, start=start, end=end, params=params)
    ctes = [
        f"hits AS MATERIALIZED (SELECT session_id AS sid, visitor_id AS vid, ts, {flags} "
        f"FROM events WHERE site_id = {site} AND ts >= {params.ref(start)} "
        f"AND ts < {params.ref(end)} AND ({' OR '.join(tests)}){visits})",
        "f1 AS (SELECT sid, vid, NULL AS prev, MIN(ts) AS ts FROM hits WHERE s1 GROUP BY sid)",
    ]
    # Step numbers are whole numbers we made: safe inlined.
    for k in range(2, len(steps) + 1):
        ctes.append(
            f"f{k} AS (SELECT f.sid, f.vid, f.ts AS prev, MIN(h.ts) AS ts FROM f{k - 1} AS f "
            f"JOIN hits AS h ON h.sid = f.sid AND h.ts > f.ts WHERE h.s{k} GROUP BY f.sid)"
        )
    reached = " UNION ALL ".join(
        f"SELECT {k} AS step, vid, ts - prev AS gap FROM f{k}" for k in range(1, len(steps) + 1)
    )
    ctes += [
        f"reached AS ({reached})",
        # The time from step K to K+1 is the gap of step K+1's rows, reported under step K.
        "gaps AS (SELECT step - 1 AS step, gap, "
        "ROW_NUMBER() OVER (PARTITION BY step ORDER BY gap) AS rn, "
        "COUNT(*) OVER (PARTITION BY step) AS n FROM reached WHERE step > 1)",
    ]
    sql = (
        "WITH " + ",\n".join(ctes) + "\n"
        "SELECT r.step AS step, r.visitors AS visitors, r.visits AS visits, "
        "m.median_ms AS median_ms\n"
        "FROM (SELECT step, COUNT(DISTINCT vid) AS visitors, COUNT(*) AS visits FROM reached "
        "GROUP BY step) AS r\n"
        "LEFT JOIN (SELECT step, AVG(gap) AS median_ms FROM gaps "
        "WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY step) AS m ON m.step = r.step\n"
        "ORDER BY r.step"
    )
    return sql, params.check()
