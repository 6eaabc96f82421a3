"""The ``analytics-941`` command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from auth_support import D1_URL, d1_emulator
from pytest_httpx import HTTPXMock
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
    assert capsys.readouterr().out == f"{site_id}\texample.com\tEurope/Berlin\tExample\tDB\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sites", "add", "https://exa mple.com/"], "is not a domain"),
        (["sites", "add", "example.com", "--timezone", "Mars/Base"], "Unknown timezone"),
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
    assert "A site with the domain 'example.com' already exists" in capsys.readouterr().err


def test_without_settings_it_needs_the_local_d1_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANALYTICS_941_SQLITE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wrangler.toml").write_text('[[d1_databases]]\nbinding = "DB"\n')
    assert main(["sites", "list"]) == 1
    assert "make demo" in capsys.readouterr().err


def test_tokens_create_prints_the_token_alone_on_the_last_line(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sites", "add", "example.com"]) == 0
    capsys.readouterr()
    assert main(["tokens", "create", "--site", "example.com", "--scope", "stats"]) == 0
    out = capsys.readouterr().out
    token = out.splitlines()[-1]
    assert token.startswith("a941_t_") and " " not in token
    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT token_hash, scopes, prefix FROM api_tokens").fetchone()
    conn.close()
    assert token not in stored[0] and json.loads(stored[1]) == ["stats"]
    assert token.startswith(stored[2])
    assert main(["tokens", "create", "--site", "nope.org"]) == 1
    assert "no site 'nope.org'" in capsys.readouterr().err


def test_setup_link_invite_and_users_list(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["setup-link", "--base-url", "http://localhost:9000/"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("http://localhost:9000/admin/analytics/setup?token=a941_setup_")
    assert main(["sites", "add", "example.com"]) == 0
    capsys.readouterr()
    # Before the administrator exists, an invite would make a non-admin the first user.
    assert main(["invite", "--site", "example.com", "--role", "viewer"]) == 1
    assert "no user exists yet" in capsys.readouterr().err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM invites").fetchone()[0] == 0
    conn.execute("INSERT INTO users (id, name, handle, is_admin, created_at) "
                 "VALUES ('u1', 'Ada', 'h1', 1, 0), ('u2', 'Bob', 'h2', 0, 1)")
    conn.execute("INSERT INTO site_members SELECT id, 'u2', 'viewer', 0 FROM sites")
    conn.commit()
    conn.close()
    assert main(["invite", "--site", "example.com", "--role", "viewer"]) == 0
    invite = capsys.readouterr().out.strip()
    assert invite.startswith("http://localhost:8000/admin/analytics/invite/a941_i_")
    assert main(["users", "list"]) == 0
    assert capsys.readouterr().out == (
        "u1\tAda\tadmin (all sites)\nu2\tBob\texample.com:viewer\n")
    assert main(["setup-link"]) == 1
    assert "setup is complete" in capsys.readouterr().err


def test_against_d1_over_its_http_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpx_mock: HTTPXMock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The same commands with store=d1: every statement goes through D1HttpStore to the
    # (mocked) Cloudflare API, answered from a real SQLite file.
    remote = apply_schema(tmp_path / "remote.sqlite")
    log: list[list[str]] = []
    httpx_mock.add_callback(d1_emulator(remote, log), url=D1_URL, is_reusable=True)
    for name, value in {"STORE": "d1", "CF_ACCOUNT_ID": "acc", "CF_API_TOKEN": "t",
                        "D1_DATABASE_ID": "db"}.items():
        monkeypatch.setenv(f"ANALYTICS_941_{name}", value)
    monkeypatch.delenv("ANALYTICS_941_SQLITE_PATH", raising=False)
    assert main(["sites", "add", "example.com", "--timezone", "Europe/Berlin"]) == 0
    site_id = capsys.readouterr().out.strip()
    assert main(["sites", "list"]) == 0
    assert capsys.readouterr().out == f"{site_id}\texample.com\tEurope/Berlin\texample.com\tDB\n"
    assert main(["tokens", "create", "--name", "ci", "--site", "example.com"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    with sqlite3.connect(remote) as conn:
        assert conn.execute("SELECT domain FROM sites").fetchall() == [("example.com",)]
        assert conn.execute("SELECT COUNT(*) FROM api_tokens").fetchone() == (1,)
    conn.close()
    assert secret.startswith("a941_t_") and log
    # A refusal from D1 is a clear error, not a traceback.
    assert main(["sites", "add", "example.com"]) == 1
    assert "example.com" in capsys.readouterr().err
