"""Goals over 30 days at 1 M and 10 M events, next to their target (≤ 50 ms p95).

Goals are matched against raw events when a query runs (``sql.goals``). Three goals: the
``Signup`` event (the one custom event bench/datagen.py sends), the page goal ``/pricing/*`` (a
wildcard) and the page goal ``/`` (exact; the most viewed page, the worst case). Timed: the Goal
conversions panel's batch (its ``event:goal`` breakdown, the built-in reports and the candidate
events: ``goal_panel``'s queries) and, under ``event:goal is Signup``, the sources and pages
panels (each row with its ``group_conversion_rate``). The statements are exactly the dashboard's,
on the query bench's dataset at one position (bench/datasets.py).

    BENCH_GOALS_SIZES=1000000 python bench/run.py goals

The 10 M dataset runs when it is there (the query bench generates it); below 10 M each also runs
over the last 300 days: about as many rows as 30 days hold at 10 M (a stand-in).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from bench.datasets import CACHE, POSITIONS, dataset
from bench.query import _p50_p95, _site
from bench.report import figure

TARGET_MS = 50.0
POSITIONS_BY_SIZE = {1_000_000: "15th", 10_000_000: "29th"}
GOALS = (("Signup", "event", "Signup"), ("Visit /pricing/*", "page", "/pricing/*"),
         ("Visit /", "page", "/"))
FILTERED_PANELS = ("sources", "pages")


def _goals(site_id: str) -> tuple[Any, ...]:
    from analytics_941.goals import Goal

    return tuple(Goal(id=f"bench-{n}", site_id=site_id, name=name, kind=kind,  # type: ignore[arg-type]
                      target=target) for n, (name, kind, target) in enumerate(GOALS))


def goal_statements(site: Any, days: int, now: datetime) -> dict[str, Any]:
    """The statements of the goal panel's batch and of the goal-filtered panels, by name."""
    from dataclasses import replace

    from analytics_941.runner import statements_for
    from analytics_941.web.dashboard.data import panel_query
    from analytics_941.web.dashboard.goal_panel import (
        candidates_query,
        goals_query,
        special_queries,
    )
    from analytics_941.web.dashboard.reports import PANELS
    from analytics_941.web.dashboard.state import DashboardState

    period = [("period", "30d")] if days == 30 else [("period", "custom")]
    if days != 30:
        from zoneinfo import ZoneInfo

        from bench.datagen import TIMEZONE

        today = now.astimezone(ZoneInfo(TIMEZONE)).date()
        period += [("from", (today - timedelta(days=days - 1)).isoformat()),
                   ("to", today.isoformat())]
    goals = _goals(site.id)
    state = replace(DashboardState.from_params(period), goals=goals)
    panel = [*special_queries(site, state, now=now), candidates_query(site, state, now=now),
             goals_query(site, state, now=now)]
    out: dict[str, Any] = {"goal conversions panel":
                           [s for q in panel for s in statements_for(q)]}
    for name, _kind, _target in GOALS:
        filtered = replace(DashboardState.from_params(
            [*period, ("f", f"is,event:goal,{name}")]), goals=goals)
        for key in FILTERED_PANELS:
            (report,) = [p for p in PANELS if p.key == key]
            query = panel_query(site, filtered, report, now=now)
            assert "group_conversion_rate" in query.metrics
            out[f"{key} under goal {name}"] = statements_for(query)
    return out


def bench_goals() -> None:
    """Print each goal statement set's p95 per size against the target."""
    sizes = [int(s) for s in os.environ.get("BENCH_GOALS_SIZES", "1000000,10000000").split(",")]
    for events in sizes:
        position = POSITIONS[POSITIONS_BY_SIZE.get(events, "15th")]
        first = position.today - timedelta(days=position.days - 1)
        meta = CACHE / f"query-{events}-{position.today}-from-{first}.json"
        if events >= 10_000_000 and not meta.exists():
            print(f"{events // 1_000_000}M dataset not generated: skipped (the 300-day run "
                  "at 1 M stands in)", flush=True)
            continue
        conn = sqlite3.connect(f"file:{dataset(events, position)}?mode=ro", uri=True)
        site = _site(conn)
        runs = [30] if events >= 10_000_000 else [30, 300]
        for days in runs:
            for name, statements in goal_statements(site, days, position.now).items():
                p50, p95 = _p50_p95(conn, statements)
                figure(f"{events // 1_000_000}M {position.name} {days}d {name} p95 "
                       f"(p50 {p50:.0f})", p95, "ms", target=TARGET_MS)
        conn.close()
