"""Revenue metrics (``total_revenue``, ``average_revenue``), per currency, never added across.

Events keep the ISO 4217 code their revenue was sent in (``revenue_currency``, migration 0024).
A revenue goal is an event goal with a currency; as in Plausible, the query's goals decide which
currency its revenue is reported in (``revenue_currencies``):

* the goals the top-level ``event:goal`` filters name hold one currency: every row reports in
  it;
* an ``event:goal`` breakdown: each goal's row in its own currency (NULL for a goal without one);
* no goal filter nor breakdown, no revenue goal named, or several currencies without the
  breakdown: the metrics are NULL with Plausible's warning.

Only amounts sent in that currency are summed: an amount in another currency (or in none) is
left out of the metric, never converted or added; ``other_currencies_sql`` sums what was left
out, per goal and currency, so the dashboard reports it apart. These metrics are not sums the
rollups keep: a query asking for them reads raw events (within raw retention).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal

from ..goals import Goal
from ..periods import bounds_ms
from ..query import GOAL_DIMENSION, Query
from ..store import Param
from .conversions import goals_broken_down
from .goals import goal_join, goal_rows_cte
from .metrics import REVENUE_METRICS
from .params import Params
from .where import filters_sql

__all__ = [
    "REVENUE_METRICS",
    "WARNINGS",
    "RevenueCurrencies",
    "currency_parts",
    "money",
    "other_currencies_sql",
    "revenue_currencies",
    "revenue_parts",
]

# Plausible's warnings, word for word.
WARNINGS = {
    "no_revenue_goals_matching":
        "Revenue metrics are null as there are no matching revenue goals.",
    "no_single_revenue_currency":
        "Revenue metrics are null as there are multiple currencies for the selected event:goals.",
}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


@dataclass(frozen=True)
class RevenueCurrencies:
    """The currency every row reports in (``default``), or each goal's (``per_goal``), or the
    ``warning`` code saying why the metrics are NULL."""

    default: str | None = None
    per_goal: dict[str, str] = field(default_factory=dict)
    warning: str | None = None

    def of_row(self, goal: str | None) -> str | None:
        """The currency of a result row (``goal``: its ``event:goal`` value, if broken down)."""
        return self.per_goal.get(goal or "") if self.per_goal else self.default


def revenue_currencies(query: Query) -> RevenueCurrencies:
    """Which currency ``query``'s revenue is reported in (Plausible's rules, module docstring)."""
    if GOAL_DIMENSION not in query.dimensions and not query.goal_filters:
        # Plausible's rule: without a goal filter or breakdown no goal's currency applies.
        return RevenueCurrencies(warning="no_revenue_goals_matching")
    chosen = {g.name: g.currency for g in goals_broken_down(query) if g.currency}
    currencies = sorted(set(chosen.values()))
    if not currencies:
        return RevenueCurrencies(warning="no_revenue_goals_matching")
    if GOAL_DIMENSION in query.dimensions:
        return RevenueCurrencies(per_goal=chosen)
    if len(currencies) == 1:
        return RevenueCurrencies(default=currencies[0])
    return RevenueCurrencies(warning="no_single_revenue_currency")


def revenue_parts(query: Query, params: Params) -> dict[str, str]:
    """The revenue parts' SQL for ``query``'s events side: amounts in the reported currency
    only (the goal row's ``g.gcurrency`` in a goal breakdown, else one bound code)."""
    currencies = revenue_currencies(query)
    if currencies.per_goal:
        code = "g.gcurrency"
    elif currencies.default:
        code = params.ref(currencies.default)
    else:
        code = "NULL"
    return currency_parts(code)


def currency_parts(code: str) -> dict[str, str]:
    """The revenue parts' SQL for the amounts sent in the currency SQL ``code`` names (the goal
    rollups' writer uses it too, ``rollups.goals``)."""
    same = f"revenue_currency = {code}"
    return {
        "revenue_sum": f"SUM(CASE WHEN {same} THEN revenue END)",
        "revenue_n": f"COUNT(CASE WHEN {same} AND revenue IS NOT NULL THEN 1 END)",
    }


def _grouped(amount: float) -> str:
    return f"{amount:,.2f}"


# Enough digits for any finite float to one decimal (the default 28 fail above 1e27: a visitor
# may send any amount, and a sum of them may be far larger).
_WIDE = Context(prec=400)


def _one_decimal(amount: float) -> str:
    # Half up, as money is rounded (format() would round 25.25 to 25.2).
    text = str(Decimal(str(amount)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP,
                                             context=_WIDE))
    return text.removesuffix(".0")


def _short(amount: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= limit:
            return _one_decimal(amount / limit) + suffix
    return _one_decimal(amount)


def money(amount: float | None, currency: str | None) -> dict[str, object] | None:
    """Plausible's revenue value: ``{"short": "€1.2K", "long": "€1,234.56", "value": 1234.56,
    "currency": "EUR"}``; None without a currency (nothing to report it in)."""
    if currency is None:
        return None
    value = round(float(amount or 0), 2)
    if not math.isfinite(value):
        # Stored amounts whose sum overflows a float: no number to report (JSON has none).
        return None
    symbol = _SYMBOLS.get(currency)
    sign, size = ("-" if value < 0 else ""), abs(value)
    if symbol:
        short, long = f"{sign}{symbol}{_short(size)}", f"{sign}{symbol}{_grouped(size)}"
    else:
        short, long = f"{sign}{_short(size)} {currency}", f"{sign}{_grouped(size)} {currency}"
    return {"short": short, "long": long, "value": value, "currency": currency}


def other_currencies_sql(query: Query, goals: Sequence[Goal], *,
                         period: tuple[date, date]) -> tuple[str, list[Param]]:
    """Rows ``goal``, ``currency``, ``amount``, ``orders``: per revenue goal, what its
    conversions of ``period`` (under ``query``'s filters) carried in another currency than the
    goal's, or in none: what the goal's total leaves out, to be shown apart."""
    params = Params()
    site = params.ref(query.site_id)
    start, end = bounds_ms(*period, tz=query.zone)
    where = filters_sql(query.filters, table="events", site=site, bounds=(start, end),
                        params=params, goals=query.goals)
    rows = goal_rows_cte([g for g in goals if g.currency], params)
    sql = (
        f"WITH {rows} SELECT g.gname AS goal, revenue_currency AS currency, "
        "ROUND(SUM(revenue), 2) AS amount, COUNT(*) AS orders FROM events "
        f"{goal_join()} WHERE site_id = {site} AND ts >= {params.ref(start)} "
        f"AND ts < {params.ref(end)} AND revenue IS NOT NULL "
        "AND revenue_currency IS NOT g.gcurrency"
        + "".join(f" AND {clause}" for clause in where)
        + " GROUP BY 1, 2 ORDER BY 1, orders DESC, 2"
    )
    return sql, params.check()
