"""The errors add-on (script.errors.js) in Chromium against the real collector: a thrown error is
reported once per page view, with its fingerprint and a stack that keeps the site's paths without
their query strings; an unhandled rejection is reported too; the visitor-controlled message is
stored as text (a long number in it scrubbed at the edge) and shown escaped in the dashboard.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from scripts.devstack import BIN, ROOT

from .conftest import Stack, cli, dashboard_context, wait_until
from .page_server import serve_pages

pytestmark = pytest.mark.e2e

SITE = "errors-e2e.test"
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
PAGE = "/errors-e2e"
MESSAGE = "<img src=x onerror=window.__xss=1> cart failed for order 123456789"
STORED_MESSAGE = "<img src=x onerror=window.__xss=1> cart failed for order [number]"
# The site's script, loaded with a query string that must not reach the stored stack.
APP_JS = f"""function checkout() {{ throw new TypeError({json.dumps(MESSAGE)}); }}
document.getElementById("buy").addEventListener("click", function onBuy() {{ checkout(); }});
document.getElementById("load").addEventListener("click", function onLoad() {{
  Promise.reject(new Error("quota exceeded"));
}});"""


@pytest.fixture(scope="module")
def site_id(stack: Stack) -> str:
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", SITE, "--name", "Errors E2E",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ANALYTICS_941_SQLITE_PATH": str(stack.db_path)})
    with sqlite3.connect(stack.db_path) as db:
        row = db.execute("SELECT id FROM sites WHERE domain = ?", (SITE,)).fetchone()
    return str(row[0])


@pytest.fixture(scope="module")
def origin(stack: Stack) -> Iterator[str]:
    html = f"""<!doctype html><title>Errors</title>
<script defer data-include-localhost data-domain="{SITE}"
  src="{stack.collector_url}/script.errors.js"></script>
<button id="buy">Buy</button> <button id="load">Load</button>
<script defer src="/app.js?v=7&amp;token=s3cr3t"></script>"""
    with serve_pages({PAGE: ("text/html", html),
                      "/app.js": ("application/javascript", APP_JS)}) as served:
        yield served


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(user_agent=DESKTOP_UA)
    yield context.new_page()
    context.close()


def _error_rows(stack: Stack, site_id: str) -> list[dict[str, str]]:
    with sqlite3.connect(stack.db_path) as db:
        rows = db.execute("SELECT props FROM events WHERE site_id = ? AND name = 'JS error' "
                          "ORDER BY ts, id", (site_id,)).fetchall()
    return [json.loads(props) for (props,) in rows]


def test_a_thrown_error_arrives_once_with_fingerprint_and_stripped_stack(
        stack: Stack, page: Any, site_id: str, origin: str, browser: Any) -> None:
    reports: list[dict[str, Any]] = []

    def watch(request: Any) -> None:
        if request.url.endswith("/api/event") and '"JS error"' in (request.post_data or ""):
            reports.append(json.loads(request.post_data)["p"])

    page.on("request", watch)
    with page.expect_response(lambda r: r.url.endswith("/api/event")):
        page.goto(f"{origin}{PAGE}")
    page.wait_for_function("() => window.a941 && window.a941.error")
    page.click("#buy")
    page.click("#buy")  # the same error again on the same page view: not sent
    with page.expect_request(lambda r: "quota exceeded" in (r.post_data or "")):
        page.click("#load")
    # Requests leave the page in the order the tracker makes them: the repeat would be before.
    assert [r["message"] for r in reports] == [MESSAGE, "quota exceeded"]

    thrown, rejected = wait_until(lambda: _error_rows(stack, site_id),
                                  lambda rows: len(rows) == 2, message="two JS errors in D1")
    assert thrown["message"] == STORED_MESSAGE
    assert thrown["type"] == "TypeError"
    assert thrown["fingerprint"] == reports[0]["fingerprint"] != rejected["fingerprint"]
    assert (thrown["file"], thrown["line"]) == ("/app.js", "1")
    frames = thrown["stack"].split("\n")
    assert frames[0].startswith("at checkout (/app.js:1:")
    assert frames[1].startswith("at HTMLButtonElement.onBuy (/app.js:2:")
    # The site's own script URL without its origin or query string.
    assert "token" not in thrown["stack"] and "127.0.0.1" not in thrown["stack"]
    assert (rejected["type"], rejected["file"]) == ("Error", "/app.js")

    # The message is shown as text where the dashboard shows it (a filter on it).
    token = cli("tokens", "create", "--site", SITE, "--name", "errors-e2e", env=stack.env)
    stats = httpx.get(f"{stack.dashboard_url}/api/stats", params={
        "site": SITE, "period": "day", "metrics": "events", "dimensions": "event:props:message"},
        headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert STORED_MESSAGE in {row["dimensions"][0] for row in stats["results"]}
    viewer = dashboard_context(browser, stack)
    dashboard = viewer.new_page()
    dashboard.goto(f"{stack.dashboard_url}/{SITE}?period=day"
                   f"&f={quote('is,event:props:message,' + STORED_MESSAGE)}")
    assert STORED_MESSAGE in dashboard.text_content("body")
    assert dashboard.locator("img[src='x']").count() == 0
    assert dashboard.evaluate("() => window.__xss") is None
    viewer.close()
