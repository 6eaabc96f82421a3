"""Goals in the dashboard, in Chromium: a goal made in the site's settings and one made from the
Goal conversions panel ("Make it a goal"), both counted in the panel; clicking a goal filters the
dashboard and the sources panel gains its conversion rates; axe finds nothing serious on it in
either theme.

Runs on its own site (goals.example) so other tests' numbers stay theirs.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Stack, cli, dashboard_context
from .test_a11y import THEMES, _violations

pytestmark = pytest.mark.e2e

SITE = "goals.example"
DAY_MS = 86_400_000
# (days ago, source, path, signed up): five visitors in the week, two of them sign up.
VISITS = [(1, "Google", "/", True), (1, "Google", "/", False), (2, "Google", "/docs", False),
          (2, "Twitter", "/pricing", True), (3, "Twitter", "/", False)]


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    now = int(time.time() * 1000)
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('goals', ?, 'Goals site', ?, 'UTC', ?)",
            (SITE, json.dumps([SITE]), now - 60 * DAY_MS),
        )
        for n, (days, source, path, signs_up) in enumerate(VISITS):
            ts = now - days * DAY_MS
            events = [("pageview", path, None)]
            if signs_up:
                events.append(("Signup", path, json.dumps({"plan": "pro"})))
            for i, (name, pathname, props) in enumerate(events):
                conn.execute(
                    "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, session_id, "
                    "hostname, pathname, source, country, device, props) "
                    "VALUES (?, 'goals', ?, ?, ?, ?, ?, ?, ?, 'US', 'desktop', ?)",
                    (f"goals-e{n}-{i}", ts + i * 1000, name, f"goals-v{n}", f"goals-s{n}", SITE,
                     pathname, source, props),
                )
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                "hostname, entry_page, exit_page, pageviews, events, duration_ms, is_bounce, "
                "source, country, device) "
                "VALUES (?, 'goals', ?, ?, ?, ?, ?, ?, 1, ?, 0, 1, ?, 'US', 'desktop')",
                (f"goals-s{n}", f"goals-v{n}", ts, ts, SITE, path, path, len(events), source),
            )
    conn.close()
    return stack


@pytest.fixture
def page(seeded: Stack, browser: Any) -> Iterator[Any]:
    context = dashboard_context(browser, seeded, viewport={"width": 1366, "height": 850})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors


def _goal_panel(page: Any) -> Any:
    panel = page.locator("#panel-goals")
    panel.scroll_into_view_if_needed()  # it loads once in view
    return panel


def test_goals_from_settings_and_the_panel_filter_the_dashboard(seeded: Stack, page: Any) -> None:
    dashboard = f"{seeded.dashboard_url}/{SITE}?period=7d"
    # No goal yet: the panel says so and offers the site's custom event.
    page.goto(dashboard)
    panel = _goal_panel(page)
    expect(panel.locator(".empty-panel")).to_contain_text("No goals yet")
    expect(panel.locator(".goal-candidates li > span")).to_have_text(["Signup"])

    # A page goal, made in the site's settings.
    page.goto(f"{seeded.dashboard_url}/settings/sites/{SITE}/goals")
    page.fill("input[name=page]", "/pricing")
    page.click("button:has-text('Add goal')")
    expect(page.locator("[data-goals]")).to_contain_text("Visit /pricing")

    # An event goal, one click from the panel: it lands on the settings with the goal listed.
    page.goto(dashboard)
    _goal_panel(page).get_by_role("button", name="Make it a goal: Signup").click()
    expect(page.locator("[data-goals]")).to_contain_text("Signup")

    page.goto(dashboard)
    panel = _goal_panel(page)
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(2)
    # Unique conversions, total conversions, conversion rate (of 5 visitors).
    expect(rows.nth(0).locator("td")).to_have_text(["Signup", "2", "2", "40%"])
    expect(rows.nth(1).locator("td")).to_have_text(["Visit /pricing", "1", "1", "20%"])
    expect(panel.locator(".goal-candidates")).to_have_count(0)

    # Clicking a goal filters the whole dashboard by it.
    panel.get_by_role("link", name="Signup").click()
    expect(page.locator(".chip > span")).to_have_text("Goal is Signup")
    assert page.url.endswith("f=is%2Cevent%3Agoal%2CSignup")
    expect(page.locator("[data-metric='visitors'] [data-value]")).to_have_text("2")
    # The sources panel: converting visitors and the conversion rate of each source.
    page.locator("#panel-sources .tabs a", has_text="Sources").click()
    sources = page.locator("#panel-sources")
    expect(sources.locator("thead th")).to_have_text(["Source", "Visitors", "CR"])
    expect(sources.locator("tbody tr").nth(0).locator("td")).to_have_text(["Google", "1", "33.33%"])
    expect(sources.locator("tbody tr").nth(1).locator("td")).to_have_text(["Twitter", "1", "50%"])

    # The chip takes the filter off, and the column with it.
    page.locator(".chip-remove").click()
    expect(page.locator(".chip")).to_have_count(0)
    expect(page.locator("#panel-sources thead th")).to_have_count(2)


@pytest.mark.parametrize("theme", THEMES)
def test_the_goal_panel_and_a_goal_filter_pass_axe(
    seeded: Stack, browser: Any, theme: str
) -> None:
    context = dashboard_context(browser, seeded, viewport={"width": 1366, "height": 850},
                                color_scheme=theme, bypass_csp=True)
    context.add_cookies([{"name": "a941_theme", "value": theme, "url": seeded.dashboard_url + "/"}])
    with sqlite3.connect(seeded.db_path, timeout=10) as conn:
        has = conn.execute("SELECT 1 FROM goals WHERE site_id = 'goals' AND name = 'Signup'")
        missing = has.fetchone() is None
    conn.close()
    if missing:  # run alone: the goal the other test makes
        cli("goals", "add", "--site", SITE, "--event", "Signup", env=seeded.env)
    page = context.new_page()
    try:
        for query in ("period=7d", "period=7d&f=is,event:goal,Signup&sources=sources"):
            page.goto(f"{seeded.dashboard_url}/{SITE}?{query}")
            _goal_panel(page)
            page.wait_for_selector("#panel-goals table")
            assert _violations(page) == [], query
    finally:
        context.close()
