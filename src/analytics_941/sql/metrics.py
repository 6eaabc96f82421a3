"""Metrics as sums of additive parts, so raw rows and rollup rows combine the same way.

Every metric is computed in two steps: *parts* aggregated per counting unit (a local day, or an
hour for ``time:hour``) and dimension values, then *finals* over the summed parts. Visitors are
distinct per unit and summed across units (the visitor hash rotates daily: Plausible's
convention). Ratios (bounce rate, duration, views per visit, time on page, scroll depth) are
ratios of sums, never averages of averages, which is what makes a month of daily rollups give
exactly the number raw events give.

Rounding: bounce rate, durations and scroll depth are whole numbers, views per visit has two
decimals. A ratio over nothing is 0, not NULL.
"""

from __future__ import annotations

__all__ = [
    "EVENT_METRICS",
    "EVENT_PARTS",
    "FINALS",
    "PARTS",
    "REVENUE_METRICS",
    "SESSION_DRIVEN_PARTS",
    "SESSION_METRICS",
    "SESSION_PARTS",
    "parts_for",
]

# Parts aggregated from `events` per unit and dimension values.
EVENT_PARTS: dict[str, str] = {
    "visitors": "COUNT(DISTINCT visitor_id)",
    "pageviews": "COUNT(CASE WHEN name = 'pageview' THEN 1 END)",
    "events": "COUNT(*)",
    "engaged_ms": "SUM(CASE WHEN name = 'pageview' THEN engaged_ms END)",
    "engaged_n": "COUNT(CASE WHEN name = 'pageview' AND engaged_ms IS NOT NULL THEN 1 END)",
    "scroll_sum": "SUM(CASE WHEN name = 'pageview' THEN scroll_depth END)",
    "scroll_n": "COUNT(CASE WHEN name = 'pageview' AND scroll_depth IS NOT NULL THEN 1 END)",
}
# Parts aggregated from `sessions` (bucketed by start).
SESSION_PARTS: dict[str, str] = {
    "visits": "COUNT(*)",
    "bounces": "SUM(is_bounce)",
    "duration_ms": "SUM(duration_ms)",
    "visit_pageviews": "SUM(pageviews)",
}
# When a visit-only dimension (entry / exit page) drives the query, the event-level counts come
# from the visits themselves.
SESSION_DRIVEN_PARTS: dict[str, str] = {
    "visitors": "COUNT(DISTINCT visitor_id)",
    "pageviews": "SUM(pageviews)",
    "events": "SUM(events)",
}
PARTS: tuple[str, ...] = (*EVENT_PARTS, *SESSION_PARTS)
# Revenue parts (``sql.revenue`` writes them for the query's currency): read raw only, never
# rolled up, so not in ``PARTS``.
REVENUE_PARTS: tuple[str, ...] = ("revenue_sum", "revenue_n")
REVENUE_METRICS = frozenset({"total_revenue", "average_revenue"})


def _whole(ratio: str) -> str:
    return f"COALESCE(CAST(ROUND({ratio}) AS INTEGER), 0)"


# Metric -> its final expression over summed parts.
FINALS: dict[str, str] = {
    "visitors": "COALESCE(SUM(visitors), 0)",
    "pageviews": "COALESCE(SUM(pageviews), 0)",
    "events": "COALESCE(SUM(events), 0)",
    "time_on_page": _whole("SUM(engaged_ms) / 1000.0 / SUM(engaged_n)"),
    "scroll_depth": _whole("1.0 * SUM(scroll_sum) / SUM(scroll_n)"),
    "visits": "COALESCE(SUM(visits), 0)",
    "bounce_rate": _whole("100.0 * SUM(bounces) / SUM(visits)"),
    "visit_duration": _whole("SUM(duration_ms) / 1000.0 / SUM(visits)"),
    "views_per_visit": "COALESCE(ROUND(1.0 * SUM(visit_pageviews) / SUM(visits), 2), 0)",
    # NULL where nothing was sent in the currency; the runner shows it as 0 of that currency.
    "total_revenue": "ROUND(SUM(revenue_sum), 2)",
    "average_revenue": "ROUND(SUM(revenue_sum) / SUM(revenue_n), 2)",
}
# Which side each metric's parts come from ("percentage" is the runner's: visitors / total).
EVENT_METRICS = frozenset({"visitors", "pageviews", "events", "time_on_page", "scroll_depth",
                           *REVENUE_METRICS})
SESSION_METRICS = frozenset({"visits", "bounce_rate", "visit_duration", "views_per_visit"})
_NEEDS = {
    "visitors": ("visitors",),
    "pageviews": ("pageviews",),
    "events": ("events",),
    "time_on_page": ("engaged_ms", "engaged_n"),
    "scroll_depth": ("scroll_sum", "scroll_n"),
    "visits": ("visits",),
    "bounce_rate": ("bounces", "visits"),
    "visit_duration": ("duration_ms", "visits"),
    "views_per_visit": ("visit_pageviews", "visits"),
    "total_revenue": ("revenue_sum",),
    "average_revenue": ("revenue_sum", "revenue_n"),
}


def parts_for(metrics: tuple[str, ...]) -> list[str]:
    """The parts ``metrics`` need, in ``PARTS`` order."""
    needed = {part for metric in metrics for part in _NEEDS[metric]}
    return [part for part in (*PARTS, *REVENUE_PARTS) if part in needed]
