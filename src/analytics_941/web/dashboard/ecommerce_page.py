"""The Ecommerce page: for a site sending ``Product view``, ``Add to cart``, ``Begin checkout``
and ``Purchase`` (names per site: ``Settings.ecommerce_events``), its orders, revenue per
currency, average order value, conversion rate, cart abandonment, checkout drop-off, product
performance by a ``product`` prop and the median time to purchase within a visit.

Every number but three comes from the one query path under the page's state (period, filters):
the four events become goals of this page only (``shop:`` names, never stored), so orders,
revenue, AOV and conversion rate are exactly what the Stats API answers for a revenue goal on
the purchase event. Revenue is reported per currency, never converted or added across
(``sql.revenue``); the checkout drop-off is ``funnel_report.run_funnel`` over the four steps;
the purchase currencies, the cart abandonment and the median time to purchase are
``sql.ecommerce``'s (visits with an add to cart among the period's events). All read raw
events (goals and revenue are never in the rollups), so the page covers raw retention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ...cache import cache_for
from ...filters import Condition
from ...funnel_report import run_funnel
from ...funnels import Step
from ...goals import Goal
from ...query import GOAL_DIMENSION, PROP_PREFIX, Query
from ...runner import run_queries
from ...sites import Site
from ...sql.ecommerce import carts_sql, currencies_sql, time_to_purchase_sql
from ...store import Store
from .site_goals import read_goals
from .state import DashboardState

__all__ = ["SHOP_DEFAULTS", "EcommercePage", "ShopEvents", "load_ecommerce_page"]

# The events a shop sends by default, and the prop naming the product (docs/goals.md).
SHOP_DEFAULTS: dict[str, str] = {
    "product_view": "Product view",
    "add_to_cart": "Add to cart",
    "begin_checkout": "Begin checkout",
    "purchase": "Purchase",
    "product_prop": "product",
}
STEPS = ("product_view", "add_to_cart", "begin_checkout", "purchase")
PRODUCT_ROWS = 20
# Currencies reported apart, the most used first; beyond these a currency is left out.
CURRENCIES = 3
_NAME = "shop:"


@dataclass(frozen=True, kw_only=True)
class ShopEvents:
    """A site's shop event names and product prop."""

    product_view: str
    add_to_cart: str
    begin_checkout: str
    purchase: str
    product_prop: str

    @classmethod
    def for_site(cls, configured: Mapping[str, Mapping[str, str]], domain: str) -> ShopEvents:
        """The defaults, overridden by the site's entry of ``Settings.ecommerce_events``."""
        return cls(**{**SHOP_DEFAULTS, **configured.get(domain, {})})

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(getattr(self, key) for key in STEPS)


@dataclass(frozen=True, kw_only=True)
class Revenue:
    """Orders paid in one currency: their count, total and average (Plausible's value shape)."""

    currency: str
    orders: int
    # None when the amounts add up past a float (sql.revenue.money).
    total: dict[str, Any] | None
    average: dict[str, Any] | None


@dataclass(frozen=True, kw_only=True)
class Product:
    """One product: views, adds to cart, purchases, and revenue per currency (long forms)."""

    name: str
    views: int
    adds: int
    purchases: int
    revenue: list[str]


@dataclass(kw_only=True)
class EcommercePage:
    """What ``ecommerce.html`` shows; ``empty`` when the period has none of the four events."""

    events: ShopEvents
    empty: bool = True
    orders: int = 0
    buyers: int = 0
    conversion_rate: float = 0.0
    revenue: list[Revenue] = field(default_factory=list)
    unpriced_orders: int = 0
    carts: int = 0
    abandoned: int = 0
    funnel: list[dict[str, Any]] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    median_seconds: float | None = None
    # The first currency's revenue per time bucket: (label, value).
    series: list[tuple[str, float]] = field(default_factory=list)

    @property
    def abandonment_rate(self) -> float:
        """Percent of visits with an add to cart that bought nothing."""
        return round(100 * self.abandoned / self.carts, 1) if self.carts else 0.0


def _goals(site: Site, events: ShopEvents, currencies: list[str]) -> tuple[Goal, ...]:
    """This page's goals: one per step, and a revenue goal on the purchase per currency."""
    steps = [Goal(id=f"{_NAME}{k}", site_id=site.id, name=f"{_NAME}{k}", kind="event",
                  target=name) for k, name in zip(STEPS, events.steps, strict=True)]
    money = [Goal(id=f"{_NAME}{c}", site_id=site.id, name=f"{_NAME}purchase:{c}", kind="event",
                  target=events.purchase, currency=c) for c in currencies]
    return (*steps, *money)


def _goal(name: str) -> Condition:
    return Condition(op="is", dimension=GOAL_DIMENSION, values=(name,))


