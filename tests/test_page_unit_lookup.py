"""A visit read by its key under one rare page finds its unit by the UTC day it started on
(``<prefix>_sparse_days``, ``sql.page_reads``), then by its time range: the same unit as the
time range alone, in every time zone (half- and quarter-hour offsets, DST days of 23 and 25
hours, a 30-minute DST shift) and for hour units too.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime

import pytest
from seeding import apply_schema

from analytics_941 import parse_query
from analytics_941.sql_builder import build_sql

NOW = datetime(2026, 7, 29, 21, 0, tzinfo=UTC)
QUARTER_MS = 900_000


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    # An empty database: no day is rolled up, so every unit is raw and sparse.
    return sqlite3.connect(apply_schema(tmp_path_factory.mktemp("units") / "empty.sqlite"))


def _ctes(timezone: str, date_range: str, interval: str | None) -> tuple[str, list[object]]:
    """The statement's CTEs up to ``m_sparse_days`` under a page filter, and the parameters."""
    spec = {"site_id": "s1", "date_range": date_range, "metrics": ["visits"],
            "dimensions": ["entry_page"], "filters": [["is", "page", ["/rare"]]]}
    if interval:
        spec["dimensions"] = [f"time:{interval}"]
    sql, params = build_sql(parse_query(spec, timezone=timezone, now=NOW))
    head = sql.split(",\nm AS (", 1)[0]
    assert "m_sparse_days AS MATERIALIZED" in head
    used = max(int(n) for n in re.findall(r"\?(\d+)", head))
    return head, params[:used]


@pytest.mark.parametrize(("timezone", "date_range", "interval"), [
    ("Europe/Berlin", "12mo", None),
    ("America/St_Johns", "12mo", None),
    ("Asia/Kathmandu", "12mo", None),
    ("Australia/Lord_Howe", "12mo", None),
    ("Pacific/Chatham", "12mo", None),
    ("Pacific/Kiritimati", "30d", None),
    ("America/Los_Angeles", "7d", "hour"),
    ("Asia/Kolkata", "7d", "hour"),
])
def test_every_instant_finds_exactly_its_own_unit(
    conn: sqlite3.Connection, timezone: str, date_range: str, interval: str | None
) -> None:
    head, params = _ctes(timezone, date_range, interval)
    # Every quarter hour of the range, and the millisecond before each.
    rows = conn.execute(
        f"{head}, q(ts) AS (SELECT MIN(start_ms) FROM m_units UNION ALL SELECT ts + {QUARTER_MS} "
        "FROM q WHERE ts < (SELECT MAX(end_ms) FROM m_units)), "
        "instants(ts) AS (SELECT ts FROM q UNION ALL SELECT ts - 1 FROM q) "
        "SELECT n.ts, (SELECT group_concat(u.i) FROM m_units AS u "
        "WHERE n.ts >= u.start_ms AND n.ts < u.end_ms), "
        "(SELECT group_concat(b.i) FROM m_sparse_days AS b WHERE b.k = n.ts / 86400000 "
        "AND n.ts >= b.start_ms AND n.ts < b.end_ms) FROM instants AS n", params).fetchall()
    units = conn.execute(f"{head} SELECT COUNT(*) FROM m_units", params).fetchone()[0]
    assert units >= (160 if interval else 30)
    inside = [row for row in rows if row[1] is not None]
    assert len(inside) > units * (3 if interval else 90)
    wrong = [row for row in inside if row[1] != row[2]]
    assert not wrong, wrong[:5]


def test_the_visits_read_by_key_look_their_unit_up_by_index(conn: sqlite3.Connection) -> None:
    spec = {"site_id": "s1", "date_range": "12mo", "metrics": ["visits"],
            "dimensions": ["entry_page"], "filters": [["is", "page", ["/rare"]]]}
    sql, params = build_sql(parse_query(spec, timezone="Europe/Berlin", now=NOW))
    plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "SEARCH b USING AUTOMATIC COVERING INDEX (k=?)" in plan, plan
