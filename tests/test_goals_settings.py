"""The Goals section of a site's settings: listed (loaded into the site page by htmx, or a page
of its own), added (page or event), refused with the field named, removed — CSRF-checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient

GOALS = f"{MOUNT}/settings/sites/example.com/goals"


@pytest.fixture
def admin(tmp_path: Path) -> TestClient:
    return signed_in_admin(one_site_db(tmp_path))


def _context(response: Any) -> dict[str, Any]:
    return response.context  # type: ignore[no-any-return]


def test_the_site_page_loads_the_goals_section(admin: TestClient) -> None:
    page = admin.get(f"{MOUNT}/settings/sites/example.com")
    assert page.status_code == 200
    assert f'hx-get="{GOALS}"' in page.text and f'href="{GOALS}"' in page.text
    section = admin.get(GOALS, headers={"HX-Request": "true"})
    assert section.template.name == "analytics_941/settings/_goals.html"  # type: ignore[attr-defined]
    assert _context(section)["goals"] == []
    whole = admin.get(GOALS)
    assert whole.template.name == "analytics_941/settings/goals.html"  # type: ignore[attr-defined]


def test_add_a_page_and_an_event_goal_then_remove_one(admin: TestClient) -> None:
    added = admin.post(GOALS, data={"page": "/blog/**"}, follow_redirects=False)
    assert added.status_code == 303
    assert added.headers["location"] == f"{MOUNT}/settings/sites/example.com#goals"
    admin.post(GOALS, data={"event": "Signup", "prop": "plan=pro", "name": "Pro"})
    goals = _context(admin.get(GOALS))["goals"]
    assert [(g.name, g.kind, g.target, g.prop_key, g.prop_value) for g in goals] == [
        ("Pro", "event", "Signup", "plan", "pro"), ("Visit /blog/**", "page", "/blog/**", "", ""),
    ]
    shown = admin.get(GOALS, headers={"HX-Request": "true"}).text
    assert "Remove the goal Pro" in shown and "<code>plan=pro</code>" in shown
    removed = admin.post(f"{GOALS}/{goals[0].id}/remove", follow_redirects=False)
    assert removed.status_code == 303
    assert [g.name for g in _context(admin.get(GOALS))["goals"]] == ["Visit /blog/**"]


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"page": "blog"}, "page", "must start with /"),
        ({"page": "/a", "event": "B"}, "event", "not both"),
        ({"event": "Signup", "prop": "plan"}, "prop", "KEY=VALUE"),
        ({}, "page", "Give a page pattern"),
        ({"event": "Purchase", "currency": "EURO"}, "currency", "three-letter"),
        ({"page": "/a", "currency": "EUR"}, "currency", "not both"),
    ],
)
def test_a_refused_goal_names_its_field_and_keeps_what_was_typed(
    admin: TestClient, form: dict[str, str], field: str, words: str
) -> None:
    page = admin.post(GOALS, data=form)
    assert page.status_code == 400
    context = _context(page)
    assert context["goal_field"] == field and words in context["goal_error"]
    assert {k: v for k, v in context["goal_values"].items() if v} == form
    assert 'aria-invalid="true"' in page.text and context["goals"] == []


def test_a_revenue_goal_from_the_form(admin: TestClient) -> None:
    added = admin.post(GOALS, data={"event": "Purchase", "currency": "usd"},
                       follow_redirects=False)
    assert added.status_code == 303
    (goal,) = _context(admin.get(GOALS))["goals"]
    assert (goal.name, goal.currency) == ("Purchase", "USD")
    assert "revenue in <code>USD</code>" in admin.get(GOALS, headers={"HX-Request": "true"}).text


def test_goal_forms_need_the_csrf_token(admin: TestClient) -> None:
    del admin.headers["X-CSRF-Token"]
    refused = admin.post(GOALS, data={"page": "/x"})
    assert refused.status_code == 403
    admin_page = admin.get(GOALS)
    assert _context(admin_page)["goals"] == []
