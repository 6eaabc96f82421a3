"""Email reports in a site's settings: recipients subscribed, changed and removed (checked,
CSRF-protected, admins only), the last send of each kind shown with its error, and the signed
unsubscribe link every mail carries — no login, a reason for a bad one, one purpose only."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient

from analytics_941.archive_client import archive_token
from analytics_941.realtime import realtime_token
from analytics_941.reports_tokens import unsubscribe_token
from analytics_941.settings import DEV_SECRET

REPORTS = f"{MOUNT}/settings/sites/example.com/reports"
UNSUBSCRIBE = f"{MOUNT}/reports/unsubscribe"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return one_site_db(tmp_path)


@pytest.fixture
def admin(db: Path) -> TestClient:
    return signed_in_admin(db)


def _context(response: Any) -> dict[str, Any]:
    return response.context  # type: ignore[no-any-return]


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def test_the_site_page_loads_the_reports_section(admin: TestClient) -> None:
    page = admin.get(f"{MOUNT}/settings/sites/example.com")
    assert f'hx-get="{REPORTS}"' in page.text and f'href="{REPORTS}"' in page.text
    section = admin.get(REPORTS, headers={"HX-Request": "true"})
    assert section.template.name == "analytics_941/settings/_reports.html"  # type: ignore[attr-defined]
    assert _context(section)["subscriptions"] == []
    assert f'src="{REPORTS}/preview?kind=weekly" sandbox' in section.text
    whole = admin.get(REPORTS)
    assert whole.template.name == "analytics_941/settings/_reports_page.html"  # type: ignore[attr-defined]


def test_subscribe_change_and_remove_a_recipient(admin: TestClient, db: Path) -> None:
    added = admin.post(REPORTS, data={"email": " Owner@Example.COM ", "weekly": "on"},
                       follow_redirects=False)
    assert added.status_code == 303
    assert added.headers["location"] == f"{MOUNT}/settings/sites/example.com#reports"
    admin.post(REPORTS, data={"email": "owner@example.com", "monthly": "on"})
    admin.post(REPORTS, data={"email": "b@example.com", "weekly": "on", "monthly": "on"})
    subs = _context(admin.get(REPORTS))["subscriptions"]
    assert [(s.email, s.kinds) for s in subs] == [
        ("b@example.com", ["weekly", "monthly"]), ("owner@example.com", ["monthly"])]
    removed = admin.post(f"{REPORTS}/remove", data={"email": "b@example.com"},
                         follow_redirects=False)
    assert removed.status_code == 303
    assert _rows(db, "SELECT site_id, email, weekly, monthly FROM report_subscriptions") == [
        ("s1", "owner@example.com", 0, 1)]


@pytest.mark.parametrize(("form", "words"), [
    ({"email": "not an address", "weekly": "on"}, "is not an email address"),
    ({"email": "a@b.example\r\nBcc: c@d.example", "weekly": "on"}, "is not an email address"),
    ({"email": "a@example.com"}, "Choose weekly, monthly or both"),
])
def test_a_refused_recipient_says_why(admin: TestClient, form: dict[str, str],
                                      words: str) -> None:
    page = admin.post(REPORTS, data=form)
    assert page.status_code == 400
    assert words in _context(page)["report_error"]
    assert 'aria-invalid="true"' in page.text and _context(page)["subscriptions"] == []


def test_report_forms_need_the_csrf_token(admin: TestClient, db: Path) -> None:
    del admin.headers["X-CSRF-Token"]
    assert admin.post(REPORTS, data={"email": "a@example.com", "weekly": "on"}).status_code == 403
    assert _rows(db, "SELECT * FROM report_subscriptions") == []


def test_the_last_send_and_its_error_are_shown(admin: TestClient, db: Path) -> None:
    admin.post(REPORTS, data={"email": "a@example.com", "weekly": "on", "monthly": "on"})
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO report_sends (site_id, email, kind, period_start, status, attempts, "
            "next_attempt_at, claimed_at, sent_at, last_error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            [("s1", "a@example.com", "weekly", "2026-01-05", "sent", 1, 0, 1_768_200_000_000, None),
             ("s1", "a@example.com", "weekly", "2026-01-12", "failed", 2, 1_768_900_000_000, None,
              "SMTP RCPT TO: 550 <b>no such user</b>"),
             ("s1", "a@example.com", "monthly", "2025-12-01", "sent", 1, 0, 1_767_300_000_000,
              None)])
    conn.close()
    section = admin.get(REPORTS, headers={"HX-Request": "true"})
    last = _context(section)["subscriptions"][0].last
    assert (last["weekly"].period_start, last["weekly"].status) == ("2026-01-12", "failed")
    assert last["monthly"].status == "sent"
    escaped = "SMTP RCPT TO: 550 &lt;b&gt;no such user&lt;/b&gt;"
    assert f"failed after 2 attempts: {escaped}" in section.text
    assert "(next try 2026-01-20 09:06 UTC)" in section.text


def test_the_preview_says_when_the_collector_cannot_be_reached(admin: TestClient) -> None:
    # The default collector_url (127.0.0.1:8787) has no collector in this test.
    preview = admin.get(f"{REPORTS}/preview?kind=weekly")
    assert preview.status_code == 502
    assert preview.text.startswith("No preview: The collector at http://127.0.0.1:8787 could not")


def test_the_unsubscribe_link_asks_then_unsubscribes_without_login(admin: TestClient,
                                                                   db: Path) -> None:
    admin.post(REPORTS, data={"email": "a@example.com", "weekly": "on"})
    token = unsubscribe_token("s1", "a@example.com", DEV_SECRET)
    anonymous = TestClient(admin.app, base_url="http://localhost")
    asked = anonymous.get(f"{UNSUBSCRIBE}?t={token}")
    assert asked.status_code == 200
    assert "Stop the weekly and monthly reports for <strong>example.com</strong>" in asked.text
    assert _rows(db, "SELECT email FROM report_subscriptions") == [("a@example.com",)]
    done = anonymous.post(f"{UNSUBSCRIBE}?t={token}", headers={"Origin": "http://localhost"})
    assert done.status_code == 200 and "gets no more reports for example.com" in done.text
    assert _rows(db, "SELECT email FROM report_subscriptions") == []
    again = anonymous.post(f"{UNSUBSCRIBE}?t={token}", headers={"Origin": "http://localhost"})
    assert "It was not subscribed any more" in again.text


def test_one_click_unsubscribe_needs_no_origin_or_login(admin: TestClient, db: Path) -> None:
    # RFC 8058: the mail provider's server posts List-Unsubscribe=One-Click to the link itself,
    # with no Origin header, no cookie and no CSRF token; the signature decides.
    admin.post(REPORTS, data={"email": "a@example.com", "weekly": "on"})
    admin.post(REPORTS, data={"email": "b@example.com", "weekly": "on"})
    server = TestClient(admin.app, base_url="http://localhost")
    one_click = {"List-Unsubscribe": "One-Click"}
    forged = unsubscribe_token("s1", "b@example.com", "another-secret-0123456789abcdef01")
    assert server.post(UNSUBSCRIBE, params={"t": forged}, data=one_click).status_code == 400
    token = unsubscribe_token("s1", "a@example.com", DEV_SECRET)
    done = server.post(UNSUBSCRIBE, params={"t": token}, data=one_click)
    assert done.status_code == 200
    assert _rows(db, "SELECT email FROM report_subscriptions") == [("b@example.com",)]


def test_an_alert_mails_link_removes_the_address_from_the_alerts_only(admin: TestClient,
                                                                     db: Path) -> None:
    admin.post(REPORTS, data={"email": "a@example.com", "weekly": "on"})
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO alert_settings (site_id, recipients, cart_goal, purchase_goal, "
                     "conversion_ts, cart_ts) VALUES ('s1', ?, 'Add to cart', 'Purchase', 0, 0)",
                     ['["a@example.com", "c@example.com"]'])
    conn.close()
    token = unsubscribe_token("s1", "a@example.com", DEV_SECRET, mail_list="alerts")
    server = TestClient(admin.app, base_url="http://localhost")
    asked = server.get(UNSUBSCRIBE, params={"t": token})
    assert "Stop the alert mails of <strong>example.com</strong>" in asked.text
    done = server.post(UNSUBSCRIBE, params={"t": token}, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "gets no more alerts for example.com" in done.text
    assert _rows(db, "SELECT recipients FROM alert_settings") == [('["c@example.com"]',)]
    assert _rows(db, "SELECT email FROM report_subscriptions") == [("a@example.com",)]


@pytest.mark.parametrize(("token", "reason"), [
    ("", "The link is incomplete"),
    ("abc", "The link is incomplete"),
    ("a$b.c", "The link is damaged"),
    (unsubscribe_token("s1", "a@example.com", "another-secret-0123456789abcdef01"),
     "signature does not match"),
    # Another purpose's token, signed with the same secret, is not an unsubscribe link.
    (realtime_token("s1", DEV_SECRET), "signature does not match"),
    (archive_token("s1", DEV_SECRET), "signature does not match"),
])
def test_a_bad_unsubscribe_link_is_refused_with_a_reason(admin: TestClient, db: Path,
                                                         token: str, reason: str) -> None:
    admin.post(REPORTS, data={"email": "a@example.com", "weekly": "on"})
    anonymous = TestClient(admin.app, base_url="http://localhost")
    for response in (anonymous.get(UNSUBSCRIBE, params={"t": token}),
                     anonymous.post(UNSUBSCRIBE, params={"t": token},
                                    headers={"Origin": "http://localhost"})):
        assert response.status_code == 400
        assert reason in _context(response)["refused"]
    assert _rows(db, "SELECT email FROM report_subscriptions") == [("a@example.com",)]


def test_a_tampered_link_cannot_unsubscribe_someone_else(admin: TestClient, db: Path) -> None:
    admin.post(REPORTS, data={"email": "a@example.com", "weekly": "on"})
    admin.post(REPORTS, data={"email": "b@example.com", "weekly": "on"})
    mine = unsubscribe_token("s1", "a@example.com", DEV_SECRET)
    theirs = unsubscribe_token("s1", "b@example.com", DEV_SECRET)
    forged = f"{theirs.split('.')[0]}.{mine.split('.')[1]}"
    anonymous = TestClient(admin.app, base_url="http://localhost")
    refused = anonymous.post(UNSUBSCRIBE, params={"t": forged},
                             headers={"Origin": "http://localhost"})
    assert refused.status_code == 400
    assert len(_rows(db, "SELECT email FROM report_subscriptions")) == 2


def test_the_contract_table_of_tokens_is_read_as_the_worker_makes_them() -> None:
    import json

    from analytics_941.reports_tokens import (
        CONTROL_CONTEXT,
        UNSUBSCRIBE_CONTEXT,
        derived_key,
        read_unsubscribe_token,
    )

    table = json.loads((Path(__file__).parent / "fixtures/contracts/report_tokens.json")
                       .read_text())
    secret = table["secret"]
    assert derived_key(secret, UNSUBSCRIBE_CONTEXT) == table["keys"]["unsubscribe"]
    assert derived_key(secret, CONTROL_CONTEXT) == table["keys"]["control"]
    for case in table["tokens"]:
        mail_list = case.get("list", "reports")
        assert unsubscribe_token(case["site"], case["email"], secret,
                                 mail_list=mail_list) == case["token"]
        read = read_unsubscribe_token(case["token"], secret)
        assert (read.site_id, read.email, read.mail_list) == (case["site"], case["email"],
                                                              mail_list)
