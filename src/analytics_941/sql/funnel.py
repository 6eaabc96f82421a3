"""A funnel as ONE statement per period, written with bound parameters only.

Order within a visit needs raw rows: a period's days are read from the funnel rollups where
they hold the day for these steps (``rollups.funnels``: a saved funnel's, or any funnel with the
same steps), and from raw events otherwise; both count the same, so the rows are summed.

* ``hits``: the raw days' events matching any step, with a bit per step in ``m`` (step K is
  ``1 << (K - 1)``), each step matched exactly as a goal is (``sql.goals``: a page step is a page
  goal of its pattern), and ``d``, the local day each was read under. The query's filters keep
  whole visits (``sql.where`` on ``sessions``: a page filter keeps the visits that viewed that
  page, not only those pageviews), so a funnel per source or device is a filter.
* ``f1`` … ``fN`` (``sql.funnel_progress``): how far each visit got within each day.
* ``frows``: the rolled-up days' rows, under no filter or one ``is`` filter on a dimension the
  rollups keep (``rollups.visit_values``); any other filter reads every day raw.
* the result: per step reached, ``visitors`` (distinct per day, summed across days, as every
  read counts them), ``visits``, and the median of the times from that step to the next
  (``median_ms``, over the visits that went on: the raw days' gaps and the rolled-up days'
  arrays of gaps together).

A visit is followed within one local day, cut at midnight (as journeys are), and only within the
period; a step done on a later visit does not count: each visit is its own way through the
funnel. Where the time goes at 10 M events is in docs/goals.md, Funnels, Speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..goals import Goal
from ..periods import bounds_ms
from ..query import Query
from ..rollups.funnels import steps_param
from ..rollups.visit_values import rolled_filter
from ..store import Param
from .compound import union_all
from .funnel_progress import median, progress_ctes
from .goals import match_goal
from .local_days import day_split_ctes, rolled_day_join, units_param
from .params import Params
from .visits import visits_clause
from .where import DAY_MS

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
    tz = params.ref(query.timezone)
    # Each step's own goal alone (so two steps of one name stay two).
    tests = [match_goal(goal, params) for goal in steps]
    # CASE WHEN tests a step as WHERE does, stopping at the first false term (bench/funnel.py:
    # about 15 % faster than the bare test as a value, which computes every term of each row).
    # Step bits are whole numbers we made: safe inlined, here and below.
    mask = " + ".join(f"CASE WHEN {test} THEN {1 << i} ELSE 0 END"
                      for i, test in enumerate(tests))
    # Only the raw days' visits (from a day before the first: a visit may cross midnight).
    window = (f"(SELECT MIN(start_ms) FROM fraw) - {DAY_MS}", "(SELECT MAX(end_ms) FROM fraw)")
    visits = visits_clause(query, site=site, start=start, end=end, params=params, window=window)
    rolled = rolled_filter(query)
    done = "SELECT NULL AS day, NULL AS fid WHERE 0"
    if rolled is not None:
        # Any listed funnel with these steps answers; two saved twins must count once.
        done = (
            "SELECT u.day AS day, MIN(f.funnel_id) AS fid FROM funits AS u "
            f"{rolled_day_join(site=site, tz=tz)} CROSS JOIN funnel_rollup_days AS f "
            f"ON f.site_id = {site} AND f.day = u.day "
            f"AND f.tz = {tz} AND f.steps = json({params.ref(steps_param(steps))}) "
            "AND f.computed_at = r.computed_at GROUP BY u.day"
        )
    dim, value = rolled or ("", "")
    ctes = [
        *day_split_ctes("f", units=params.ref(units_param(period, tz=query.zone)), done=done),
        # A rolled-up day's steps of the value (``rollups.funnels``: the rows' shape).
        "frows AS MATERIALIZED (SELECT json_extract(s.value, '$[0]') AS step, "
        "json_extract(s.value, '$[1]') AS visits, json_extract(s.value, '$[2]') AS visitors, "
        "json_extract(s.value, '$[3]') AS gaps FROM fdone AS d CROSS JOIN funnel_daily AS r "
        f"ON r.site_id = {site} AND r.funnel_id = d.fid AND r.day = d.day "
        # A row that is not valid JSON (only a hand-written one can be) counts nothing.
        f"AND r.dim = {params.ref(dim)} CROSS JOIN json_each(CASE WHEN json_valid(r.data) "
        "THEN r.data END) AS v "
        f"CROSS JOIN json_each(v.value) AS s WHERE v.key = {params.ref(value)})",
        f"hits AS MATERIALIZED (SELECT session_id AS sid, u.start_ms AS d, visitor_id AS vid, "
        f"ts, {mask} AS m FROM fraw AS u CROSS JOIN events ON site_id = {site} "
        f"AND ts >= u.start_ms AND ts < u.end_ms WHERE ({' OR '.join(tests)}){visits})",
        *progress_ctes(len(steps)),
    ]
    arms = []
    for k in range(1, len(steps) + 1):
        middle = "NULL"
        if k < len(steps):
            # The time from step K to K+1 is the gap of step K+1's rows, reported under step K.
            middle = median(f"SELECT ts - prev AS gap FROM f{k + 1} UNION ALL "
                            "SELECT j.value FROM frows AS r, json_each(r.gaps) AS j "
                            f"WHERE r.step = {k}")
        rolled_sum = f"(SELECT COALESCE(SUM({{}}), 0) FROM frows WHERE step = {k})"
        arms.append(
            f"SELECT {k} AS step, (SELECT COUNT(*) FROM (SELECT 1 FROM f{k} GROUP BY vid, d)) "
            f"+ {rolled_sum.format('visitors')} AS visitors, (SELECT COUNT(*) FROM f{k}) "
            f"+ {rolled_sum.format('visits')} AS visits, {middle} AS median_ms"
        )
    sql = (
        "WITH " + ",\n".join(ctes) + "\n"
        f"SELECT step, visitors, visits, median_ms FROM ({union_all(arms)})\n"
        "WHERE visits > 0 ORDER BY step"
    )
    return sql, params.check()
