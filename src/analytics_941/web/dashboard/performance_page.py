"""The Performance page: the Core Web Vitals the tracker's web-vitals add-on measures.

Every figure is a query of the one path (``sql/vitals.py`` metrics) under the page's state
(period and filters): for the period, each vital's 75th percentile and Google's good / needs
improvement / poor shares; the 75th percentiles per page, device, country or browser; and the
same over time (hours of a day, days, weeks or months). A vital's rating follows Google's
thresholds, applied to the 75th percentile as Google does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...cache import cache_for
from ...runner import run_queries
from ...sites import Site
from ...sql.vitals import VITALS, Vital
from ...store import Store
from .state import DashboardState

__all__ = [
    "BREAKDOWNS",
    "Chart",
    "PerformancePage",
    "VitalFigure",
    "load_performance_page",
    "page_context",
]

# ?by= key -> (dimension, label, column heading).
BREAKDOWNS: dict[str, tuple[str, str]] = {
    "page": ("event:page", "Page"),
    "device": ("visit:device", "Device"),
    "country": ("visit:country", "Country"),
    "browser": ("visit:browser", "Browser"),
}
MAX_ROWS = 50
SAMPLES = "vitals_pageviews"
P75 = tuple(v.name for v in VITALS)
_SHARES = ("good", "needs_improvement", "poor")
# The trend's bucket for the period's interval (the dashboard's graph interval).
_TIME = {"hour": "time:hour", "day": "time:day", "week": "time:week", "month": "time:month"}


NAMES = {
    "lcp": "Largest Contentful Paint",
    "inp": "Interaction to Next Paint",
    "cls": "Cumulative Layout Shift",
    "fcp": "First Contentful Paint",
    "ttfb": "Time to First Byte",
}


def rating(vital: Vital, value: float | None) -> str | None:
    """Google's rating of ``value``: ``good``, ``needs-improvement`` or ``poor``."""
    if value is None:
        return None
    if value <= vital.good:
        return "good"
    return "poor" if value > vital.poor else "needs-improvement"


def shown(vital: Vital, value: float | None) -> str:
    """``840 ms``, ``2.4 s`` or, for CLS, ``0.05``; ``—`` when nothing was measured."""
    if value is None:
        return "—"
    if not vital.unit:
        return f"{value:.2f}"
    return f"{value:,.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


@dataclass(frozen=True, kw_only=True)
class VitalFigure:
    """One vital over the period: its 75th percentile and the shares of each rating."""

    vital: Vital
    p75: float | None
    good: float | None
    needs_improvement: float | None
    poor: float | None

    @property
    def rating(self) -> str | None:
        return rating(self.vital, self.p75)

    @property
    def text(self) -> str:
        return shown(self.vital, self.p75)


@dataclass(frozen=True, kw_only=True)
class Row:
    """A breakdown value or a time bucket: its samples and each vital's 75th percentile."""

    label: str
    samples: int
    values: tuple[float | None, ...]

    def cells(self) -> list[tuple[str, str | None]]:
        """(text, rating) per vital, in ``VITALS`` order."""
        return [(shown(v, x), rating(v, x)) for v, x in zip(VITALS, self.values, strict=True)]


# The trend charts' drawing box (SVG user units); values are drawn from 0 at the bottom.
CHART_W, CHART_H = 240, 64


@dataclass(frozen=True, kw_only=True)
class Chart:
    """One vital's 75th percentile over the period's buckets, as SVG coordinates: the line
    through the buckets with measurements and Google's two thresholds."""

    vital: Vital
    segments: list[list[tuple[float, float]]]
    good_y: float | None
    poor_y: float | None
    label: str

    @property
    def lines(self) -> list[str]:
        """The ``points`` of each piece of two or more buckets."""
        return [" ".join(f"{x:g},{y:g}" for x, y in seg) for seg in self.segments if len(seg) > 1]

    @property
    def dots(self) -> list[tuple[float, float]]:
        """Every bucket with measurements."""
        return [point for seg in self.segments for point in seg]


def chart(vital: Vital, values: list[float | None], first: str, last: str) -> Chart:
    """``vital``'s chart over ``values`` (one per bucket, None where nothing was measured)."""
    known = [v for v in values if v is not None]
    top = max([*known, vital.poor]) * 1.1 if known else vital.poor * 1.1
    step = CHART_W / max(len(values) - 1, 1)

    def y(value: float) -> float:
        return round(CHART_H - value / top * CHART_H, 1)

    # Buckets without measurements are skipped, not drawn as 0: the line joins the known
    # values (a small site measures on some days only), each also marked by a dot.
    points = [(round(i * step, 1), y(v)) for i, v in enumerate(values) if v is not None]
    label = (f"{vital.name.upper()}, 75th percentile from {first} to {last}: "
             + ", ".join(shown(vital, v) for v in values if v is not None))
    return Chart(vital=vital, segments=[points] if points else [], good_y=y(vital.good),
                 poor_y=y(vital.poor), label=label)


@dataclass(kw_only=True)
class PerformancePage:
    """What the Performance page shows."""

    by: str
    samples: int = 0
    figures: list[VitalFigure] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    trend: list[Row] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    interval: str = "day"


def _row(result_row: dict[str, Any], label: str) -> Row:
    samples, *values = result_row["metrics"]
    return Row(label=label, samples=int(samples or 0), values=tuple(values))


async def load_performance_page(
    store: Store, *, site: Site, state: DashboardState, by: str
) -> PerformancePage:
    """The Performance page of ``site`` under ``state``, broken down ``by`` a BREAKDOWNS key."""
    dimension, _label = BREAKDOWNS[by]
    totals = state.query(site, metrics=(SAMPLES, *(f"{v.name}_{s}" for v in VITALS
                                                   for s in _SHARES), *P75), compare=False)
    interval = state.interval_for(*totals.period)
    queries = [
        totals,
        state.query(site, metrics=(SAMPLES, *P75), dimensions=(dimension,), limit=MAX_ROWS,
                    compare=False),
        state.query(site, metrics=(SAMPLES, *P75), dimensions=(_TIME[interval],),
                    compare=False),
    ]
    total, broken, over_time = await run_queries(store, queries, cache=cache_for(store))
    page = PerformancePage(by=by, interval=interval)
    if not total["results"]:
        return page
    samples, *metrics = total["results"][0]["metrics"]
    page.samples = int(samples or 0)
    shares, p75s = metrics[: 3 * len(VITALS)], metrics[3 * len(VITALS):]
    page.figures = [
        VitalFigure(vital=v, p75=p75s[i], good=shares[3 * i], needs_improvement=shares[3 * i + 1],
                    poor=shares[3 * i + 2])
        for i, v in enumerate(VITALS)
    ]
    page.rows = [_row(r, str(r["dimensions"][0])) for r in broken["results"]]
    buckets = [_row(r, str(r["dimensions"][0])) for r in over_time["results"]]
    page.trend = [row for row in buckets if row.samples]
    if len(buckets) > 1:
        first, last = buckets[0].label, buckets[-1].label
        page.charts = [chart(v, [row.values[i] for row in buckets], first, last)
                       for i, v in enumerate(VITALS)]
    return page


def page_context(page: PerformancePage) -> dict[str, Any]:
    """What the template needs besides the page and its URLs: names, thresholds, tabs."""
    return {
        "page": page,
        "vitals": VITALS,
        "names": NAMES,
        "breakdowns": BREAKDOWNS,
        "chart_size": (CHART_W, CHART_H),
        "thresholds": {v.name: f"good \u2264 {shown(v, v.good)}, poor > {shown(v, v.poor)}"
                       for v in VITALS},
    }
