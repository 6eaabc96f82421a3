"""The two ecommerce numbers the query path has no metric for, as statements with bound
parameters only, read raw (within raw retention) like funnels and journeys; the query's filters
keep whole visits (``visits_clause``).

* ``currencies_sql``: the currencies purchases were paid in, with their count, so the view can
  report each apart (amounts are never converted or added across currencies);
* ``time_to_purchase_sql``: the median time from a visit's start to its first purchase (the
  lower middle one for an even count), over the visits with a purchase;
* ``carts_sql``: the visits with an add to cart, and those of them with a purchase (one pass
  over the custom-events index, where two ``has_done`` queries cost ten times as much).
"""

from __future__ import annotations

from datetime import date

from ..periods import bounds_ms
from ..query import Query
from ..store import Param
from .params import Params
from .visits import visits_clause

__all__ = ["carts_sql", "currencies_sql", "time_to_purchase_sql"]


def currencies_sql(query: Query, purchase: str, *, period: tuple[date, date],
                   limit: int = 5) -> tuple[str, list[Param]]:
    """Rows ``currency``, ``orders``: the currencies of the period's purchases with revenue,
    the most used first (NULL: sent as a bare number)."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    visits = visits_clause(query, site=site, start=start, end=end, params=params)
    sql = (
        "SELECT revenue_currency AS currency, COUNT(*) AS orders FROM events "
        f"WHERE site_id = {site} AND ts >= {params.ref(start)} AND ts < {params.ref(end)} "
        f"AND name = {params.ref(purchase)} AND name <> 'pageview' AND revenue IS NOT NULL"
        f"{visits} GROUP BY 1 ORDER BY orders DESC, 1 LIMIT {params.ref(limit)}"
    )
    return sql, params.check()


def time_to_purchase_sql(query: Query, purchase: str, *,
                         period: tuple[date, date]) -> tuple[str, list[Param]]:
    """One row ``median_ms``, ``visits``: the median of (first purchase - visit start) over the
    visits of the period with a purchase (``median_ms`` NULL when there is none)."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    visits = visits_clause(query, site=site, start=start, end=end, params=params)
    sql = (
        "WITH bought AS (SELECT session_id, MIN(ts) AS ts FROM events "
        f"WHERE site_id = {site} AND ts >= {params.ref(start)} AND ts < {params.ref(end)} "
        f"AND name = {params.ref(purchase)} AND name <> 'pageview'{visits} GROUP BY 1),\n"
        "spans AS MATERIALIZED (SELECT b.ts - s.started_at AS ms FROM bought AS b "
        f"JOIN sessions AS s ON s.id = b.session_id AND s.site_id = {site})\n"
        "SELECT (SELECT ms FROM spans ORDER BY ms LIMIT 1 "
        "OFFSET (SELECT (COUNT(*) - 1) / 2 FROM spans)) AS median_ms, "
        "(SELECT COUNT(*) FROM spans) AS visits"
    )
    return sql, params.check()


def carts_sql(query: Query, add: str, purchase: str, *,
              period: tuple[date, date]) -> tuple[str, list[Param]]:
    """One row ``carts``, ``bought``: visits with an ``add`` event in the period, and those of
    them that also sent ``purchase`` in it."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    visits = visits_clause(query, site=site, start=start, end=end, params=params)
    cart, buy = params.ref(add), params.ref(purchase)
    sql = (
        f"SELECT COUNT(*) AS carts, COALESCE(SUM(bought), 0) AS bought FROM (SELECT "
        f"MAX(name = {buy}) AS bought FROM events WHERE site_id = {site} "
        f"AND ts >= {params.ref(start)} AND ts < {params.ref(end)} AND name IN ({cart}, {buy}) "
        f"AND name <> 'pageview'{visits} GROUP BY session_id HAVING MAX(name = {cart}) = 1)"
    )
    return sql, params.check()
