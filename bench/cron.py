"""The cron's longest call: D1 answers nothing else while a statement or a batch runs, so a
dashboard read or an ingest flush may wait that long behind it.

On a copy of a dataset (bench/datasets.py, "now" on 15 July 2026), the cron's jobs run as a
deployment runs them, every call timed: a closed day recomputed (a late row marked it dirty),
the goal rollups of a run (the bench's three goals, new: a run's worth of days), the journey
rollups of that day, the statement marking empty days, a month of rollups per frequent value
recomputed, and a bounded table rebuild (migration 0016's, on a copy of the events made into the
layout before it; BENCH_CRON_REBUILD=0 leaves it out). Printed per job: the calls, the longest,
the total, against the target of about 1 s for the longest.

    python bench/run.py cron                      # 1 M events, the 15th
    BENCH_CRON_EVENTS=10000000 python bench/run.py cron     # 10 M, the 29th (cached datasets)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from analytics_941.rebuilds import REBUILDS, rebuild_tables
from analytics_941.rollups.days import day_params, rollup_steps
from analytics_941.rollups.frequent import (
    frequent_day_statements,
    is_recent,
    refresh_frequent_months,
)
from analytics_941.sqlite_store import SqliteStore
from analytics_941.store import Param, Row, Statement
from bench.datagen import ROOT, SITE_ID, TIMEZONE
from bench.datasets import POSITIONS, dataset
from bench.report import figure

EVENTS = int(os.environ.get("BENCH_CRON_EVENTS", "1000000"))
# The positions whose datasets the other benches make at each size: no new one is generated.
POSITION = os.environ.get("BENCH_CRON_POSITION", "29th" if EVENTS >= 10_000_000 else "15th")
REBUILD = os.environ.get("BENCH_CRON_REBUILD", "1") != "0"
LONGEST_TARGET_MS = 1000.0


class TimedStore(SqliteStore):
    """A SqliteStore that keeps how long each call (a statement or a batch) took."""

    def __init__(self, path: Path) -> None:
        super().__init__(path=path)
        self.calls: list[float] = []

    async def execute(self, sql: str, params: Sequence[Param] = ()) -> list[Row]:
        started = time.perf_counter()
        try:
            return await super().execute(sql, params)
        finally:
            self.calls.append((time.perf_counter() - started) * 1000)

    async def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        started = time.perf_counter()
        try:
            return await super().batch(statements)
        finally:
            self.calls.append((time.perf_counter() - started) * 1000)


async def _day_as_the_worker(store: TimedStore, day: date, now_ms: int) -> None:
    """Recompute ``day`` a step a call, as worker/src/rollup/cron.ts does (the Python twin runs
    a day in one batch, as a local file allows)."""
    values = day_params(site_id=SITE_ID, day=day, tz=ZoneInfo(TIMEZONE), now_ms=now_ms)
    for step in rollup_steps():
        await store.batch([(s.sql, [values[n] for n in s.params]) for s in step])
    if is_recent(start_ms=int(values["start_ms"] or 0), now_ms=now_ms):
        for s in frequent_day_statements():
            await store.execute(s.sql, [values[n] for n in s.params])


async def _goals_and_journeys(store: TimedStore, path: Path, now_ms: int) -> None:
    """Time a run of the goal job (the bench's goals, new, so every rolled-up day is owed), the
    journey job (the day just recomputed is owed) and the statement marking empty days."""
    from analytics_941.rollups.days import GRACE_MS, SLOT_MS
    from analytics_941.rollups.goals import refresh_goal_rollups
    from analytics_941.rollups.jobs import GAP_DAYS_SQL
    from analytics_941.rollups.journeys import refresh_journey_rollups
    from bench.goals import _goals

    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT OR REPLACE INTO goals (id, site_id, name, kind, target, created_at) "
        "VALUES (?, ?, ?, ?, ?, 0)", [(g.id, SITE_ID, g.name, g.kind, g.target)
                                      for g in _goals(SITE_ID, tag="cron-bench")])
    conn.commit()
    conn.close()
    store.calls = []
    days = await refresh_goal_rollups(store)
    _report(f"goal rollups, one run ({days} site-days, 3 goals)", store.calls)
    store.calls = []
    days = await refresh_journey_rollups(store)
    _report(f"journey rollups, one run ({days} site-days)", store.calls)
    store.calls = []
    await store.execute(GAP_DAYS_SQL, [(now_ms - GRACE_MS) // SLOT_MS])
    _report("marking empty days", store.calls)


def _report(job: str, calls: list[float]) -> None:
    if not calls:
        print(f"  {job}: nothing ran", flush=True)
        return
    figure(f"{job}: longest of {len(calls)} calls (total {sum(calls) / 1000:.1f} s)",
           max(calls), "ms", target=LONGEST_TARGET_MS)


def _old_events_layout(path: Path) -> None:
    """Put the lean events back into the layout before migration 0016 (a rowid table keyed by
    id, with its four indexes and two triggers), then apply 0016, as an upgrade would."""
    conn = sqlite3.connect(path)
    info = conn.execute("PRAGMA table_info(events)").fetchall()
    cols = ", ".join(r[1] for r in info)
    declared = ", ".join(
        f"{name} {kind}{' PRIMARY KEY' if name == 'id' else ' NOT NULL' if notnull else ''}"
        for _cid, name, kind, notnull, _default, _pk in info
    )
    conn.executescript(
        "DROP TABLE table_rebuilds; ALTER TABLE events RENAME TO events_new;"
        f"CREATE TABLE events ({declared});"
        "CREATE INDEX events_site_ts ON events (site_id, ts, name, visitor_id, pathname, "
        "engaged_ms, scroll_depth, channel, country, browser);"
        "CREATE INDEX events_site_name_ts ON events (site_id, name, ts);"
        "CREATE INDEX events_site_country_ts ON events "
        "(site_id, COALESCE(country, 'Unknown'), ts);"
        "CREATE INDEX events_site_path_ts ON events (site_id, pathname, ts, session_id);"
        f"INSERT INTO events ({cols}) SELECT {cols} FROM events_new ORDER BY ts;"
        "DROP TABLE events_new;"
        + "".join(f"{sql};" for sql in REBUILDS["events"].triggers.values())
    )
    lean = next(m for m in (ROOT / "migrations").glob("0016_*.sql"))
    conn.executescript(lean.read_text())
    conn.close()


def bench_cron() -> None:
    """Print the longest call of each cron job at EVENTS events."""
    position = POSITIONS[POSITION]
    source = dataset(EVENTS, position)
    with tempfile.TemporaryDirectory(dir=source.parent) as folder:
        path = Path(folder) / "cron.sqlite"
        shutil.copyfile(source, path)
        now_ms = position.rollup_ms
        conn = sqlite3.connect(path)
        # Last month's rows per frequent value, to be made again.
        month = (position.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        conn.execute("DELETE FROM rollup_frequent_months WHERE site_id = ? AND month = ?",
                     (SITE_ID, month))
        conn.commit()
        conn.close()

        store = TimedStore(path)
        # A day ten days ago, as if a late row had marked it.
        # A millisecond later than the dataset's own rollups: a run's stamp is its own, so the
        # goal and journey jobs see the day as recomputed.
        asyncio.run(_day_as_the_worker(store, position.today - timedelta(days=10), now_ms + 1))
        _report("a day recomputed", store.calls)
        store.calls = []
        asyncio.run(_goals_and_journeys(store, path, now_ms))
        store.calls = []
        asyncio.run(refresh_frequent_months(store, now_ms=now_ms, max_months=1))
        _report(f"month {month} per frequent value", store.calls)

        if not REBUILD:
            return
        started = time.perf_counter()
        _old_events_layout(path)
        print(f"  events put back in the layout before 0016 in "
              f"{time.perf_counter() - started:.0f} s; 0016 applied", flush=True)
        store.calls = []
        while asyncio.run(rebuild_tables(store, now_ms=now_ms)):
            pass
        _report("events rebuilt into the lean table", store.calls)
