"""Reading a Stats API v2 request body into a ``Query``: the fields Plausible's v2 takes, its
``include`` flags, and which bodies need the site's goals.

Shared by every endpoint that takes a v2-shaped body (``api``: the query; ``funnel_api``: a
funnel; ``api_v1``: v1's parameters once read into a v2 body).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..exceptions import QueryError
from ..goals import Goal
from ..instants import instant_range
from ..query import GOAL_DIMENSION, MAX_LIMIT, Query, parse_query
from ..sites import Site
from .api_errors import readable

__all__ = ["comparison_from_include", "mentions_goals", "parse_api_body", "site_stats_start"]

_QUERY_FIELDS = {"metrics", "date_range", "dimensions", "filters", "order_by", "pagination"}
_INCLUDE = {"comparisons", "time_labels", "total_rows", "imports"}


def site_stats_start(site: Site) -> Any:
    """The site's first local day (where ``all`` begins): the day it was added."""
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(site.created_at / 1000, tz=ZoneInfo(site.timezone)).date()


def comparison_from_include(value: Any) -> Any:
    """Plausible's ``include.comparisons`` → our ``comparison`` field (None when off).

    ``{"mode": "previous_period"}``, ``{"mode": "year_over_year"}``, ``{"mode": "custom",
    "date_range": [first, last]}``; ``true`` means the previous period. Raises ``QueryError``
    naming the field for anything else — a custom comparison without its range included: turning
    the comparison off instead would answer a question the client did not ask.
    """
    if value in (None, False):
        return None
    if value is True:
        return "previous_period"
    if not isinstance(value, Mapping):
        raise QueryError(
            code="invalid_include",
            message='include.comparisons must be true or an object such as '
            '{"mode": "previous_period"}.',
        )
    mode = value.get("mode")
    if mode in ("previous_period", "year_over_year"):
        return mode
    if mode != "custom":
        raise QueryError(
            code="invalid_include",
            message="include.comparisons.mode must be previous_period, year_over_year or "
            "custom.",
        )
    date_range = value.get("date_range")
    if (
        not isinstance(date_range, list | tuple)
        or len(date_range) != 2
        or not all(isinstance(day, str) for day in date_range)
    ):
        raise QueryError(
            code="invalid_include",
            message='include.comparisons.date_range is needed with mode "custom": two dates '
            '["YYYY-MM-DD", "YYYY-MM-DD"].',
        )
    return tuple(date_range)


def mentions_goals(body: Any) -> bool:
    """True when a request body names ``event:goal`` anywhere (a dimension, a filter, an
    order) or a revenue metric (whose currency is the goals'), so its query needs the site's
    goals."""
    text = json.dumps(body, ensure_ascii=False)
    return GOAL_DIMENSION in text or "_revenue" in text


def parse_api_body(
    body: Any, *, site: Site, now: datetime | None = None, goals: Sequence[Goal] = ()
) -> tuple[Query, dict[str, Any]]:
    """Validate a v2 request body for ``site`` (whose goals are ``goals``); return the ``Query``
    and the ``include`` flags."""
    if not isinstance(body, Mapping):
        raise QueryError(code="invalid_body", message="The request body must be a JSON object.")
    unknown = set(body) - _QUERY_FIELDS - {"site_id", "include", "comparison"}
    if unknown:
        name = sorted(unknown)[0]
        known = ", ".join(sorted(_QUERY_FIELDS | {"site_id", "include"}))
        raise QueryError(code=f"invalid_{name}",
                         message=f"{name} is not a field of a query. The fields are {known}.")
    include = body.get("include") or {}
    if not isinstance(include, Mapping) or set(include) - _INCLUDE:
        raise QueryError(
            code="invalid_include",
            message=f"include must be an object with any of {', '.join(sorted(_INCLUDE))}.",
        )
    raw: dict[str, Any] = {k: v for k, v in body.items() if k in _QUERY_FIELDS}
    raw["site_id"] = site.id
    pagination = raw.get("pagination")
    if pagination is None or (isinstance(pagination, Mapping) and "limit" not in pagination):
        # Plausible's default page: 10,000 rows (the dashboard's own queries take fewer).
        raw["pagination"] = {**(pagination or {}), "limit": MAX_LIMIT}
    comparison = body.get("comparison", comparison_from_include(include.get("comparisons")))
    if comparison is not None:
        raw["comparison"] = comparison
    raw["total_rows"] = bool(include.get("total_rows"))
    raw["include_imports"] = include.get("imports") is True
    # ``24h`` and date-times: the local days they touch, cut to their instants (``instants``).
    cut = instant_range(raw.get("date_range"), timezone=site.timezone,
                        now=now or datetime.now(UTC))
    if cut is not None:
        raw["date_range"], raw["clip_ms"] = cut
    try:
        query = parse_query(
            raw, timezone=site.timezone, now=now, stats_start=site_stats_start(site), goals=goals
        )
    except QueryError as exc:
        raise readable(exc) from None
    return query, dict(include)
