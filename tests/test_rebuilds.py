"""The lean events table (migration 0016) is filled in bounded steps while ingest, engagement
updates and the purge keep writing, and ends with exactly the rows of a database never rebuilt."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest
from seeding import ROOT

from analytics_941 import rebuilds
from analytics_941.dimensions import EVENT_COLUMNS
from analytics_941.sqlite_store import SqliteStore

MIGRATIONS = sorted((ROOT / "migrations").glob("*.sql"))
LEAN = next(m for m in MIGRATIONS if m.name.startswith("0016"))
# Later migrations, applied while the rebuild is under way (0024 adds revenue_currency to the
# old table; the swap must carry it to the new one).
LATER = [m for m in MIGRATIONS if m.name > LEAN.name]
SITE = "site-rebuild"
ROWS = 250
STEP_ROWS = 40


def _database(path: Path, migrations: list[Path]) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in migrations:
        conn.executescript(migration.read_text())
    conn.execute("INSERT INTO sites (id, domain, name, created_at) VALUES (?, 'r.test', 'R', 0)",
                 (SITE,))
    return conn


def _insert(conns: list[sqlite3.Connection], rng: random.Random, n: int) -> None:
    for _ in range(n):
        ts = 1_780_000_000_000 + rng.randrange(10**9)
        row = {c: None for c in EVENT_COLUMNS} | {
            "id": f"ev{rng.getrandbits(40):012x}", "site_id": SITE, "ts": ts,
            "name": rng.choice(["pageview", "pageview", "Signup"]), "visitor_id": "v",
            "session_id": "s", "hostname": "r.test", "pathname": f"/p{rng.randrange(9)}",
        }
        present = _columns(conns[0])
        if "revenue_currency" in present and rng.random() < 0.3:
            row |= {"revenue": 9.5, "revenue_currency": rng.choice(["EUR", "USD"])}
        # Columns of migrations not applied yet are left out.
        row = {c: v for c, v in row.items() if c in present}
        cols = ", ".join(row)
        for conn in conns:
            conn.execute(f"INSERT OR IGNORE INTO events ({cols}) VALUES "
                         f"({', '.join('?' * len(row))})", list(row.values()))


def _columns(conn: sqlite3.Connection) -> set[str]:
    return {r[1] for r in conn.execute("PRAGMA table_info('events')")}


def _pick(conn: sqlite3.Connection, rng: random.Random) -> tuple[str, int, str]:
    keys = conn.execute("SELECT site_id, ts, id FROM events ORDER BY id").fetchall()
    return keys[rng.randrange(len(keys))]


def _events(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY id").fetchall()


def test_a_rebuild_in_bounded_steps_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rebuilds, "COPY_ROWS", STEP_ROWS)
    monkeypatch.setattr(rebuilds, "RETIRE_ROWS", STEP_ROWS)
    rng = random.Random(16)  # noqa: S311 - reproducible test data
    before = [m for m in MIGRATIONS if m.name < LEAN.name]
    lean = _database(tmp_path / "lean.sqlite", before)
    control = _database(tmp_path / "control.sqlite", before)
    both = [lean, control]
    _insert(both, rng, ROWS)
    lean.executescript(LEAN.read_text())
    _insert(both, rng, 20)
    for migration in LATER:
        for conn in both:
            conn.executescript(migration.read_text())
    store = SqliteStore(path=tmp_path / "lean.sqlite")

    phases = []
    for _ in range(100):
        (phase,) = lean.execute("SELECT phase FROM table_rebuilds").fetchone()
        phases.append(phase)
        if phase == "done":
            break
        # Writers keep going between the steps: ingest, engagement, the purge.
        _insert(both, rng, 3)
        site, ts, event = _pick(control, rng)
        engaged = rng.randrange(10**5)
        for conn in both:
            conn.execute("UPDATE events SET engaged_ms = ? WHERE site_id = ? AND ts = ? AND id = ?",
                         (engaged, site, ts, event))
        site, ts, event = _pick(control, rng)
        for conn in both:
            conn.execute("DELETE FROM events WHERE site_id = ? AND ts = ? AND id = ?",
                         (site, ts, event))
        assert asyncio.run(rebuilds.rebuild_tables(store, now_ms=1, max_steps=1)) == 1

    # Copied and deleted STEP_ROWS at a time: the old rows took that many steps each way.
    assert phases.count("copy") >= ROWS / STEP_ROWS and phases.count("retire") >= ROWS / STEP_ROWS
    assert phases[-1] == "done"
    assert _events(lean) == _events(control)
    assert lean.execute("SELECT COUNT(revenue_currency) FROM events").fetchone()[0] > 0
    with pytest.raises(sqlite3.OperationalError):
        lean.execute("SELECT rowid FROM events")  # WITHOUT ROWID: the lean table is in place
    tables = {name for (name,) in lean.execute("SELECT name FROM sqlite_master")}
    assert "events_retired" not in tables and "events_lean" not in tables
    # The rollup triggers came along: a late event marks its quarter-hour dirty.
    lean.execute("DELETE FROM rollup_dirty")
    _insert([lean], rng, 1)
    assert lean.execute("SELECT COUNT(*) FROM rollup_dirty").fetchone()[0] == 1
    assert asyncio.run(rebuilds.rebuild_tables(store, now_ms=2)) == 0
