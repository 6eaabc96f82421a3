"""Layout under hostile text and narrow screens, measured in Chromium: a 2,000-character path
and one with a bidi override and an ESC neither widen nor stretch the journeys, errors and clicks
pages, the flow's labels stay inside its drawing, every settings tab shows on a phone, and the
sign-in page keeps its theme button at the right, the map's busiest country stands out most
in either theme, and axe finds nothing serious where hostile text is shown (the goal panel's
"Make it a goal" buttons, a stack that scrolls sideways).

Runs on its own site (hostile.example) so other tests' numbers stay theirs.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from .conftest import Stack, dashboard_context
from .test_a11y import _violations

pytestmark = pytest.mark.e2e

SITE = "hostile.example"
DAY_MS = 86_400_000
LONG = ("/docs/" + "very-long-segment-" * 111)[:2000]
RTL = "/files/report\u202egnp.exe\x1b[31mred"
SCREENS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# One line of a path, with room for a second: a path drawn in full is hundreds of pixels tall.
TWO_LINES = 60


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    """Three visits LONG -> RTL from Germany and one from the US that sees a 27-character page
    only, yesterday; the first also has a JS error and a rage click (a 600-character selector)
    on LONG."""
    now = int(time.time() * 1000)
    visits = [[LONG, RTL]] * 3 + [["/blog/how-we-count-visitors"]]
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('hostile', ?, 'Hostile', ?, 'UTC', ?)",
            (SITE, json.dumps([SITE]), now - 60 * DAY_MS))
        for n, pages in enumerate(visits):
            start = now - DAY_MS + n * 600_000
            for i, path in enumerate(pages):
                conn.execute(
                    "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, session_id, "
                    "hostname, pathname, country) VALUES (?, 'hostile', ?, 'pageview', ?, ?, ?, ?, "
                    "?)",
                    (f"hostile-e{n}-{i}", start + i * 60_000, f"hostile-v{n}", f"hostile-s{n}",
                     SITE, path, "US" if n == 3 else "DE"))
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                "hostname, entry_page, exit_page, pageviews, events, duration_ms, is_bounce, "
                "country) VALUES (?, 'hostile', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (f"hostile-s{n}", f"hostile-v{n}", start, start + (len(pages) - 1) * 60_000, SITE,
                 pages[0], pages[-1], len(pages), len(pages), (len(pages) - 1) * 60_000,
                 int(len(pages) == 1), "US" if n == 3 else "DE"))
        error = {"message": "x is undefined", "type": "TypeError", "fingerprint": "long-path",
                 "stack": f"at go (https://{SITE}/{'a' * 600}.js:1:2)"}
        for name, props in (("JS error", error), ("Rage click", {"selector": "div." + "c" * 600})):
            conn.execute(
                "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, session_id, "
                "hostname, pathname, props) VALUES (?, 'hostile', ?, ?, 'hostile-v0', "
                "'hostile-s0', ?, ?, ?)",
                (f"hostile-{name}", now - DAY_MS + 1000, name, SITE, LONG, json.dumps(props)))
    conn.close()
    return stack


@pytest.fixture(params=list(SCREENS))
def page(request: pytest.FixtureRequest, seeded: Stack, browser: Any) -> Iterator[Any]:
    context = dashboard_context(browser, seeded, viewport=SCREENS[request.param])
    yield context.new_page()
    context.close()


def _overflow(page: Any) -> list[int]:
    return list(page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]"))


def _heights(page: Any, selector: str) -> list[float]:
    return list(page.eval_on_selector_all(
        selector, "els => els.map(e => e.getBoundingClientRect().height)"))


@pytest.mark.parametrize("shown", [LONG, RTL])
def test_a_long_path_neither_widens_nor_stretches_the_journeys_page(
    seeded: Stack, page: Any, shown: str
) -> None:
    page.goto(f"{seeded.dashboard_url}/{SITE}/journeys?period=7d&page={quote(shown)}")
    page.wait_for_selector(".journey-paths li")
    page.click(".journey-pairs summary")
    width, viewport = _overflow(page)
    assert width <= viewport
    paths = _heights(page, ".journey-paths li .journey-path")
    assert paths and max(paths) <= TWO_LINES, paths
    pairs = _heights(page, ".journey-pairs tbody tr")
    assert pairs and max(pairs) <= TWO_LINES, pairs
    # The full path stays at hand: each shortened step and cell carries it as its title.
    assert page.locator(f".journey-path [title='{LONG}']").count() >= 1
    # The page picker keeps its button beside the field, on a phone too.
    field = page.locator("#journey-page").bounding_box()
    button = page.locator(".journeys-pick button").bounding_box()
    assert abs(field["y"] + field["height"] / 2 - button["y"] - button["height"] / 2) < 4


def test_a_long_path_and_selector_stay_short_on_the_errors_and_clicks_pages(
    seeded: Stack, page: Any
) -> None:
    page.goto(f"{seeded.dashboard_url}/{SITE}/errors?period=7d&error=long-path")
    rows = _heights(page, ".errors-detail tbody tr")
    assert rows and max(rows) <= TWO_LINES, rows
    assert page.locator(f".errors-detail [title='{LONG}']").count() == 1
    page.goto(f"{seeded.dashboard_url}/{SITE}/clicks?period=7d")
    heading = page.locator(".clicks-path")
    assert heading.get_attribute("title") == LONG
    # Two lines of the heading; three of the selector (its cell holds the whole as a title).
    assert heading.bounding_box()["height"] <= TWO_LINES
    assert page.locator(".clicks-page code.name").bounding_box()["height"] <= 1.5 * TWO_LINES
    assert _overflow(page)[0] <= _overflow(page)[1]
    # The table that ends the card keeps the card's round corners (its background squared them).
    corners = page.evaluate("""() => {
      const box = document.querySelector('.clicks-page .table-scroll');
      return [getComputedStyle(box).borderBottomLeftRadius,
              getComputedStyle(box.closest('.card')).borderBottomLeftRadius]; }""")
    assert corners[0] == corners[1] != "0px", corners


def test_the_flows_labels_stay_inside_its_drawing(seeded: Stack, page: Any) -> None:
    page.goto(f"{seeded.dashboard_url}/{SITE}/journeys?period=7d")
    page.wait_for_selector(".flow-label")
    outside = page.evaluate("""() => {
      const svg = document.querySelector('.journey-flow svg'), box = svg.viewBox.baseVal;
      return [...svg.querySelectorAll('.flow-label')].map(t => [t.textContent, t.getBBox()])
        .filter(([, b]) => b.x < box.x || b.x + b.width > box.x + box.width)
        .map(([text]) => text);
    }""")
    assert outside == []
    assert page.locator(".flow-label").count() == 4  # two entries, two exits
    # On a phone the drawing scrolls sideways: a hint says so and a keyboard can reach it.
    phone = page.viewport_size["width"] < 640
    flow = page.locator(".journey-flow")
    assert flow.evaluate("f => f.scrollWidth > f.clientWidth + 1") == phone
    assert page.locator("section[aria-labelledby=flow-title] [data-scroll-hint]").is_visible() \
        == phone
    assert (flow.get_attribute("tabindex") == "0") == phone


def test_every_settings_tab_shows_on_a_phone(seeded: Stack, browser: Any) -> None:
    context = dashboard_context(browser, seeded, viewport=SCREENS["phone"])
    page = context.new_page()
    page.goto(f"{seeded.dashboard_url}/settings/sites/{SITE}/goals")
    rights = page.eval_on_selector_all(
        ".settings-tabs a", "els => els.map(e => e.getBoundingClientRect().right)")
    assert len(rights) == 4 and max(rights) <= SCREENS["phone"]["width"], rights
    context.close()


def test_the_account_links_take_one_line_and_show_whole_on_a_phone(
    seeded: Stack, browser: Any
) -> None:
    context = dashboard_context(browser, seeded, viewport=SCREENS["phone"])
    page = context.new_page()
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    shown = page.eval_on_selector_all(
        ".usernav a, .usernav button", "els => els.filter(e => e.offsetParent)"
        ".map(e => { const r = e.getBoundingClientRect(); return [e.textContent.trim(), r.top, "
        "r.left, r.right]; })")
    names = [name for name, *_ in shown]
    assert "Log out" in names and "API tokens" in names, names
    assert len({round(top) for _, top, _, _ in shown}) == 1, shown
    assert all(left >= 0 and right <= SCREENS["phone"]["width"] for *_, left, right in shown), shown
    # Beside the brand, above the links: the theme button stays on the first row, at the right.
    button = page.locator("[data-theme-button]").bounding_box()
    assert button["y"] + button["height"] <= shown[0][1], (button, shown)
    assert button["x"] + button["width"] >= SCREENS["phone"]["width"] - 24, button
    context.close()


def test_the_sign_in_pages_theme_button_sits_at_the_right_on_a_phone(
    seeded: Stack, browser: Any
) -> None:
    context = browser.new_context(viewport=SCREENS["phone"])
    page = context.new_page()
    page.goto(f"{seeded.dashboard_url}/login")
    button = page.locator("[data-theme-button]")
    button.wait_for(state="visible")
    box = button.bounding_box()
    assert box["x"] + box["width"] >= SCREENS["phone"]["width"] - 24, box
    context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_maps_busiest_country_stands_out_most_in_either_theme(
    seeded: Stack, browser: Any, theme: str
) -> None:
    context = dashboard_context(browser, seeded, color_scheme=theme)
    page = context.new_page()
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    page.locator(".map").scroll_into_view_if_needed()
    page.wait_for_selector(".map-svg [data-code=DE]")
    # Each country's colour as painted over the card (fill-opacity included), as its luminance's
    # distance from the card's: Germany (3 visitors) must stand further out than the US (1).
    distance = page.evaluate("""() => {
      const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
      const lum = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
      const card = rgb(getComputedStyle(document.querySelector('.card')).backgroundColor);
      const out = {};
      for (const code of ['DE', 'US']) {
        const style = getComputedStyle(document.querySelector(`.map-svg [data-code=${code}]`));
        const a = Number(style.fillOpacity);
        const shown = rgb(style.fill).map((v, k) => card[k] * (1 - a) + v * a);
        out[code] = Math.abs(lum(shown) - lum(card));
      }
      return out;
    }""")
    assert distance["DE"] > distance["US"] + 10, distance
    context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_around_hostile_text(
    seeded: Stack, browser: Any, theme: str
) -> None:
    context = dashboard_context(browser, seeded, color_scheme=theme, bypass_csp=True)
    page = context.new_page()
    found = {}
    for path, ready in ((f"/{SITE}?period=7d", ".goal-candidates button"),
                        (f"/{SITE}/errors?period=7d&error=long-path", ".errors-body pre"),
                        (f"/{SITE}/journeys?period=7d&page={quote(LONG)}", ".journey-paths"),
                        (f"/{SITE}/clicks?period=7d", ".clicks-path")):
        page.goto(seeded.dashboard_url + path)
        page.evaluate("scrollTo(0, document.body.scrollHeight)")  # the goal panel loads in view
        page.wait_for_selector(ready)
        found[path] = _violations(page)
    assert not any(found.values()), found
    # The buttons' names start with what they show (WCAG 2.5.3, label in name).
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    page.locator("#panel-goals").scroll_into_view_if_needed()
    page.get_by_role("button", name="Make it a goal: Rage click").wait_for()
    context.close()
