"""What revenue goals' conversions carried in other currencies than the goal's (or in none), per
goal and currency: the line the Goal conversions panel lists apart (``sql.revenue``'s
``other_currencies_sql`` is the raw statement). Without filters, the days the goal rollups hold
are read from their rows per currency (``rollups.goals.CURRENCY_DIM``) and raw events only for
the others, as ``sql.goal_rollup`` does for the breakdown; with filters, raw events throughout
(a row per currency holds a goal's conversions, not those a filter keeps).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from ..goals import Goal
from ..instants import clipped
from ..periods import time_units
from ..query import Query
from ..rollups.goals import CURRENCY_DIM, goals_param
from ..rollups.kinds import GOAL_ROLLUP
from ..sql.arms import units_cte
from ..store import Param
from .goals import goal_join, goal_rows_cte
from .params import Params
from .revenue import other_currencies_sql

__all__ = ["other_currencies_statement"]


def other_currencies_statement(query: Query, goals: Sequence[Goal], *,
                               period: tuple[date, date]) -> tuple[str, list[Param]]:
    """Rows ``goal``, ``currency``, ``amount``, ``orders`` (``other_currencies_sql``'s), from
    the goal rollups where they answer."""
    if query.filters or query.interval == "hour":
        return other_currencies_sql(query, goals, period=period)
    params = Params()
    site = params.ref(query.site_id)
    tz = params.ref(query.timezone)
    units = clipped(time_units(*period, tz=query.zone, interval=None), query.clip_ms
                    if period == query.period else None)
    payload = json.dumps([list(u) for u in units.units], separators=(",", ":"))
    money = [g for g in goals if g.currency]
    named = json.dumps([[g.id, g.name, g.currency] for g in money], ensure_ascii=False,
                       separators=(",", ":"))
    ctes = [
        goal_rows_cte(money, params),
        units_cte("u", source=params.ref(payload)),
        # The days whose goal rows hold the site's goals as they are now (``sql.goal_rollup``).
        f"d AS (SELECT b.i AS i FROM u AS b JOIN rollup_days AS r ON r.site_id = {site} "
        f"AND r.day = b.day AND r.tz = {tz} AND r.start_ms = b.start_ms "
        f"AND r.end_ms = b.end_ms JOIN {GOAL_ROLLUP.days} AS l ON l.site_id = {site} "
        f"AND l.day = b.day AND l.tz = {tz} "
        f"AND l.goals = json({params.ref(goals_param(query.goals))}) "
        "AND l.computed_at = r.computed_at)",
        "gi AS (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS name, "
        f"json_extract(value, '$[2]') AS currency FROM json_each({params.ref(named)}))",
    ]
    raw = (
        "SELECT g.gname AS goal, revenue_currency AS currency, SUM(revenue) AS amount, "
        f"COUNT(*) AS orders FROM u AS b CROSS JOIN events ON events.site_id = {site} "
        f"AND events.ts >= b.start_ms AND events.ts < b.end_ms {goal_join()} "
        "WHERE b.i NOT IN (SELECT i FROM d) AND revenue IS NOT NULL "
        "AND revenue_currency IS NOT g.gcurrency GROUP BY 1, 2"
    )
    rolled = (
        "SELECT gi.name AS goal, NULLIF(r.value, '') AS currency, r.revenue_sum AS amount, "
        "r.events AS orders FROM u AS b JOIN d ON d.i = b.i CROSS JOIN gi "
        # CROSS JOIN: the goal before the rows, so each day's rows are sought by goal and dim
        # (``sql.goal_rollup.goal_rollup_arm``).
        f"CROSS JOIN {GOAL_ROLLUP.daily} AS r ON r.site_id = {site} AND r.day = b.day "
        f"AND r.goal_id = gi.id AND r.dim = {params.ref(CURRENCY_DIM)} "
        "WHERE NULLIF(r.value, '') IS NOT gi.currency"
    )
    sql = (
        f"WITH {', '.join(ctes)} SELECT goal, currency, ROUND(SUM(amount), 2) AS amount, "
        f"SUM(orders) AS orders FROM ({raw} UNION ALL {rolled}) "
        "GROUP BY 1, 2 ORDER BY 1, orders DESC, 2"
    )
    return sql, params.check()
