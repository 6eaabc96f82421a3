"""``analytics-941 sites move``: a site's data goes from DB to DB_2 and every number stays.

Real SQLite files for both databases (found from wrangler.toml as ``wrangler dev`` keeps them);
every panel's report is asked through the API before and after, and must answer the same.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_support import MOUNT, sign_in
from conftest import LIVE_TZ
from fastapi import FastAPI
from fastapi.testclient import TestClient
from multidb_support import WRANGLER_TOML, local_file
from seeding import apply_schema, seed

from analytics_941 import Settings, SqliteStore, setup_analytics, site_move
from analytics_941.cli import main
from analytics_941.exceptions import StoreError
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.site_move import move_site
from analytics_941.sites import get_site
from analytics_941.store import Row, Statement, Store
from analytics_941.stores import Stores, open_stores
from analytics_941.web.dashboard.reports import REPORTS

DATA_TABLES = ("events", "sessions", "rollup_daily", "rollup_days", "rollup_dirty",
               "rollup_monthly", "rollup_weekly", "rollup_filtered_daily", "raw_archives")


class Project:
    def __init__(self, folder: Path) -> None:
        (folder / "wrangler.toml").write_text(WRANGLER_TOML)
        today = datetime.now(ZoneInfo(LIVE_TZ)).date()
        self.folder = folder
        self.home = seed(local_file(folder, "DB"), today=today, timezone=LIVE_TZ)
        self.db2 = apply_schema(local_file(folder, "DB_2"))
        self.settings = Settings(project_dir=folder)
        # Closed days rolled up at home, so rollup rows move too.
        asyncio.run(refresh_rollups(SqliteStore(path=self.home), max_days=64,
                                    now_ms=int(time.time() * 1000)))
        app = FastAPI()
        setup_analytics(app, self.settings)
        self.client = TestClient(app)
        sign_in(self.client, self.home)

    def numbers(self) -> list[Any]:
        """Every report's rows (and the totals and days) for example.com, through the API."""
        answers = []
        totals = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]
        asked = [([], totals), (["time:day"], totals),
                 *[([r.dimension], list(r.metrics)) for r in REPORTS.values()]]
        for dimensions, metrics in asked:
            body = {"site_id": "example.com", "metrics": metrics, "date_range": "30d",
                    "dimensions": dimensions}
            answer = self.client.post(f"{MOUNT}/api/v2/query", json=body)
            assert answer.status_code == 200, answer.text
            answers.append(answer.json()["results"])
        return answers

    def count(self, path: Path, table: str, site_id: str = "s1") -> int:
        with sqlite3.connect(path) as conn:
            (n,) = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE site_id = ?",
                                (site_id,)).fetchone()
        conn.close()
        return int(n)

    def database_of_s1(self) -> str:
        site = asyncio.run(get_site(SqliteStore(path=self.home), domain="example.com"))
        assert site is not None
        return site.database


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    # Small pages and parameters: every table takes several pages, a page several statements.
    monkeypatch.setattr(site_move, "PAGE_ROWS", 4)
    monkeypatch.setattr(site_move, "PARAM_BYTES", 1500)
    return Project(tmp_path)


