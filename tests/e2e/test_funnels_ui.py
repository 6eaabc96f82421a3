"""Funnels in Chromium: the dashboard's Funnels panel says how to make one, a funnel made in the
site's settings (pages and a goal), then drawn in the panel with the seeded numbers, a bar per
step, picked with the keyboard; axe finds nothing serious on it in either theme.

Runs on its own site (funnels.example) so other tests' numbers stay theirs.
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

SITE = "funnels.example"
DAY_MS = 86_400_000
# (days ago, pages then events of one visit): through /shop, /cart and a Purchase, four visitors
# reach the shop, two the cart after it, one buys; the last one sees the cart before the shop.
VISITS = [(1, ["/shop", "/about", "/cart", "Purchase"]), (1, ["/shop", "/cart"]),
          (2, ["/shop"]), (3, ["/cart", "/shop"])]


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    now = int(time.time() * 1000)
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('funnels', ?, 'Funnels site', ?, 'UTC', ?)",
            (SITE, json.dumps([SITE]), now - 60 * DAY_MS),
        )
        for n, (days, steps) in enumerate(VISITS):
            start = now - days * DAY_MS
            for i, step in enumerate(steps):
                name, path = ("pageview", step) if step.startswith("/") else (step, steps[i - 1])
                conn.execute(
                    "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, session_id, "
                    "hostname, pathname, source, country, device) "
                    "VALUES (?, 'funnels', ?, ?, ?, ?, ?, ?, 'Google', 'US', 'desktop')",
                    (f"funnels-e{n}-{i}", start + i * 60_000, name, f"funnels-v{n}",
                     f"funnels-s{n}", SITE, path),
                )
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                "hostname, entry_page, exit_page, pageviews, events, duration_ms, is_bounce, "
                "source, country, device) "
                "VALUES (?, 'funnels', ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 'Google', 'US', 'desktop')",
                (f"funnels-s{n}", f"funnels-v{n}", start, start + (len(steps) - 1) * 60_000, SITE,
                 steps[0], steps[-1], len(steps), len(steps)),
            )
    conn.close()
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        has = conn.execute("SELECT 1 FROM goals WHERE site_id = 'funnels'").fetchone()
    conn.close()
    if has is None:
        cli("goals", "add", "--site", SITE, "--event", "Purchase", env=stack.env)
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


def funnel_panel(page: Any) -> Any:
    panel = page.locator("#panel-funnels")
    panel.scroll_into_view_if_needed()  # it loads once in view
    return panel


def make_funnels(page: Any, stack: Stack) -> None:
    """The funnels the panel shows, made in the site's settings page (its Funnels section)."""
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        names = {name for (name,) in conn.execute(
            "SELECT name FROM funnels WHERE site_id = 'funnels'")}
    conn.close()
    for name, steps in (("Checkout", ["/shop", "/cart", "goal:Purchase"]),
                        ("Browse", ["/shop", "/about"])):
        if name in names:
            continue
        page.goto(f"{stack.dashboard_url}/settings/sites/{SITE}")
        section = page.locator("section#funnels")
        expect(section.locator("input[name=step]")).to_have_count(8)  # loaded by htmx
        section.locator("input[name=name]").fill(name)
        for i, step in enumerate(steps):
            section.locator("input[name=step]").nth(i).fill(step)
        section.get_by_role("button", name="Add funnel").click()
        expect(page.locator("[data-funnels]")).to_contain_text(name)


def test_a_funnel_made_in_settings_is_drawn_in_the_dashboard(seeded: Stack, page: Any) -> None:
    dashboard = f"{seeded.dashboard_url}/{SITE}?period=7d"
    with sqlite3.connect(seeded.db_path, timeout=10) as conn:
        fresh = conn.execute("SELECT 1 FROM funnels WHERE site_id = 'funnels'").fetchone() is None
    conn.close()
    if fresh:  # the empty state tells how to make one
        page.goto(dashboard)
        panel = funnel_panel(page)
        expect(panel.locator(".empty-panel")).to_contain_text("No funnels yet")
        expect(panel.get_by_role("link", name="Create one in settings")).to_be_visible()

    make_funnels(page, seeded)
    expect(page.locator("[data-funnels]")).to_contain_text("/shop → /cart → goal Purchase")

    page.goto(dashboard)
    panel = funnel_panel(page)
    # Browse comes first by name: pick Checkout with the keyboard.
    expect(panel.locator("h2")).to_have_text("Funnel: Browse")
    panel.locator("select[name=funnel]").focus()
    page.keyboard.press("End")  # the last option: Checkout
    panel.locator("select[name=funnel]").select_option("Checkout")
    panel.get_by_role("button", name="Show").press("Enter")
    expect(panel.locator("h2")).to_have_text("Funnel: Checkout")
    steps = panel.locator("tr[data-step]")
    expect(steps).to_have_count(3)
    expect(steps.nth(0).locator("td")).to_have_text(["1. /shop", "4", "100%"])
    expect(steps.nth(1).locator("td")).to_have_text(["2. /cart", "2", "50%"])
    expect(steps.nth(2).locator("td")).to_have_text(["3. Purchase", "1", "25%"])
    # From /shop to /cart: 2 and 1 minutes; from /cart to Purchase: 1 minute.
    gaps = panel.locator("tr.funnel-gap")
    expect(gaps.nth(0)).to_contain_text("2 dropped off (50%) · median 1m 30s to this step")
    expect(gaps.nth(1)).to_contain_text("1 dropped off (50%) · median 1m 00s to this step")
    # The bars are drawn: each as wide as the step's share of the first step's visitors.
    widths = steps.locator(".bar").evaluate_all("(bars) => bars.map((b) => b.style.width)")
    assert widths == ["100%", "50%", "25%"]
    # The button pressed is focused again after the swap: the keyboard keeps its place.
    expect(panel.get_by_role("button", name="Show")).to_be_focused()


@pytest.mark.parametrize("theme", THEMES)
def test_the_funnel_panel_passes_axe(seeded: Stack, browser: Any, theme: str) -> None:
    context = dashboard_context(browser, seeded, viewport={"width": 1366, "height": 850},
                                color_scheme=theme, bypass_csp=True)
    context.add_init_script(f"localStorage.setItem('a941-theme', '{theme}')")
    page = context.new_page()
    try:
        make_funnels(page, seeded)
        page.goto(f"{seeded.dashboard_url}/settings/sites/{SITE}")
        expect(page.locator("[data-funnels]")).to_contain_text("Checkout")
        assert _violations(page) == [], "settings"
        page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d&funnel=Checkout")
        funnel_panel(page)
        page.wait_for_selector("#panel-funnels table")
        assert _violations(page) == [], "dashboard"
    finally:
        context.close()
