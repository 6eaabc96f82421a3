"""Query speed of the dashboard's panels at 1 M and 10 M events, and the dashboard's first-load
weight.

For each dataset (bench/datagen.py, cached under .bench/ and reused while its parameters and the
day match), every query of one dashboard view — top stats, graph, and the four panels — runs
several times for 30 days, 12 months, and 12 months as they stand on the 29th of a month
("12mo@29th": 11 whole months and 29 days, and no today), unfiltered and filtered (one country,
one page: read from the rollups per filter value, today from raw events), and a second tab of
each panel (entry pages, sources, regions, OS: under a filter, from the rollups per frequent
filter value). Printed: p50 / p95 per panel and the worst p95 of each group against the targets
(panels ≤ 50 ms p95 at 10 M; any filtered raw query ≤ 500 ms), and what the rollups cost on
disk. The statements are exactly the builder's.

    python bench/run.py query            # 1 M and 10 M (the 10 M file takes ~20 min once)
    BENCH_QUERY_SIZES=1000000 python bench/run.py query
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.datagen import ROOT, SITE_ID, TIMEZONE, drain_rollups, generate
from bench.report import figure

CACHE = ROOT / ".bench"
RUNS = int(os.environ.get("BENCH_QUERY_RUNS", "7"))
PANEL_TARGET_MS = 50.0
FILTERED_RAW_TARGET_MS = 500.0
# The tab measured besides each panel's default one.
OTHER_TABS = {"pages": "entry", "sources": "sources", "locations": "regions", "devices": "os"}


def _migrations() -> list[Path]:
    """The migration files, in the order they apply."""
    return sorted((ROOT / "migrations").glob("*.sql"))


def dataset(events: int) -> tuple[Path, datetime]:
    """The SQLite file with ``events`` events (generated once a day), and the "now" it is for."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"query-{events}.sqlite"
    meta = path.with_suffix(".json")
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    wanted = {"events": events, "today": today.isoformat()}
    if not (path.exists() and meta.exists() and all(
        json.loads(meta.read_text()).get(key) == value for key, value in wanted.items()
    )):
        print(f"  generating {events:,} events into {path} …", flush=True)
        figures = generate(path, events=events, days=366, today=today)
        print(f"  generated in {figures['load_s']:.0f} s, rolled up in "
              f"{figures.get('rollup_s', 0):.0f} s", flush=True)
        meta.write_text(json.dumps({**wanted, "migrations": [m.name for m in _migrations()]}))
    else:
        upgrade(path, meta)
    noon = datetime.combine(today, datetime.min.time(), tzinfo=ZoneInfo(TIMEZONE))
    return path, (noon + timedelta(hours=12)).astimezone(UTC)


def _applied(conn: sqlite3.Connection, text: str) -> bool:
    """Whether a dataset made before the ``migrations`` key was recorded has ``text`` applied:
    all its tables exist, and its indexes exist as it defines them."""
    master = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
    tables = re.findall(r"^CREATE TABLE (\w+)", text, flags=re.MULTILINE)
    indexes = re.findall(r"^(CREATE INDEX (\w+)\s+ON [^;]+);", text, flags=re.MULTILINE)
    normal = " ".join
    return all(t in master for t in tables) and all(
        normal(master.get(name, "").split()) == normal(sql.split()) for sql, name in indexes
    )


