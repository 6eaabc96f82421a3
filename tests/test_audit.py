"""The audit log: one row per admin action and export, one counter row per API token, site and day;
owners see their sites' entries only; kept a year; printed by the CLI."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_support import BASE, MOUNT, SETUP_TOKEN, add_user, new_session, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient
from seeding import apply_schema, seed
from soft_authenticator import SoftAuthenticator

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.audit import (
    KINDS,
    PURGE_ROWS,
    RETENTION_DAYS,
    Actor,
    entry_statements,
    purge_statement,
    token_read_statements,
)
from analytics_941.auth.api_tokens import create_token
from analytics_941.auth.invites import create_invite
from analytics_941.auth.share_links import create_share_link
from analytics_941.cli import main
from analytics_941.web.account.settings_routes import AUDIT_PAGE

DAY_MS = 86_400_000


@dataclass
class World:
    """A seeded database (sites s1 example.com and s2 other.org), the app and a client."""

    db: Path
    client: TestClient
    secrets: list[str] = field(default_factory=list)  # everything that must never be logged

    @property
    def store(self) -> SqliteStore:
        return SqliteStore(path=self.db)

    def rows(self, sql: str = "SELECT * FROM audit_log ORDER BY id", *args: Any) -> list[Any]:
        with sqlite3.connect(self.db) as conn:
            conn.row_factory = sqlite3.Row
            rows = [dict(r) for r in conn.execute(sql, args).fetchall()]
        conn.close()
        return rows

    def admin(self, name: str = "Ada") -> str:
        user_id = add_user(self.db, name=name)
        sign_in(self.client, self.db, user_id=user_id)
        return user_id

    def post(self, path: str, data: dict[str, str] | None = None) -> Any:
        response = self.client.post(f"{MOUNT}{path}", data=data or {}, follow_redirects=False)
        assert response.status_code < 400, response.text
        return response

    def json(self, path: str, body: dict[str, Any]) -> Any:
        response = self.client.post(f"{MOUNT}{path}", json=body, headers={"Origin": BASE})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def world(tmp_path: Path) -> World:
    db = seed(tmp_path / "d1.sqlite", today=datetime.now(ZoneInfo("UTC")).date(), timezone="UTC")
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent,
                                  setup_token=SETUP_TOKEN))  # type: ignore[arg-type]
    return World(db=db, client=TestClient(app, base_url=BASE))


def register_owner(w: World, key: SoftAuthenticator) -> None:
    start = w.json("/auth/setup/options", {"token": SETUP_TOKEN, "name": "Ada"})
    w.json("/auth/register/verify", {"challenge_id": start["challenge_id"],
                                     "credential": key.create(start["publicKey"]),
                                     "passkey_name": "Laptop"})


def with_passkeys(w: World, user_id: str, *names: str) -> None:
    with sqlite3.connect(w.db) as conn:
        for i, name in enumerate(names):
            conn.execute("INSERT INTO passkeys (id, user_id, name, public_key, created_at) "
                         "VALUES (?, ?, ?, 'k', ?)", (f"pk{i}", user_id, name, i))
    conn.close()


# ---- one way to perform each kind; a kind added to KINDS without one fails below ------------

def do_setup(w: World) -> None:
    register_owner(w, SoftAuthenticator(origin=BASE, rp_id="localhost"))


def do_login(w: World) -> None:
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    register_owner(w, key)
    w.client.cookies.clear()
    start = w.json("/auth/login/options", {})
    w.json("/auth/login/verify", {"challenge_id": start["challenge_id"],
                                  "credential": key.get(start["publicKey"])})


def do_session_revoke(w: World) -> None:
    user_id = w.admin()
    new_session(w.db, user_id=user_id)
    (other,) = w.rows("SELECT id FROM auth_sessions ORDER BY created_at LIMIT 1")
    w.post(f"/settings/sessions/{other['id']}/revoke")


def do_passkey_add(w: World) -> None:
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    register_owner(w, key)
    w.client.headers["X-CSRF-Token"] = w.client.get(
        f"{MOUNT}/settings/account").context["principal"].csrf  # type: ignore[attr-defined]
    start = w.json("/settings/passkeys/options", {})
    w.json("/auth/register/verify", {"challenge_id": start["challenge_id"],
                                     "credential": key.create(start["publicKey"]),
                                     "passkey_name": "Phone"})


def do_passkey_rename(w: World) -> None:
    with_passkeys(w, w.admin(), "Laptop")
    w.post("/settings/passkeys/pk0/rename", {"name": "Work laptop"})


def do_passkey_remove(w: World) -> None:
    with_passkeys(w, w.admin(), "Laptop", "Phone")
    w.post("/settings/passkeys/pk1/delete")


def do_site_create(w: World) -> None:
    w.admin()
    w.post("/settings/sites", {"domain": "new.example", "timezone": "UTC"})


def do_site_update(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com", {"name": "Example!", "timezone": "UTC",
                                           "retention_days": "90"})


def do_site_delete(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/delete", {"confirm": "example.com"})


def do_site_move(w: World) -> None:
    from analytics_941.site_move import move_site
    from analytics_941.sites import get_site
    from analytics_941.stores import Stores

    db2 = apply_schema(w.db.parent / "db2.sqlite")

    async def run() -> None:
        stores = Stores(home=SqliteStore(path=w.db), open_data=lambda _b: SqliteStore(path=db2))
        site = await get_site(stores.home, domain="example.com")
        assert site is not None
        await move_site(stores, site=site, to="DB_2", settle_s=0)

    asyncio.run(run())


def do_member_remove(w: World) -> None:
    bob = add_user(w.db, name="Bob", is_admin=False, roles={"s1": "viewer"})
    w.admin()
    w.post(f"/settings/sites/example.com/members/{bob}/remove")


def do_invite_create(w: World) -> None:
    w.admin()
    page = w.post("/settings/sites/example.com/invites", {"role": "viewer"})
    w.secrets.append(page.context["invite_link"].rsplit("/", 1)[1])


def do_invite_use(w: World) -> None:
    add_user(w.db, name="Ada")
    secret, _ = asyncio.run(create_invite(w.store, roles={"s1": "viewer", "s2": "admin"},
                                          created_by=None))
    w.secrets.append(secret)
    key = SoftAuthenticator(origin=BASE, rp_id="localhost")
    start = w.json("/auth/invite/options", {"secret": secret, "name": "Val"})
    w.json("/auth/register/verify", {"challenge_id": start["challenge_id"],
                                     "credential": key.create(start["publicKey"])})


def do_invite_revoke(w: World) -> None:
    secret, invite = asyncio.run(create_invite(w.store, roles={"s1": "viewer"}, created_by=None))
    w.secrets.append(secret)
    w.admin()
    w.post(f"/settings/sites/example.com/invites/{invite.id}/revoke")


def do_share_create(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/share", {"name": "Public", "password": "hunter22"})
    w.secrets += ["hunter22", *(r["id"] for r in w.rows("SELECT id FROM share_links"))]


def do_share_revoke(w: World) -> None:
    link = asyncio.run(create_share_link(w.store, site_id="s1", name="Public", password=None,
                                         created_by=None))
    w.secrets.append(link.id)
    w.admin()
    w.post(f"/settings/sites/example.com/share/{link.id}/revoke")


def do_token_create(w: World) -> None:
    w.admin()
    page = w.post("/settings/tokens", {"name": "ci", "site": "s1", "scope": "stats"})
    w.secrets.append(page.context["new_secret"])


def do_token_revoke(w: World) -> None:
    user_id = w.admin()
    secret, token = asyncio.run(create_token(w.store, name="ci", user_id=user_id,
                                             site_ids=["s1"], scopes=["stats"]))
    w.secrets.append(secret)
    w.post(f"/settings/tokens/{token.id}/revoke")


def do_token_read(w: World) -> None:
    secret, _ = asyncio.run(create_token(w.store, name="ci", user_id=None, site_ids=["s1"],
                                         scopes=["stats"]))
    w.secrets.append(secret)
    response = w.client.get(f"{MOUNT}/api/stats?site=example.com&metrics=visitors",
                            headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text


def do_export(w: World) -> None:
    w.admin()
    assert w.client.get(f"{MOUNT}/example.com/export?period=7d").status_code == 200


def do_goal_create(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/goals", {"event": "Signup", "prop": "plan=pro"})


def do_goal_remove(w: World) -> None:
    do_goal_create(w)
    (goal,) = w.rows("SELECT id FROM goals")
    w.post(f"/settings/sites/example.com/goals/{goal['id']}/remove")


def do_webhook_create(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/webhooks",
           {"url": "https://hooks.example.com/941", "event": "report.sent"})


def do_webhook_remove(w: World) -> None:
    do_webhook_create(w)
    (endpoint,) = w.rows("SELECT id FROM webhook_endpoints")
    w.post(f"/settings/sites/example.com/webhooks/{endpoint['id']}/remove")


def do_alert_create(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/alerts", {"kind": "spike", "threshold": "150"})


def do_alert_remove(w: World) -> None:
    do_alert_create(w)
    (rule,) = w.rows("SELECT id FROM alert_rules")
    w.post(f"/settings/sites/example.com/alerts/{rule['id']}/remove")


def do_alert_settings(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/alerts/settings", {"recipients": "a@example.com"})


def do_import_create(w: World) -> None:
    w.admin()
    csv = (b'"date","visitors","pageviews","bounces","visits","visit_duration"\n'
           b'"2024-05-01",3,7,1,4,120\n')
    sent = w.client.post(f"{MOUNT}/settings/sites/example.com/imports", follow_redirects=False,
                         files={"file": ("imported_visitors_20240501_20240501.csv", csv)})
    assert sent.status_code == 303, sent.text


def do_import_remove(w: World) -> None:
    do_import_create(w)
    (entry,) = w.rows("SELECT id FROM imports")
    w.post(f"/settings/sites/example.com/imports/{entry['id']}/remove")


def do_segment_create(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/segments", {"name": "US", "f": "is,country,US"})


def do_segment_remove(w: World) -> None:
    do_segment_create(w)
    (segment,) = w.rows("SELECT id FROM segments")
    w.post(f"/settings/sites/example.com/segments/{segment['id']}/remove")


def do_report_subscribe(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/reports", {"email": "a@example.com", "weekly": "on"})


def do_report_unsubscribe(w: World) -> None:
    do_report_subscribe(w)
    w.post("/settings/sites/example.com/reports/remove", {"email": "a@example.com"})


def do_funnel_create(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/funnels", {"name": "Docs", "step": ["/", "/docs/**"]})


def do_funnel_remove(w: World) -> None:
    do_funnel_create(w)
    (funnel,) = w.rows("SELECT id FROM funnels")
    w.post(f"/settings/sites/example.com/funnels/{funnel['id']}/remove")


def do_user_erase(w: World) -> None:
    w.admin()
    w.rows("UPDATE sessions SET user_id = ? WHERE id = 'A' RETURNING id", "a" * 64)
    w.post("/settings/sites/example.com/privacy/erase", {"step": "erase", "user_hash": "a" * 64})


def do_user_export(w: World) -> None:
    w.admin()
    w.post("/settings/sites/example.com/privacy/export", {"user": "a" * 64, "kind": "hash"})


ACTIONS: dict[str, tuple[Callable[[World], None], str | None, str]] = {
    # kind: (action, site it is about, who)
    "setup": (do_setup, None, "user:Ada"),
    "login": (do_login, None, "user:Ada"),
    "session_revoke": (do_session_revoke, None, "user:Ada"),
    "passkey_add": (do_passkey_add, None, "user:Ada"),
    "passkey_rename": (do_passkey_rename, None, "user:Ada"),
    "passkey_remove": (do_passkey_remove, None, "user:Ada"),
    "site_create": (do_site_create, "new", "user:Ada"),
    "site_update": (do_site_update, "s1", "user:Ada"),
    "site_delete": (do_site_delete, "s1", "user:Ada"),
    "site_move": (do_site_move, "s1", "cli:command line"),
    "member_remove": (do_member_remove, "s1", "user:Ada"),
    "invite_create": (do_invite_create, "s1", "user:Ada"),
    "invite_use": (do_invite_use, "s1", "user:Val"),
    "invite_revoke": (do_invite_revoke, "s1", "user:Ada"),
    "share_create": (do_share_create, "s1", "user:Ada"),
    "share_revoke": (do_share_revoke, "s1", "user:Ada"),
    "token_create": (do_token_create, "s1", "user:Ada"),
    "token_revoke": (do_token_revoke, "s1", "user:Ada"),
    "token_read": (do_token_read, "s1", "token:a941_t_"),
    "export": (do_export, "s1", "user:Ada"),
    "goal_create": (do_goal_create, "s1", "user:Ada"),
    "goal_remove": (do_goal_remove, "s1", "user:Ada"),
    "report_subscribe": (do_report_subscribe, "s1", "user:Ada"),
    "report_unsubscribe": (do_report_unsubscribe, "s1", "user:Ada"),
    "webhook_create": (do_webhook_create, "s1", "user:Ada"),
    "webhook_remove": (do_webhook_remove, "s1", "user:Ada"),
    "alert_create": (do_alert_create, "s1", "user:Ada"),
    "alert_remove": (do_alert_remove, "s1", "user:Ada"),
    "alert_settings": (do_alert_settings, "s1", "user:Ada"),
    "import_create": (do_import_create, "s1", "user:Ada"),
    "import_remove": (do_import_remove, "s1", "user:Ada"),
    "segment_create": (do_segment_create, "s1", "user:Ada"),
    "segment_remove": (do_segment_remove, "s1", "user:Ada"),
    "funnel_create": (do_funnel_create, "s1", "user:Ada"),
    "funnel_remove": (do_funnel_remove, "s1", "user:Ada"),
    "user_erase": (do_user_erase, "s1", "user:Ada"),
    "user_export": (do_user_export, "s1", "user:Ada"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_writes_one_audit_row(world: World, kind: str) -> None:
    assert kind in ACTIONS, f"audit kind {kind!r} has no test action"
    action, site, who = ACTIONS[kind]
    action(world)
    rows = [r for r in world.rows() if r["kind"] == kind]
    if site == "new":
        (site,) = [r["id"] for r in world.rows("SELECT id FROM sites WHERE domain = 'new.example'")]
    # invite_use: one row per site of the invite; everything else: exactly one row.
    expected = ["s1", "s2"] if kind == "invite_use" else [site]
    assert sorted(r["site_ref"] for r in rows) == expected, rows
    for row in rows:
        assert f"{row['actor_kind']}:{row['actor_name']}".startswith(who)
        assert row["at"] > 0 and row["count"] == 1
        assert isinstance(json.loads(row["detail"]), dict)
    # Never a secret: not the token, invite or setup secret, the share slug or its password.
    logged = json.dumps(world.rows())
    for secret in [*world.secrets, SETUP_TOKEN]:
        assert secret not in logged


def test_every_kind_has_exactly_one_test_action() -> None:
    assert set(ACTIONS) == set(KINDS)


def test_the_log_keeps_a_deleted_sites_trail(world: World) -> None:
    do_site_update(world)
    world.post("/settings/sites/example.com/delete", {"confirm": "example.com"})
    kinds = [r["kind"] for r in world.rows("SELECT kind FROM audit_log WHERE site_ref = 's1'")]
    assert kinds == ["site_update", "site_delete"]


def test_token_reads_count_per_token_site_and_day(world: World) -> None:
    secret, token = asyncio.run(create_token(world.store, name="ci", user_id=None,
                                             site_ids=["s1", "s2"], scopes=["stats"]))
    for _ in range(3):
        response = world.client.get(f"{MOUNT}/api/stats?site=example.com&metrics=visitors",
                                    headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200
    rows = world.rows("SELECT site_ref, count, actor_id FROM audit_log WHERE kind = 'token_read' "
                      "ORDER BY site_ref")
    assert rows == [{"site_ref": "s1", "count": 3, "actor_id": token.id},
                    {"site_ref": "s2", "count": 3, "actor_id": token.id}]
    # The next UTC day starts a new row; the same day keeps counting.
    store = world.store
    day = 1_900_000_000_000 - 1_900_000_000_000 % DAY_MS

    async def read(at: int) -> None:
        await store.batch(token_read_statements(token, sites=["s1"], now=at))

    for at in (day + 5, day + DAY_MS - 1, day + DAY_MS, day + DAY_MS + 7):
        asyncio.run(read(at))
    counted = world.rows("SELECT count, at FROM audit_log WHERE kind = 'token_read' AND at >= ? "
                         "ORDER BY at", day)
    assert counted == [{"count": 2, "at": day + DAY_MS - 1}, {"count": 2, "at": day + DAY_MS + 7}]


def add_entries(w: World, site: str | None, count: int, *, actor_id: str = "u-x",
                at: int | None = None, **detail: Any) -> None:
    store = w.store

    async def run() -> None:
        for i in range(count):
            statements = entry_statements(
                "site_update", actor=Actor(kind="user", id=actor_id, name="Someone"),
                sites=[site], detail=detail or {"i": i},
                now=(at or 1_800_000_000_000) + i)
            await store.batch(statements[:1])

    asyncio.run(run())


def page_of(w: World, query: str = "") -> Any:
    return w.client.get(f"{MOUNT}/settings/audit{query}")


def test_owners_see_only_their_sites_and_their_own_account(world: World) -> None:
    olivia = add_user(world.db, name="Olivia", is_admin=False, roles={"s1": "owner",
                                                                       "s2": "viewer"})
    add_entries(world, "s1", 2, marker="s1-entry")
    add_entries(world, "s2", 2, marker="s2-entry")
    add_entries(world, None, 1, actor_id=olivia, marker="olivia-login")
    add_entries(world, None, 1, actor_id="someone-else", marker="other-login")
    sign_in(world.client, world.db, user_id=olivia)
    page = page_of(world)
    assert page.status_code == 200
    text = page.text
    assert text.count("s1-entry") == 2 and "olivia-login" in text
    assert "s2-entry" not in text and "other-login" not in text
    only = page_of(world, "?site=example.com").text
    assert "s1-entry" in only and "olivia-login" not in only
    # A site she only views: 403; one she cannot see: 404, like a missing one.
    assert page_of(world, "?site=other.org").status_code == 403
    assert page_of(world, "?site=nope.example").status_code == 404
    # A viewer or admin of a site sees none of its entries.
    vic = add_user(world.db, name="Vic", is_admin=False, roles={"s1": "admin", "s2": "viewer"})
    sign_in(world.client, world.db, user_id=vic)
    text = page_of(world).text
    assert "s1-entry" not in text and "s2-entry" not in text
    assert page_of(world, "?site=example.com").status_code == 403


def test_the_page_is_escaped_newest_first_and_paginated(world: World) -> None:
    world.admin()
    add_entries(world, "s1", AUDIT_PAGE + 5)
    add_entries(world, "s1", 1, at=1_900_000_000_000, name="<script>alert(1)</script>\x1b[31m")
    first = page_of(world)
    entries = first.context["entries"]  # type: ignore[attr-defined]
    assert len(entries) == AUDIT_PAGE
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    assert "<script>alert(1)" not in first.text and "&lt;script&gt;alert(1)" in first.text
    older = first.context["older"]  # type: ignore[attr-defined]
    second = page_of(world, f"?before={older}")
    rest = second.context["entries"]  # type: ignore[attr-defined]
    assert len(rest) == 6 and rest[0].at < entries[-1].at
    assert not second.context["older"]  # type: ignore[attr-defined]
    assert page_of(world, "?before=garbage").status_code == 200


def test_rows_older_than_a_year_are_purged_in_bounded_batches(world: World) -> None:
    now = 1_900_000_000_000
    cutoff = now - RETENTION_DAYS * DAY_MS
    add_entries(world, "s1", PURGE_ROWS + 10, at=cutoff - PURGE_ROWS - 100)
    add_entries(world, "s1", 3, at=cutoff)
    store = world.store
    asyncio.run(store.execute(*purge_statement(now)))
    assert len(world.rows()) == 13
    asyncio.run(store.execute(*purge_statement(now)))
    assert [r["at"] for r in world.rows()] == [cutoff, cutoff + 1, cutoff + 2]


def test_the_cli_records_its_actions_and_prints_the_log_escaped(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANALYTICS_941_SQLITE_PATH", str(world.db))
    add_user(world.db, name="Ada")
    assert main(["sites", "add", "cli.example"]) == 0
    assert main(["tokens", "create", "--site", "cli.example", "--name", "nightly"]) == 0
    assert main(["invite", "--site", "example.com"]) == 0
    add_entries(world, "s2", 1, at=1_700_000_000_000, name="evil\tcolumn\n\x1b[31mred")
    capsys.readouterr()
    assert main(["audit", "--limit", "10"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "when (UTC)\tsite\twho\twhat\tcount\tdetail"
    assert [line.split("\t")[1:4] for line in lines[1:4]] == [
        ["example.com", "cli:command line", "invite_create"],
        ["cli.example", "cli:command line", "token_create"],
        ["cli.example", "cli:command line", "site_create"],
    ]
    assert "\x1b" not in out and len(lines) == 5
    assert "evil\\\\tcolumn\\\\n\\\\u001b[31mred" in lines[4]
    assert main(["audit", "--site", "other.org"]) == 0
    assert capsys.readouterr().out.count("\n") == 2
    with pytest.raises(SystemExit):
        main(["audit", "--limit", "0"])
    assert main(["audit", "--site", "nope.example"]) == 1
