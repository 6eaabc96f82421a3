"""The tracker in Chromium against the real collector: every kind of event lands in D1.

One visitor uses the demo site's feature pages (examples/demo_site.py): an SPA navigation, a
tab hide, a tagged button, a custom event with props and revenue through the JavaScript API, a
file download, an outbound link, a form, a hash-routed app and a 404 page. The rows are read
straight from the local D1 file. The pages count under a site of this module's own, so the
dashboard totals other end-to-end tests assert on are untouched.
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

pytestmark = pytest.mark.e2e

SITE = "tracker-e2e.test"
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")


@pytest.fixture(scope="module")
def site_id(stack: Stack) -> str:
    # The demo site runs on 127.0.0.1, so that is the hostname this site must accept.
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", SITE, "--name", "Tracker E2E",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ANALYTICS_941_SQLITE_PATH": str(stack.db_path)})
    with sqlite3.connect(stack.db_path) as db:
        row = db.execute("SELECT id FROM sites WHERE domain = ?", (SITE,)).fetchone()
    return str(row[0])


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(user_agent=DESKTOP_UA, accept_downloads=True,
                                  viewport={"width": 1280, "height": 800})
    # The outbound link leaves for another site: answer it locally (no network here).
    context.route("https://partner.example/**",
                  lambda route: route.fulfill(body="partner", content_type="text/html"))
    yield context.new_page()
    context.close()


def _events(stack: Stack, site_id: str) -> list[dict[str, Any]]:
    with sqlite3.connect(stack.db_path) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM events WHERE site_id = ? ORDER BY ts, id", (site_id,))
        return [dict(row) for row in rows]


def _find(events: list[dict[str, Any]], name: str, pathname: str) -> dict[str, Any] | None:
    return next((e for e in events if e["name"] == name and e["pathname"] == pathname), None)


def _wait_for(stack: Stack, site_id: str, name: str, pathname: str,
              check: Any = lambda event: True) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        event = _find(_events(stack, site_id), name, pathname)
        return event if event is not None and check(event) else None

    result: dict[str, Any] = wait_until(found, message=f"{name} on {pathname} in D1")
    return result


def _hide_tab(page: Any) -> None:
    # Headless Chromium has no second window to switch to: report the page hidden the way the
    # browser does when the visitor switches tabs.
    page.evaluate("""() => {
      Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
      Object.defineProperty(document, "hidden", {value: true, configurable: true});
      document.dispatchEvent(new Event("visibilitychange"));
    }""")


def _event_response(page: Any) -> Any:
    return page.expect_response(
        lambda r: r.url.endswith("/api/event") and r.request.method == "POST")


def test_spa_engagement_custom_events_download_and_outbound(stack: Stack, page: Any,
                                                            site_id: str) -> None:
    with _event_response(page) as first:
        page.goto(f"{stack.site_url}/features?site={SITE}")
    assert first.value.status == 202
    page.mouse.wheel(0, 5000)  # to the bottom: scroll depth 100 %
    page.wait_for_function("() => window.scrollY > 0")

    # SPA navigation: the first page's engagement report, then the new page's pageview.
    before_navigation = page.evaluate("Date.now()")
    page.click("a[href='/features/pricing']")
    assert page.text_content("#view") == "Section: /features/pricing"
    # The router's pushState has run by now, so the tracker's clock for the new page started
    # before this instant (all times from the page's own clock, like the tracker's).
    navigated = page.evaluate("Date.now()")
    landing = _wait_for(stack, site_id, "pageview", "/features",
                        lambda e: e["engaged_ms"] is not None)
    assert landing["engaged_ms"] > 0
    assert landing["scroll_depth"] == 100
    _wait_for(stack, site_id, "pageview", "/features/pricing")

    # A tab hide reports the second page's engagement: the time it was shown, measured. Waiting
    # for its pageview in D1 above kept it visible for a flush delay (~1 s), so the engaged time
    # lies between the visible span we saw from outside and the whole span around it.
    before_hide = page.evaluate("Date.now()")
    _hide_tab(page)
    after_hide = page.evaluate("Date.now()")
    pricing = _wait_for(stack, site_id, "pageview", "/features/pricing",
                        lambda e: e["engaged_ms"] is not None)
    assert pricing["engaged_ms"] > 0 and pricing["scroll_depth"] > 0
    assert before_hide - navigated <= pricing["engaged_ms"] <= after_hide - before_navigation

    page.click("#signup")  # data-a941-* attributes, no JavaScript
    page.click("#buy")  # a941.event("Purchase", {props, revenue})
    with page.expect_download():
        page.click("#download")
    with page.expect_navigation():
        page.click("#outbound")

    signup = _wait_for(stack, site_id, "Signup", "/features/pricing")
    assert json.loads(signup["props"]) == {"plan": "pro"}
    assert signup["revenue"] == pytest.approx(19.9)
    purchase = _wait_for(stack, site_id, "Purchase", "/features/pricing")
    assert json.loads(purchase["props"]) == {"plan": "team", "seats": "5"}
    assert purchase["revenue"] == pytest.approx(49.9)
    download = _wait_for(stack, site_id, "File Download", "/features/pricing")
    assert json.loads(download["props"]) == {"url": f"{stack.site_url}/files/price-list.pdf"}
    outbound = _wait_for(stack, site_id, "Outbound Link: Click", "/features/pricing")
    assert json.loads(outbound["props"]) == {"url": "https://partner.example/offer"}

    # One visit, attributed once, with the browser parsed from the user agent.
    events = [e for e in _events(stack, site_id) if e["pathname"].startswith("/features")]
    assert len({e["session_id"] for e in events}) == 1
    assert {(e["browser"], e["device"], e["channel"]) for e in events} == {
        ("Chrome", "desktop", "Direct")}
    with sqlite3.connect(stack.db_path) as db:
        pageviews, is_bounce = db.execute(
            "SELECT pageviews, is_bounce FROM sessions WHERE id = ?", (events[0]["session_id"],)
        ).fetchone()
    assert (pageviews, is_bounce) == (2, 0)


def test_hash_routes_forms_and_404(stack: Stack, page: Any, site_id: str) -> None:
    with _event_response(page):
        page.goto(f"{stack.site_url}/hash-app?site={SITE}")
    with _event_response(page):
        page.click("a[href='#/inbox']")
    inbox = _wait_for(stack, site_id, "pageview", "/hash-app#/inbox")
    assert inbox["hostname"] == "127.0.0.1"
    _wait_for(stack, site_id, "pageview", "/hash-app")

    with _event_response(page):
        page.goto(f"{stack.site_url}/features?site={SITE}&form=1")
    with page.expect_navigation():
        page.click("#subscribe")
    form = _wait_for(stack, site_id, "Form: Submission", "/features")
    assert json.loads(form["props"]) == {"path": "/features", "form": "newsletter"}

    response = page.goto(f"{stack.site_url}/missing?site={SITE}")
    assert response is not None and response.status == 404
    missing = _wait_for(stack, site_id, "404", "/missing")
    assert json.loads(missing["props"]) == {"path": "/missing"}
