"""schema.sql is the whole current schema: applying migrations/*.sql in order must give the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from seeding import ROOT


def describe(path: Path) -> dict[str, Any]:
    """Tables with their columns, and indexes with their columns, from a database file."""
    conn = sqlite3.connect(path)
    try:
        objects = conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "AND name != 'd1_migrations' ORDER BY type, name"
        ).fetchall()
        shape: dict[str, Any] = {"objects": objects}
        for kind, name, _table in objects:
            if kind == "table":
                shape[f"table {name}"] = conn.execute(f"PRAGMA table_xinfo('{name}')").fetchall()
                shape[f"fks {name}"] = conn.execute(f"PRAGMA foreign_key_list('{name}')").fetchall()
            elif kind == "index":
                shape[f"index {name}"] = conn.execute(f"PRAGMA index_xinfo('{name}')").fetchall()
            elif kind == "trigger":
                # Triggers have no PRAGMA: compare their SQL, whitespace aside.
                (sql,) = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
                ).fetchone()
                shape[f"trigger {name}"] = " ".join(sql.split())
        return shape
    finally:
        conn.close()


def apply(path: Path, scripts: list[Path]) -> Path:
    conn = sqlite3.connect(path)
    try:
        for script in scripts:
            conn.executescript(script.read_text())
    finally:
        conn.close()
    return path


def _rebuilt(path: Path) -> Path:
    """The table rebuilds the migrations start, finished as the cron would (rebuilds.py)."""
    import asyncio

    from analytics_941.rebuilds import rebuild_tables
    from analytics_941.sqlite_store import SqliteStore

    asyncio.run(rebuild_tables(SqliteStore(path=path), now_ms=0, max_steps=1000))
    return path


def test_migrations_in_order_equal_schema_sql(tmp_path: Path) -> None:
    """schema.sql is the layout once the rebuilds the migrations start are done."""
    migrations = sorted((ROOT / "migrations").glob("*.sql"))
    assert migrations, "no migrations found"
    from_migrations = describe(_rebuilt(apply(tmp_path / "migrated.sqlite", migrations)))
    from_schema = describe(apply(tmp_path / "schema.sqlite", [ROOT / "schema.sql"]))
    assert from_migrations == from_schema
    assert ("table", "events", "events") in from_schema["objects"]


def test_schema_holds_the_rollup_kinds_as_described(tmp_path: Path) -> None:
    """rollups/kinds.py describes every rollup table; schema.sql must have exactly those, with
    exactly those columns in that order (rollup_dirty, the job's queue, is no kind's)."""
    from analytics_941.rollups.kinds import KINDS

    described = {table: columns for kind in KINDS for table, columns in kind.tables().items()}
    conn = sqlite3.connect(apply(tmp_path / "schema.sqlite", [ROOT / "schema.sql"]))
    try:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rollup!_%' "
                "ESCAPE '!' AND name != 'rollup_dirty'"
            )
        ]
        actual = {
            name: tuple(row[1] for row in conn.execute(f"PRAGMA table_info('{name}')"))
            for name in names
        }
    finally:
        conn.close()
    assert actual == described


def test_schema_holds_the_described_event_and_session_columns(tmp_path: Path) -> None:
    """dimensions.py describes the events/sessions columns (the Worker's rows.ts is made from
    it): schema.sql must have them in that order, with those declared types and keys."""
    from analytics_941.dimensions import (
        COLUMN_TYPES,
        EVENT_COLUMNS,
        PRIMARY_KEYS,
        SESSION_COLUMNS,
    )

    conn = sqlite3.connect(apply(tmp_path / "schema.sqlite", [ROOT / "schema.sql"]))
    try:
        for table, columns in (("events", EVENT_COLUMNS), ("sessions", SESSION_COLUMNS)):
            info = conn.execute(f"PRAGMA table_info('{table}')").fetchall()
            # A one-column key is declared on its column, which then shows no NOT NULL.
            actual = [(name, f"{kind}{' NOT NULL' if notnull or pk else ''}")
                      for _cid, name, kind, notnull, _default, pk in info]
            assert actual == [(c, COLUMN_TYPES[c][0]) for c in columns], table
            key = tuple(name for *_rest, name in sorted((r[5], r[1]) for r in info if r[5]))
            assert key == PRIMARY_KEYS[table], table
    finally:
        conn.close()
