"""The Journeys view over 30 days at 1 M and 10 M events, next to its target (≤ 500 ms p95).

A journey reads raw events (order within a visit): the view's two statements (``sql.journeys``:
around the page and paths from and to it; entry → exit pairs) timed together, for the home
page (the most viewed: the most visits to order, the worst case) and a pricing page, unfiltered
and under ``source is Google``, on the query bench's dataset at one position.

    BENCH_JOURNEY_SIZES=1000000 python bench/run.py journey

Below 10 M each also runs over the last 300 days: about as many rows as 30 days hold at 10 M.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.datagen import TIMEZONE
from bench.datasets import POSITIONS, dataset
from bench.funnel import FILTERS
from bench.query import _p50_p95, _site
from bench.report import figure

TARGET_MS = 500.0
POSITION = "15th"


def journey_statements(site: Any, page: str, filters: list[Any], now: Any, *,
                       days: int = 30) -> list[Any]:
    """The view's statements for ``page`` over the last ``days`` under ``filters``."""
    from analytics_941.query import parse_query
    from analytics_941.sql.journeys import flow_sql, journey_sql

    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    first = today - timedelta(days=days - 1)
    query = parse_query({"site_id": site.id, "date_range": [first.isoformat(), today.isoformat()],
                         "metrics": ["visitors"], "filters": filters}, timezone=TIMEZONE, now=now)
    period = query.period
    return [journey_sql(query, page, period=period), flow_sql(query, period=period)]


def _pricing_page(conn: sqlite3.Connection, site_id: str) -> str:
    row = conn.execute("SELECT pathname FROM events WHERE site_id = ? AND pathname LIKE "
                       "'/pricing%' LIMIT 1", (site_id,)).fetchone()
    return str(row[0]) if row else "/pricing"


def bench_journey() -> None:
    """Print the view's p95 per size, page and filter against the target."""
    sizes = [int(s) for s in os.environ.get("BENCH_JOURNEY_SIZES", "1000000,10000000").split(",")]
    position = POSITIONS[POSITION]
    for events in sizes:
        conn = sqlite3.connect(f"file:{dataset(events, position)}?mode=ro", uri=True)
        site = _site(conn)
        runs = [(30, name, filters) for name, filters in FILTERS]
        if events < 10_000_000:
            runs.append((300, "unfiltered", []))
        for page in ("/", _pricing_page(conn, site.id)):
            for days, name, filters in runs:
                statements = journey_statements(site, page, filters, position.now, days=days)
                p50, p95 = _p50_p95(conn, statements)
                figure(f"{events // 1_000_000}M {days}d journey of {page}, {name} p95 "
                       f"(p50 {p50:.0f})", p95, "ms", target=TARGET_MS)
        conn.close()
