"""migrations/0012_repair_text.sql: stored lone surrogates become U+FFFD; valid text stays."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from seeding import ROOT, seed

MIGRATION = ROOT / "migrations" / "0012_repair_text.sql"
# (stored bytes, bytes after the migration)
CASES = {
    "78EDA08079": "78EFBFBD79",  # x U+D800 y: a lone high surrogate
    "EDB0802F": "EFBFBD2F",  # U+DC00 /: a lone low surrogate
    "EDBFBFEDA080": "EFBFBDEFBFBD",  # two in a row
    "ED9FBF": "ED9FBF",  # U+D7FF (Hangul block end): valid, untouched
    "ED959CEAB5AD": "ED959CEAB5AD",  # 한국 (Hangul): valid, untouched
    "EFBFBD": "EFBFBD",  # an existing U+FFFD
    "2F626C6F67": "2F626C6F67",  # /blog
}


def hexes(conn: sqlite3.Connection, sql: str) -> list[str]:
    return [row[0] for row in conn.execute(sql).fetchall()]


def test_surrogates_become_replacement_characters_and_nothing_else(tmp_path: Path) -> None:
    db = seed(tmp_path / "d1.sqlite", today=date(2026, 3, 10), timezone="UTC")
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for n, raw in enumerate(CASES):
            text = f"CAST(X'{raw}' AS TEXT)"
            conn.execute(
                "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                f"pathname, utm_campaign, props) VALUES ('r{n}', 's1', 0, {text}, 'v', 'r{n}', "
                f"'example.com', {text}, {text}, "
                f"CAST(X'7B226B223A22' || X'{raw}' || X'227D' AS TEXT))"
            )
            conn.execute(
                "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
                f"entry_page, exit_page, source) VALUES ('r{n}', 's1', 'v', 0, 0, 'example.com', "
                f"{text}, '/', {text})"
            )
            conn.execute("INSERT INTO rollup_daily (site_id, dim, day, value) "
                         f"VALUES ('s1', 'page', '2026-01-01', {text})")
        untouched = hexes(conn, "SELECT hex(pathname) FROM events WHERE id LIKE 'e%' ORDER BY id")
        conn.executescript(MIGRATION.read_text())
        expected = list(CASES.values())
        for column in ("name", "pathname", "utm_campaign"):
            assert hexes(conn, f"SELECT hex({column}) FROM events WHERE id LIKE 'r%' "
                               "ORDER BY id") == expected, column
        assert hexes(conn, "SELECT hex(props) FROM events WHERE id LIKE 'r%' ORDER BY id") == [
            f"7B226B223A22{value}227D" for value in expected
        ]
        for column in ("entry_page", "source"):
            assert hexes(conn, f"SELECT hex({column}) FROM sessions WHERE id LIKE 'r%' "
                               "ORDER BY id") == expected, column
        assert sorted(hexes(conn, "SELECT hex(value) FROM rollup_daily")) == sorted(expected)
        # The seeded rows had nothing to repair and are as they were.
        assert hexes(conn, "SELECT hex(pathname) FROM events WHERE id LIKE 'e%' "
                           "ORDER BY id") == untouched
        # Repaired events mark their slots for the rollup job; the helper tables are gone.
        assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] >= 1
        tables = hexes(conn, "SELECT name FROM sqlite_master WHERE name LIKE '\\_repair%' "
                             "ESCAPE '\\'")
        assert tables == []
        # Running it again changes nothing (a second `migrations apply` on a restored copy).
        conn.executescript(MIGRATION.read_text())
        assert hexes(conn, "SELECT hex(name) FROM events WHERE id LIKE 'r%' "
                           "ORDER BY id") == expected
    finally:
        conn.close()
