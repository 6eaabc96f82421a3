"""The ``query`` a Stats API v2 answer echoes, as Plausible echoes it: the client's own names for
dimensions, filters and orders (``visit:source``, not ours), ``time`` as the bucket it became,
``order_by`` filled with the order the rows came in, and ``date_range`` as the first and last
instant in the site's zone (``2024-01-01T00:00:00+01:00`` … ``T23:59:59``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..query import TIME_DIMENSIONS, Query
from ..sites import Site

__all__ = ["echo_query", "filled_order"]


def _instant(moment: datetime, zone_name: str) -> str:
    text = moment.replace(microsecond=0).isoformat()
    # Plausible (Elixir) writes UTC itself as Z; other zones keep their offset, +00:00 included.
    return text.removesuffix("+00:00") + "Z" if zone_name in ("UTC", "Etc/UTC") else text


def echoed_range(query: Query) -> list[str]:
    """The query's first and last instant (the last to its second), in the site's zone."""
    zone = query.zone
    if query.clip_ms is not None:
        start_ms, end_ms = query.clip_ms
        first = datetime.fromtimestamp(start_ms / 1000, zone)
        last = datetime.fromtimestamp((end_ms - 1) / 1000, zone)
    else:
        first_day, last_day = query.period
        first = datetime(first_day.year, first_day.month, first_day.day, tzinfo=zone)
        last = datetime(last_day.year, last_day.month, last_day.day, tzinfo=zone) \
            + timedelta(hours=23, minutes=59, seconds=59)
    return [_instant(first, query.timezone), _instant(last, query.timezone)]


def filled_order(query: Query, names: Sequence[str]) -> list[list[str]]:
    """``order_by`` as given, or Plausible's default (the time bucket ascending, then the first
    metric descending), with dimensions under the client's ``names``."""
    shown = dict(zip(query.dimensions, names, strict=True))
    if query.order_by:
        return [[shown.get(name, name), direction] for name, direction in query.order_by]
    time = next((d for d in query.dimensions if d in TIME_DIMENSIONS), None)
    first_metric = [str(query.metrics[0]), "desc"]
    return [[shown[time], "asc"], first_metric] if time else [first_metric]


def echo_query(
    query: Query, *, site: Site, body: Mapping[str, Any], include: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``query`` of a v2 answer to ``body`` (the client's request) for ``site``."""
    asked = [str(d) for d in body.get("dimensions") or []]
    # The client's name for each dimension; "time" is echoed as the bucket it became.
    names = [name if name != "time" else ours for name, ours in zip(asked, query.dimensions,
                                                                     strict=True)]
    echo: dict[str, Any] = {
        "site_id": site.domain,
        "metrics": list(query.metrics),
        "date_range": echoed_range(query),
        "filters": list(body.get("filters") or []),
        "dimensions": names,
        "order_by": filled_order(query, names),
        "include": {key: value for key, value in include.items() if value},
        "pagination": {"limit": query.limit, "offset": query.offset},
    }
    if query.comparison_period is not None:
        echo["comparison_date_range"] = [d.isoformat() for d in query.comparison_period]
    return echo
