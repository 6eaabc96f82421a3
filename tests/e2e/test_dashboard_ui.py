"""The dashboard's controls in Chromium: the filter builder, period arrows and keyboard shortcuts,
the graph's tooltip and the site switcher, each checked by what the page then shows.

Runs on its own sites (ui.example, ui-two.example) so other tests' numbers stay theirs.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Stack, dashboard_context

pytestmark = pytest.mark.e2e

SITE = "ui.example"
OTHER = "ui-two.example"
DAY_MS = 86_400_000
# (days ago, path, country, device): five visitors in the last week, one two weeks ago.
VISITS = [(1, "/", "US", "desktop"), (2, "/pricing", "DE", "mobile"), (3, "/", "DE", "desktop"),
          (4, "/blog/one", "US", "desktop"), (5, "/pricing", "US", "tablet"),
          (10, "/blog/two", "FR", "desktop")]


def _add_site(conn: sqlite3.Connection, site_id: str, domain: str, name: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
        "VALUES (?, ?, ?, ?, 'UTC', ?)",
        (site_id, domain, name, json.dumps([domain]), int(time.time() * 1000) - 60 * DAY_MS),
    )


def _add_visit(conn: sqlite3.Connection, site_id: str, n: int, ts: int, path: str,
               country: str, device: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
        "pathname, country, device) VALUES (?, ?, ?, 'pageview', ?, ?, ?, ?, ?, ?)",
        (f"{site_id}-e{n}", site_id, ts, f"{site_id}-v{n}", f"{site_id}-s{n}", site_id, path,
         country, device),
    )
    conn.execute(
        "INSERT OR IGNORE INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
        "entry_page, exit_page, pageviews, events, duration_ms, is_bounce, country, device) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1, 0, 1, ?, ?)",
        (f"{site_id}-s{n}", site_id, f"{site_id}-v{n}", ts, ts, site_id, path, path, country,
         device),
    )


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    now = int(time.time() * 1000)
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        _add_site(conn, "ui", SITE, "UI site")
        _add_site(conn, "ui2", OTHER, "Second site")
        for n, (days, path, country, device) in enumerate(VISITS):
            _add_visit(conn, "ui", n, now - days * DAY_MS, path, country, device)
        _add_visit(conn, "ui2", 0, now - DAY_MS, "/other", "FR", "desktop")
    conn.close()
    return stack


@pytest.fixture
def page(seeded: Stack, browser: Any) -> Iterator[Any]:
    context = dashboard_context(browser, seeded, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors


def _value(page: Any, metric: str) -> str:
    return str(page.text_content(f"[data-metric='{metric}'] [data-value]")).strip()


def test_a_contains_filter_built_by_keyboard_changes_the_panels(seeded: Stack, page: Any) -> None:
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    assert _value(page, "visitors") == "5"
    page.locator("[data-filter-builder] summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-filter-dimension]")).to_be_focused()
    page.locator("[data-filter-dimension]").select_option("page")
    page.keyboard.press("Tab")
    page.locator("select[name=filter_op]").select_option("contains")
    page.keyboard.press("Tab")
    page.keyboard.type("blo")
    # Suggested from the data: the pages of the period containing "blo".
    expect(page.locator("#filter-suggestions option")).to_have_count(1)
    assert page.locator("#filter-suggestions option").get_attribute("value") == "/blog/one"
    page.keyboard.press("Enter")
    expect(page.locator(".chip > span")).to_have_text("Page contains blo")
    assert _value(page, "visitors") == "1"
    top_pages = page.locator("#panel-pages .toplist a.name")
    expect(top_pages).to_have_text(["/blog/one"])
    # The address bar holds the state's own URL, not the form's fields.
    assert page.url.endswith(f"/{SITE}?period=7d&f=contains%2Cpage%2Cblo")


def test_period_arrows_and_shortcuts(seeded: Stack, page: Any) -> None:
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    assert _value(page, "visitors") == "5"
    expect(page.locator("[data-period-next]")).to_have_count(0)  # the period ends today
    page.click("[data-period-previous]")
    # The 7 days before: only the visit of 10 days ago.
    expect(page.locator("[data-metric='visitors'] [data-value]")).to_have_text("1")
    assert "period=custom" in page.url
    page.keyboard.press("ArrowRight")
    expect(page.locator("[data-metric='visitors'] [data-value]")).to_have_text("5")
    page.keyboard.press("t")  # last 30 days
    expect(page.locator(".picker-label")).to_have_text("Last 30 days")
    assert _value(page, "visitors") == "6" and page.url.endswith(f"/{SITE}")
    page.keyboard.press("x")  # compare on
    expect(page.locator("[data-metric='visitors'] .stat-change")).to_be_visible()
    assert page.url.endswith("?compare=previous_period")
    page.keyboard.press("x")  # and off
    expect(page.locator("[data-metric='visitors'] .stat-change")).to_have_count(0)
    page.click("#panel-pages .toplist a.name >> nth=0")
    expect(page.locator(".chip")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(".chip")).to_have_count(0)
    page.keyboard.press("ArrowLeft")
    expect(page.locator(".picker-label")).not_to_have_text("Last 30 days")
    # The period's swap replaces the dialog too: open it once the swap is over, not during it.
    expect(page).to_have_url(re.compile(r"period=custom"))
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    expect(page.locator("#shortcuts button")).to_be_focused()
    page.keyboard.press("d")  # keys wait while the list is open
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert "period=day" not in page.url


def _day_label(label: str) -> str:
    day = date.fromisoformat(label[:10])
    return f"{day.day} {day:%b} {day.year}"


def test_the_tooltip_shows_the_hovered_bucket(seeded: Stack, page: Any) -> None:
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d&compare=previous_period")
    chart = json.loads(str(page.text_content("#chart-data")))
    labels, visitors = chart["labels"], chart["series"]["visitors"]
    compared = chart["compare"]["visitors"]
    # The bucket with the visit of 4 days ago (/blog/one), and its comparison 7 days earlier.
    i = labels.index((datetime.now(UTC).date() - timedelta(days=4)).isoformat())
    assert visitors[i] == 1
    over = page.locator(".chart .u-over").bounding_box()
    assert over is not None
    x = over["x"] + over["width"] * i / (len(labels) - 1)
    page.mouse.move(x, over["y"] + over["height"] / 2)
    tooltip = page.locator(".chart-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip.locator(".chart-tooltip-main")).to_have_text(f"{_day_label(labels[i])}1")
    expect(tooltip.locator(".chart-tooltip-compare")).to_have_text(
        f"{_day_label(chart['compare_labels'][i])}{compared[i]}")
    # The marker sits on the data: its centre is the bucket's x, to the pixel.
    marker = page.locator(".chart .u-cursor-pt").first.bounding_box()
    assert marker is not None
    assert abs(marker["x"] + marker["width"] / 2 - x) <= 1
    # The keyboard reads the same values: End is the last bucket, Left the one before.
    page.focus(".chart")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-chart-readout]")).to_contain_text(
        f"{_day_label(labels[-2])}: {visitors[-2]}")


def test_the_site_list_and_the_switcher(seeded: Stack, page: Any) -> None:
    page.goto(f"{seeded.dashboard_url}/")
    card = page.locator(f"[data-site='{SITE}']")
    expect(card.locator("[data-visitors]")).to_have_text("6 visitors")
    expect(card.locator("polyline")).to_have_count(1)
    card.click()
    expect(page.locator("h1.site-title")).to_contain_text("UI site")
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d&f=is,country,US")
    page.click(".site-switcher summary")
    page.click(f"[data-switch-site='{OTHER}']")
    expect(page.locator("h1.site-title")).to_contain_text("Second site")
    # The period comes along; the filter, about the other site's data, does not.
    assert page.url.endswith(f"/{OTHER}?period=7d")
    assert _value(page, "visitors") == "1"


def test_focus_stays_on_the_control_used_after_a_swap(seeded: Stack, page: Any) -> None:
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    page.focus("#panel-pages .tabs a:text-is('Entry')")
    page.keyboard.press("Enter")
    expect(page.locator("#panel-pages .tabs a[aria-current]")).to_have_text("Entry")
    expect(page.locator("#panel-pages .tabs a:text-is('Entry')")).to_be_focused()
    page.focus("[data-period-previous]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-metric='visitors'] [data-value]")).to_have_text("1")
    expect(page.locator("[data-period-previous]")).to_be_focused()
    # A control that is gone (the chip's remove link): focus lands on the view's heading. Each
    # step waits for the view's own loads (panels load as they scroll into view) to be over.
    page.click("#panel-pages .toplist a.name >> nth=0")
    expect(page.locator(".chip")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    page.focus(".chip-remove")
    page.keyboard.press("Enter")
    expect(page.locator(".chip")).to_have_count(0)
    expect(page.locator("#dashboard h1")).to_be_focused()
