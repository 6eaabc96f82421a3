"""The dashboard's whole state, carried in the URL so every view can be bookmarked and shared.

``?period=30d`` (a preset, or ``custom`` with ``from`` and ``to``), ``compare=previous_period`` or
``year_over_year``, ``metric=visitors`` (the graph), ``interval=day``, one ``f=op,dimension,value``
per filter (the value may contain commas), and one ``<panel>=<tab>`` per panel. Parsing is
strict: a bad value is a ``QueryError`` naming the parameter, shown as a 400 page.

The filter builder's form sends one more filter as three fields (``filter_op``,
``filter_dimension``, ``filter_value``): a plain form cannot write ``f=op,dimension,value``, so
the state folds them into its filters and ``url()`` writes the canonical form back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import urlencode

from ...exceptions import QueryError
from ...filters import FILTER_OPS, MAX_FILTER_LEAVES, Condition, make_condition
from ...goals import Goal
from ...periods import PRESETS, Comparison, DateRange
from ...query import GOAL_DIMENSION, Query, canonical_dimension, hours_fit, make_query
from ...sites import Site
from ..api import site_stats_start
from .period_steps import next_period, previous_period
from .reports import PANELS

__all__ = [
    "BUILDER_FIELDS",
    "CHART_METRICS",
    "DEFAULT_PERIOD",
    "GOAL_OPS",
    "INTERVALS",
    "PERIOD_KEYS",
    "PERIOD_LABELS",
    "DashboardState",
    "default_interval",
    "search_condition",
]

DEFAULT_PERIOD = "30d"
PERIOD_LABELS: dict[str, str] = {
    "day": "Today",
    "7d": "Last 7 days",
    "28d": "Last 28 days",
    "30d": "Last 30 days",
    "91d": "Last 91 days",
    "month": "Month to date",
    "6mo": "Last 6 months",
    "12mo": "Last 12 months",
    "year": "Year to date",
    "all": "All time",
}
# One key per preset (Plausible's letters where it has the preset), shown in the `?` overlay.
PERIOD_KEYS: dict[str, str] = {
    "day": "d", "7d": "w", "28d": "f", "30d": "t", "91d": "n", "month": "m", "6mo": "s",
    "12mo": "l", "year": "y", "all": "a",
}
CHART_METRICS: dict[str, str] = {
    "visitors": "Unique visitors",
    "visits": "Total visits",
    "pageviews": "Pageviews",
    "views_per_visit": "Views per visit",
    "bounce_rate": "Bounce rate",
    "visit_duration": "Visit duration",
}
INTERVALS = ("hour", "day", "week", "month")
COMPARES = ("previous_period", "year_over_year")
# The query's own limits (``filters``), so a URL can ask no more than the API can.
MAX_URL_FILTERS = MAX_FILTER_LEAVES
# The filter builder's fields: one filter, sent by a form (see the module docstring).
BUILDER_FIELDS = ("filter_op", "filter_dimension", "filter_value")
# What the query accepts on ``event:goal`` (a goal is named, not matched as text).
GOAL_OPS = ("is", "contains")


def default_interval(period: str, days: int) -> str:
    """The graph's interval when the URL names none: hours for a day, months past ~3 months."""
    if days <= 1:
        return "hour"
    return "month" if days > 92 else "day"


def _error(name: str, message: str) -> QueryError:
    return QueryError(code=f"invalid_{name}", message=f"{name}: {message}")


