"""Plausible's official npm tracker (`@plausible-analytics/tracker`, MIT), bundled with esbuild
from node_modules and run in Chromium against the collector: pointed at our `/api/event` with its
own `endpoint` option, its pageviews, SPA navigation, props, revenue, outbound link clicks and
scroll depth are all counted as it meant them.
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

from .conftest import Stack, wait_until
from .page_server import serve_pages

pytestmark = pytest.mark.e2e

SITE = "npm-tracker-e2e.test"
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
PAGE = """<!doctype html><html><head><title>npm tracker</title>
<script src="/plausible.js"></script>
<script>
  PlausibleTracker.init({domain: "%(site)s", endpoint: "%(collector)s/api/event",
                         captureOnLocalhost: true, outboundLinks: true, logging: false});
  function go(path) { history.pushState({}, "", path); }
  function buy() {
    PlausibleTracker.track("Purchase", {props: {plan: "pro"},
                                        revenue: {amount: 29.9, currency: "EUR"}});
  }
</script></head>
<body style="margin:0">
  <button id="next" onclick="go('/npm/next')">next</button>
  <button id="buy" onclick="buy()">buy</button>
  <a id="out" href="https://partner.example/offer">partner</a>
  <div style="height:5000px"></div><p>end</p>
</body></html>"""


def _bundle() -> str:
    entry = ROOT / "node_modules" / "@plausible-analytics" / "tracker" / "plausible.js"
    done = subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "esbuild"), str(entry), "--bundle",
         "--format=iife", "--global-name=PlausibleTracker", "--log-level=warning"],
        cwd=ROOT, check=True, capture_output=True, text=True,
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    return done.stdout


@pytest.fixture(scope="module")
def site_id(stack: Stack) -> str:
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", SITE, "--name", "npm tracker",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ANALYTICS_941_SQLITE_PATH": str(stack.db_path)})
    with sqlite3.connect(stack.db_path) as db:
        row = db.execute("SELECT id FROM sites WHERE domain = ?", (SITE,)).fetchone()
    return str(row[0])


@pytest.fixture()
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    pages = {"/npm/": ("text/html", PAGE % {"site": SITE, "collector": stack.collector_url}),
             "/plausible.js": ("text/javascript", _bundle())}
    with serve_pages(pages) as origin:
        context = browser.new_context(user_agent=DESKTOP_UA, base_url=origin,
                                      viewport={"width": 1280, "height": 800})
        context.route("https://partner.example/**",
                      lambda route: route.fulfill(body="partner", content_type="text/html"))
        yield context.new_page()
        context.close()


def _event(stack: Stack, site_id: str, name: str, pathname: str,
           check: Any = lambda row: True) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        with sqlite3.connect(stack.db_path) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM events WHERE site_id = ? AND name = ? AND "
                              "pathname = ?", (site_id, name, pathname)).fetchall()
        return next((dict(r) for r in rows if check(dict(r))), None)

    result: dict[str, Any] = wait_until(found, message=f"{name} on {pathname} in D1")
    return result


def test_the_official_tracker_is_counted(stack: Stack, page: Any, site_id: str) -> None:
    with page.expect_response(lambda r: r.url.endswith("/api/event")) as first:
        page.goto("/npm/")
    assert first.value.status == 202
    page.mouse.wheel(0, 5000)
    page.wait_for_function("() => window.scrollY > 0")
    page.click("#next")  # SPA: the first page's engagement (its scroll depth), then a pageview

    landing = _event(stack, site_id, "pageview", "/npm/", lambda e: e["scroll_depth"])
    assert landing["scroll_depth"] > 50
    _event(stack, site_id, "pageview", "/npm/next")

    page.click("#buy")
    purchase = _event(stack, site_id, "Purchase", "/npm/next")
    assert json.loads(purchase["props"]) == {"plan": "pro"}
    assert purchase["revenue"] == pytest.approx(29.9)

    with page.expect_navigation():
        page.click("#out")
    outbound = _event(stack, site_id, "Outbound Link: Click", "/npm/next")
    assert json.loads(outbound["props"]) == {"url": "https://partner.example/offer"}

    # One visitor, one visit of two pageviews.
    with sqlite3.connect(stack.db_path) as db:
        visits = db.execute("SELECT pageviews FROM sessions WHERE site_id = ?",
                            (site_id,)).fetchall()
    assert visits == [(2,)]
