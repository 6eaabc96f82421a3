"""Raw export bench: a year's events.csv from the 1 M-event dataset (the 15th), streamed.

Memory is the process's resident size sampled after every page (one statement, ``PAGE_ROWS``
rows): it must stay flat, i.e. grow by no more than a few pages' worth over the whole stream
once the first page is in, whatever the number of rows. The row count must equal the Stats
API's ``events`` total for the same period (and pageviews.csv its ``pageviews``).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from bench.datasets import POSITIONS, dataset
from bench.report import figure

EVENTS = 1_000_000
# Resident memory may grow this much past the first page over the whole stream.
FLAT_TARGET_MB = 32
# Throughput of the CSV written, on this machine, from local SQLite.
RATE_TARGET_MB_S = 5


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def _run(path: Path) -> None:
    from analytics_941 import SqliteStore
    from analytics_941.runner import run_queries
    from analytics_941.sites import list_sites
    from analytics_941.web.dashboard.raw_export import plan_export, stream_csv, stream_rows
    from analytics_941.web.dashboard.state import DashboardState

    position = POSITIONS["15th"]
    store = SqliteStore(path=path)
    site = (await list_sites(store))[0]
    state = DashboardState(period="12mo")
    query = state.query(site, metrics=["events", "pageviews"], compare=False, now=position.now)
    events_total, pageviews_total = (await run_queries(store, [query]))[0]["results"][0]["metrics"]

    plan = await plan_export(store, kind="events", site=site, state=state, now=position.now)
    written = lines = 0
    first_page_mb = peak_mb = tenth_mb = 0.0
    started = time.perf_counter()
    async for chunk in stream_csv(store, plan):
        written += len(chunk)
        lines += chunk.count(b"\r\n")
        rss = _rss_mb()
        if lines > 1 and first_page_mb == 0.0:
            first_page_mb = rss
        peak_mb = max(peak_mb, rss)
        if tenth_mb == 0.0 and lines > events_total // 10:
            tenth_mb = rss
    seconds = time.perf_counter() - started
    rows = lines - 1  # the header

    plan = await plan_export(store, kind="pageviews", site=site, state=state, now=position.now)
    pageviews = sum([len(page) async for page in stream_rows(store, plan)])
    await store.aclose()

    figure("events.csv, 12 months: rows", rows, "rows")
    figure("  minus the Stats API's events total", rows - events_total, "rows", target=0)
    figure("pageviews.csv rows minus the API's pageviews", pageviews - pageviews_total, "rows",
           target=0)
    figure("events.csv size", written / 2**20, "MB")
    figure("events.csv streamed", written / 2**20 / seconds, "MB/s", target=RATE_TARGET_MB_S,
           higher_is_better=True)
    figure("events.csv streamed", rows / seconds, "rows/s")
    figure("resident memory after the first page", first_page_mb, "MB")
    figure("resident memory peak during the stream", peak_mb, "MB")
    figure("growth past the first page (flat)", peak_mb - first_page_mb, "MB",
           target=FLAT_TARGET_MB)
    # Memory that grew with the rows would grow ~9x as much over the last 90 % as over the first.
    figure("growth over the last 90 % of the rows", peak_mb - tenth_mb, "MB",
           target=FLAT_TARGET_MB / 4)


def bench_export() -> None:
    """Stream a year of raw events to CSV; print MB/s, memory and the match with the API."""
    # Generated (or upgraded) before the loop starts: dataset() runs its own. BENCH_EXPORT_DB
    # names another file (e.g. the 10 M one).
    chosen = os.environ.get("BENCH_EXPORT_DB")
    asyncio.run(_run(Path(chosen) if chosen else dataset(EVENTS, POSITIONS["15th"])))
