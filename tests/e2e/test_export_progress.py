"""The raw exports' progress in the dashboard (static/src/export-progress.js): a click on an
export link loads the module, which streams the CSV, counts its rows against the total the
server sends first (X-Export-Rows), and saves it: to the file the viewer picks where the browser
can stream to disk, else through a Blob download. Cancel aborts it; a refusal shows the server's
reason. Real stack, real Chromium.

Set EXPORT_SHOTS=DIR to also write laptop and phone screenshots, light and dark, mid-export (a
throttled connection, Chromium's own network emulation) and done.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import Stack, cli, dashboard_context

pytestmark = pytest.mark.e2e

SITE = "export.example"
DAY_MS = 86_400_000
PAGEVIEWS = 3_000  # over 7 days: ~600 KB of CSV, seconds to arrive on a throttled connection
EVENTS = 400
SHOTS = Path(os.environ["EXPORT_SHOTS"]) if os.environ.get("EXPORT_SHOTS") else None
# No picker: the Blob path (headless Chromium's picker would wait for a person).
NO_PICKER = "delete window.showSaveFilePicker;"
# The picker's choice made by the test: a file in the origin's private file system, a real
# FileSystemFileHandle whose createWritable() streams to disk as a picked file's does.
OPFS_PICKER = """
window.showSaveFilePicker = async (options) => {
  window.__picked = options.suggestedName;
  const root = await navigator.storage.getDirectory();
  return root.getFileHandle(options.suggestedName, { create: true });
};
"""


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    now = int(time.time() * 1000)
    with sqlite3.connect(stack.db_path, timeout=10) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sites (id, domain, name, domains, timezone, created_at) "
            "VALUES ('exp', ?, 'Export site', ?, 'UTC', ?)",
            (SITE, json.dumps([SITE]), now - 60 * DAY_MS))
        rows = []
        for n in range(PAGEVIEWS + EVENTS):
            ts = now - DAY_MS - (n * 7 * DAY_MS) // (PAGEVIEWS + EVENTS) // 2
            name = "pageview" if n < PAGEVIEWS else "Signup"
            # A quoted cell with a line break: rows are counted, not lines.
            props = '{"note": "two\\nlines"}' if n % 50 == 0 else "{}"
            rows.append((f"x{n}", "exp", ts, name, f"v{n % 300}", f"s{n % 400}", SITE,
                         f"/page/{n % 40}", "US" if n % 3 else "DE", props))
        conn.executemany(
            "INSERT OR IGNORE INTO events (id, site_id, ts, name, visitor_id, session_id, "
            "hostname, pathname, country, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return stack


def api_total(stack: Stack, metric: str) -> int:
    token = cli("tokens", "create", "--site", SITE, "--name", "export-e2e", env=stack.env)
    response = httpx.post(f"{stack.dashboard_url}/api/v2/query", json={
        "site_id": SITE, "date_range": "7d", "metrics": [metric]},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"][0]["metrics"][0])


def data_rows(text: str) -> int:
    return len(list(csv.reader(io.StringIO(text)))) - 1


@pytest.fixture
def page(seeded: Stack, browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    options = getattr(request, "param", {})
    context = dashboard_context(browser, seeded, accept_downloads=True,
                                viewport={"width": 1280, "height": 800})
    context.add_init_script(options.get("init", NO_PICKER))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors


def open_export(page: Any, stack: Stack, kind: str) -> None:
    page.goto(f"{stack.dashboard_url}/{SITE}?period=7d")
    page.get_by_text("Export CSV").click()
    page.locator(f"a[data-progress][href*='/export/{kind}.csv']").click()


def throttle(page: Any, bytes_per_second: int) -> None:
    """Chromium's own network emulation: the response body arrives at this rate."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": bytes_per_second,
        "uploadThroughput": -1})


