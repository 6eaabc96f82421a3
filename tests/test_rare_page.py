"""A rare page's raw reads go through the page index; a frequent page's keep the time range.

The registry of frequent values (``rollup_frequent_*``, ``rollups.frequent``) decides per unit,
inside the statement: the answers are the same either way, only the rows SQLite visits differ.
Data: the bench generator at a small scale (40 days, Berlin time), rolled up with a threshold
of 40 visits a month, so ``/`` is frequent and most pages are not.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from analytics_941 import SqliteStore, parse_query
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.sql_builder import build_sql
from bench.datagen import SITE_ID, TIMEZONE, generate

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    path = tmp_path_factory.mktemp("rare") / "rolled.sqlite"
    generate(path, events=6000, days=40, today=TODAY, rollups=False)
    asyncio.run(refresh_rollups(SqliteStore(path=path), max_days=64,
                                now_ms=int(NOW.timestamp() * 1000), min_visits=40))
    return path


def _statement(page: str, dimension: str = "os") -> tuple[str, list[Any]]:
    """The 30 days by ``dimension`` under ``page``: a tab the rollups per frequent value hold
    for frequent pages only (os: events drive; entry_page: visits drive)."""
    metrics = ["visits", "bounce_rate"] if dimension == "entry_page" else ["visitors"]
    query = parse_query({"site_id": SITE_ID, "date_range": "30d", "metrics": metrics,
                         "dimensions": [dimension], "filters": [["is", "page", [page]]]},
                        timezone=TIMEZONE, now=NOW)
    return build_sql(query)


def _run(conn: sqlite3.Connection, page: str, dimension: str = "os") -> tuple[list[Any], int]:
    """The rows, and about how many thousand VM steps SQLite took for them."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    sql, params = _statement(page, dimension)
    conn.set_progress_handler(tick, 1000)
    rows = conn.execute(sql, params).fetchall()
    conn.set_progress_handler(None, 0)
    return rows, steps[0]


def _rare_page(conn: sqlite3.Connection) -> str:
    """The most viewed page the registry holds for no month and no day."""
    (page,) = conn.execute(
        "SELECT pathname FROM events WHERE pathname NOT IN (SELECT fvalue FROM "
        "rollup_frequent_monthly WHERE fdim = 'page' UNION SELECT fvalue FROM "
        "rollup_frequent_daily WHERE fdim = 'page') GROUP BY 1 ORDER BY COUNT(*) DESC, 1"
    ).fetchone()
    return str(page)


@pytest.mark.parametrize(("dimension", "rare", "frequent"), [
    ("os", "SEARCH events USING INDEX events_path (site_id=? AND pathname=? AND ts>? AND ts<?)",
     "SEARCH events USING PRIMARY KEY (site_id=? AND ts>? AND ts<?)"),
    ("entry_page", "SEARCH sessions USING INDEX sqlite_autoindex_sessions_1 (id=?)",
     "SEARCH sessions USING INDEX sessions_site_started (site_id=? AND started_at>? AND "
     "started_at<?)"),
])
def test_the_plan_has_a_page_index_arm_beside_the_time_range(
    db: Path, dimension: str, rare: str, frequent: str
) -> None:
    conn = sqlite3.connect(db)
    sql, params = _statement(_rare_page(conn), dimension)
    plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    conn.close()
    assert "events_path" in plan, plan
    assert rare in plan, plan
    assert frequent in plan, plan


@pytest.mark.parametrize("dimension", ["os", "entry_page"])
def test_a_rare_page_is_read_through_the_index_with_the_same_answer(
    db: Path, dimension: str
) -> None:
    conn = sqlite3.connect(db)
    page = _rare_page(conn)
    held = conn.execute("SELECT COUNT(*) FROM rollup_frequent_monthly WHERE fvalue = ?",
                        (page,)).fetchone()
    assert held == (0,)
    rare_rows, rare_steps = _run(conn, page, dimension)
    assert rare_rows
    # The same page held as frequent in February and March (February no longer listed as
    # rolled up, so it reads raw rows, as March does): the time range is read, the answer is
    # the same.
    conn.execute("DELETE FROM rollup_frequent_months")
    for month in ("2026-02", "2026-03"):
        conn.execute("INSERT INTO rollup_frequent_monthly (site_id, month, fdim, fvalue, dim, "
                     "value) VALUES (?, ?, 'page', ?, '', '')", (SITE_ID, month, page))
    frequent_rows, frequent_steps = _run(conn, page, dimension)
    conn.rollback()
    conn.close()
    assert frequent_rows == rare_rows
    # Visits read by their key look their unit up through an automatic index, which on
    # these 30 days costs about as much as it saves (a year at 10 M: 4-5 times faster).
    assert rare_steps * 5 < frequent_steps * 2, (rare_steps, frequent_steps)


def test_a_frequent_page_keeps_the_time_range(db: Path) -> None:
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM rollup_frequent_daily WHERE fdim = 'page' "
                        "AND fvalue = '/' AND dim = ''").fetchone() != (0,)
    rows = [_run(conn, "/", dimension)[0] for dimension in ("os", "entry_page")]
    # Taken out of the registry, "/" is read through the index instead: same rows.
    conn.execute("DELETE FROM rollup_frequent_daily WHERE fvalue = '/'")
    conn.execute("DELETE FROM rollup_frequent_monthly WHERE fvalue = '/'")
    unlisted = [_run(conn, "/", dimension)[0] for dimension in ("os", "entry_page")]
    conn.rollback()
    conn.close()
    assert all(rows) and unlisted == rows


def test_today_follows_the_recent_days_and_older_days_their_own(db: Path) -> None:
    """The units where "/" counts as frequent: the days and months that hold it, and today
    (not rolled up yet), since the recent days hold it; a rare page has none."""
    conn = sqlite3.connect(db)
    rare = _rare_page(conn)
    dense = {}
    for page in ("/", rare):
        sql, params = _statement(page)
        cte = sql.split("m_dense AS (", 1)[1].split("),\nm", 1)[0]
        units = sql.split("m_units AS (", 1)[1].split("),\n", 1)[0]
        part = f"WITH m_units AS ({units}) {cte}"
        used = max(int(n) for n in re.findall(r"\?(\d+)", part))
        dense[page] = conn.execute(part, params[:used]).fetchall()
    conn.close()
    assert len(dense["/"]) == 30 and dense[rare] == []


def test_visits_are_read_by_key_only_while_the_page_has_few(db: Path) -> None:
    """Over 100 raw days of February, a rare page's visits are few enough to read by their
    key; those of "/" (a large share of February's visits) are not."""
    from analytics_941.filters import Condition
    from analytics_941.sql.compound import union_all
    from analytics_941.sql.page_reads import few_visits_sql
    from analytics_941.sql.params import Params

    conn = sqlite3.connect(db)
    rare = _rare_page(conn)
    answers = {}
    for page in (rare, "/"):
        params = Params()
        site = params.ref(SITE_ID)
        days = union_all([f"SELECT {n} AS i" for n in range(100)])
        test = few_visits_sql((Condition(op="is", dimension="page", values=(page,)),),
                              site=site, units="(SELECT '2026-02-15' AS day)",
                              sparse=f"({days})", params=params)
        (answers[page],) = conn.execute(f"SELECT {test}", params.check()).fetchone()
    conn.close()
    assert answers == {rare: 1, "/": 0}
