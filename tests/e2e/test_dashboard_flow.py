"""The dashboard in Chromium: click a row to filter, change the period, toggle the comparison,
download the CSV, open a report's details, search them and come back — each without a full page
load, each reflected in the URL.

Runs on its own site (dash.example) so the other end-to-end tests' exact numbers stay theirs.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Stack, dashboard_context

pytestmark = pytest.mark.e2e

SITE = "dash.example"
DAY_MS = 86_400_000


def _seed(stack: Stack) -> None:
    now = int(time.time() * 1000)
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('dash', ?, 'Dash', ?, 'UTC', ?)", (SITE, json.dumps([SITE]), now - 60 * DAY_MS)
        )
        visits = [("/", "US", "Google"), ("/pricing", "DE", None), ("/", "DE", "Google"),
                  ("/blog", "US", "Twitter"), ("/pricing", "US", "Google")]
        for n, (path, country, source) in enumerate(visits):
            ts = now - (n + 1) * DAY_MS
            conn.execute(
                "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, session_id, "
                "hostname, pathname, source, country, device) "
                "VALUES (?, 'dash', ?, 'pageview', ?, ?, ?, ?, ?, ?, 'Desktop')",
                (f"dash-e{n}", ts, f"dv{n}", f"ds{n}", SITE, path, source, country),
            )
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                "hostname, entry_page, exit_page, pageviews, events, duration_ms, is_bounce, "
                "source, country, device) "
                "VALUES (?, 'dash', ?, ?, ?, ?, ?, ?, 1, 1, 0, 1, ?, ?, 'Desktop')",
                (f"ds{n}", f"dv{n}", ts, ts, SITE, path, path, source, country),
            )
    conn.close()


def _value(page: Any, metric: str) -> str:
    return str(page.text_content(f"[data-metric='{metric}'] [data-value]")).strip()


def test_filter_period_compare_and_csv(stack: Stack, browser: Any) -> None:
    _seed(stack)
    context = dashboard_context(browser, stack, viewport={"width": 1280, "height": 800},
                                accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    # Console errors (CSP violations included) and failed requests, the browser's own favicon
    # probe aside (the demo site has none).
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))

    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{stack.dashboard_url}/{SITE}?period=7d")
    assert _value(page, "visitors") == "5"
    # The map's outlines are fetched only once it scrolls into view.
    assert not [url for url in requested if "/world-" in url]
    page.locator("#panel-locations").scroll_into_view_if_needed()
    page.wait_for_selector("#panel-locations .map-svg path")
    assert page.locator("#panel-locations .map-svg path").count() > 100  # the map drew

    # Click a row: the whole view filters, a chip appears, the URL carries the filter.
    page.click("#panel-pages a.name:text-is('/pricing')")
    page.wait_for_url("**f=is%2Cpage%2C%2Fpricing*")
    # (Playwright's string predicates are eval, which the dashboard's CSP rightly refuses.)
    expect(page.locator("[data-metric='visitors'] [data-value]")).to_have_text("2")
    assert page.locator(".chip").count() == 1
    assert "/pricing" in str(page.text_content(".chip"))

    # Change the period from the picker.
    page.click(".picker summary")
    page.click(".picker-presets a:text-is('Last 30 days')")
    page.wait_for_url(lambda url: "period=7d" not in url)
    page.wait_for_selector(".picker-label:text-is('Last 30 days')")
    assert "f=is%2Cpage%2C%2Fpricing" in page.url  # the filter survived

    # Toggle the comparison on.
    page.click(".picker summary")
    page.click("[data-compare='previous_period']")
    page.wait_for_url("**compare=previous_period*")
    page.wait_for_selector("[data-metric='visitors'] .stat-change")

    # Download the CSV: the zip honours the filter and the period.
    page.click(".export-menu summary")
    with page.expect_download() as download_info:
        page.click("[data-export]")
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    pages = list(csv.reader(io.StringIO(archive.read("pages.csv").decode())))
    assert pages[1:] == [["/pricing", "2", "2", "100", "0", "0"]]
    assert len(list(csv.reader(io.StringIO(archive.read("timeseries.csv").decode())))) == 31

    # Keyboard: remove the filter from its chip with Enter.
    page.focus(".chip-remove")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "f=" not in url)
    page.wait_for_selector(".chip", state="detached")

    # The UTM menu tab by keyboard: Enter opens it, Escape closes it, Tab + Enter picks one.
    menu = page.locator("#panel-sources .tab-menu")
    page.focus("#panel-sources .tab-menu summary")
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the second item: UTM medium
    page.keyboard.press("Enter")
    page.wait_for_url("**sources=mediums*")
    expect(page.locator("#panel-sources thead th").first).to_have_text("UTM medium")
    expect(page.locator("#panel-sources .tab-menu summary")).to_have_text("UTM: Medium")

    # A report's details: swapped in place, the URL carrying the state (period, comparison).
    page.click("#panel-pages .details-link")
    page.wait_for_url("**/details/pages?*")
    assert "period=30d" not in page.url and "compare=previous_period" in page.url
    expect(page.locator(".details h1")).to_contain_text("Top pages")
    expect(page).to_have_title("Top pages · Dash · 941 Analytics")
    expect(page.locator("#details-table a.name")).to_have_count(3)
    # Search in it: only the table is swapped, and the URL keeps the query.
    page.fill("#details-search", "pric")
    page.wait_for_url("**q=pric*")
    expect(page.locator("#details-table a.name")).to_have_count(1)
    expect(page.locator("#details-table a.name")).to_have_text("/pricing")
    # Back to the dashboard with the same state; the browser's Back returns to the search.
    page.click(".back-link")
    page.wait_for_url(lambda url: "/details/" not in url and "compare=previous_period" in url)
    expect(page.locator("[data-metric='visitors'] [data-value]")).to_have_text("5")
    expect(page).to_have_title("Dash · 941 Analytics")
    page.go_back()
    page.wait_for_url("**/details/pages?*q=pric*")
    expect(page.locator("#details-table a.name")).to_have_text("/pricing")
    # A details row filters the dashboard, in place too.
    page.click("#details-table a.name:text-is('/pricing')")
    page.wait_for_url(lambda url: "/details/" not in url and "f=is%2Cpage%2C%2Fpricing" in url)
    expect(page.locator("[data-metric='visitors'] [data-value]")).to_have_text("2")

    assert len(loads) == 1, f"full page loads: {loads}"
    assert problems == []
    context.close()
