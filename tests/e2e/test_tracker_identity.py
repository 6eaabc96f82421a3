"""The identify and returning add-ons (script.identify.returning.js) in Chromium against the real
collector: a941.identify() mid-page sets sessions.user_id in D1 to a keyed hash (never the id)
and keeps only the declared traits; the returning flag lands in sessions.is_returning, new on the
first day and returning once localStorage holds an earlier day; with data-consent="required"
nothing is sent and localStorage stays empty until consent (watched on the network).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from scripts.devstack import BIN, ROOT

from .conftest import Stack, wait_until
from .page_server import serve_pages

pytestmark = pytest.mark.e2e

SITE = "identity-e2e.test"
# Headless Chromium's own user agent is counted as a bot; two desktop ones are two visitors.
UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/156.0.0.0 Safari/537.36")
OTHER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/155.0.0.0 Safari/537.36")
THIRD_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/154.0.0.0 Safari/537.36")
PAGE = "/identity-e2e"
CONSENT_PAGE = "/identity-e2e-consent"
USER = "shopper-4711@mail.test"
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def site_id(stack: Stack) -> str:
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", SITE, "--name", "Identity E2E",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ANALYTICS_941_SQLITE_PATH": str(stack.db_path)})
    # Both switches on, one declared trait: before the collector first looks the site up.
    with sqlite3.connect(stack.db_path) as db:
        db.execute("UPDATE sites SET identity_enabled = 1, identity_traits = '[\"plan\"]', "
                   "returning_enabled = 1 WHERE domain = ?", (SITE,))
        row = db.execute("SELECT id FROM sites WHERE domain = ?", (SITE,)).fetchone()
    return str(row[0])


def _html(stack: Stack, *, consent: bool) -> str:
    attr = ' data-consent="required"' if consent else ""
    return f"""<!doctype html><title>Identity</title>
<script defer data-include-localhost{attr} data-domain="{SITE}"
  src="{stack.collector_url}/script.identify.returning.js"></script>
<button id="login">Log in</button>
<script>
document.getElementById("login").addEventListener("click", function () {{
  a941.identify({json.dumps(USER)}, {{ plan: "pro", password: "hunter2" }});
}});
</script>"""


@pytest.fixture(scope="module")
def origin(stack: Stack) -> Iterator[str]:
    pages = {PAGE: ("text/html", _html(stack, consent=False)),
             CONSENT_PAGE: ("text/html", _html(stack, consent=True))}
    with serve_pages(pages) as served:
        yield served


def _rows(stack: Stack, sql: str, *params: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(stack.db_path) as db:
        return db.execute(sql, params).fetchall()


def _bodies(page: Any, stack: Stack) -> list[dict[str, Any]]:
    """Every event body the page sends, as it sends it."""
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data or "{}"))
            if r.url == f"{stack.collector_url}/api/event" else None)
    return sent


def test_identify_and_returning_reach_the_session(stack: Stack, site_id: str, origin: str,
                                                  browser: Any) -> None:
    context = browser.new_context(user_agent=UA)
    page = context.new_page()
    sent = _bodies(page, stack)
    with page.expect_response(lambda r: r.url.endswith("/api/event")):
        page.goto(f"{origin}{PAGE}")
    assert sent[0]["n"] == "pageview" and sent[0]["R"] is False and "U" not in sent[0]
    stored = page.evaluate("() => Object.fromEntries(Object.entries(localStorage))")
    assert set(stored) == {"a941_seen", "a941_day"} and stored["a941_seen"] == "0"

    # Logging in mid-page: identify() reports at once, as an engagement event.
    with page.expect_response(lambda r: r.url.endswith("/api/event")) as answered:
        page.click("#login")
    assert answered.value.status == 202
    assert sent[-1]["n"] == "engagement" and sent[-1]["U"] == USER
    context.close()

    sessions = wait_until(
        lambda: _rows(stack, "SELECT user_id, is_returning FROM sessions WHERE site_id = ?",
                      site_id),
        lambda rows: len(rows) == 1 and rows[0][0] is not None,
        message="the identified session in D1")
    user_id, is_returning = sessions[0]
    assert re.fullmatch(r"[0-9a-f]{64}", user_id) and is_returning == 0
    assert wait_until(lambda: _rows(stack, "SELECT user_id, key, value FROM user_traits "
                                    "WHERE site = ?", site_id)) == [(user_id, "plan", "pro")]
    everything = json.dumps([
        _rows(stack, "SELECT * FROM sessions WHERE site_id = ?", site_id),
        _rows(stack, "SELECT * FROM events WHERE site_id = ?", site_id),
        _rows(stack, "SELECT * FROM user_traits WHERE site = ?", site_id)])
    assert USER not in everything and "hunter2" not in everything

    # Another browser that last came yesterday: a returning visit.
    context = browser.new_context(user_agent=OTHER_UA)
    context.add_init_script(
        f"localStorage.a941_seen = '0'; localStorage.a941_day = String(Math.floor(Date.now() / "
        f"{DAY_MS}) - 1);")
    page = context.new_page()
    sent = _bodies(page, stack)
    with page.expect_response(lambda r: r.url.endswith("/api/event")):
        page.goto(f"{origin}{PAGE}")
    assert sent[0]["R"] is True
    assert page.evaluate("() => localStorage.a941_seen") == "1"
    context.close()
    flags = wait_until(
        lambda: _rows(stack, "SELECT is_returning FROM sessions WHERE site_id = ? "
                      "ORDER BY started_at", site_id),
        lambda rows: len(rows) == 2, message="the returning visit in D1")
    assert flags == [(0,), (1,)]


def test_consent_required_sends_nothing_and_stores_nothing_before_consent(
        stack: Stack, site_id: str, origin: str, browser: Any) -> None:
    context = browser.new_context(user_agent=THIRD_UA)
    page = context.new_page()
    sent = _bodies(page, stack)
    page.goto(f"{origin}{CONSENT_PAGE}")
    page.wait_for_function("() => window.a941 && typeof window.a941.identify === 'function'")
    page.click("#login")
    page.evaluate("() => a941.event('Before consent')")
    # A request made now goes out after anything the page sent before: its event comes later.
    with page.expect_request(lambda r: r.url.endswith("/health")):
        page.evaluate("url => fetch(url).catch(() => {})", f"{stack.collector_url}/health")
    assert sent == []
    assert page.evaluate("() => Object.keys(localStorage)") == []

    with page.expect_request(lambda r: r.url.endswith("/api/event")):
        page.evaluate("() => a941.consent(true)")
    assert [(s["n"], s.get("U"), s["R"]) for s in sent] == [("pageview", USER, False)]
    assert sorted(page.evaluate("() => Object.keys(localStorage)")) == ["a941_day", "a941_seen"]
    # Revoking consent forgets the flag and the day.
    page.evaluate("() => a941.consent(false)")
    assert page.evaluate("() => Object.keys(localStorage)") == []
    context.close()
