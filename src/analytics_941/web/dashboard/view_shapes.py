"""What the dashboard's templates are given: a top stat, a report row, a panel with its tabs, and
the whole view (``data`` fills them; templates only read them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ...sites import Site
from .rejections import Rejections
from .reports import Report
from .state import PERIOD_LABELS, DashboardState

__all__ = ["Dashboard", "PanelView", "Row", "Stat", "TabMenu"]


@dataclass(frozen=True, kw_only=True)
class Stat:
    """One top stat: value, comparison value and change (percent, or points for rates)."""

    key: str
    label: str
    value: float
    previous: float | None
    change: float | None


@dataclass(frozen=True, kw_only=True)
class Row:
    """One row of a report: its value (``label`` as shown), metrics, bar width and the URL
    adding it as a filter; ``note`` a second line (a page's title, in details views)."""

    name: str
    label: str
    metrics: dict[str, Any]
    pct: int
    filter_url: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class TabMenu:
    """Tabs folded into one menu: its label, the chosen item's label (or "") and the items
    (key, label, URL, active), each shown as ``item_label`` names it."""

    label: str
    current: str
    items: list[tuple[str, str, str, bool]]
    item: str = "{menu} {tab}"

    def item_label(self, label: str) -> str:
        """How an item reads in the menu: "UTM campaign", "Browser version"."""
        return self.item.format(menu=self.label, tab=label.lower() if "{menu}" in self.item
                                else label)


@dataclass(frozen=True, kw_only=True)
class PanelView:
    """A panel as shown: its tabs (key, label, URL, active), the active report and rows.

    ``tabs`` are the plain tabs; those of the panel's menu are in ``menu``.
    """

    key: str
    title: str
    tab: str
    tabs: list[tuple[str, str, str, bool]]
    report: Report
    rows: list[Row]
    details_url: str
    filter_template: str = ""
    menu: TabMenu | None = None
    # Filtered by a goal: each row also has its group_conversion_rate.
    conversion: bool = False

    @property
    def map_values(self) -> dict[str, Any]:
        """Country code → visitors, for the map."""
        return {row.name: row.metrics.get("visitors", 0) for row in self.rows}


@dataclass(frozen=True, kw_only=True)
class Dashboard:
    """Everything the dashboard template shows."""

    site: Site
    state: DashboardState
    first: date
    last: date
    today: date
    compare_first: date | None
    compare_last: date | None
    interval: str
    stats: list[Stat]
    chart: dict[str, Any]
    panels: list[PanelView]
    filters: list[dict[str, str]] = field(default_factory=list)
    # Compared with a period without visitors: every change reads "—", not "+45 pts from 0%".
    nothing_to_compare: bool = False
    # None when not read (a public share page does not show them).
    rejected: Rejections | None = None
    # The first and last imported day within the period (docs/imports.md), or None.
    imported: tuple[str, str] | None = None

    @property
    def is_empty(self) -> bool:
        """True when the period has no visitors at all (and so needs the install hint)."""
        return all(s.value == 0 for s in self.stats if s.key in ("visitors", "pageviews"))

    @property
    def chart_shown(self) -> dict[str, Any]:
        """The graph's data for the page: the shown metric's series only (another metric is
        another request), so the first load carries no more than it draws."""
        metric = self.state.metric
        shown: dict[str, Any] = {
            "labels": self.chart["labels"],
            "series": {metric: self.chart["series"][metric]},
            "metrics": {metric: self.chart["metrics"][metric]},
        }
        if "compare" in self.chart:
            shown["compare_labels"] = self.chart["compare_labels"]
            shown["compare"] = {metric: self.chart["compare"][metric]}
        return shown

    @property
    def period_phrase(self) -> str:
        """The period inside a sentence: "today", "in the last 7 days", "this month"."""
        phrases = {"day": "today", "month": "this month", "year": "this year",
                   "all": "since tracking began"}
        if self.state.period in phrases:
            return phrases[self.state.period]
        if self.state.period == "custom":
            if self.first == self.last:
                return f"on {self.first.isoformat()}"
            return f"from {self.first.isoformat()} to {self.last.isoformat()}"
        return f"in the {self.period_label[0].lower()}{self.period_label[1:]}"

    @property
    def period_label(self) -> str:
        """"Last 30 days", or the custom range."""
        if self.state.period == "custom":
            if self.first == self.last:
                return self.first.isoformat()
            return f"{self.first.isoformat()} \u2013 {self.last.isoformat()}"
        return PERIOD_LABELS.get(self.state.period, self.state.period)
