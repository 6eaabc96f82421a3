"""The ``analytics-941`` command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from seeding import apply_schema

from analytics_941.cli import main


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = apply_schema(tmp_path / "d1.sqlite")
    monkeypatch.setenv("ANALYTICS_941_SQLITE_PATH", str(path))
    return path


def test_sites_add_and_list(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "sites",
        "add",
        "Example.com",
        "--name",
        "Example",
        "--timezone",
        "Europe/Berlin",
        "--also-domain",
        "www.example.com",
        "--also-domain",
        "example.com",
    ]
    assert main(argv) == 0
    site_id = capsys.readouterr().out.strip()
    assert len(site_id) == 10 and site_id.isalnum()
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT id, domain, name, domains, timezone FROM sites").fetchone()
    conn.close()
    assert row[:3] == (site_id, "example.com", "Example")
    assert json.loads(row[3]) == ["example.com", "www.example.com"]
    assert row[4] == "Europe/Berlin"
    assert main(["sites", "list"]) == 0
    assert capsys.readouterr().out == f"{site_id}\texample.com\tEurope/Berlin\tExample\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sites", "add", "https://example.com/"], "not a hostname"),
        (["sites", "add", "example.com", "--timezone", "Mars/Base"], "unknown IANA timezone"),
    ],
)
def test_bad_input_is_a_clear_error(
    db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_duplicate_domain_is_refused(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "add", "example.com"]) == 0
    assert main(["sites", "add", "example.com"]) == 1
    assert "UNIQUE" in capsys.readouterr().err


def test_without_settings_it_needs_the_local_d1_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANALYTICS_941_SQLITE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wrangler.toml").write_text('[[d1_databases]]\nbinding = "DB"\n')
    assert main(["sites", "list"]) == 1
    assert "make demo" in capsys.readouterr().err