def test_the_export_goes_to_done_and_saves_the_api_total(page: Any, seeded: Stack) -> None:
    total = api_total(seeded, "pageviews")
    assert total == PAGEVIEWS
    with page.expect_download() as download_info:
        open_export(page, seeded, "pageviews")
    region = page.get_by_role("region", name="Export of pageviews.csv")
    expect(region).to_have_attribute("data-state", "done")
    bar = region.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", str(total))
    expect(bar).to_have_attribute("aria-valuemax", str(total))
    expect(region.get_by_role("status")).to_contain_text(f"{total:,} rows saved")
    download = download_info.value
    assert download.suggested_filename.startswith(f"{SITE}-pageviews-")
    assert data_rows(Path(download.path()).read_text()) == total
    # Done: the Close button has focus and closes the region.
    expect(region.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Enter")
    expect(region).to_have_count(0)


@pytest.mark.parametrize("page", [{"init": OPFS_PICKER}], indirect=True)
def test_a_picked_file_is_written_as_a_stream(page: Any, seeded: Stack) -> None:
    total = api_total(seeded, "events")
    open_export(page, seeded, "events")
    region = page.get_by_role("region", name="Export of events.csv")
    expect(region).to_have_attribute("data-state", "done")
    name = page.evaluate("window.__picked")
    assert name == f"{SITE}-events.csv"
    text = page.evaluate("""async (name) => {
        const root = await navigator.storage.getDirectory();
        return (await (await root.getFileHandle(name)).getFile()).text();
    }""", name)
    assert data_rows(text) == total == PAGEVIEWS + EVENTS
    expect(region.get_by_role("progressbar")).to_have_attribute("aria-valuenow", str(total))


def test_cancel_stops_the_export(page: Any, seeded: Stack) -> None:
    downloads: list[Any] = []
    page.on("download", lambda d: downloads.append(d))
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    throttle(page, 40_000)
    page.get_by_text("Export CSV").click()
    page.locator("a[data-progress][href*='/export/events.csv']").click()
    region = page.get_by_role("region", name="Export of events.csv")
    bar = region.get_by_role("progressbar")
    # Rows are arriving (slowly): cancel half-way, from the keyboard.
    expect(bar).to_have_attribute("aria-valuemax", str(PAGEVIEWS + EVENTS))
    page.wait_for_function(
        "() => Number(document.querySelector('.export-bar')?.getAttribute('aria-valuenow')) > 0")
    cancel = region.get_by_role("button", name="Cancel")
    expect(cancel).to_be_focused()
    page.keyboard.press("Enter")
    expect(region).to_have_attribute("data-state", "cancelled")
    expect(region.get_by_role("status")).to_contain_text("nothing was saved")
    assert int(bar.get_attribute("aria-valuenow")) < PAGEVIEWS + EVENTS
    assert downloads == []


def test_a_refusal_shows_the_servers_reason(page: Any, seeded: Stack) -> None:
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    link = page.locator("a[data-progress]").nth(1)  # Events
    # An export the server does not know: its 404 page's message is the reason shown.
    link.evaluate("a => { a.href = a.href.replace('/events.csv', '/visitors.csv'); }")
    page.get_by_text("Export CSV").click()
    link.click()
    region = page.get_by_role("region", name="Export of events.csv")
    expect(region).to_have_attribute("data-state", "failed")
    expect(region.get_by_role("alert")).to_have_text("The export failed: No export 'visitors'.")


def test_an_expired_login_is_an_error_not_a_saved_page(page: Any, seeded: Stack) -> None:
    downloads: list[Any] = []
    page.on("download", lambda d: downloads.append(d))
    page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
    page.context.clear_cookies()  # the session ends while the page is open
    page.get_by_text("Export CSV").click()
    page.locator("a[data-progress]").nth(0).click()
    region = page.get_by_role("region", name="Export of pageviews.csv")
    expect(region).to_have_attribute("data-state", "failed")
    expect(region.get_by_role("alert")).to_contain_text("the server sent a page, not the CSV file")
    assert downloads == []


@pytest.mark.skipif(SHOTS is None, reason="EXPORT_SHOTS is not set")
def test_screenshots(seeded: Stack, browser: Any) -> None:
    assert SHOTS is not None
    SHOTS.mkdir(parents=True, exist_ok=True)
    for device, viewport in (("laptop", {"width": 1280, "height": 800}),
                             ("phone", {"width": 390, "height": 844})):
        for scheme in ("light", "dark"):
            context = dashboard_context(browser, seeded, viewport=viewport, color_scheme=scheme,
                                        accept_downloads=True)
            context.add_init_script(NO_PICKER)
            page = context.new_page()
            page.goto(f"{seeded.dashboard_url}/{SITE}?period=7d")
            throttle(page, 60_000)
            page.get_by_text("Export CSV").click()
            page.locator("a[data-progress][href*='/export/events.csv']").click()
            page.wait_for_function("() => Number(document.querySelector('.export-bar')"
                                   "?.getAttribute('aria-valuenow')) > 1000")
            page.screenshot(path=str(SHOTS / f"export-{device}-{scheme}-running.png"))
            page.get_by_role("button", name="Cancel").click()
            page.locator("[data-state=cancelled]").wait_for()
            page.screenshot(path=str(SHOTS / f"export-{device}-{scheme}-cancelled.png"))
            throttle(page, -1)
            page.locator("a[data-progress][href*='/export/pageviews.csv']").evaluate(
                "a => a.click()")
            page.locator("[data-state=done]").wait_for()
            page.screenshot(path=str(SHOTS / f"export-{device}-{scheme}-done.png"))
            # The realtime page's rules moved to realtime.css (out of the first load).
            page.goto(f"{seeded.dashboard_url}/{SITE}/realtime")
            page.screenshot(path=str(SHOTS / f"realtime-{device}-{scheme}.png"))
            context.close()
