"""The sessions list names each session's browser and operating system, not its raw
User-Agent string."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin

from analytics_941.auth.user_agents import describe_user_agent

FIREFOX_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 "
               "Firefox/128.0")


@pytest.mark.parametrize(
    ("user_agent", "described"),
    [
        (FIREFOX_MAC, "Firefox on macOS"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36", "Chrome on Windows"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1", "Chrome on iOS"),
        ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
         "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
         "Samsung Internet on Android"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", "Opera on Linux"),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36", "Chrome on ChromeOS"),
        ("curl/8.5.0", "Unknown browser"),
        ("", "Unknown browser"),
    ],
)
def test_browser_and_system_are_named(user_agent: str, described: str) -> None:
    assert describe_user_agent(user_agent) == described


def test_the_sessions_list_shows_them(tmp_path: Path) -> None:
    db = one_site_db(tmp_path)
    admin = signed_in_admin(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE auth_sessions SET user_agent = ?", [FIREFOX_MAC])
    conn.close()
    page = admin.get(f"{MOUNT}/settings/account")
    assert ">Firefox on macOS</strong>" in page.text
    # The raw string stays at hand (a tooltip), never as the label.
    assert page.text.count("Gecko/20100101") == 1