def test_sites_move_copies_everything_and_empties_the_source(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = project.numbers()
    counts = {t: project.count(project.home, t) for t in DATA_TABLES}
    with sqlite3.connect(project.home) as conn:  # an archived day, listed in the site's database
        conn.execute("INSERT INTO raw_archives (site_id, day, key, events, sessions, bytes, "
                     "archived_at) VALUES ('s1', '2020-01-01', 'k', 1, 1, 10, 0)")
    conn.close()
    counts = {t: project.count(project.home, t) for t in DATA_TABLES}
    assert counts["events"] and counts["rollup_daily"] and counts["rollup_days"]
    others = project.count(project.home, "events", "s2")
    monkeypatch.chdir(project.folder)
    assert main(["sites", "move", "example.com", "--to", "DB_2", "--settle-seconds", "0"]) == 0
    assert "moved example.com from DB to DB_2" in capsys.readouterr().out
    assert project.database_of_s1() == "DB_2"
    assert project.numbers() == before
    for table in ("events", "sessions", "rollup_daily", "rollup_monthly", "rollup_weekly",
                  "rollup_filtered_daily", "raw_archives"):
        assert project.count(project.db2, table) == counts[table], table
    assert all(project.count(project.home, t) == 0 for t in DATA_TABLES)
    assert project.count(project.home, "events", "s2") == others
    # DB_2 holds a copy of the site's row (the collector writes only rows of sites listed there).
    with sqlite3.connect(project.db2) as conn:
        assert conn.execute("SELECT domain, database FROM sites").fetchall() == [
            ("example.com", "DB_2")]
        logged = conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()
    conn.close()
    assert logged == (0,)
    with sqlite3.connect(project.home) as conn:
        (detail,) = conn.execute("SELECT detail FROM audit_log WHERE kind = 'site_move'").fetchone()
    conn.close()
    assert '"from": "DB"' in detail and '"to": "DB_2"' in detail
    # Moving it there again has nothing left to do; a move to where it is, nothing to start.
    assert main(["sites", "move", "example.com", "--to", "DB_2", "--settle-seconds", "0"]) == 0
    assert project.numbers() == before
    assert main(["sites", "move", "other.org", "--to", "DB"]) == 1


class FailingStore:
    """``inner``, except that the ``fail_at``-th batch with a statement ``matching`` fails."""

    def __init__(self, inner: Store, *, matching: str, fail_at: int) -> None:
        self.inner, self.matching, self.left = inner, matching, fail_at

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self.inner.execute(sql, params)

    async def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        if any(self.matching in sql for sql, _params in statements):
            self.left -= 1
            if self.left == 0:
                raise StoreError("the connection dropped")
        return await self.inner.batch(statements)

    async def aclose(self) -> None:
        await self.inner.aclose()


def stores_with(project: Project, wrap: Callable[[str, Store], Store]) -> Stores:
    opened = open_stores(project.settings)
    return Stores(home=wrap("DB", opened.home), open_data=lambda b: wrap(b, opened.data(b)))


async def move(stores: Stores, **kwargs: Any) -> None:
    site = await get_site(stores.home, domain="example.com")
    assert site is not None

    async def no_wait(_s: float) -> None:
        return None

    await move_site(stores, site=site, to="DB_2", **{"sleep": no_wait, "settle_s": 0, **kwargs})


@pytest.mark.parametrize(("failing", "matching", "switched"), [
    ("DB_2", "INSERT OR IGNORE INTO \"events\"", False),  # during the first pass
    ("DB", "DELETE FROM \"events\"", True),  # while emptying the source, after the switch
])
def test_an_interrupted_move_continues_when_run_again(
    project: Project, failing: str, matching: str, switched: bool
) -> None:
    before = project.numbers()
    broken = stores_with(project, lambda b, s: FailingStore(s, matching=matching, fail_at=2)
                         if b == failing else s)
    with pytest.raises(StoreError):
        asyncio.run(move(broken))
    assert project.database_of_s1() == ("DB_2" if switched else "DB")
    assert project.numbers() == before
    asyncio.run(move(open_stores(project.settings)))
    assert project.database_of_s1() == "DB_2"
    assert project.numbers() == before
    assert project.count(project.home, "events") == 0


def test_rows_the_collector_writes_to_the_source_during_the_move_are_not_lost(
    project: Project,
) -> None:
    now = int(time.time() * 1000)

    async def collector_flushes_late(_seconds: float) -> None:
        # The collector still had the old placement cached: a new visit lands in DB, and visit
        # E (already copied) grows by one pageview there.
        with sqlite3.connect(project.home) as conn:
            conn.execute("INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                         "hostname, entry_page, exit_page, pageviews, events, duration_ms, "
                         "is_bounce) VALUES ('late', 's1', 'v-late', ?, ?, 'example.com', "
                         "'/late', '/late', 1, 1, 0, 1)", (now, now))
            conn.execute("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                         "hostname, pathname) VALUES ('e-late', 's1', ?, 'pageview', 'v-late', "
                         "'late', 'example.com', '/late')", (now,))
            conn.execute("UPDATE sessions SET pageviews = pageviews + 1, events = events + 1, "
                         "duration_ms = duration_ms + 1000 WHERE id = 'E'")
        conn.close()

    with sqlite3.connect(project.home) as conn:
        (grown,) = conn.execute("SELECT pageviews + 1 FROM sessions WHERE id = 'E'").fetchone()
    conn.close()
    asyncio.run(move(open_stores(project.settings), sleep=collector_flushes_late))
    with sqlite3.connect(project.db2) as conn:
        assert conn.execute("SELECT pathname FROM events WHERE id = 'e-late'").fetchone() == (
            "/late",)
        assert conn.execute("SELECT pageviews FROM sessions WHERE id = 'E'").fetchone() == (
            grown,)
    conn.close()
    assert project.count(project.home, "events") == 0
    pages = project.client.post(f"{MOUNT}/api/v2/query", json={
        "site_id": "example.com", "metrics": ["visitors"], "date_range": "day",
        "dimensions": ["event:page"]}).json()["results"]
    assert ["/late"] in [r["dimensions"] for r in pages]
