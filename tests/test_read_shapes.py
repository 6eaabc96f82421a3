"""The dashboard's statements give the same answers as the shapes they replaced (issue #14).

Every statement of a dashboard view (top stats, graph, the four panels and a second tab of
each; 30 days and 12 months; unfiltered, under a frequent page, a rare page and a country), on
the bench generator's data at a small scale with today's events up to 11:00, is run as the
builder writes it and as it was written before: grouped by the unit (bucket) before the values,
a visit read by its key scanning every sparse unit for its own, the imported arm testing each
unit without first asking whether the site imported anything. The rows must be identical.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

import pytest
from test_rare_page import _rare_page

from analytics_941 import SqliteStore
from analytics_941.rollups.jobs import refresh_rollups
from bench.datagen import generate
from bench.query import _site, view_statements

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 11:00 in Berlin: today partly filled


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    path = tmp_path_factory.mktemp("shapes") / "rolled.sqlite"
    generate(path, events=6000, days=40, today=TODAY, rollups=False)
    asyncio.run(refresh_rollups(SqliteStore(path=path), max_days=64,
                                now_ms=int(NOW.timestamp() * 1000), min_visits=40))
    return sqlite3.connect(path)


def _previous(sql: str) -> str:
    """``sql`` in the shapes before: the unit and the bucket first in GROUP BY, visits read by
    key joined to their unit by its time range alone, no imports asked first."""
    sql = re.sub(r"GROUP BY ((?:d\d+, )*d\d+), b\.i\b", r"GROUP BY b.i, \1", sql)
    sql = re.sub(r"GROUP BY ((?:d\d+, )*d\d+), t\)", r"GROUP BY t, \1)", sql)
    sql = re.sub(r"CROSS JOIN (\w)_sparse_days AS b", r"CROSS JOIN \1_sparse AS b", sql)
    sql = re.sub(r" AND b\.k = sessions\.started_at / 86400000", "", sql)
    return re.sub(r"EXISTS \(SELECT id FROM imports WHERE site_id = \?\d+ AND status = 'done'\) "
                  "AND ", "", sql)


def test_today_is_partly_filled_and_older_days_are_rolled_up(conn: sqlite3.Connection) -> None:
    start = int(datetime(2026, 3, 9, 23, 0, tzinfo=UTC).timestamp() * 1000)
    now = int(NOW.timestamp() * 1000)
    (today,) = conn.execute("SELECT COUNT(*) FROM events WHERE ts >= ? AND ts < ?",
                            (start, now)).fetchone()
    assert today > 20
    assert conn.execute("SELECT COUNT(*) FROM rollup_days").fetchone()[0] >= 39


@pytest.mark.parametrize("period", ["30d", "12mo"])
@pytest.mark.parametrize("kind", ["unfiltered", "page=/", "page=rare", "country=DE"])
def test_every_statement_answers_as_before(
    conn: sqlite3.Connection, period: str, kind: str
) -> None:
    filters = {"unfiltered": [], "page=/": ["is,page,/"], "country=DE": ["is,country,DE"],
               "page=rare": [f"is,page,{_rare_page(conn)}"]}[kind]
    changed = 0
    for panel, (_query, statements) in view_statements(period, filters, NOW, _site(conn)).items():
        for sql, params in statements:
            before = _previous(sql)
            changed += before != sql
            rows: list[Any] = conn.execute(sql, params).fetchall()
            assert rows == conn.execute(before, params).fetchall(), panel
            if panel == "pages":
                assert rows, panel
    assert changed >= 10
    if kind == "page=rare":
        sql = view_statements(period, filters, NOW, _site(conn))["pages/entry"][1][0][0]
        assert "CROSS JOIN m_sparse_days AS b" in sql and "m_sparse AS b" in _previous(sql)
