"""The Funnels section of a site's settings: listed (loaded into the site page by htmx, or a page
of its own), added (pages and goals), refused with what was typed kept, removed — CSRF-checked
and audited."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient

FUNNELS = f"{MOUNT}/settings/sites/example.com/funnels"
GOALS = f"{MOUNT}/settings/sites/example.com/goals"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return one_site_db(tmp_path)


@pytest.fixture
def admin(db: Path) -> TestClient:
    client = signed_in_admin(db)
    client.post(GOALS, data={"event": "Signup"})
    return client


def _context(response: Any) -> dict[str, Any]:
    return response.context  # type: ignore[no-any-return]


def test_the_site_page_loads_the_funnels_section(admin: TestClient) -> None:
    page = admin.get(f"{MOUNT}/settings/sites/example.com")
    assert f'hx-get="{FUNNELS}"' in page.text and f'href="{FUNNELS}"' in page.text
    section = admin.get(FUNNELS, headers={"HX-Request": "true"})
    assert section.template.name == "analytics_941/settings/_funnels.html"  # type: ignore[attr-defined]
    assert _context(section)["funnels"] == []
    assert '<option value="goal:Signup">' in section.text  # the goals, offered as steps
    assert section.text.count('name="step"') == 8
    whole = admin.get(FUNNELS)
    assert whole.template.name == "analytics_941/settings/funnels.html"  # type: ignore[attr-defined]


def test_add_a_funnel_then_remove_it(admin: TestClient, db: Path) -> None:
    added = admin.post(FUNNELS, data={"name": "Signups", "step": ["/pricing*", "", "goal:Signup",
                                                                   ""]},
                       follow_redirects=False)
    assert added.status_code == 303
    assert added.headers["location"] == f"{MOUNT}/settings/sites/example.com#funnels"
    (funnel,) = _context(admin.get(FUNNELS))["funnels"]
    assert funnel.name == "Signups"
    assert [s.to_json() for s in funnel.steps] == [{"page": "/pricing*"}, {"goal": "Signup"}]
    shown = admin.get(FUNNELS, headers={"HX-Request": "true"}).text
    assert "<code>/pricing*</code> → goal Signup" in shown and "Remove the funnel Signups" in shown
    removed = admin.post(f"{FUNNELS}/{funnel.id}/remove", follow_redirects=False)
    assert removed.status_code == 303
    assert _context(admin.get(FUNNELS))["funnels"] == []
    conn = sqlite3.connect(db)
    kinds = [k for (k,) in conn.execute(
        "SELECT kind FROM audit_log WHERE kind LIKE 'funnel%' ORDER BY id")]
    conn.close()
    assert kinds == ["funnel_create", "funnel_remove"]


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"name": "F", "step": ["/a"]}, "steps", "2 to 8 steps, not 1"),
        ({"name": "F", "step": ["/a", "goal:Nope"]}, "steps", "no goal named 'Nope'"),
        ({"name": "F", "step": ["/a", "a/b"]}, "steps", "no goal named 'a/b'"),
        ({"name": "", "step": ["/a", "/b"]}, "name", "name is empty"),
    ],
)
def test_a_refused_funnel_names_its_field_and_keeps_what_was_typed(
    admin: TestClient, form: dict[str, Any], field: str, words: str
) -> None:
    page = admin.post(FUNNELS, data=form)
    assert page.status_code == 400
    context = _context(page)
    assert context["funnel_field"] == field and words in context["funnel_error"]
    assert context["funnel_steps"] == form["step"] and context["funnel_name"] == form["name"]
    assert 'aria-invalid="true"' in page.text and context["funnels"] == []


def test_funnel_forms_need_the_csrf_token(admin: TestClient) -> None:
    del admin.headers["X-CSRF-Token"]
    refused = admin.post(FUNNELS, data={"name": "F", "step": ["/a", "/b"]})
    assert refused.status_code == 403
    assert _context(admin.get(FUNNELS))["funnels"] == []
