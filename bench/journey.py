"""The Journeys view over 30 days at 1 M and 10 M events, next to its target (≤ 500 ms p95).

A journey reads raw events (order within a visit): the view's two statements (``sql.journeys``:
around the page and paths from and to it; entry → exit pairs) timed together, for the home
page (the most viewed: the most visits to order, the worst case) and a pricing page, unfiltered
and under ``source is Google``, on the query bench's dataset at one position.

    BENCH_JOURNEY_SIZES=1000000 python bench/run.py journey

The position is ``BENCH_JOURNEY_POSITION``; by default the 29th at 10 M and the 15th below, where
the cached datasets are (another position at 10 M would generate one: ~50 minutes). Closed days
are read from the journey rollups (migration 0033), today raw; a filter reads every day raw.
Also timed: the cron's journey job for one day (its statements, writing into memory).
Below 10 M each also runs over the last 300 days, unfiltered: a long range, read from 300 day
rows, printed beside the 30-day figures without their target (it was a stand-in for the raw
rows of 30 days at 10 M when every day was read raw; the 10 M dataset times those now).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.datagen import TIMEZONE
from bench.datasets import POSITIONS, dataset
from bench.funnel import FILTERS
from bench.query import _p50_p95, _site
from bench.report import figure

TARGET_MS = 500.0
POSITION = os.environ.get("BENCH_JOURNEY_POSITION")
CRON_DAYS = 3


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


def _cron_day_ms(path: Any) -> tuple[float, float]:
    """The journey job's statements for each of the last closed days, timed in a database in
    memory that holds the day's listing and the journey tables, the dataset attached read-only
    (its events and sessions are read through it): p50 and the slowest, in ms."""
    from analytics_941.rollups.arms import bound_params
    from analytics_941.rollups.journeys import (
        JOURNEY_DAY_STATEMENTS,
        VALUE_MIN_DAY_VIEWS,
        VALUE_MIN_VIEWS,
    )

    conn = sqlite3.connect(":memory:")
    conn.execute("ATTACH ? AS d", (f"file:{path}?mode=ro",))
    for (sql,) in conn.execute("SELECT sql FROM d.sqlite_master WHERE type = 'table' AND "
                               "(name LIKE 'journey_%' OR name = 'rollup_days')").fetchall():
        conn.execute(sql)
    days = conn.execute("SELECT site_id, day, tz, computed_at FROM d.rollup_days "
                        f"ORDER BY day DESC LIMIT {CRON_DAYS}").fetchall()
    samples = []
    for site_id, day, tz, stamp in days:
        conn.execute("INSERT INTO main.rollup_days SELECT * FROM d.rollup_days WHERE site_id = ? "
                     "AND day = ?", (site_id, day))
        started = time.perf_counter()
        with conn:
            values = [site_id, day, tz, stamp, VALUE_MIN_VIEWS, VALUE_MIN_DAY_VIEWS]
            for sql in JOURNEY_DAY_STATEMENTS:
                conn.execute(sql, values[: bound_params(sql)])
        samples.append((time.perf_counter() - started) * 1000)
    conn.close()
    return statistics.median(samples), max(samples)


def bench_journey() -> None:
    """Print the view's p95 per size, page and filter against the target, and the cron's cost
    of a day."""
    sizes = [int(s) for s in os.environ.get("BENCH_JOURNEY_SIZES", "1000000,10000000").split(",")]
    for events in sizes:
        position = POSITIONS[POSITION or ("29th" if events >= 10_000_000 else "15th")]
        path = dataset(events, position)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        site = _site(conn)
        runs = [(30, name, filters) for name, filters in FILTERS]
        if events < 10_000_000:
            runs.append((300, "unfiltered", []))
        for page in ("/", _pricing_page(conn, site.id)):
            for days, name, filters in runs:
                statements = journey_statements(site, page, filters, position.now, days=days)
                p50, p95 = _p50_p95(conn, statements)
                figure(f"{events // 1_000_000}M {days}d journey of {page}, {name} p95 "
                       f"(p50 {p50:.0f})", p95, "ms", target=TARGET_MS if days == 30 else None)
        conn.close()
        p50, slowest = _cron_day_ms(path)
        figure(f"{events // 1_000_000}M cron: a day's journey rows (slowest {slowest:.0f})", p50,
               "ms")
