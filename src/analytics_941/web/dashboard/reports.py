"""The reports the dashboard, its details views and the CSV export show, as the dimensions
describe them (``dimensions.py``: each dimension's report and the tabs it shows in).

A report is a dimension with the metrics that describe it. Panels group reports into tabs; the
CSV export writes one file per report. Everything runs through ``parse_query`` → runner.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...dimensions import DIMENSIONS

__all__ = ["CSV_REPORTS", "PANELS", "REPORTS", "Panel", "Report"]

@dataclass(frozen=True, kw_only=True)
class Report:
    """A breakdown: ``dimension`` with ``metrics`` (details view and CSV), ``label`` its header."""

    key: str
    title: str
    dimension: str
    label: str
    metrics: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Panel:
    """A card on the overview with tabs, each showing one report (``map`` is countries drawn).

    ``menu_tabs`` are tabs folded into one menu tab labelled ``menu_label`` (the five UTM
    parameters would not fit side by side on a phone); ``menu_item`` names each of its items
    from ``menu`` (its label) and ``tab`` (the tab's).
    """

    key: str
    title: str
    tabs: tuple[tuple[str, str, str], ...]  # (tab key, tab label, report key)
    # Tab key -> the Site setting it needs (``Tab.site_flag``); hidden while that is off.
    site_flags: tuple[tuple[str, str], ...] = ()
    menu_label: str = ""
    menu_tabs: tuple[str, ...] = ()
    menu_item: str = "{menu} {tab}"

    @property
    def default_tab(self) -> str:
        """The tab shown when the URL names none."""
        return self.tabs[0][0]

    def report_of(self, tab: str) -> str:
        """The report key a tab shows."""
        return next(report for key, _label, report in self.tabs if key == tab)


REPORTS: dict[str, Report] = {
    d.report.key: Report(
        key=d.report.key,
        title=d.report.title,
        dimension=d.name,
        label=d.report.label,
        metrics=d.report.metrics,
    )
    for d in DIMENSIONS
    if d.report is not None
}


def _panel(
    key: str, title: str, *, menu_label: str = "", menu_tabs: tuple[str, ...] = (),
    menu_item: str = "{menu} {tab}",
) -> Panel:
    """A panel with the tabs the dimensions place in it, in their order."""
    tabs = sorted(
        (tab.position, tab.key, tab.label, d.report.key)
        for d in DIMENSIONS
        if d.report is not None
        for tab in d.tabs
        if tab.panel == key
    )
    flags = tuple((tab.key, tab.site_flag) for d in DIMENSIONS for tab in d.tabs
                  if tab.panel == key and tab.site_flag)
    return Panel(
        key=key,
        title=title,
        tabs=tuple((tab, label, report) for _position, tab, label, report in tabs),
        site_flags=flags,
        menu_label=menu_label,
        menu_tabs=menu_tabs,
        menu_item=menu_item,
    )


PANELS: tuple[Panel, ...] = (
    _panel("pages", "Pages"),
    _panel("sources", "Sources", menu_label="UTM",
           menu_tabs=("campaigns", "mediums", "utm_sources", "terms", "contents")),
    _panel("locations", "Locations"),
    _panel("devices", "Devices", menu_label="Version",
           menu_tabs=("browser_versions", "os_versions"), menu_item="{tab} version"),
)

# The files of the CSV export, in order (the time series is written separately).
CSV_REPORTS: tuple[str, ...] = tuple(
    d.report.key for d in DIMENSIONS if d.report is not None and d.report.csv
)
