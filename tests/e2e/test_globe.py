"""The Locations panel's Globe tab in Chromium: a first load fetches nothing of three.js, opening
the tab loads the globe module once and draws the seeded countries (the canvas is named after
them and its pixels hold the map's shades); it turns by keyboard; the map stays the default.

Also: the demo traffic's made-up locations reach the stored visits through the local collector
(a development configuration, SIMULATED_GEO), so the local map and globe are not all Austin.

Runs on its own sites (globe.example, geo-demo.example). Chromium gets a software WebGL
(SwiftShader): the shared browser runs with the GPU off, where WebGL is not offered at all.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from scripts.demo_traffic import send_demo_traffic

from .conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, Stack, dashboard_context, wait_until
from .test_a11y import _violations

pytestmark = pytest.mark.e2e

SITE = "globe.example"
DAY_MS = 86_400_000
# (country, visitors) in the last week: the busiest first.
VISITORS = [("US", 4), ("DE", 2), ("JP", 1), ("BR", 1)]
WEBGL_ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + [
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    now = int(time.time() * 1000)
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('globe', ?, 'Globe site', ?, 'UTC', ?)",
            (SITE, json.dumps([SITE]), now - 60 * DAY_MS))
        n = 0
        for country, count in VISITORS:
            for _ in range(count):
                n += 1
                ts = now - DAY_MS
                conn.execute(
                    "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, "
                    "session_id, hostname, pathname, country) "
                    "VALUES (?, 'globe', ?, 'pageview', ?, ?, ?, '/', ?)",
                    (f"globe-e{n}", ts, f"globe-v{n}", f"globe-s{n}", SITE, country))
                conn.execute(
                    "INSERT OR IGNORE INTO sessions (id, site_id, visitor_id, started_at, "
                    "ended_at, hostname, entry_page, exit_page, pageviews, events, duration_ms, "
                    "is_bounce, country) VALUES (?, 'globe', ?, ?, ?, ?, '/', '/', 1, 1, 0, 1, ?)",
                    (f"globe-s{n}", f"globe-v{n}", ts, ts, SITE, country))
    conn.close()
    return stack


@pytest.fixture(scope="module")
def webgl_browser(browser: Any) -> Iterator[Any]:
    # Launched through the session's Playwright (a second sync_playwright in one process is
    # refused once the first runs), with software WebGL.
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=WEBGL_ARGS,
                                           headless=True)
    yield chromium
    chromium.close()


def _globe_file() -> str:
    manifest = json.loads((ROOT / "static" / "dist" / "manifest.json").read_text())
    return str(manifest["globe.js"])


def _colours(page: Any, png: bytes) -> int:
    """Distinct colours of a PNG, counted by a blank page's canvas (no image library needed)."""
    blank = page.context.new_page()
    try:
        return int(blank.evaluate(
            """async (src) => {
                const img = new Image();
                img.src = src;
                await img.decode();
                const c = document.createElement("canvas");
                c.width = img.width; c.height = img.height;
                const ctx = c.getContext("2d");
                ctx.drawImage(img, 0, 0);
                const d = ctx.getImageData(0, 0, c.width, c.height).data;
                const seen = new Set();
                for (let i = 0; i < d.length; i += 4) {
                    seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
                }
                return seen.size;
            }""", "data:image/png;base64," + base64.b64encode(png).decode()))
    finally:
        blank.close()