def upgrade(path: Path, meta: Path) -> None:
    """Apply to a cached dataset the migrations made after it, as a deployment would: cheaper
    than generating it again, and the same rows (0005 backfills its rollups from the daily ones,
    0006 rebuilds two indexes)."""
    info = json.loads(meta.read_text())
    conn = sqlite3.connect(path)
    applied = False
    try:
        for migration in _migrations():
            text = migration.read_text()
            done = info.get("migrations")
            if migration.name in done if done is not None else _applied(conn, text):
                continue
            print(f"  applying {migration.name} to {path.name} …", flush=True)
            started = time.perf_counter()
            conn.executescript(text)
            applied = True
            print(f"  applied in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        conn.close()
    if applied:
        # A migration may queue days (0010) or months (0011) for the cron: run it until
        # nothing is left.
        started = time.perf_counter()
        days, months = asyncio.run(drain_rollups(path, now_ms=int(time.time() * 1000)))
        print(f"  recomputed {days} queued days and {months} months in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    info["migrations"] = [m.name for m in _migrations()]
    meta.write_text(json.dumps(info))


def _month_end_range(now: datetime) -> list[tuple[str, str]]:
    """The range a 12-month view covers late in a month: the 29th of last month and the 11
    months before it. Its whole months come from monthly rollups, and 29 days from daily ones
    (or, under a filter, on the other tabs, from raw rows): the worst case of "12mo", which on
    the bench's day (the dataset ends today) would hold one day of the current month only."""
    first = now.astimezone(ZoneInfo(TIMEZONE)).date().replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    start = last_month
    for _ in range(11):
        start = (start - timedelta(days=1)).replace(day=1)
    end = last_month.replace(day=29)
    return [("period", "custom"), ("from", start.isoformat()), ("to", end.isoformat())]


PERIODS = ("30d", "12mo", "12mo@29th")


def view_statements(period: str, filters: list[Any], now: datetime) -> dict[str, Any]:
    """The statements of one dashboard view, by panel, through the real loader's queries."""
    from analytics_941.runner import statements_for
    from analytics_941.sites import Site
    from analytics_941.web.dashboard.data import TOP_METRICS, panel_query
    from analytics_941.web.dashboard.reports import PANELS
    from analytics_941.web.dashboard.state import CHART_METRICS, DashboardState

    site = Site(id=SITE_ID, domain="bench.example", name="Bench", domains=(), timezone=TIMEZONE,
                created_at=0)
    periods = _month_end_range(now) if period == "12mo@29th" else [("period", period)]
    state = DashboardState.from_params(periods + [("f", f) for f in filters])
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


def bench_size(events: int) -> None:
    from analytics_941.sql.plan import plan_query

    path, now = dataset(events)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    label = f"{events // 1_000_000}M"
    for period in PERIODS:
        for name, filters in (("unfiltered", []), ("country=DE", ["is,country,DE"]),
                              ("page=/", ["is,page,/"])):
            worst_rollup = worst_raw = 0.0
            for panel, (query, statements) in view_statements(period, filters, now).items():
                timed(conn, statements)  # warm the page cache
                samples = sorted(timed(conn, statements) for _ in range(RUNS))
                p50 = statistics.median(samples)
                p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
                raw = plan_query(query).rollup_dim is None
                path_name = "raw" if raw else "rollup"
                figure(f"{label} {period} {name} {panel} p50 ({path_name})", p50, "ms")
                figure(f"{label} {period} {name} {panel} p95 ({path_name})", p95, "ms")
                if raw:
                    worst_raw = max(worst_raw, p95)
                else:
                    worst_rollup = max(worst_rollup, p95)
            target = PANEL_TARGET_MS if events >= 10_000_000 else None
            if worst_rollup:
                figure(f"{label} {period} {name} worst rollup panel p95", worst_rollup, "ms",
                       target=target)
            if worst_raw:
                figure(f"{label} {period} {name} worst raw panel p95", worst_raw, "ms",
                       target=FILTERED_RAW_TARGET_MS if filters else target)
    bench_storage(conn, label)
    conn.close()


def bench_storage(conn: sqlite3.Connection, label: str) -> None:
    """What the rollups cost on disk, against the raw rows they summarise (SQLite's dbstat)."""
    try:
        sizes = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
    except sqlite3.OperationalError:  # an SQLite built without the dbstat table
        print(f"  {label} storage: this SQLite has no dbstat table", flush=True)
        return
    total = sum(sizes.values())
    tables = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rollup_%'")]
    indexes = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"))
    raw = sum(size for name, size in sizes.items()
              if name in ("events", "sessions") or indexes.get(name) in ("events", "sessions"))
    filtered = sum(sizes.get(name, 0) for name in tables if name.startswith("rollup_filtered"))
    frequent = sum(sizes.get(name, 0) for name in tables if name.startswith("rollup_frequent"))
    others = sum(sizes.get(name, 0) for name in tables) - filtered - frequent
    mb = 1024 * 1024
    figure(f"{label} database size", total / mb, "MB")
    figure(f"{label} raw events and sessions, with indexes", raw / mb, "MB")
    figure(f"{label} rollups (daily, weekly, monthly)", others / mb, "MB")
    figure(f"{label} rollups per filter value", filtered / mb, "MB")
    figure(f"{label} rollups per frequent filter value (months, recent days)", frequent / mb,
           "MB")
    events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    for name, table in (("filter value", "rollup_filtered_daily"),
                        ("frequent filter value", "rollup_frequent_monthly")):
        rows = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        figure(f"{label} rows per {name} per event", rows / max(events, 1), "rows")


def bench_first_load() -> None:
    """Bytes a first dashboard view transfers, gzip: the HTML and every asset it references."""
    sys.path.insert(0, str(ROOT / "tests"))
    from auth_support import signed_in_client
    from fastapi import FastAPI

    from analytics_941 import Settings, setup_analytics

    path, _now = dataset(200_000) if os.environ.get("BENCH_FIRST_LOAD_DB") is None else (
        Path(os.environ["BENCH_FIRST_LOAD_DB"]), None)
    copy = CACHE / "first-load.sqlite"
    copy.write_bytes(path.read_bytes())
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=copy, project_dir=CACHE))
    client = signed_in_client(app, copy)
    html = client.get("/admin/analytics/bench.example").content
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