async def load_ecommerce_page(
    store: Store, *, site: Site, state: DashboardState, events: ShopEvents
) -> EcommercePage:
    """The page for ``state``: two raw statements, one query batch, one funnel batch."""
    real = await read_goals(store, site.id)
    state = replace(state, goals=(*real, *_goals(site, events, [])))
    base = state.query(site, metrics=("visitors",), compare=False)
    period = base.period
    found, timing, carted = await store.batch([
        currencies_sql(base, events.purchase, period=period),
        time_to_purchase_sql(base, events.purchase, period=period),
        carts_sql(base, events.add_to_cart, events.purchase, period=period),
    ])
    currencies = [str(r["currency"]) for r in found if r["currency"]][:CURRENCIES]
    orders_in = {str(r["currency"]): int(r["orders"]) for r in found if r["currency"]}
    state = replace(state, goals=(*real, *_goals(site, events, currencies)))
    page = EcommercePage(events=events)

    def q(metrics: tuple[str, ...], *, goal: str | None = None, dims: tuple[str, ...] = (),
          name: str | None = None, limit: int = 100) -> Query:
        search = _goal(goal) if goal else (
            Condition(op="is", dimension="event:name", values=(name,)) if name else None)
        return state.query(site, metrics=metrics, dimensions=dims, search=search,
                           compare=False, limit=limit)

    prop = (f"{PROP_PREFIX}{events.product_prop}",)
    step_counts = q(("visitors", "events"), dims=("event:name",), limit=1000)
    step_counts = step_counts.model_copy(update={"filters": (
        *step_counts.filters,
        Condition(op="is", dimension="event:name", values=events.steps))})
    queries = [
        step_counts,
        q(("visitors", "events", "conversion_rate"), goal=f"{_NAME}purchase"),
        *(q(("events",), dims=prop, name=n, limit=PRODUCT_ROWS * 5)
          for n in (events.product_view, events.add_to_cart, events.purchase)),
    ]
    interval = "time:day" if (period[1] - period[0]).days <= 92 else "time:month"
    for c in currencies:
        goal = f"{_NAME}purchase:{c}"
        queries += [q(("events", "total_revenue", "average_revenue"), goal=goal),
                    q(("total_revenue",), goal=goal, dims=prop, limit=PRODUCT_ROWS * 5)]
    if currencies:
        queries.append(q(("total_revenue",), goal=f"{_NAME}purchase:{currencies[0]}",
                         dims=(interval,), limit=1000))
    results = await run_queries(store, queries, cache=cache_for(store))
    counts, buying, views, adds, buys, *money = results
    sent = {str(r["dimensions"][0]): r["metrics"] for r in counts["results"]}
    if not sent:
        return page
    page.empty = False
    ((buyers, orders, rate),) = [r["metrics"] for r in buying["results"]] or [(0, 0, 0.0)]
    page.buyers, page.orders, page.conversion_rate = int(buyers), int(orders), float(rate)
    page.carts = int(carted[0]["carts"]) if carted else 0
    page.abandoned = page.carts - (int(carted[0]["bought"]) if carted else 0)
    by_product: dict[str, list[Any]] = {}
    for k, result in enumerate((views, adds, buys)):
        for r in result["results"]:
            by_product.setdefault(str(r["dimensions"][0]), [0, 0, 0, []])[k] = int(r["metrics"][0])
    for i, c in enumerate(currencies):
        total, per_product = money[2 * i], money[2 * i + 1]
        ((_events, amount, average),) = [r["metrics"] for r in total["results"]]
        page.revenue.append(Revenue(currency=c, orders=orders_in[c], total=amount,
                                    average=average))
        for r in per_product["results"]:
            value = r["metrics"][0]
            if value and value["value"] and str(r["dimensions"][0]) in by_product:
                by_product[str(r["dimensions"][0])][3].append(value["long"])
    page.unpriced_orders = page.orders - sum(orders_in.get(c, 0) for c in currencies)
    ranked = sorted(by_product.items(), key=lambda kv: (-kv[1][2], -kv[1][0], kv[0]))
    page.products = [Product(name=n, views=v[0], adds=v[1], purchases=v[2], revenue=v[3])
                     for n, v in ranked if n != "(none)"][:PRODUCT_ROWS]
    if currencies:
        # A bucket whose amounts add up past a float has no value (sql.revenue.money): left out.
        page.series = [(str(r["dimensions"][0]), float(r["metrics"][0]["value"]))
                       for r in money[-1]["results"] if r["metrics"][0]]
    median = timing[0]["median_ms"] if timing else None
    page.median_seconds = round(float(median) / 1000, 1) if median is not None else None
    steps = [Step(kind="goal", target=f"{_NAME}{k}") for k in STEPS]
    funnel = await run_funnel(store, base, steps, goals=state.goals)
    page.funnel = [row | {"label": name} for row, name in
                   zip(funnel["results"], events.steps, strict=True)]
    return page