@dataclass(frozen=True, kw_only=True)
class DashboardState:
    """What the dashboard shows; ``url()`` writes it back into a query string."""

    period: str = DEFAULT_PERIOD
    date_from: date | None = None
    date_to: date | None = None
    compare: str | None = None
    metric: str = "visitors"
    interval: str | None = None
    filters: tuple[tuple[str, str, str], ...] = ()
    tabs: Mapping[str, str] = field(default_factory=dict)
    # Imported history (docs/imports.md) on days without collected data; ``imports=0`` drops it.
    imports: bool = True
    # The site's goals: not in the URL but read from the store (``goal_data``), for the queries
    # a goal filter or the goal panel needs.
    goals: tuple[Goal, ...] = field(default=(), compare=False)

    @classmethod
    def from_params(cls, params: Iterable[tuple[str, str]]) -> DashboardState:
        """Parse query-string pairs (repeated ``f`` allowed); raise ``QueryError`` on bad ones."""
        single: dict[str, str] = {}
        filters: list[tuple[str, str, str]] = []
        for key, value in params:
            if key == "f":
                # Refused on the first one too many: a URL of thousands is not parsed through.
                if len(filters) >= MAX_URL_FILTERS:
                    raise _error("f", f"at most {MAX_URL_FILTERS} filters")
                filters.append(cls._parse_filter(value))
            else:
                single[key] = value
        period = single.get("period", DEFAULT_PERIOD)
        date_from = date_to = None
        if period == "custom":
            try:
                date_from = date.fromisoformat(single.get("from", ""))
                date_to = date.fromisoformat(single.get("to", ""))
            except ValueError:
                raise _error("period", "a custom range needs from and to as YYYY-MM-DD") from None
            if date_from > date_to:
                date_from, date_to = date_to, date_from
        elif period not in PRESETS:
            raise _error("period", f"one of {', '.join(PRESETS)} or custom")
        compare = single.get("compare") or None
        if compare in ("off", "none"):
            compare = None
        if compare is not None and compare not in COMPARES:
            raise _error("compare", f"one of {', '.join(COMPARES)} or off")
        metric = single.get("metric", "visitors")
        if metric not in CHART_METRICS:
            raise _error("metric", f"one of {', '.join(CHART_METRICS)}")
        interval = single.get("interval") or None
        if interval is not None and interval not in INTERVALS:
            raise _error("interval", f"one of {', '.join(INTERVALS)}")
        tabs: dict[str, str] = {}
        for panel in PANELS:
            tab = single.get(panel.key)
            if tab is not None:
                if tab not in {key for key, _label, _report in panel.tabs}:
                    raise _error(panel.key, f"unknown tab {tab!r}")
                tabs[panel.key] = tab
        state = cls(
            period=period, date_from=date_from, date_to=date_to, compare=compare,
            metric=metric, interval=interval, filters=tuple(filters), tabs=tabs,
            imports=single.get("imports") != "0",
        )
        op, dimension, text = (single.get(name, "") for name in BUILDER_FIELDS)
        if not text:  # the builder left empty: nothing to add
            return state
        if len(filters) >= MAX_URL_FILTERS:
            raise _error("f", f"at most {MAX_URL_FILTERS} filters")
        return state.with_filter(*cls._parse_filter(f"{op},{dimension},{text}"))

    @staticmethod
    def _parse_filter(value: str) -> tuple[str, str, str]:
        parts = value.split(",", 2)
        if len(parts) != 3 or parts[0] not in FILTER_OPS:
            raise _error("f", "expected op,dimension,value with op one of " + ", ".join(FILTER_OPS))
        op, dimension, text = parts
        if not text:
            raise _error("f", "a filter needs a dimension and a value")
        # The query's own checks (operator, dimension, value limits), made once, here.
        try:
            condition = make_condition(op, dimension, [text], canonical=canonical_dimension)
        except ValueError as exc:
            raise _error("f", str(exc)) from None
        if condition.dimension == GOAL_DIMENSION and op not in GOAL_OPS:
            raise _error("f", "a goal filter takes the operators is and contains")
        return op, condition.dimension, text

    @property
    def date_range(self) -> DateRange:
        """The query's ``date_range``: a preset or ``(from, to)``."""
        if self.period == "custom" and self.date_from and self.date_to:
            return (self.date_from, self.date_to)
        return cast(DateRange, self.period)  # a preset: from_params checked it

    def conditions(self) -> tuple[Condition, ...]:
        """The filters as the query's conditions (checked when the URL was parsed)."""
        return tuple(
            make_condition(op, dimension, [value], canonical=canonical_dimension)
            for op, dimension, value in self.filters
        )

    @property
    def goal_filter(self) -> str | None:
        """The goal the dashboard is filtered by (``event:goal is NAME``), or None."""
        return next((value for op, dimension, value in self.filters
                     if dimension == GOAL_DIMENSION and op == "is"), None)

    @property
    def uses_goals(self) -> bool:
        """True when a filter names goals: its queries need the site's goals."""
        return any(dimension == GOAL_DIMENSION for _op, dimension, _value in self.filters)

    def interval_for(self, first: date, last: date) -> str:
        """The graph's interval for the period ``first``..``last``: the URL's, or the default;
        by the day where hours do not fit."""
        interval = self.interval or default_interval(self.period, (last - first).days + 1)
        return "day" if interval == "hour" and not hours_fit(first, last) else interval

    def query(
        self,
        site: Site,
        *,
        metrics: Sequence[str],
        dimensions: Sequence[str] = (),
        search: Condition | None = None,
        compare: bool = True,
        limit: int = 100,
        offset: int = 0,
        total_rows: bool = False,
        now: datetime | None = None,
    ) -> Query:
        """The one way from this state to a ``Query`` of ``site`` (the dashboard's views, its
        CSV export and share pages): its period, filters (plus ``search``) and, unless
        ``compare`` is off, its comparison."""
        filters = (*self.conditions(), search) if search is not None else self.conditions()
        return make_query(
            site_id=site.id, date_range=self.date_range, metrics=metrics, dimensions=dimensions,
            filters=filters, comparison=cast(Comparison | None, self.compare if compare else None),
            limit=limit, offset=offset, total_rows=total_rows,
            timezone=site.timezone, now=now, stats_start=site_stats_start(site),
            goals=self.goals, include_imports=self.imports,
        )

    def tab(self, panel: str) -> str:
        """The tab a panel shows."""
        return self.tabs.get(panel) or next(p.default_tab for p in PANELS if p.key == panel)

    def params(self) -> list[tuple[str, str]]:
        """The state as query-string pairs, defaults left out (short, stable URLs)."""
        pairs: list[tuple[str, str]] = []
        if self.period != DEFAULT_PERIOD:
            pairs.append(("period", self.period))
        if self.period == "custom" and self.date_from and self.date_to:
            pairs += [("from", self.date_from.isoformat()), ("to", self.date_to.isoformat())]
        if self.compare:
            pairs.append(("compare", self.compare))
        if self.metric != "visitors":
            pairs.append(("metric", self.metric))
        if self.interval:
            pairs.append(("interval", self.interval))
        pairs += [("f", f"{op},{dim},{value}") for op, dim, value in self.filters]
        if not self.imports:
            pairs.append(("imports", "0"))
        for panel in PANELS:
            if panel.key in self.tabs and self.tabs[panel.key] != panel.default_tab:
                pairs.append((panel.key, self.tabs[panel.key]))
        return pairs

    def url(self, base: str, **changes: Any) -> str:
        """``base`` with this state (after ``changes``) as its query string."""
        state = replace(self, **changes) if changes else self
        query = urlencode(state.params())
        return f"{base}?{query}" if query else base

    def with_filter(self, op: str, dimension: str, value: str) -> DashboardState:
        """This state plus a filter (replacing one on the same dimension with the same op)."""
        kept = tuple(f for f in self.filters if (f[0], f[1]) != (op, dimension))
        return replace(self, filters=(*kept, (op, dimension, value)))

    def without_dimension(self, dimension: str) -> DashboardState:
        """This state less every filter on ``dimension`` (what the builder suggests from)."""
        return replace(self, filters=tuple(f for f in self.filters if f[1] != dimension))

    def without_filter(self, index: int) -> DashboardState:
        """This state less the ``index``-th filter."""
        return replace(self, filters=self.filters[:index] + self.filters[index + 1 :])

    def stepped(
        self, first: date, last: date, *, today: date, forward: bool
    ) -> DashboardState | None:
        """The state showing the period before (or after) ``first``..``last`` as a custom
        range; None where there is none (all time, or after today)."""
        step = (next_period(self.period, first, last, today=today) if forward
                else previous_period(self.period, first, last))
        if step is None:
            return None
        return replace(self, period="custom", date_from=step[0], date_to=step[1], interval=None)

    def with_tab(self, panel: str, tab: str) -> DashboardState:
        """This state showing ``tab`` in ``panel``."""
        return replace(self, tabs={**self.tabs, panel: tab})


def search_condition(dimension: str, text: str) -> Condition:
    """The details view's search: values of ``dimension`` containing ``text``, any case."""
    try:
        return make_condition("contains", dimension, [text], canonical=canonical_dimension,
                              case_sensitive=False)
    except ValueError as exc:
        raise QueryError(code="invalid_q", message=f"q: {exc}") from None
