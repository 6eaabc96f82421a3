"""Consent mode in Chromium against the real collector: with data-consent="required" no request
reaches /api/event before a941.consent(true) (watched on the network), events flow after it, calls
made before it never arrive, and a941.consent(false) stops sending again.

The page comes from a small server of the test's own (page_server.py), so its tag can carry
data-consent without a demo page; it counts under a site of this module's own.
"""

from __future__ import annotations

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

SITE = "consent-e2e.test"
# Headless Chromium's own user agent is counted as a bot (a 202 that stores nothing).
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
PAGE = "/consent-e2e"


@pytest.fixture(scope="module")
def site_id(stack: Stack) -> str:
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", SITE, "--name", "Consent E2E",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ANALYTICS_941_SQLITE_PATH": str(stack.db_path)})
    with sqlite3.connect(stack.db_path) as db:
        row = db.execute("SELECT id FROM sites WHERE domain = ?", (SITE,)).fetchone()
    return str(row[0])


def _html(stack: Stack) -> str:
    # The stub queues a call before the tracker loads: it must be dropped, not replayed.
    return f"""<!doctype html><title>Consent</title>
<script>window.a941 = window.a941 || {{ q: [], event: function () {{ this.q.push(arguments) }} }};
a941.event("Queued before load");</script>
<script defer data-include-localhost data-consent="required" data-domain="{SITE}"
  src="{stack.collector_url}/script.js"></script>
<p>Consent test page</p>"""


@pytest.fixture(scope="module")
def origin(stack: Stack) -> Iterator[str]:
    with serve_pages({PAGE: ("text/html", _html(stack))}) as served:
        yield served


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(user_agent=DESKTOP_UA)
    yield context.new_page()
    context.close()


def _names(stack: Stack, site_id: str) -> list[tuple[str, str]]:
    with sqlite3.connect(stack.db_path) as db:
        rows = db.execute("SELECT name, pathname FROM events WHERE site_id = ? ORDER BY ts, id",
                          (site_id,))
        return [(str(name), str(path)) for name, path in rows]


def _settle(page: Any, stack: Stack) -> None:
    """Wait until every request the page made so far has been seen: a fetch of /health from
    the page goes out after them, so its request event arrives after theirs."""
    with page.expect_request(lambda r: r.url.endswith("/health")):
        page.evaluate("url => fetch(url).catch(() => {})", f"{stack.collector_url}/health")


def _hide_and_show(page: Any) -> None:
    page.evaluate("""() => {
      for (const hidden of [true, false]) {
        const state = hidden ? "hidden" : "visible";
        Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
        Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
      }
    }""")


def test_nothing_is_sent_before_consent_and_events_flow_after(stack: Stack, page: Any,
                                                              site_id: str, origin: str) -> None:
    events: list[str] = []
    page.on("request", lambda r: events.append(r.post_data or "")
            if r.url.startswith(stack.collector_url) and r.url.endswith("/api/event") else None)

    page.goto(f"{origin}{PAGE}")
    page.wait_for_function("() => window.a941 && typeof window.a941.consent === 'function'")
    page.evaluate("() => a941.event('Before consent', {props: {n: 1}})")
    page.evaluate(f"() => history.pushState({{}}, '', '{PAGE}/next')")
    page.mouse.wheel(0, 500)
    _hide_and_show(page)
    _settle(page, stack)
    assert events == []

    with page.expect_request(lambda r: r.url.endswith("/api/event")) as first:
        page.evaluate("() => a941.consent(true)")
    assert '"n":"pageview"' in (first.value.post_data or "")
    with page.expect_response(lambda r: r.url.endswith("/api/event")) as accepted:
        page.evaluate("() => a941.event('After consent')")
    assert accepted.value.status == 202
    wait_until(lambda: _names(stack, site_id),
               lambda names: ("After consent", f"{PAGE}/next") in names,
               message="the event sent after consent in D1")
    names = _names(stack, site_id)
    assert ("pageview", f"{PAGE}/next") in names
    assert {name for name, _ in names} == {"pageview", "After consent"}

    # Withdrawn: nothing more leaves the page, whatever happens on it.
    sent_before = len(events)
    page.evaluate("() => a941.consent(false)")
    page.evaluate("() => a941.event('After withdrawal')")
    page.evaluate(f"() => history.pushState({{}}, '', '{PAGE}/later')")
    _hide_and_show(page)
    _settle(page, stack)
    assert events[sent_before:] == []
