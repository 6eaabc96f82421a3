"""`plausible-events` (PyPI, BSD-3-Clause), a real Events API client nobody here wrote, against the
collector in `wrangler dev`: pointed at our `/api/event` with its own `api` argument, it sends
what it sends to plausible.io (app:// URLs, the visitor's address in X-Forwarded-For, utm tags,
props), and every event is counted, one visitor per forwarded address.

The client looks its machine's public address up at api.ipify.org first; that one call is
replaced by a fixed address, as the tests run offline. Its worker thread loops forever and is
not a daemon, so it is marked one, or pytest could not exit.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from plausible_events import PlausibleEvents

from scripts.devstack import BIN, ROOT

from .conftest import Stack, wait_until

pytestmark = pytest.mark.e2e

SITE = "events-client-e2e.test"
VISITOR_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
HOME_IP = "198.51.100.20"
OTHER_IP = "198.51.100.21"


@pytest.fixture(scope="module")
def site_id(stack: Stack) -> str:
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", SITE, "--name", "Events client"],
                   cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ANALYTICS_941_SQLITE_PATH": str(stack.db_path)})
    with sqlite3.connect(stack.db_path) as db:
        row = db.execute("SELECT id FROM sites WHERE domain = ?", (SITE,)).fetchone()
    return str(row[0])


@pytest.fixture
def client(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def make(**options: Any) -> PlausibleEvents:
        events = PlausibleEvents(domain=SITE, api=f"{stack.collector_url}/api/event", **options)
        events.worker.daemon = True
        return events

    monkeypatch.setattr(PlausibleEvents, "_get_ip", lambda self: HOME_IP)
    yield make


def query(stack: Stack, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(stack.db_path) as db:
        return db.execute(sql, args).fetchall()


def test_events_sent_by_plausible_events_are_counted(stack: Stack, site_id: str,
                                                     client: Any) -> None:
    events = client(headers={"User-Agent": VISITOR_UA})
    events.pageview("/home", utm={"source": "ig", "campaign": "spring"})
    events.event("Signup", props={"plan": "pro", "seats": 3}, path="/join")
    events.pageview("/home", headers={"X-Forwarded-For": OTHER_IP})

    rows = wait_until(
        lambda: query(stack, "SELECT name, hostname, pathname, source, channel, utm_campaign, "
                             "props, visitor_id FROM events WHERE site_id = ? ORDER BY ts, id",
                      site_id),
        lambda found: len(found) >= 3, message="three events in D1")
    assert [row[:7] for row in rows] == [
        ("pageview", "localhost", "/home", "Instagram", "Organic Social", "spring", None),
        # A visit's events carry its attribution.
        ("Signup", "localhost", "/join", "Instagram", "Organic Social", "spring",
         '{"plan":"pro","seats":"3"}'),
        ("pageview", "localhost", "/home", None, "Direct", None, None),
    ]
    home, signup, other = (row[7] for row in rows)
    assert signup == home, "one address and user agent are one visitor"
    assert other != home, "X-Forwarded-For names the visitor"
    sessions = query(stack, "SELECT pageviews, events FROM sessions WHERE site_id = ? "
                            "ORDER BY started_at", site_id)
    assert sorted(sessions) == [(1, 0), (1, 1)]


def test_its_default_user_agent_is_a_dropped_and_counted_bot(stack: Stack, site_id: str,
                                                            client: Any) -> None:
    # Without a visitor's User-Agent the client sends python-requests': an HTTP library, which
    # the collector answers 202 and counts as a bot drop, as Plausible does.
    client().pageview("/from-a-script")
    counted = wait_until(
        lambda: query(stack, "SELECT reason, category, count FROM ingest_drops WHERE site_id = ?",
                      site_id),
        message="the bot drop counted")
    assert counted == [("bot", "http_library", 1)]
    assert query(stack, "SELECT COUNT(*) FROM events WHERE site_id = ? AND pathname = ?",
                 site_id, "/from-a-script") == [(0,)]
