"""The Users view and its settings (opt-in identity, new vs returning visitors; migration 0027):
exact numbers on known identified visits (users, returning users, the week-cohort table, traits,
top users) with typed and all-string parameters, filters, the page's states and escaping, the
JSON twin, and the settings section (admins only, CSRF, validated, audited)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from auth_support import MOUNT, add_user, one_site_db, sign_in, signed_in_admin
from conftest import StringParamStore
from fastapi.testclient import TestClient
from users_seeding import FIRST, HOSTILE, LAST, seed_users, uid

from analytics_941 import SqliteStore
from analytics_941.audit import list_entries
from analytics_941.cli import main
from analytics_941.sites import get_site
from analytics_941.store import Store
from analytics_941.web.dashboard.state import DashboardState
from analytics_941.web.dashboard.users_page import UsersPage, load_users_page, short_id

USERS = f"{MOUNT}/example.com/users"
IDENTITY = f"{MOUNT}/settings/sites/example.com/identity"
PERIOD = {"period": "custom", "from": FIRST, "to": LAST}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = one_site_db(tmp_path)
    seed_users(path, returning=True)
    return path


@pytest.fixture
def admin(db: Path) -> TestClient:
    return signed_in_admin(db)


async def _page(store: Store, db: Path, *filters: str) -> UsersPage:
    site = await get_site(SqliteStore(path=db), domain="example.com")
    assert site is not None
    state = DashboardState.from_params([*PERIOD.items(), *(("f", f) for f in filters)])
    return await load_users_page(store, site=site, state=state)


@pytest.mark.parametrize("strings", [False, True])
async def test_users_returning_users_and_first_seen(db: Path, strings: bool) -> None:
    store: Store = SqliteStore(path=db)
    page = await _page(StringParamStore(store) if strings else store, db)  # type: ignore[arg-type]
    # Six identified users: old (first seen in January), a, b, c, d, e; three anonymous visits.
    assert (page.users, page.identified_visits, page.visits) == (6, 12, 15)
    # Back on a later day: old (before the period), a, c, e; not b nor d (one day each).
    assert (page.returning_users, page.new_users) == (4, 5)
    assert (page.identified_share, page.returning_share) == (80.0, 66.7)
    # Every statement alike when D1 delivers the parameters as text, filters included.
    for filters in ((), ("is,country,DE",)):
        typed = await _page(store, db, *filters)
        assert (await _page(StringParamStore(store), db, *filters)).as_json() == (  # type: ignore[arg-type]
            typed.as_json())


async def test_the_week_cohort_table(db: Path) -> None:
    page = await _page(SqliteStore(path=db), db)
    table = [(c.week, c.users, [None if x is None else x[:2] for x in c.cells])
             for c in page.cohorts]
    assert table == [
        ("2026-02-16", 2, [(100.0, 2), (50.0, 1), (50.0, 1), (0.0, 0)]),  # a and b
        ("2026-02-23", 1, [(100.0, 1), (0.0, 0), (100.0, 1), None]),  # c
        ("2026-03-02", 1, [(100.0, 1), (0.0, 0), None, None]),  # e
        # d's Monday 00:30 in Berlin: the Sunday before in UTC, yet this week here.
        ("2026-03-09", 1, [(100.0, 1), None, None, None]),
    ]
    assert page.weeks == 4
    assert [x[2] for x in page.cohorts[0].cells if x] == [5, 3, 3, 0]  # the heat levels


async def test_traits_and_top_users(db: Path) -> None:
    page = await _page(SqliteStore(path=db), db)
    plan, lang = page.traits
    assert plan.key == "plan" and plan.values == [("pro", 3, 50.0), (HOSTILE, 1, 16.7),
                                                  ("free", 1, 16.7)]
    assert plan.not_set == 1  # e
    assert (lang.values, lang.not_set) == ([("de", 1, 16.7)], 5)
    # Most visits first, then the latest; an undeclared key (email) is never read.
    assert [(u.short, u.visits, u.first_seen, u.last_seen) for u in page.top] == [
        (short_id(uid("c")), 3, "2026-02-25", "2026-03-10"),
        (short_id(uid("a")), 3, "2026-02-16", "2026-03-03"),
        (short_id(uid("old")), 2, "2026-01-10", "2026-03-10"),
        (short_id(uid("e")), 2, "2026-03-04", "2026-03-05"),
        (short_id(uid("d")), 1, "2026-03-09", "2026-03-09"),
        (short_id(uid("b")), 1, "2026-02-18", "2026-02-18"),
    ]
    assert page.top[1].traits == [("lang", "de"), ("plan", "pro")]
    assert short_id(uid("a")) == uid("a")[:8] + "…"


async def test_filters_keep_visits_and_first_visits_stay_first(db: Path) -> None:
    page = await _page(SqliteStore(path=db), db, "is,country,DE")
    # DE visits: old's on 03-10 and c's on 03-10; both had visited on an earlier day.
    assert (page.users, page.identified_visits, page.returning_users, page.new_users) == (
        2, 2, 2, 1)
    (cohort,) = page.cohorts
    assert (cohort.week, cohort.users) == ("2026-02-23", 1)
    assert [None if x is None else x[1] for x in cohort.cells] == [0, 0, 1, None]


async def test_new_vs_returning_visits_through_the_query_path(db: Path) -> None:
    page = await _page(SqliteStore(path=db), db)
    # First visits of a, b, c, d, e are new; the other identified ones returning; the
    # anonymous ones unknown (the seeding sets none).
    assert page.split == {"New": (5, 5), "Returning": (7, 7), "Unknown": (3, 3)}
    assert page.returning_visits_share == 58.3


def test_the_page_escapes_shortens_and_links(admin: TestClient) -> None:
    response = admin.get(USERS, params=PERIOD)
    assert response.status_code == 200, response.text
    assert HOSTILE not in response.text and "&lt;img src=x onerror=" in response.text
    assert uid("a")[:8] in response.text and uid("a") not in response.text
    assert 'class="num heat-5"' in response.text and "Retention by week" in response.text
    dashboard = admin.get(f"{MOUNT}/example.com", params=PERIOD)
    assert f'href="{USERS}?period=custom&amp;from={FIRST}&amp;to={LAST}">Users</a>' in (
        dashboard.text)
    data = admin.get(f"{USERS}.json", params=PERIOD).json()
    assert (data["users"], data["returning_users"], data["cohorts"][0]["users"]) == (6, 4, 2)
    assert all(len(u["short"]) == 9 for u in data["top"])


def test_off_and_empty_states(admin: TestClient, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sites SET identity_enabled = 0, returning_enabled = 0")
    conn.close()
    off = admin.get(USERS, params=PERIOD)
    assert "Identity and returning visitors are off" in off.text
    assert f'href="{MOUNT}/settings/sites/example.com#identity"' in off.text
    assert off.context["page"].users == 0  # type: ignore[attr-defined]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sites SET identity_enabled = 1")
    conn.close()
    empty = admin.get(USERS, params={"period": "custom", "from": "2025-01-01",
                                     "to": "2025-01-31"})
    assert "No identified visits in this period." in empty.text
    assert "a941.identify(&#34;user-42&#34;" in empty.text or 'a941.identify("user-42"' in (
        empty.text)


def _section(response: Any) -> dict[str, Any]:
    return response.context  # type: ignore[no-any-return]


def test_settings_turn_on_validate_and_audit(tmp_path: Path) -> None:
    db = one_site_db(tmp_path)
    admin = signed_in_admin(db)
    section = admin.get(IDENTITY, headers={"HX-Request": "true"})
    assert section.status_code == 200 and "in the EU" in section.text
    assert 'name="identity_enabled"' in section.text and "checked" not in section.text
    bad = admin.post(IDENTITY, data={"identity_enabled": "on", "identity_traits": "plan <b>"})
    assert bad.status_code == 400 and "is not a trait key" in _section(bad)["identity_error"]
    assert "&lt;b&gt;" in bad.text and 'aria-invalid="true"' in bad.text
    many = admin.post(IDENTITY, data={"identity_traits": " ".join(f"k{i}" for i in range(11))})
    assert many.status_code == 400 and "at most 10" in _section(many)["identity_error"]
    saved = admin.post(IDENTITY, data={"identity_enabled": "on", "returning_enabled": "on",
                                       "identity_traits": "plan, signup_year plan"},
                       follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{MOUNT}/settings/sites/example.com?saved=1#identity"
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT identity_enabled, identity_traits, returning_enabled "
                           "FROM sites").fetchone()
    conn.close()
    assert row == (1, '["plan", "signup_year"]', 1)
    (entry,) = asyncio.run(list_entries(SqliteStore(path=db), sites=["s1"]))
    assert entry.kind == "site_update" and entry.detail["changed"] == {
        "identity_enabled": [False, True], "identity_traits": [[], ["plan", "signup_year"]],
        "returning_enabled": [False, True]}
    # Saving the same again records nothing new.
    admin.post(IDENTITY, data={"identity_enabled": "on", "returning_enabled": "on",
                               "identity_traits": "plan signup_year"})
    assert len(asyncio.run(list_entries(SqliteStore(path=db), sites=["s1"]))) == 1


def test_settings_need_an_admin_and_the_csrf_token(tmp_path: Path) -> None:
    db = one_site_db(tmp_path)
    admin = signed_in_admin(db)
    del admin.headers["X-CSRF-Token"]
    assert admin.post(IDENTITY, data={"identity_enabled": "on"}).status_code == 403
    viewer = signed_in_admin(db)
    sign_in(viewer, db, user_id=add_user(db, is_admin=False, roles={"s1": "viewer"}))
    assert viewer.get(IDENTITY).status_code == 403
    assert viewer.post(IDENTITY, data={"identity_enabled": "on"}).status_code == 403
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT identity_enabled FROM sites").fetchone() == (0,)
    conn.close()
    # Viewers still see the Users page (read-only, like the dashboard).
    assert viewer.get(USERS).status_code == 200


def test_the_cli_shows_and_changes_the_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = one_site_db(tmp_path)
    monkeypatch.setenv("ANALYTICS_941_SQLITE_PATH", str(db))
    assert main(["sites", "identity", "example.com"]) == 0
    assert capsys.readouterr().out == "identity\toff\ntraits\t-\nreturning\toff\n"
    assert main(["sites", "identity", "example.com", "--identity", "on",
                 "--traits", "plan,team"]) == 0
    assert capsys.readouterr().out == "identity\ton\ntraits\tplan team\nreturning\toff\n"
    assert main(["sites", "identity", "example.com", "--traits", "a b!"]) == 1
    assert "is not a trait key" in capsys.readouterr().err
    (entry,) = asyncio.run(list_entries(SqliteStore(path=db), sites=["s1"]))
    assert (entry.kind, entry.actor_kind) == ("site_update", "cli")
    assert entry.detail["changed"]["identity_traits"] == [[], ["plan", "team"]]


def test_the_returning_tab_and_filter_on_the_dashboard(admin: TestClient) -> None:
    panel = admin.get(f"{MOUNT}/example.com", params={**PERIOD, "devices": "returning"})
    rows = panel.context["dashboard"].panels[-1]  # type: ignore[attr-defined]
    assert rows.tab == "returning"
    assert {r.label: r.metrics["visitors"] for r in rows.rows} == {
        "New": 5, "Returning": 7, "Unknown": 3}
    filtered = admin.get(f"{MOUNT}/example.com",
                         params={**PERIOD, "f": "is,returning,Returning"})
    assert filtered.status_code == 200
    assert "<strong>New or returning</strong> is <em>Returning</em>" in filtered.text


def test_the_returning_tab_shows_only_where_the_setting_is_on(admin: TestClient,
                                                              db: Path) -> None:
    def tabs(**params: str) -> list[str]:
        page = admin.get(f"{MOUNT}/example.com", params={**PERIOD, **params})
        devices = page.context["dashboard"].panels[-1]  # type: ignore[attr-defined]
        return [key for key, _label, _url, _active in devices.tabs]

    assert "returning" in tabs()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sites SET returning_enabled = 0")
    conn.close()
    assert "returning" not in tabs() and "languages" in tabs()
    assert "returning" in tabs(devices="returning")  # a URL naming it still shows it
