"""The Properties page: the custom properties events carry, and one key's values.

Keys come from ``sql.prop_keys`` (raw: keys are open-ended); a key's values are the breakdown
``event:props:<key>`` of the one query path under the page's state, so a goal filter adds each
value's conversion rate, as on the dashboard. Keys and values are visitor-sent text, escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ...cache import cache_for
from ...filters import Condition
from ...query import PROP_PREFIX
from ...runner import run_queries
from ...sites import Site
from ...sql.prop_keys import prop_keys_sql
from ...store import Store
from .state import DashboardState

__all__ = ["PropertiesPage", "load_properties_page"]

VALUE_ROWS = 100
# What the query path accepts as a key (``query._PROP_KEY``): other keys are listed, not opened.
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_MISSING = "(none)"


@dataclass(kw_only=True)
class PropertiesPage:
    keys: list[tuple[str, int]] = field(default_factory=list)
    key: str | None = None
    metrics: tuple[str, ...] = ()
    # (value, metric values in ``metrics`` order)
    rows: list[tuple[str, list[Any]]] = field(default_factory=list)


async def load_properties_page(
    store: Store, *, site: Site, state: DashboardState, key: str | None
) -> PropertiesPage:
    """The keys of the period, and the values of ``key`` (default: the most used key)."""
    base = state.query(site, metrics=("visitors",), compare=False)
    rows = await store.execute(*prop_keys_sql(base, period=base.period))
    keys = [(str(r["key"]), int(r["events"])) for r in rows if _KEY.match(str(r["key"]))]
    page = PropertiesPage(keys=keys)
    chosen = key if key and _KEY.match(key) else (keys[0][0] if keys else None)
    if chosen is None:
        return page
    metrics = ("visitors", "events", *(("group_conversion_rate",) if state.uses_goals else ()))
    dimension = f"{PROP_PREFIX}{chosen}"
    query = state.query(site, metrics=metrics, dimensions=(dimension,), compare=False,
                        limit=VALUE_ROWS,
                        search=Condition(op="is_not", dimension=dimension, values=(_MISSING,)))
    (result,) = await run_queries(store, [query], cache=cache_for(store))
    page.key, page.metrics = chosen, metrics
    page.rows = [(str(r["dimensions"][0]), list(r["metrics"])) for r in result["results"]]
    return page
