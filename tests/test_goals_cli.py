"""``analytics-941 goals add|list|remove``: stored as typed, audited, clear refusals."""

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
    return path


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def test_add_list_and_remove(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["goals", "add", "--site", "example.com", "--page", "/blog/**"]) == 0
    assert main(["goals", "add", "--site", "Example.com", "--event", "Signup", "--prop",
                 "plan=pro", "--name", "Pro signup"]) == 0
    assert main(["goals", "add", "--site", "example.com", "--event", "Signup"]) == 0
    assert main(["goals", "add", "--site", "example.com", "--event", "Purchase",
                 "--currency", "eur"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Visit /blog/**", "Pro signup", "Signup", "Purchase"]
    assert main(["goals", "list", "--site", "example.com"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "name\tkind\tmatches\tproperty\tcurrency",
        "Pro signup\tevent\tSignup\tplan=pro\t-",
        "Purchase\tevent\tPurchase\t-\tEUR",
        "Signup\tevent\tSignup\t-\t-",
        "Visit /blog/**\tpage\t/blog/**\t-\t-",
    ]
    assert main(["goals", "remove", "--site", "example.com", "Pro signup"]) == 0
    assert capsys.readouterr().out == "removed Pro signup\n"
    assert _rows(db, "SELECT name, kind, target, currency FROM goals ORDER BY name") == [
        ("Purchase", "event", "Purchase", "EUR"), ("Signup", "event", "Signup", None),
        ("Visit /blog/**", "page", "/blog/**", None),
    ]
    logged = _rows(db, "SELECT kind, actor_kind, detail FROM audit_log WHERE kind LIKE 'goal%' "
                       "ORDER BY id")
    assert [(kind, actor) for kind, actor, _ in logged] == [
        ("goal_create", "cli"), ("goal_create", "cli"), ("goal_create", "cli"),
        ("goal_create", "cli"), ("goal_remove", "cli"),
    ]
    assert json.loads(str(logged[-1][2])) == {"goal": "Pro signup",
                                              "matches": "event Signup with plan=pro"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--page", "blog/*"], "must start with /"),
        (["--page", "/blog/*/x/**"], "mixes * and **"),
        (["--page", "/a***"], "has ***"),
        (["--event", "Signup", "--prop", "plan"], "must read KEY=VALUE"),
        (["--event", "Signup", "--prop", "pl an=pro"], "property key"),
        (["--page", "/x", "--prop", "a=b"], "--prop goes with --event"),
        (["--event", "pageview"], "page goals"),
        (["--page", "/pricing"], "already has this goal"),
        (["--event", "Buy", "--name", "Visit /pricing"], "already has a goal named"),
    ],
)
def test_bad_goals_are_clear_errors(
    db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["goals", "add", "--site", "example.com", "--page", "/pricing"]) == 0
    capsys.readouterr()
    assert main(["goals", "add", "--site", "example.com", *argv]) == 1
    assert message in capsys.readouterr().err
    assert len(_rows(db, "SELECT id FROM goals")) == 1


def test_unknown_site_or_goal(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["goals", "list", "--site", "nope.example"]) == 1
    assert "no site 'nope.example'" in capsys.readouterr().err
    assert main(["goals", "remove", "--site", "example.com", "Ghost"]) == 1
    assert "no goal named 'Ghost'" in capsys.readouterr().err


def test_page_or_event_is_required(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["goals", "add", "--site", "example.com", "--page", "/a", "--event", "B"])
    assert "not allowed with argument" in capsys.readouterr().err