def test_the_globe_tab_loads_three_only_when_opened_and_draws_the_countries(
    seeded: Stack, webgl_browser: Any
) -> None:
    context = dashboard_context(webgl_browser, seeded, viewport={"width": 1280, "height": 900},
                                reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    globe_file = _globe_file()
    try:
        page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
        # The map is the default tab; let it draw (it fetches the outlines once in view).
        page.locator("#panel-locations").scroll_into_view_if_needed()
        expect(page.locator("#panel-locations .map-svg")).to_be_visible()
        expect(page.locator("#panel-locations [aria-current=true]")).to_have_text("Map")
        page.wait_for_load_state("networkidle")
        assert not [u for u in requested if globe_file in u or "three" in u], requested

        page.locator("#panel-locations .tabs a", has_text="Globe").click()
        canvas = page.locator("#panel-locations [data-globe] canvas")
        expect(canvas).to_be_visible()
        assert sum(globe_file in u for u in requested) == 1
        assert "locations=globe" in page.url
        # The canvas's accessible name lists the seeded countries, the busiest first.
        expect(page.get_by_role("img", name="Globe of visitors by country")).to_have_attribute(
            "aria-label", (
                "Globe of visitors by country: United States 4 visitors, Germany 2 visitors, "
                "Brazil 1 visitor, Japan 1 visitor. Drag or use the arrow keys to turn it."))
        # Drawn: the sea, land, borders and the visited countries' shades, not one flat colour.
        before = canvas.screenshot()
        assert _colours(page, before) > 20
        # The arrow keys turn it (reduced motion: it does not turn by itself).
        canvas.focus()
        assert canvas.screenshot() == before
        page.keyboard.press("ArrowRight")
        assert canvas.screenshot() != before

        # Back to the map and to the globe again: the module is not fetched a second time.
        page.locator("#panel-locations .tabs a", has_text="Map").click()
        expect(page.locator("#panel-locations .map-svg")).to_be_visible()
        page.locator("#panel-locations .tabs a", has_text="Globe").click()
        expect(canvas).to_be_visible()
        assert sum(globe_file in u for u in requested) == 1
        assert not errors
    finally:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_bookmarked_globe_tab_draws_on_a_full_page_load_and_passes_axe(
    seeded: Stack, webgl_browser: Any, theme: str
) -> None:
    # The page's CSP allows only its own scripts; axe is injected from outside it.
    context = dashboard_context(webgl_browser, seeded, viewport={"width": 390, "height": 844},
                                color_scheme=theme, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d&locations=globe")
        canvas = page.locator("#panel-locations [data-globe] canvas")
        canvas.scroll_into_view_if_needed()
        expect(canvas).to_be_visible()
        expect(canvas).to_have_attribute("aria-label", re.compile("United States"))
        # Motion allowed here: left alone, it turns by itself.
        still = canvas.screenshot()
        wait_until(canvas.screenshot, lambda shot: shot != still, message="the globe turning")
        assert _violations(page) == []
        assert not errors
    finally:
        context.close()


def test_demo_traffic_carries_varied_locations_through_the_local_collector(
    stack: Stack, webgl_browser: Any
) -> None:
    domain = "geo-demo.example"
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('geo-demo', ?, 'Geo demo', ?, 'UTC', ?)",
            (domain, json.dumps([domain]), int(time.time() * 1000)))
    conn.close()
    accepted = send_demo_traffic(collector_url=stack.collector_url, domain=domain,
                                 site_url=f"https://{domain}", visitors=12)
    assert accepted >= 12

    def stored() -> list[tuple[str, str, str]]:
        with sqlite3.connect(stack.db_path, timeout=10) as conn:
            found = conn.execute("SELECT DISTINCT country, region, city FROM events "
                                 "WHERE site_id = 'geo-demo'").fetchall()
        conn.close()
        return found

    places = wait_until(stored, lambda rows: len(rows) >= 3, message="the demo's places in D1")
    # wrangler dev alone would have put every visit in one placeholder place.
    countries = {country for country, _region, _city in places}
    assert len(countries) >= 3

    # The realtime page shows them on a globe when asked, and only then loads it.
    context = dashboard_context(webgl_browser, stack, viewport={"width": 1280, "height": 900},
                                reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(f"{stack.dashboard_url}/{domain}/realtime")
        expect(page.locator("[data-realtime-list=country] li .name").first).to_be_visible()
        assert not [u for u in requested if _globe_file() in u]
        page.get_by_role("link", name="Show on a globe").click()
        canvas = page.locator("[data-globe] canvas")
        expect(canvas).to_be_visible()
        label = re.compile(r"^Globe of the last 5 minutes' pageviews by country: \w")
        expect(canvas).to_have_attribute("aria-label", label)
        assert _colours(page, canvas.screenshot()) > 20
        assert not errors
    finally:
        context.close()
