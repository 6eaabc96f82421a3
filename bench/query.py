"""Query speed of the dashboard's panels at 1 M and 10 M events, and the dashboard's first-load
weight.

Each dataset is the database as it stands at one calendar position (bench/datasets.py: "now"
on the 1st, 4th, 15th, 29th and 31st of July 2026, and a site whose data starts on 20 December
2025), cached under .bench/ per (events, position), so no figure depends on the day the bench
runs. At each position every query of one dashboard view — top stats, graph, the four panels
and a second tab of each (entry pages, sources, regions, OS: under a filter, from the rollups
per frequent filter value) — runs several times for 30 days and 12 months, unfiltered and
filtered (one country, one page, and the most viewed page the rows per frequent value do not
hold, whose other tabs read raw rows through the page index). Printed: p95 (and p50) per panel
and position, then per group the worst p95 over the positions, with the position, against the
targets (panels ≤ 50 ms p95; any filtered raw query ≤ 500 ms). The statements are exactly the
builder's.

A 1 M dataset takes minutes to generate and roll up, a 10 M one most of an hour, so at 10 M
only the two worst positions at 1 M run unless BENCH_QUERY_POSITIONS names others
(comma-separated names from bench/datasets.py POSITIONS, or "all").

    python bench/run.py query            # 1 M and 10 M
    BENCH_QUERY_SIZES=1000000 BENCH_QUERY_POSITIONS=1st,29th python bench/run.py query
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.datagen import ROOT, TIMEZONE
from bench.datasets import CACHE, POSITIONS, Position, dataset
from bench.report import figure

RUNS = int(os.environ.get("BENCH_QUERY_RUNS", "7"))
PANEL_TARGET_MS = 50.0
FILTERED_RAW_TARGET_MS = 500.0
# The tab measured besides each panel's default one.
OTHER_TABS = {"pages": "entry", "sources": "sources", "locations": "regions", "devices": "os"}
PERIODS = ("30d", "12mo")
FILTERS: tuple[tuple[str, list[str]], ...] = (
    ("unfiltered", []), ("country=DE", ["is,country,DE"]), ("page=/", ["is,page,/"]))
# Besides, "page=rare": the most viewed page the registry of frequent values holds for no month
# and no day (``rare_page``), whose other tabs read raw rows through the page index: the worst
# of the rare pages.
RARE = "page=rare"
# The positions with the slowest panels at 1 M: the 31st (30 closed days of the current month
# besides 11 whole months) and the young site (its 12 months start before its data).
WORST_POSITIONS = ("31st", "young")


def _positions(events: int) -> list[Position]:
    chosen = os.environ.get("BENCH_QUERY_POSITIONS")
    if chosen == "all" or (chosen is None and events < 10_000_000):
        return list(POSITIONS.values())
    return [POSITIONS[name] for name in (chosen.split(",") if chosen else WORST_POSITIONS)]


def _site(conn: sqlite3.Connection) -> Any:
    """The dataset's one site, as the dashboard loads it (its creation bounds "12mo")."""
    from analytics_941.sites import Site

    site_id, domain, created_at = conn.execute(
        "SELECT id, domain, created_at FROM sites").fetchone()
    return Site(id=site_id, domain=domain, name="Bench", domains=(), timezone=TIMEZONE,
                created_at=created_at)


def rare_page(conn: sqlite3.Connection) -> str:
    """The page with the most visits in the latest month among those the rows per frequent
    value hold for no month and no day."""
    (page,) = conn.execute(
        "SELECT fvalue FROM rollup_filtered_monthly WHERE fdim = 'page' AND dim = '' "
        "AND month = (SELECT MAX(month) FROM rollup_filtered_monthly) AND fvalue NOT IN "
        "(SELECT fvalue FROM rollup_frequent_monthly WHERE fdim = 'page' AND dim = '' UNION "
        "SELECT fvalue FROM rollup_frequent_daily WHERE fdim = 'page' AND dim = '') "
        "ORDER BY visits DESC, fvalue LIMIT 1").fetchone()
    return str(page)


def view_statements(period: str, filters: list[Any], now: datetime,
                    site: Any) -> dict[str, Any]:
    """The statements of one dashboard view, by panel, through the real loader's queries."""
    from analytics_941.runner import statements_for
    from analytics_941.web.dashboard.data import TOP_METRICS, panel_query
    from analytics_941.web.dashboard.reports import PANELS
    from analytics_941.web.dashboard.state import CHART_METRICS, DashboardState

    state = DashboardState.from_params([("period", period)] + [("f", f) for f in filters])
    interval = "day" if period == "30d" else "month"
    queries = {
        "top stats": state.query(site, metrics=TOP_METRICS, now=now),
        "graph": state.query(site, metrics=tuple(CHART_METRICS),
                             dimensions=[f"time:{interval}"], now=now),
    }
    for panel in PANELS:
        queries[panel.key] = panel_query(site, state, panel, now=now)
    # A second tab of each panel, one click away: filtered, these read raw rows.
    for panel in PANELS:
        tab = OTHER_TABS[panel.key]
        queries[f"{panel.key}/{tab}"] = panel_query(site, state.with_tab(panel.key, tab), panel,
                                                    now=now)
    return {name: (q, statements_for(q)) for name, q in queries.items()}


