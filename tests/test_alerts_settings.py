"""Alerts in a site's settings: rules added (checked: a known kind, numbers within bounds, a goal
rule names one of the site's goals), listed and removed; the recipients and the two commerce
goals saved; bad input answers 400 with the reason; the test alert asks the collector."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient

from analytics_941.alerts import AlertError, parse_rule

ALERTS = f"{MOUNT}/settings/sites/example.com/alerts"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return one_site_db(tmp_path)


@pytest.fixture
def admin(db: Path) -> TestClient:
    return signed_in_admin(db)


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def _rule(**fields: str) -> dict[str, str]:
    base = {"kind": "spike", "goal": "", "threshold": "", "window_hours": "",
            "min_volume": "", "cooldown_minutes": ""}
    return base | fields


def test_defaults_per_kind() -> None:
    spike = parse_rule(**_rule(), goals=[])
    assert (spike.threshold, spike.window_hours, spike.min_volume, spike.cooldown_minutes) == (
        100, 1, 50, 360)
    silent = parse_rule(**_rule(kind="no_events", goal="Signup"), goals=["Signup"])
    assert (silent.window_hours, silent.goal, silent.threshold) == (3, "", 0)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"kind": "sometimes"}, "Choose a kind"),
    ({"threshold": "lots"}, "must be a number"),
    ({"threshold": "5"}, "between 10 and 10000"),
    ({"kind": "drop", "threshold": "150"}, "between 10 and 100"),
    ({"window_hours": "25"}, "between 1 and 24"),
    ({"window_hours": "1.5"}, "whole number"),
    ({"cooldown_minutes": "1"}, "between 15 and 10080"),
    ({"kind": "goal_above", "goal": "Nope"}, "Choose one of the site's goals"),
    ({"kind": "error_rate", "threshold": "0"}, "between 0.1 and 100"),
])
def test_bad_rules_are_refused_with_a_reason(fields: dict[str, str], reason: str) -> None:
    with pytest.raises(AlertError, match=reason):
        parse_rule(**_rule(**fields), goals=["Signup"])


def test_add_list_test_and_remove_a_rule(admin: TestClient, db: Path) -> None:
    page = admin.get(f"{MOUNT}/settings/sites/example.com")
    assert f'hx-get="{ALERTS}"' in page.text
    added = admin.post(ALERTS, data=_rule(threshold="200", min_volume="80"),
                       follow_redirects=False)
    assert added.status_code == 303
    assert added.headers["location"] == f"{MOUNT}/settings/sites/example.com#alerts"
    section = admin.get(ALERTS, headers={"HX-Request": "true"})
    assert section.template.name == "analytics_941/settings/_alerts.html"  # type: ignore[attr-defined]
    assert "200 % above the median of the same 1 h of 4 weeks, at least 80 pageviews" in (
        section.text)
    (rule_id,) = (r[0] for r in _rows(db, "SELECT id FROM alert_rules"))
    # No collector runs here: the test alert says so (502), it is not silently dropped.
    test = admin.post(f"{ALERTS}/{rule_id}/test")
    assert test.status_code == 502 and "No test alert was sent" in test.text
    admin.post(f"{ALERTS}/{rule_id}/remove")
    assert _rows(db, "SELECT id FROM alert_rules") == []


@pytest.mark.parametrize(("fields", "reason"), [
    ({"kind": "spike", "threshold": "abc"}, "The threshold must be a number."),
    ({"kind": "goal_below"}, "This site has no goals yet"),
    ({"kind": "<script>"}, "Choose a kind of alert"),
])
def test_bad_rules_answer_400_with_the_reason(admin: TestClient, db: Path,
                                              fields: dict[str, str], reason: str) -> None:
    refused = admin.post(ALERTS, data=_rule(**fields))
    assert refused.status_code == 400
    assert reason in refused.text and "<script>" not in refused.text.split("alert-error")[1][:200]
    assert _rows(db, "SELECT id FROM alert_rules") == []


def test_recipients_and_commerce_goals(admin: TestClient, db: Path) -> None:
    url = f"{ALERTS}/settings"
    bad = admin.post(url, data={"recipients": "owner@example.com, not-an-address"})
    assert bad.status_code == 400 and "is not an email address" in bad.text
    many = ", ".join(f"a{i}@example.com" for i in range(6))
    assert "at most 5 addresses" in admin.post(url, data={"recipients": many}).text
    same = admin.post(url, data={"recipients": "", "cart_goal": "Buy", "purchase_goal": "Buy"})
    assert same.status_code == 400 and "must differ" in same.text
    ok = admin.post(url, data={"recipients": "Owner@Example.com; ops@example.com",
                               "cart_goal": "Basket", "purchase_goal": ""},
                    follow_redirects=False)
    assert ok.status_code == 303
    ((recipients, cart, purchase, conversion_ts),) = _rows(
        db, "SELECT recipients, cart_goal, purchase_goal, conversion_ts FROM alert_settings")
    assert json.loads(recipients) == ["owner@example.com", "ops@example.com"]
    assert (cart, purchase) == ("Basket", "Purchase") and conversion_ts > 0
    section = admin.get(ALERTS)
    assert 'value="owner@example.com, ops@example.com"' in section.text


def test_only_signed_in_admins_reach_alerts(admin: TestClient) -> None:
    anonymous = TestClient(admin.app)
    assert anonymous.get(ALERTS, follow_redirects=False).status_code in (302, 303, 401, 403)
    assert anonymous.post(ALERTS, data=_rule(), follow_redirects=False).status_code in (
        302, 303, 401, 403)
