"""The ``ingest`` scope: tokens for the collector's bulk ingestion, made on the command line or
in the tokens page (site admins only), asked for explicitly and opening no dashboard route."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from auth_support import add_user, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient
from seeding import seed

from analytics_941 import Settings, setup_analytics
from analytics_941.auth.api_tokens import DEFAULT_SCOPES, create_token
from analytics_941.cli import main
from analytics_941.sqlite_store import SqliteStore

MOUNT = "/admin/analytics"
TZ = "Europe/Berlin"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = seed(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo(TZ)).date(), timezone=TZ)
    monkeypatch.setenv("ANALYTICS_941_SQLITE_PATH", str(path))
    return path


def scopes(db: Path) -> list[list[str]]:
    with sqlite3.connect(db) as conn:
        found = [json.loads(r[0]) for r in conn.execute(
            "SELECT scopes FROM api_tokens ORDER BY created_at, rowid")]
    conn.close()
    return found


def test_the_cli_makes_ingest_tokens_only_when_asked(db: Path) -> None:
    assert main(["tokens", "create", "--site", "example.com", "--scope", "ingest"]) == 0
    assert main(["tokens", "create", "--site", "example.com"]) == 0
    assert scopes(db) == [["ingest"], list(DEFAULT_SCOPES)]
    assert "ingest" not in DEFAULT_SCOPES


async def test_an_ingest_token_reads_nothing(db: Path) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
    secret, _ = await create_token(SqliteStore(path=db), name="srv", user_id=None,
                                   site_ids=["s1"], scopes=["ingest"])
    client = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    body = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"}
    assert client.post(f"{MOUNT}/api/v2/query", json=body).status_code == 403
    assert client.get(f"{MOUNT}/example.com/export/events.csv").status_code == 403


@pytest.mark.parametrize(("role", "status", "made"), [("viewer", 403, 0), ("admin", 200, 1)])
def test_the_tokens_page_lets_site_admins_make_them(db: Path, role: str, status: int,
                                                   made: int) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
    client = TestClient(app, base_url="http://localhost")
    sign_in(client, db, user_id=add_user(db, name="Val", is_admin=False, roles={"s1": role}))
    page = client.post(f"{MOUNT}/settings/tokens",
                       data={"name": "srv", "site": "s1", "scope": "ingest"})
    assert page.status_code == status
    assert len(scopes(db)) == made
    if made:
        assert "Send events" in client.get(f"{MOUNT}/settings/tokens").text
    else:
        assert "needs the admin role" in page.text
