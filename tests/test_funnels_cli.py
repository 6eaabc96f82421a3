"""``analytics-941 funnels add|list|remove``: stored as typed, audited, clear refusals."""

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
    assert main(["sites", "add", "example.com"]) == 0
    assert main(["goals", "add", "--site", "example.com", "--event", "Signup"]) == 0
    return path


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def test_add_list_and_remove(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["funnels", "add", "--site", "example.com", "--name", "Signups",
                 "--step", "page:/pricing*", "--step", "/docs/**", "--step", "goal:Signup"]) == 0
    assert main(["funnels", "add", "--site", "example.com", "--name", "Short",
                 "--step", "/", "--step", "Signup"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Signups", "Short"]
    assert main(["funnels", "list", "--site", "example.com"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "name\tsteps",
        "Short\tpage:/ > goal:Signup",
        "Signups\tpage:/pricing* > page:/docs/** > goal:Signup",
    ]
    assert _rows(db, "SELECT steps FROM funnels WHERE name = 'Signups'") == [
        ('[{"page": "/pricing*"}, {"page": "/docs/**"}, {"goal": "Signup"}]',)]
    assert main(["funnels", "remove", "--site", "example.com", "Short"]) == 0
    assert capsys.readouterr().out == "removed Short\n"
    assert _rows(db, "SELECT name FROM funnels") == [("Signups",)]
    logged = _rows(db, "SELECT kind, actor_kind, detail FROM audit_log "
                       "WHERE kind LIKE 'funnel%' ORDER BY id")
    assert [(kind, actor) for kind, actor, _ in logged] == [
        ("funnel_create", "cli"), ("funnel_create", "cli"), ("funnel_remove", "cli")]
    assert json.loads(str(logged[-1][2])) == {"funnel": "Short", "steps": 2}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--step", "/pricing"], "2 to 8 steps, not 1"),
        (["--step", "/a"] * 9, "2 to 8 steps, not 9"),
        (["--step", "/a", "--step", "goal:Nope"], "Step 2: the site has no goal named 'Nope'"),
        (["--step", "/a", "--step", "page:blog"], "Step 2: The page pattern 'blog' must start"),
        (["--step", "/a", "--step", "/b/*/**"], "mixes * and **"),
        (["--step", "/a", "--step", "goal:"], "Step 2: A goal step's name is empty"),
    ],
)
def test_bad_funnels_are_clear_errors(
    db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    capsys.readouterr()
    assert main(["funnels", "add", "--site", "example.com", "--name", "F", *argv]) == 1
    assert message in capsys.readouterr().err
    assert _rows(db, "SELECT id FROM funnels") == []


def test_names_are_unique_per_site(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = ["--step", "/a", "--step", "/b"]
    assert main(["funnels", "add", "--site", "example.com", "--name", "F", *steps]) == 0
    capsys.readouterr()
    assert main(["funnels", "add", "--site", "example.com", "--name", "F", *steps]) == 1
    assert "already has a funnel named 'F'" in capsys.readouterr().err
    assert main(["funnels", "remove", "--site", "example.com", "G"]) == 1
    assert "has no funnel named 'G'" in capsys.readouterr().err
