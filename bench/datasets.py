"""The benches' SQLite datasets, one per calendar position, cached under .bench/.

A position is the moment the dashboard is looked at: a fixed date in 2026 (23:00, the site's
time zone) and the day the site's data begins. Each dataset is the database as it stands at
that moment: closed days rolled up by the cron's 02:00 run, today raw, the rows per frequent
filter value as of that day. Nothing here reads the wall clock, so a figure does not move with
the day the bench runs.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.datagen import ROOT, SHAPE, TIMEZONE, drain_rollups, generate

CACHE = ROOT / ".bench"


@dataclass(frozen=True, kw_only=True)
class Position:
    """Where in the calendar "now" is, and since when the site has data."""

    name: str
    today: date
    days: int = 366

    @property
    def now(self) -> datetime:
        """23:00 of ``today``, in UTC: the dataset holds all of today's events, and at 23:00 all
        but the quietest hour's would exist (the most raw rows a day's view reads)."""
        late = datetime.combine(self.today, clock(23), tzinfo=ZoneInfo(TIMEZONE))
        return late.astimezone(UTC)

    @property
    def rollup_ms(self) -> int:
        """When the cron last ran: 02:00 of ``today``, after the previous day closed."""
        run = datetime.combine(self.today, clock(2), tzinfo=ZoneInfo(TIMEZONE))
        return int(run.timestamp() * 1000)


# July 2026: 31 days and no clock change. "12mo" on the 1st is 11 whole months and today; on the
# 29th and 31st it adds 28 and 30 closed days of the current month.
POSITIONS = {p.name: p for p in (
    Position(name="1st", today=date(2026, 7, 1)),
    Position(name="4th", today=date(2026, 7, 4)),
    Position(name="15th", today=date(2026, 7, 15)),
    Position(name="29th", today=date(2026, 7, 29)),
    Position(name="31st", today=date(2026, 7, 31)),
    # A site younger than a year: data from 20 December 2025, a partial first month; as many
    # events as the others, so more a day.
    Position(name="young", today=date(2026, 7, 15),
             days=(date(2026, 7, 15) - date(2025, 12, 20)).days + 1),
)}


def _migrations() -> list[Path]:
    """The committed migration files, in the order they apply: a cached dataset is shared by
    every bench run, so a migration still being written in the work tree must not reach it."""
    files = sorted((ROOT / "migrations").glob("*.sql"))
    try:
        listed = subprocess.run(["git", "ls-files", "migrations"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return files
    tracked = {Path(name).name for name in listed}
    return [f for f in files if f.name in tracked]


def dataset(events: int, position: Position) -> Path:
    """The SQLite file with about ``events`` events as it stands at ``position`` (generated once,
    then reused)."""
    CACHE.mkdir(exist_ok=True)
    first = position.today - timedelta(days=position.days - 1)
    path = CACHE / f"query-{events}-{position.today.isoformat()}-from-{first.isoformat()}.sqlite"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and json.loads(meta.read_text()).get("shape") == SHAPE:
        # Two bench runs at once must not apply the same migration twice.
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            upgrade(path, meta, now_ms=position.rollup_ms)
        return path
    path.unlink(missing_ok=True)
    print(f"  generating {events:,} events into {path.name} …", flush=True)
    # The migrations schema.sql holds as generation starts: one landing during a long
    # generation is applied by the next upgrade, not recorded as done.
    migrations = [m.name for m in _migrations()]
    figures = generate(path, events=events, days=position.days, today=position.today)
    print(f"  generated in {figures['load_s']:.0f} s, rolled up in "
          f"{figures.get('rollup_s', 0):.0f} s", flush=True)
    meta.write_text(json.dumps({"events": events, "today": position.today.isoformat(),
                                "days": position.days, "shape": SHAPE,
                                "migrations": migrations}))
    upgrade(path, meta, now_ms=position.rollup_ms)
    return path


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


def upgrade(path: Path, meta: Path, *, now_ms: int) -> None:
    """Apply to a cached dataset the migrations made after it, as a deployment would: cheaper
    than generating it again, and the same rows. A migration may queue days or months for the
    cron, which then runs as of ``now_ms`` until nothing is left."""
    info = json.loads(meta.read_text())
    conn = sqlite3.connect(path)
    try:
        for migration in _migrations():
            text = migration.read_text()
            done = info.get("migrations")
            if migration.name in done if done is not None else _applied(conn, text):
                continue
            print(f"  applying {migration.name} to {path.name} …", flush=True)
            started = time.perf_counter()
            conn.executescript(text)
            # Recorded at once, with the recomputation still owed: a run that stops later (a
            # rollup error, Ctrl-C) must not apply the same ALTER TABLE again next time.
            info["migrations"] = [*(done or []), migration.name]
            info["drain"] = True
            meta.write_text(json.dumps(info))
            print(f"  applied in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        conn.close()
    if info.pop("drain", False):
        started = time.perf_counter()
        days, months = asyncio.run(drain_rollups(path, now_ms=now_ms))
        print(f"  recomputed {days} queued days and {months} months in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    info["migrations"] = [m.name for m in _migrations()]
    meta.write_text(json.dumps(info))


def main() -> None:
    """Generate the datasets of the positions named on the command line (or all) at 1 M."""
    import sys

    for name in sys.argv[1:] or list(POSITIONS):
        dataset(1_000_000, POSITIONS[name])


if __name__ == "__main__":
    main()


def rolled_copy(source: Path, prefix: str, *, migrations: dict[str, str],
                prepare: Callable[[sqlite3.Connection], None],
                job: Callable[[Any], Awaitable[int]], what: str) -> Path:
    """A copy of ``source`` named ``<prefix>-<name>``, with the ``migrations`` (table -> file)
    it lacks applied, ``prepare`` run on it (the bench's goals or funnels) and ``job`` (a cron
    job, given the copy's store) run until it has nothing left: made once, then reused. The
    shared dataset is left as it is."""
    from analytics_941 import SqliteStore

    path = source.with_name(f"{prefix}-{source.name}")
    if path.exists():
        return path
    print(f"  copying {source.name} for the {what} …", flush=True)
    partial = path.with_suffix(".partial")
    shutil.copyfile(source, partial)
    conn = sqlite3.connect(partial)
    try:
        for table, migration in migrations.items():
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)
                                ).fetchone():
                conn.executescript((ROOT / "migrations" / migration).read_text())
        prepare(conn)
        conn.commit()
    finally:
        conn.close()
    started = time.perf_counter()
    store = SqliteStore(path=partial)
    days = 0
    while done := asyncio.run(job(store)):
        days += done
    print(f"  {days} days of {what} in {time.perf_counter() - started:.0f} s", flush=True)
    partial.rename(path)
    return path
