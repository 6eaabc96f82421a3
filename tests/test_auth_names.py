"""A name cannot forge CLI output: control characters are refused wherever a name is typed
(setup, invite, passkey and its rename, API token, share link), and every CLI table escapes
whatever is stored anyway."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import (
    BASE,
    MOUNT,
    SETUP_TOKEN,
    add_user,
    one_site_db,
    post,
    setup_client,
    sign_in,
)
from fastapi.testclient import TestClient
from soft_authenticator import SoftAuthenticator

from analytics_941 import SqliteStore
from analytics_941.auth.errors import AuthError
from analytics_941.auth.invites import create_invite
from analytics_941.auth.names import check_name
from analytics_941.cli import main

HOSTILE = ["a\tb", "\x1b[31mx", "a\nb", "a\rb", "x\x00y", "a\u2028b", "evil\u202egnp.exe",
           "\u2066hidden", "bell\x07", "c1\x9b31m"]
# Joiners stay allowed: emoji sequences, Persian (ZWNJ), a subdivision flag (tag characters).
FINE = ["Ada Lovelace", "Zo\u00eb \U0001f469\u200d\U0001f4bb",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "O'Brien \"Al\"",
        "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return one_site_db(tmp_path)


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    with setup_client(db) as client:
        yield client


def stored(db: Path, sql: str) -> list[Any]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


@pytest.mark.parametrize("name", HOSTILE)
def test_check_name_refuses_control_characters(name: str) -> None:
    with pytest.raises(AuthError) as caught:
        check_name(name, what="A name", max_len=80, default="x")
    assert (caught.value.code, caught.value.status) == ("invalid_name", 400)


@pytest.mark.parametrize("name", FINE)
def test_check_name_keeps_real_names(name: str) -> None:
    assert check_name(f"  {name}\n", what="A name", max_len=80, default="x") == name


@pytest.mark.parametrize("name", ["a\tb", "\x1b[31mx", "a\nb", "evil\u202egnp"])
async def test_registration_refuses_a_hostile_display_name(
    client: TestClient, db: Path, name: str
) -> None:
    setup = post(client, "/auth/setup/options", {"token": SETUP_TOKEN, "name": name})
    assert setup.status_code == 400 and setup.json()["code"] == "invalid_name"
    assert "control characters" in setup.json()["message"]
    add_user(db, name="Ada")
    secret, _ = await create_invite(SqliteStore(path=db), roles={"s1": "viewer"}, created_by=None)
    invite = post(client, "/auth/invite/options", {"secret": secret, "name": name})
    assert invite.status_code == 400 and invite.json()["code"] == "invalid_name"
    # Refused before any challenge was issued; the invite is still usable.
    assert stored(db, "SELECT COUNT(*) FROM challenges") == [(0,)]
    again = post(client, "/auth/invite/options", {"secret": secret, "name": "Val"})
    assert again.status_code == 200


def test_a_hostile_passkey_name_is_refused_before_the_challenge_is_spent(
    client: TestClient, db: Path
) -> None:
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    start = post(client, "/auth/setup/options", {"token": SETUP_TOKEN, "name": "Ada"}).json()
    body = {"challenge_id": start["challenge_id"], "credential": key.create(start["publicKey"])}
    refused = post(client, "/auth/register/verify", {**body, "passkey_name": "a\tb"})
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_name")
    done = post(client, "/auth/register/verify", {**body, "passkey_name": "Laptop"})
    assert done.status_code == 200, done.text
    assert stored(db, "SELECT name FROM passkeys") == [("Laptop",)]


def test_settings_forms_refuse_hostile_names(client: TestClient, db: Path) -> None:
    user_id = add_user(db, name="Ada")
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO passkeys (id, user_id, name, public_key, created_at) "
                     "VALUES ('pk1', ?, 'Laptop', 'k', 0)", (user_id,))
    conn.close()
    sign_in(client, db, user_id=user_id)
    rename = client.post(f"{MOUNT}/settings/passkeys/pk1/rename", data={"name": "\x1b[2Jx"})
    token = client.post(f"{MOUNT}/settings/tokens",
                        data={"name": "ci\nforged", "site": "s1", "scope": "stats"})
    share = client.post(f"{MOUNT}/settings/sites/example.com/share", data={"name": "a\tb"})
    for response in (rename, token, share):
        assert response.status_code == 400, response.text
        assert "control characters" in response.text
    assert stored(db, "SELECT name FROM passkeys") == [("Laptop",)]
    assert stored(db, "SELECT COUNT(*) FROM api_tokens") == [(0,)]
    assert stored(db, "SELECT COUNT(*) FROM share_links") == [(0,)]


def test_cli_tables_escape_a_hostile_row_stored_directly(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Written straight into SQLite, as an older version or a hand edit could have.
    monkeypatch.setenv("ANALYTICS_941_SQLITE_PATH", str(db))
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO users (id, name, handle, is_admin, created_at) "
                     "VALUES ('u1', ?, 'h1', 0, 0)", ("Eve\tadmin (all sites)\n\x1b[31mu9",))
        conn.execute("INSERT INTO site_members VALUES ('s1', 'u1', 'viewer', 0)")
        conn.execute("UPDATE sites SET name = ? WHERE id = 's1'", ("Ex\u202eample\\t",))
    conn.close()
    assert main(["users", "list"]) == 0
    assert main(["sites", "list"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "u1\tEve\\tadmin (all sites)\\n\\x1b[31mu9\texample.com:viewer\n"
        "s1\texample.com\tUTC\tEx\\u202eample\\\\t\tDB\n"
    )
    assert "\x1b" not in out and "\u202e" not in out
