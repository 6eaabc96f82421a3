"""The reports the dashboard, its details views and the CSV export show: one list, one place.

A report is a dimension with the metrics that describe it. Panels group reports into tabs; the
CSV export writes one file per report. Everything runs through ``parse_query`` → runner.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CSV_REPORTS", "PANELS", "REPORTS", "Panel", "Report"]

_VISIT = ("visitors", "visits", "bounce_rate", "visit_duration")


@dataclass(frozen=True, kw_only=True)
class Report:
    """A breakdown: ``dimension`` with ``metrics`` (details view and CSV), ``label`` its header."""

    key: str
    title: str
    dimension: str
    label: str
    metrics: tuple[str, ...] = _VISIT


@dataclass(frozen=True, kw_only=True)
class Panel:
    """A card on the overview with tabs, each showing one report (``map`` is countries drawn).

    ``menu_tabs`` are tabs folded into one menu tab labelled ``menu_label`` (the five UTM
    parameters would not fit side by side on a phone).
    """

    key: str
    title: str
    tabs: tuple[tuple[str, str, str], ...]  # (tab key, tab label, report key)
    menu_label: str = ""
    menu_tabs: tuple[str, ...] = ()

    @property
    def default_tab(self) -> str:
        """The tab shown when the URL names none."""
        return self.tabs[0][0]

    def report_of(self, tab: str) -> str:
        """The report key a tab shows."""
        return next(report for key, _label, report in self.tabs if key == tab)


_LIST: list[Report] = [
    Report(key="pages", title="Top pages", dimension="page", label="Page",
           metrics=("visitors", "pageviews", "bounce_rate", "time_on_page", "scroll_depth")),
    Report(key="entry_pages", title="Entry pages", dimension="entry_page", label="Entry page"),
    Report(key="exit_pages", title="Exit pages", dimension="exit_page", label="Exit page",
           metrics=("visitors", "visits")),
    Report(key="channels", title="Channels", dimension="channel", label="Channel"),
    Report(key="sources", title="Sources", dimension="source", label="Source"),
    Report(key="referrers", title="Referrers", dimension="referrer", label="Referrer"),
    Report(key="utm_mediums", title="UTM mediums", dimension="utm_medium", label="UTM medium"),
    Report(key="utm_sources", title="UTM sources", dimension="utm_source", label="UTM source"),
    Report(key="utm_campaigns", title="UTM campaigns", dimension="utm_campaign",
           label="UTM campaign"),
    Report(key="utm_terms", title="UTM terms", dimension="utm_term", label="UTM term"),
    Report(key="utm_contents", title="UTM contents", dimension="utm_content",
           label="UTM content"),
    Report(key="countries", title="Countries", dimension="country", label="Country"),
    Report(key="regions", title="Regions", dimension="region", label="Region"),
    Report(key="cities", title="Cities", dimension="city", label="City"),
    Report(key="browsers", title="Browsers", dimension="browser", label="Browser"),
    Report(key="browser_versions", title="Browser versions", dimension="browser_version",
           label="Browser version"),
    Report(key="os", title="Operating systems", dimension="os", label="OS"),
    Report(key="os_versions", title="OS versions", dimension="os_version", label="OS version"),
    Report(key="screens", title="Screen sizes", dimension="screen", label="Screen size"),
    Report(key="devices", title="Devices", dimension="device", label="Device"),
    Report(key="events", title="Events", dimension="event:name", label="Event",
           metrics=("visitors", "events")),
]
REPORTS: dict[str, Report] = {r.key: r for r in _LIST}

PANELS: tuple[Panel, ...] = (
    Panel(key="pages", title="Pages", tabs=(
        ("top", "Top pages", "pages"), ("entry", "Entry", "entry_pages"),
        ("exit", "Exit", "exit_pages"))),
    # The UTM tab keys "campaigns" and "mediums" predate the menu: kept so old URLs still work.
    Panel(key="sources", title="Sources", tabs=(
        ("channels", "Channels", "channels"), ("sources", "Sources", "sources"),
        ("campaigns", "Campaign", "utm_campaigns"), ("mediums", "Medium", "utm_mediums"),
        ("utm_sources", "Source", "utm_sources"), ("terms", "Term", "utm_terms"),
        ("contents", "Content", "utm_contents")),
        menu_label="UTM", menu_tabs=("campaigns", "mediums", "utm_sources", "terms", "contents")),
    Panel(key="locations", title="Locations", tabs=(
        ("map", "Map", "countries"), ("countries", "Countries", "countries"),
        ("regions", "Regions", "regions"), ("cities", "Cities", "cities"))),
    Panel(key="devices", title="Devices", tabs=(
        ("browsers", "Browser", "browsers"), ("os", "OS", "os"), ("screens", "Size", "screens"),
        ("devices", "Device", "devices"))),
)

# The files of the CSV export, in order (the time series is written separately).
CSV_REPORTS: tuple[str, ...] = (
    "pages", "entry_pages", "exit_pages", "sources", "channels", "referrers", "utm_mediums",
    "utm_sources", "utm_campaigns", "utm_terms", "utm_contents", "countries", "regions",
    "cities", "browsers", "os", "screens", "devices", "events",
)
