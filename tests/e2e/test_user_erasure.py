"""Erasure and access requests for real: the collector in `wrangler dev` hashes the ids (its
`/api/users/:site/hash`, under the site's Durable Object secret), the CLI exports and erases by
the plain id, and the site's settings erase another user in Chromium (find, confirm, erase).
A user erased while still browsing: the collector stops the visit first, so nothing of it comes
back and the browser's next event is a new, anonymous visit.
Screenshots of the section (REPORT_SHOTS), laptop and phone, light and dark."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from analytics_941.settings import DEV_SECRET
from analytics_941.user_hash_client import UserHashClient
from scripts.devstack import BIN, ROOT

from .conftest import DOMAIN, Stack, cli, dashboard_context, wait_until
from .test_a11y import _violations
from .test_email_reports import SHOTS

pytestmark = pytest.mark.e2e

DAY_MS = 86_400_000
LIVE_SITE = "erase-live.test"
# Headless Chromium's own user agent is counted as a bot.
DESKTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/156.0.0.0 Safari/537.36")


def _run(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **stack.env, "ANALYTICS_941_COLLECTOR_URL": stack.collector_url}
    return subprocess.run([str(BIN / "analytics-941"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)


def _seed(db: Path, site_id: str, users: dict[str, str | None]) -> None:
    """One visit of two pageviews two days ago per entry (session id -> user hash or None)."""
    start = (int(time.time() * 1000) // DAY_MS - 2) * DAY_MS + 10 * 3_600_000
    with sqlite3.connect(db) as conn:
        for n, (session, user) in enumerate(users.items()):
            at = start + n * 60_000
            for i, path in enumerate(("/", "/account")):
                conn.execute("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                             "hostname, pathname) VALUES (?, ?, ?, 'pageview', ?, ?, ?, ?)",
                             (f"{session}-{i}", site_id, at + i * 1000, f"v-{session}", session,
                              DOMAIN, path))
            conn.execute("INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                         "hostname, entry_page, exit_page, pageviews, events, is_bounce, user_id) "
                         "VALUES (?, ?, ?, ?, ?, ?, '/', '/account', 2, 2, 0, ?)",
                         (session, site_id, f"v-{session}", at, at + 1000, DOMAIN, user))
    conn.close()


def _count(db: Path, sql: str, *args: object) -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute(sql, args).fetchone()
    conn.close()
    return int(n)


def test_erase_and_export_by_the_plain_id(stack: Stack, browser: object, tmp_path: Path) -> None:
    with sqlite3.connect(stack.db_path) as conn:
        (site_id,) = conn.execute("SELECT id FROM sites WHERE domain = ?", (DOMAIN,)).fetchone()
    conn.close()
    client = UserHashClient(collector_url=stack.collector_url, secret=DEV_SECRET,
                            site_id=site_id)
    # Playwright's loop runs in this thread: the client's own loop runs in another.
    with ThreadPoolExecutor(1) as pool:
        seven, eight = (pool.submit(asyncio.run, client.hash(i)).result()
                        for i in ("customer-7", "customer-8"))
    assert seven != eight and len(seven) == 64
    _seed(stack.db_path, site_id, {"ue-s7": seven, "ue-s8": eight, "ue-anon": None})

    out = tmp_path / "customer-7.json"
    done = _run(stack, "export", "--site", DOMAIN, "--user", "customer-7", "--out", str(out))
    assert done.returncode == 0, done.stderr
    exported = json.loads(out.read_text())
    assert exported["user_id"] == seven
    assert [s["id"] for s in exported["sessions"]] == ["ue-s7"]
    assert [e["id"] for e in exported["events"]] == ["ue-s7-0", "ue-s7-1"]
    assert "customer-7" not in out.read_text()

    refused = _run(stack, "erase", "--site", DOMAIN, "--user", "bad\x1bid", "--yes")
    assert refused.returncode == 1 and "control character" in refused.stderr

    # The settings section erases customer-8 by the id, after a confirmation.
    context = dashboard_context(browser, stack, bypass_csp=True)  # axe is injected
    page = context.new_page()
    url = f"{stack.dashboard_url}/settings/sites/{DOMAIN}"
    page.goto(url)
    section = page.locator("#privacy")
    section.get_by_label("User", exact=True).fill("customer-8")
    section.get_by_role("button", name="Erase…").click()
    page.locator("[data-privacy-confirm]").filter(has_text="1 visit with").wait_for()
    assert _count(stack.db_path, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", eight) == 1
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        assert _violations(page) == [], theme
    page.get_by_role("button", name="Erase for good").click()
    page.get_by_role("status").filter(has_text="Erased 1 visits, 2 events").wait_for()
    assert _count(stack.db_path, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", eight) == 0
    assert _count(stack.db_path, "SELECT COUNT(*) FROM events WHERE session_id = 'ue-s8'") == 0
    context.close()

    done = _run(stack, "erase", "--site", DOMAIN, "--user", "customer-7", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("erased 1 visits, 2 events")
    assert _count(stack.db_path, "SELECT COUNT(*) FROM sessions WHERE id LIKE 'ue-%'") == 1
    with sqlite3.connect(stack.db_path) as conn:
        kinds = [k for (k,) in conn.execute(
            "SELECT kind FROM audit_log WHERE kind LIKE 'user_%' ORDER BY id")]
    conn.close()
    assert kinds == ["user_export", "user_erase", "user_erase"]

    if SHOTS:
        _seed(stack.db_path, site_id, {"ue-shot": eight})
        for theme in ("light", "dark"):
            for name, size in (("laptop", (1280, 800)), ("phone", (390, 844))):
                shot = dashboard_context(browser, stack, color_scheme=theme,
                                         viewport={"width": size[0], "height": size[1]})
                view = shot.new_page()
                view.goto(f"{url}/privacy")
                view.locator("#privacy").screenshot(
                    path=str(SHOTS / f"privacy-form-{name}-{theme}.png"))
                view.get_by_label("User", exact=True).fill("customer-8")
                view.get_by_role("button", name="Erase…").click()
                view.locator("[data-privacy-confirm]").wait_for()
                view.locator("#privacy").screenshot(
                    path=str(SHOTS / f"privacy-{name}-{theme}.png"))
                shot.close()


def test_erasing_a_user_still_browsing_stops_their_visit(stack: Stack) -> None:
    cli("sites", "add", LIVE_SITE, "--name", "Erase live", env=stack.env)
    # Identity on before the collector first looks the site up (it caches sites).
    with sqlite3.connect(stack.db_path) as conn:
        conn.execute("UPDATE sites SET identity_enabled = 1 WHERE domain = ?", (LIVE_SITE,))
        (site_id,) = conn.execute("SELECT id FROM sites WHERE domain = ?", (LIVE_SITE,)).fetchone()
    conn.close()

    def send(path: str, **extra: str) -> None:
        sent = httpx.post(f"{stack.collector_url}/api/event",
                          json={"n": "pageview", "u": f"https://{LIVE_SITE}{path}",
                                "d": LIVE_SITE, **extra},
                          headers={"User-Agent": DESKTOP, "X-Forwarded-For": "198.51.100.77"})
        assert sent.status_code == 202 and "identity_dropped" not in sent.text, sent.text

    send("/", U="customer-9")
    send("/pricing", U="customer-9")
    # At once: the rows may still wait in the collector, the visit is going on either way.
    done = _run(stack, "erase", "--site", LIVE_SITE, "--user", "customer-9", "--yes")
    assert done.returncode == 0, done.stderr
    assert "1 visit(s) still going on stopped first" in done.stdout and not done.stderr
    # No identify() now: had the visit not been stopped, this would continue it, identified.
    send("/after")
    wait_until(lambda: _rows(stack, "SELECT 1 FROM events WHERE site_id = ? AND pathname = "
                             "'/after'", site_id), message="the next pageview in D1")
    assert _rows(stack, "SELECT user_id, entry_page, pageviews FROM sessions WHERE site_id = ?",
                 site_id) == [(None, "/after", 1)]
    assert _rows(stack, "SELECT pathname FROM events WHERE site_id = ?", site_id) == [("/after",)]


def _rows(stack: Stack, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(stack.db_path) as conn:
        rows = conn.execute(sql, args).fetchall()
    conn.close()
    return rows
