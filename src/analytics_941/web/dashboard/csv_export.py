"""The CSV export: a zip with one CSV per report, for the dashboard's current period and filters.

Every value a visitor can influence (paths, referrers, UTM tags, event names) is untrusted: a
cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is prefixed with an apostrophe, OWASP's advice against CSV injection.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ...audit import Actor, record
from ...cache import ResultCache
from ...runner import run_queries
from ...sites import Site
from ...store import Store
from .goal_panel import GOAL_METRICS, goal_panel, goals_query
from .reports import CSV_REPORTS, REPORTS
from .site_goals import read_goals
from .state import CHART_METRICS, DashboardState

__all__ = ["CSV_ROW_LIMIT", "build_export", "export_filename", "safe_cell"]

CSV_ROW_LIMIT = 10_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will not execute it; numbers pass through untouched."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8")


def export_filename(site: Site, first: Any, last: Any) -> str:
    """``example.com 2026-03-01 2026-03-31.zip``-like, filesystem-safe."""
    return f"{site.domain}-{first.isoformat()}-{last.isoformat()}.zip"


async def build_export(
    store: Store,
    *,
    site: Site,
    state: DashboardState,
    cache: ResultCache | None = None,
    now: datetime | None = None,
    audited_as: Actor | None = None,
    home: Store | None = None,
) -> tuple[str, bytes]:
    """Run every report in one batch on ``store`` (the site's data) and return
    ``(file name, zip bytes)``.

    ``audited_as``: who downloads it; the export is recorded in the audit log under their name,
    in ``home`` (default: ``store``).
    """
    # The site's goals: for goals.csv, and for the queries when a filter names one.
    state = replace(state, goals=await read_goals(store if home is None else home, site.id))
    # The export has no comparison columns, whatever the dashboard compares.
    probe = state.query(site, metrics=["visitors"], compare=False, now=now)
    first, last = probe.period
    interval = state.interval_for(first, last)
    queries = [state.query(site, metrics=tuple(CHART_METRICS), dimensions=[f"time:{interval}"],
                           compare=False, now=now)]
    queries += [
        state.query(site, metrics=REPORTS[key].metrics, dimensions=[REPORTS[key].dimension],
                    compare=False, limit=CSV_ROW_LIMIT, now=now)
        for key in CSV_REPORTS
    ]
    if state.goals:
        queries.append(goals_query(site, state, now=now))
    results = await run_queries(store, queries, cache=cache)
    if audited_as is not None:
        await record(store if home is None else home, "export", actor=audited_as,
                     sites=[site.id], detail={"from": first.isoformat(), "to": last.isoformat(),
                                              "filters": len(state.filters)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        series = results[0]
        archive.writestr(
            "timeseries.csv",
            _csv(["date", *CHART_METRICS],
                 [[*r["dimensions"], *r["metrics"]] for r in series["results"]]),
        )
        for key, result in zip(CSV_REPORTS, results[1 : 1 + len(CSV_REPORTS)], strict=True):
            report = REPORTS[key]
            rows = [[*r["dimensions"], *r["metrics"]] for r in result["results"]]
            header = [report.dimension.replace("event:", ""), *report.metrics]
            archive.writestr(f"{key}.csv", _csv(header, rows))
        # The goal panel's rows: every goal, those without a conversion as 0.
        panel = goal_panel(state, base="", goals_result=results[-1] if state.goals else None,
                           candidates_result=None)
        archive.writestr("goals.csv", _csv(
            ["goal", *GOAL_METRICS],
            [[r.name, r.visitors, r.events, r.conversion_rate] for r in panel.rows],
        ))
    return export_filename(site, first, last), buffer.getvalue()
