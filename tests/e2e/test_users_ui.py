"""The Users view in Chromium: an administrator turns identity and returning visitors on in the
site's settings, follows the dashboard's link to the Users page and sees its numbers; the page
and the settings section pass axe in both themes, the retention table scrolls by keyboard, and
(with USERS_SHOTS=DIR) laptop and phone screenshots, light and dark, are written to look at.

Runs on its own site (users.example) with the known identified visits of tests/users_seeding.py.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from users_seeding import FIRST, HOSTILE, LAST, seed_users, uid

from .conftest import Stack, dashboard_context
from .test_a11y import THEMES, _violations

pytestmark = pytest.mark.e2e

SITE = "users.example"
PERIOD = f"period=custom&from={FIRST}&to={LAST}"
SIZES = {"laptop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('users', ?, 'Users demo', ?, 'UTC', ?)",
            (SITE, json.dumps([SITE]), int(time.time() * 1000)))
        seeded = conn.execute("SELECT COUNT(*) FROM sessions WHERE site_id = 'users'").fetchone()
    conn.close()
    if not seeded[0]:
        # Off at first: the test below turns both switches on through the form.
        seed_users(stack.db_path, site="users", identity=False, returning=True)
        with sqlite3.connect(stack.db_path, timeout=10) as conn:
            conn.execute("UPDATE sites SET returning_enabled = 0, identity_traits = '[]' "
                         "WHERE id = 'users'")
        conn.close()
    return stack


def test_turn_identity_on_and_see_the_users(seeded: Stack, browser: Any) -> None:
    context = dashboard_context(browser, seeded, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{seeded.dashboard_url}/{SITE}/users?{PERIOD}")
        expect(page.get_by_role("heading", name="Identity and returning visitors are off for "
                                "this site")).to_be_visible()
        page.get_by_role("link", name="Turn them on in the site's settings").click()
        section = page.locator("#identity")
        expect(section.locator("[data-identity-form]")).to_be_visible()  # loaded by htmx
        expect(section).to_contain_text("in the EU")
        section.get_by_label("Identify users").check()
        section.get_by_label("Record whether each visit is new or returning").check()
        section.get_by_label("Declared traits").fill("plan lang")
        section.get_by_role("button", name="Save").click()
        expect(page.locator(".notice.success")).to_have_text("Saved.")
        expect(page.locator("#identity").get_by_label("Identify users")).to_be_checked()
        expect(page.locator("#identity input[name=identity_traits]")).to_have_value("plan lang")

        page.goto(f"{seeded.dashboard_url}/{SITE}?{PERIOD}")
        page.locator(".site-views").get_by_role("link", name="Users").click()
        expect(page.get_by_role("heading", name="Users", exact=False).first).to_be_visible()
        stats = page.locator(".users-stats").last
        expect(stats.locator(".stat-value")).to_have_text(["6", "4", "5", "12"])
        rows = page.locator("table.retention tbody tr")
        expect(rows).to_have_count(4)
        expect(rows.first.locator("td")).to_have_text(["2", "100 %", "50 %", "50 %", "0 %"])
        # Visitor-controlled trait values arrive as text, never markup.
        expect(page.get_by_text(HOSTILE).first).to_be_visible()
        assert page.locator("img[src=x]").count() == 0
        assert uid("a") not in page.content() and uid("a")[:8] in page.content()
        # New vs returning: a click filters the dashboard by it.
        page.get_by_role("link", name="7", exact=True).click()
        expect(page.locator(".chip")).to_contain_text("Returning")
    finally:
        context.close()


@pytest.mark.parametrize("theme", THEMES)
def test_the_users_page_passes_axe_and_scrolls_by_keyboard(
    seeded: Stack, browser: Any, theme: str
) -> None:
    with sqlite3.connect(seeded.db_path, timeout=10) as conn:
        conn.execute("UPDATE sites SET identity_enabled = 1, returning_enabled = 1, "
                     "identity_traits = '[\"plan\", \"lang\"]' WHERE id = 'users'")
    conn.close()
    shots = os.environ.get("USERS_SHOTS")
    for size, (width, height) in SIZES.items():
        context = dashboard_context(browser, seeded, viewport={"width": width, "height": height},
                                    color_scheme=theme, bypass_csp=True)
        context.add_cookies([{"name": "a941_theme", "value": theme,
                              "url": seeded.dashboard_url + "/"}])
        page = context.new_page()
        try:
            page.goto(f"{seeded.dashboard_url}/{SITE}/users?{PERIOD}")
            expect(page.locator("table.retention")).to_be_visible()
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}/users-{size}-{theme}.png", full_page=True)
            assert _violations(page) == [], (size, theme)
            page.goto(f"{seeded.dashboard_url}/settings/sites/{SITE}/identity")
            expect(page.locator("[data-identity-form]")).to_be_visible()
            assert _violations(page) == [], ("settings", size, theme)
            page.goto(f"{seeded.dashboard_url}/{SITE}/users?{PERIOD}")
            if size == "phone":
                # Twelve weeks of cohorts are wider than a phone: the table's box takes focus
                # and arrow keys.
                page.goto(f"{seeded.dashboard_url}/{SITE}/users?period=custom&from=2026-01-05"
                          "&to=2026-03-29")
                expect(page.locator("table.retention thead th")).to_have_count(14)
                box = page.locator("[data-scrolls]:has(table.retention)")
                box.focus()
                page.keyboard.press("ArrowRight")
                page.wait_for_function(
                    "() => document.querySelector('[data-scrolls]:has(table.retention)')"
                    ".scrollLeft > 0")
        finally:
            context.close()
