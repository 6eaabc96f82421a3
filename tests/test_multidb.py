"""A site placed in a data database (DB_2) is read from it everywhere; an unknown one is a 503.

Both local files are real (``multidb_support``): DB_2's s1 lacks visit A, home's keeps it, so a
page reading the wrong file shows a different number.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_support import MOUNT, d1_emulator, sign_in
from conftest import LIVE_TZ
from fastapi import FastAPI
from fastapi.testclient import TestClient
from multidb_support import TwoDatabases, two_databases
from pydantic import SecretStr, ValidationError
from pytest_httpx import HTTPXMock
from seeding import seed

from analytics_941 import Settings, SqliteStore, parse_query, run_query, setup_analytics
from analytics_941.auth.share_links import create_share_link
from analytics_941.cli import main
from analytics_941.sites import add_site, list_sites

D1_BASE = "https://api.cloudflare.com/client/v4/accounts/acc/d1/database"


@pytest.fixture
def dbs(tmp_path: Path) -> TwoDatabases:
    return two_databases(tmp_path, today=datetime.now(ZoneInfo(LIVE_TZ)).date(),
                         timezone=LIVE_TZ)


@pytest.fixture
def client(dbs: TwoDatabases) -> TestClient:
    app = FastAPI()
    # No sqlite_path: each binding's file is found from wrangler.toml, as wrangler dev made it.
    setup_analytics(app, Settings(project_dir=dbs.project))
    client = TestClient(app)
    sign_in(client, dbs.home)
    return client


def visitors(path: Path, site_id: str = "s1", **fields: Any) -> list[Any]:
    """What the runner answers from ``path`` alone: visitors per row of the query."""
    query = parse_query({"site_id": site_id, "metrics": ["visitors"], "date_range": "7d",
                         **fields}, timezone=LIVE_TZ)
    result = asyncio.run(run_query(SqliteStore(path=path), query))
    return [[*r["dimensions"], r["metrics"][0]] for r in result["results"]]


def test_the_fixture_tells_the_databases_apart(dbs: TwoDatabases) -> None:
    assert visitors(dbs.db2) != visitors(dbs.home)


def test_the_api_reads_a_site_from_its_database(client: TestClient, dbs: TwoDatabases) -> None:
    body = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"}
    answer = client.post(f"{MOUNT}/api/v2/query", json=body)
    assert answer.status_code == 200, answer.text
    assert [answer.json()["results"][0]["metrics"][0]] == visitors(dbs.db2)[0]
    # A site left in DB is still read from home.
    body["site_id"] = "other.org"
    assert client.post(f"{MOUNT}/api/v2/query", json=body).json()["results"][0]["metrics"] == \
        visitors(dbs.home, "s2")[0]


def test_the_dashboard_and_a_panel_read_the_sites_database(
    client: TestClient, dbs: TwoDatabases
) -> None:
    view = client.get(f"{MOUNT}/example.com?period=7d")
    assert view.status_code == 200, view.text[:300]
    stats = {s.key: s.value for s in view.context["dashboard"].stats}  # type: ignore[attr-defined]
    assert [stats["visitors"]] == visitors(dbs.db2)[0]
    panel = client.get(f"{MOUNT}/example.com/panel/pages?period=7d")
    assert panel.status_code == 200, panel.text[:300]
    shown = sorted([r.name, r.metrics["visitors"]]
                   for r in panel.context["panel"].rows)  # type: ignore[attr-defined]
    by_page = sorted(visitors(dbs.db2, dimensions=["event:page"]))
    assert shown == by_page
    assert by_page != sorted(visitors(dbs.home, dimensions=["event:page"]))


def test_the_csv_export_reads_the_sites_database(client: TestClient, dbs: TwoDatabases) -> None:
    export = client.get(f"{MOUNT}/example.com/export?period=7d")
    assert export.status_code == 200, export.text[:300]
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("pages.csv").decode())))
    assert sorted([r["page"], int(r["visitors"])] for r in rows) == sorted(
        visitors(dbs.db2, dimensions=["event:page"]))
    # Its audit entry is written at home (DB_2 has no audit trail of its own).
    with sqlite3.connect(dbs.home) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE kind = 'export'").fetchone() \
            == (1,)
    conn.close()


def test_a_database_the_dashboard_does_not_know_is_a_503(
    client: TestClient, dbs: TwoDatabases
) -> None:
    with sqlite3.connect(dbs.home) as conn:
        conn.execute("UPDATE sites SET database = 'DB_9' WHERE id = 's1'")
    conn.close()
    body = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"}
    answer = client.post(f"{MOUNT}/api/v2/query", json=body)
    assert answer.status_code == 503
    assert answer.json()["code"] == "database_unknown"
    assert "DB_9" in answer.json()["message"]
    page = client.get(f"{MOUNT}/example.com")
    assert page.status_code == 503 and "DB_9" in page.text
    # The sites grid still lists it (without numbers), and other sites keep theirs.
    grid = client.get(f"{MOUNT}/settings/sites")
    assert grid.status_code == 200
    cards = {c.site.domain: c.week for c in grid.context["cards"]}  # type: ignore[attr-defined]
    assert cards["example.com"] == [] and sum(cards["other.org"]) > 0


def test_the_sites_grid_reads_each_site_from_its_database(
    client: TestClient, dbs: TwoDatabases
) -> None:
    grid = client.get(f"{MOUNT}/settings/sites")
    cards = {c.site.domain: c.week for c in grid.context["cards"]}  # type: ignore[attr-defined]
    assert cards["example.com"] == [v for _day, v in visitors(dbs.db2, dimensions=["time:day"])]


def test_d1_databases_are_validated() -> None:
    for bad in ({"DB": "x"}, {"db_2": "x"}, {"DB_2x": "x"}, {"DB_2": " "}):
        with pytest.raises(ValidationError):
            Settings(d1_databases=bad)
    assert Settings(d1_databases={"DB_2": " id2 "}).d1_databases == {"DB_2": "id2"}


def test_d1_reads_a_site_from_its_database_id(
    dbs: TwoDatabases, httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The env spelling the docs give: JSON.
    monkeypatch.setenv("ANALYTICS_941_D1_DATABASES", '{"DB_2": "id2"}')
    home_log: list[list[str]] = []
    db2_log: list[list[str]] = []
    httpx_mock.add_callback(d1_emulator(dbs.home, home_log), url=f"{D1_BASE}/home/query",
                            is_reusable=True)
    httpx_mock.add_callback(d1_emulator(dbs.db2, db2_log), url=f"{D1_BASE}/id2/query",
                            is_reusable=True)
    app = FastAPI()
    setup_analytics(app, Settings(
        store="d1", cf_account_id="acc", cf_api_token=SecretStr("t"), d1_database_id="home",
        project_dir=dbs.project, secret=SecretStr("a-test-secret-of-at-least-32-bytes"),
    ))
    _assert_reads_db2(app, dbs)
    assert db2_log and all("FROM sites" not in " ".join(sql) for sql in db2_log)
    assert any("FROM sites" in " ".join(sql) for sql in home_log)


def test_a_share_link_reads_the_sites_database(client: TestClient, dbs: TwoDatabases) -> None:
    link = asyncio.run(create_share_link(SqliteStore(path=dbs.home), site_id="s1", name="Public",
                                         password=None, created_by=None))
    shared = TestClient(client.app).get(f"{MOUNT}/share/{link.id}?period=7d")
    assert shared.status_code == 200, shared.text[:300]
    stats = {s.key: s.value for s in shared.context["dashboard"].stats}  # type: ignore[attr-defined]
    assert [stats["visitors"]] == visitors(dbs.db2)[0]


def test_deleting_a_site_purges_its_data_database(client: TestClient, dbs: TwoDatabases) -> None:
    deleted = client.post(f"{MOUNT}/settings/sites/example.com/delete",
                          data={"confirm": "example.com"}, follow_redirects=False)
    assert deleted.status_code == 303, deleted.text[:300]
    for path in (dbs.home, dbs.db2):
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM events WHERE site_id = 's1'").fetchone() \
                == (0,)
            assert conn.execute("SELECT COUNT(*) FROM sites WHERE id = 's1'").fetchone() == (0,)
        conn.close()


def test_a_database_without_the_column_still_reads_and_takes_sites(tmp_path: Path) -> None:
    path = seed(tmp_path / "old.sqlite", today=datetime.now(ZoneInfo(LIVE_TZ)).date(),
                timezone=LIVE_TZ)
    with sqlite3.connect(path) as conn:  # as before migration 0015
        conn.execute("ALTER TABLE sites DROP COLUMN database")
    conn.close()
    store = SqliteStore(path=path)
    asyncio.run(add_site(store, domain="new.example"))
    assert {s.database for s in asyncio.run(list_sites(store))} == {"DB"}


def test_sites_add_places_a_site_and_refuses_an_unknown_database(
    dbs: TwoDatabases, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(dbs.project)
    assert main(["sites", "add", "new.example", "--database", "DB_2"]) == 0
    assert main(["sites", "add", "lost.example", "--database", "DB_9"]) == 1
    assert "DB_9" in capsys.readouterr().err
    assert main(["sites", "list"]) == 0
    listed = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert {(row[1], row[4]) for row in listed} == {
        ("example.com", "DB_2"), ("new.example", "DB_2"), ("other.org", "DB")}


def test_every_binding_is_found_in_wranglers_persist_folder(tmp_path: Path) -> None:
    # As the e2e stack runs wrangler: --persist-to a folder of its own.
    dbs = two_databases(tmp_path, today=datetime.now(ZoneInfo(LIVE_TZ)).date(),
                        timezone=LIVE_TZ, state_dir=tmp_path / "state")
    app = FastAPI()
    setup_analytics(app, Settings(project_dir=tmp_path, wrangler_state_dir=tmp_path / "state"))
    _assert_reads_db2(app, dbs)


def _assert_reads_db2(app: FastAPI, dbs: TwoDatabases) -> None:
    """The v2 API of ``app``, signed in, answers the site's visitors from DB_2's file."""
    client = TestClient(app)
    sign_in(client, dbs.home)
    body = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"}
    answer = client.post(f"{MOUNT}/api/v2/query", json=body)
    assert answer.status_code == 200, answer.text
    assert [answer.json()["results"][0]["metrics"][0]] == visitors(dbs.db2)[0]