def timed(conn: sqlite3.Connection, statements: list[Any]) -> float:
    started = time.perf_counter()
    for sql, params in statements:
        conn.execute(sql, params).fetchall()
    return (time.perf_counter() - started) * 1000


def _p50_p95(conn: sqlite3.Connection, statements: list[Any]) -> tuple[float, float]:
    timed(conn, statements)  # warm the page cache
    samples = sorted(timed(conn, statements) for _ in range(RUNS))
    return statistics.median(samples), samples[min(len(samples) - 1,
                                                   round(0.95 * (len(samples) - 1)))]


def bench_position(events: int, position: Position,
                   worst: dict[tuple[str, str, str], tuple[float, str]]) -> None:
    """Time every panel at ``position``; keep in ``worst`` the slowest p95 of each group."""
    from analytics_941.rollups.kinds import PER_FREQUENT_VALUE
    from analytics_941.sql.plan import plan_query

    conn = sqlite3.connect(f"file:{dataset(events, position)}?mode=ro", uri=True)
    site = _site(conn)
    label = f"{events // 1_000_000}M {position.name}"
    rare = (RARE, [f"is,page,{rare_page(conn)}"])
    for period in PERIODS:
        for name, filters in (*FILTERS, rare):
            views = view_statements(period, filters, position.now, site)
            for panel, (query, statements) in views.items():
                p50, p95 = _p50_p95(conn, statements)
                plan = plan_query(query)
                # A rare page's rows per frequent value do not exist: those tabs read raw.
                raw = plan.rollup_dim is None or (
                    name == RARE and plan.rollup_kind is PER_FREQUENT_VALUE)
                kind = "raw" if raw else "rollup"
                figure(f"{label} {period} {name} {panel} p95 ({kind}; p50 {p50:.1f})", p95, "ms")
                group = (period, name, kind)
                if p95 > worst.get(group, (0.0, ""))[0]:
                    worst[group] = (p95, position.name)
    conn.close()


def bench_size(events: int) -> None:
    worst: dict[tuple[str, str, str], tuple[float, str]] = {}
    for position in _positions(events):
        bench_position(events, position, worst)
    label = f"{events // 1_000_000}M"
    for (period, name, kind), (p95, where) in sorted(worst.items()):
        target = FILTERED_RAW_TARGET_MS if kind == "raw" and name != "unfiltered" else (
            PANEL_TARGET_MS)
        figure(f"{label} {period} {name} worst {kind} panel p95 (on the {where})", p95, "ms",
               target=target)


def bench_first_load() -> None:
    """Bytes a first dashboard view transfers, gzip: the HTML and every asset it references."""
    sys.path.insert(0, str(ROOT / "tests"))
    from auth_support import signed_in_client
    from fastapi import FastAPI

    from analytics_941 import Settings, setup_analytics

    chosen = os.environ.get("BENCH_FIRST_LOAD_DB")
    position = POSITIONS["15th"]
    path = Path(chosen) if chosen else dataset(200_000, position)
    copy = CACHE / "first-load.sqlite"
    copy.write_bytes(path.read_bytes())
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=copy, project_dir=CACHE))
    client = signed_in_client(app, copy)
    # The 30 days up to the dataset's today, as a range: a default view is relative to the
    # wall clock, which would find no data once the position lies in the past.
    start = position.today - timedelta(days=29)
    html = client.get("/admin/analytics/bench.example", params={
        "period": "custom", "from": start.isoformat(), "to": position.today.isoformat()}).content
    manifest = json.loads((ROOT / "static/dist/manifest.json").read_text())
    sizes = {"html": len(gzip.compress(html, 6))}
    # Every asset the page itself references (scripts, styles); the map outlines are fetched only
    # once the map scrolls into view, so they are shown apart from the first load.
    for key, file in manifest.items():
        if file.encode() in html and not key.endswith(".json"):
            sizes[key] = len(gzip.compress((ROOT / "static/dist" / file).read_bytes(), 6))
    for key, size in sizes.items():
        figure(f"first load {key} (gzip)", size / 1024, "KB")
    figure("dashboard first load, total (gzip)", sum(sizes.values()) / 1024, "KB", target=60)
    if "world.json" in manifest:
        world = gzip.compress((ROOT / "static/dist" / manifest["world.json"]).read_bytes(), 6)
        figure("map outlines, on scrolling to the map (gzip)", len(world) / 1024, "KB")


def bench_query() -> None:
    """Print query and first-load figures."""
    sizes = [int(s) for s in os.environ.get("BENCH_QUERY_SIZES", "1000000,10000000").split(",")]
    for events in sizes:
        bench_size(events)
    bench_first_load()
