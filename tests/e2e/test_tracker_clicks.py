"""The clicks add-on (script.clicks.js) in Chromium against the real collector: three quick
clicks on one spot are one rage click, a click on a button that changes nothing is a dead click
(a button whose handler changes the page is not), both described by tag, id and classes only;
the Clicks page lists them under their page. The page's title and the browser's language reach
D1 too (page_titles, sessions.language).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from scripts.devstack import BIN, ROOT

from .conftest import Stack, dashboard_context, wait_until
from .page_server import serve_pages

pytestmark = pytest.mark.e2e

SITE = "clicks-e2e.test"
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
PAGE = "/clicks-e2e"
HTML = """<!doctype html><title>  Clicks   e2e — shop </title>
<script defer data-include-localhost data-domain="{site}"
  src="{collector}/script.clicks.js"></script>
<button id="rage" class="cta big">Buy 4111 1111 1111 1111</button>
<button id="live" class="more">More</button>
<div class="card"><button id="dead" class="ghost x y z">Nothing</button></div>
<ul id="list"></ul>
<script>
document.getElementById("rage").addEventListener("click", function () {
  this.dataset.n = (+this.dataset.n || 0) + 1;
});
document.getElementById("live").addEventListener("click", function () {
  document.getElementById("list").append(document.createElement("li"));
});
</script>"""


@pytest.fixture(scope="module")
def site_id(stack: Stack) -> str:
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", SITE, "--name", "Clicks E2E",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ANALYTICS_941_SQLITE_PATH": str(stack.db_path)})
    with sqlite3.connect(stack.db_path) as db:
        row = db.execute("SELECT id FROM sites WHERE domain = ?", (SITE,)).fetchone()
    return str(row[0])


@pytest.fixture(scope="module")
def origin(stack: Stack) -> Iterator[str]:
    html = HTML.replace("{site}", SITE).replace("{collector}", stack.collector_url)
    with serve_pages({PAGE: ("text/html", html)}) as served:
        yield served


def _rows(stack: Stack, sql: str, *params: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(stack.db_path) as db:
        return db.execute(sql, params).fetchall()


def test_rage_and_dead_clicks_reach_the_clicks_page(
        stack: Stack, site_id: str, origin: str, browser: Any) -> None:
    # A desktop user agent: headless Chromium's own is counted as a bot.
    context = browser.new_context(locale="de-DE", user_agent=DESKTOP_UA)
    page = context.new_page()
    reports: list[tuple[str, str]] = []

    def watch(request: Any) -> None:
        body = request.post_data or ""
        if request.url.endswith("/api/event") and " click" in body:
            sent = json.loads(body)
            reports.append((sent["n"], sent["p"]["selector"]))

    page.on("request", watch)
    with page.expect_response(lambda r: r.url.endswith("/api/event")):
        page.goto(f"{origin}{PAGE}")
    page.wait_for_function("() => window.a941")
    with page.expect_request(lambda r: '"Rage click"' in (r.post_data or "")):
        page.click("#rage", click_count=3, delay=50)
    page.click("#live")
    # Timers fire in order: once #dead's report is out, #live's second has passed without one.
    with page.expect_request(lambda r: '"Dead click"' in (r.post_data or ""), timeout=5000):
        page.click("#dead")
    assert reports == [("Rage click", "button#rage.cta.big"),
                       ("Dead click", "button#dead.ghost.x.y")]
    context.close()

    stored = wait_until(
        lambda: _rows(stack, "SELECT name, props FROM events WHERE site_id = ? AND name LIKE "
                      "'% click' ORDER BY ts", site_id),
        lambda rows: len(rows) == 2, message="two click events in D1")
    assert [(name, json.loads(props)) for name, props in stored] == [
        ("Rage click", {"selector": "button#rage.cta.big"}),
        ("Dead click", {"selector": "button#dead.ghost.x.y"})]
    # No text of the element anywhere: the card number on the rage button never left the page.
    assert "4111" not in json.dumps(stored)
    assert wait_until(lambda: _rows(stack, "SELECT path, title FROM page_titles WHERE site = ?",
                                    site_id)) == [(PAGE, "Clicks e2e — shop")]
    assert _rows(stack, "SELECT language FROM sessions WHERE site_id = ?", site_id) == [("de-DE",)]

    viewer = dashboard_context(browser, stack)
    dashboard = viewer.new_page()
    dashboard.goto(f"{stack.dashboard_url}/{SITE}?period=day")
    dashboard.click("nav.site-views >> text=Clicks")
    dashboard.wait_for_selector("h1:has-text('Rage and dead clicks')")
    text = dashboard.text_content("main") or dashboard.text_content("body")
    assert PAGE in text and "button#rage.cta.big" in text and "button#dead.ghost.x.y" in text
    assert "1 rage click, 1 dead click, 1 visitor" in text
    viewer.close()
