"""The site setting "archive raw events" (docs/archive.md): the settings form's checkbox is what
the Worker's purge reads (sites.archive_raw), and leaving it unticked turns it off again."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from auth_support import MOUNT, signed_in_admin
from fastapi.testclient import TestClient
from seeding import seed

TZ = "Europe/Berlin"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return seed(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo(TZ)).date(), timezone=TZ)


@pytest.fixture
def admin(db: Path) -> TestClient:
    return signed_in_admin(db)


def stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        value = int(conn.execute(
            "SELECT archive_raw FROM sites WHERE domain = 'example.com'").fetchone()[0])
    conn.close()
    return value


def test_the_checkbox_turns_the_raw_archive_on_and_off(admin: TestClient, db: Path) -> None:
    page = admin.get(f"{MOUNT}/settings/sites/example.com")
    assert page.context["site"].archive_raw is False  # type: ignore[attr-defined]
    assert 'name="archive_raw"' in page.text
    form = {"name": "Example", "timezone": TZ, "retention_days": "30"}
    on = admin.post(f"{MOUNT}/settings/sites/example.com", data={**form, "archive_raw": "on"})
    assert on.status_code == 200 and on.context["site"].archive_raw is True  # type: ignore[attr-defined]
    assert stored(db) == 1
    assert 'name="archive_raw" checked' in admin.get(f"{MOUNT}/settings/sites/example.com").text
    admin.post(f"{MOUNT}/settings/sites/example.com", data=form)
    assert stored(db) == 0
