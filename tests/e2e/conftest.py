"""The real stack for end-to-end tests: the collector in `wrangler dev` (workerd + local D1), the
demo FastAPI site with the dashboard mounted, and headless Debian Chromium driven by Playwright.

Each test session gets its own wrangler state folder and free ports, so a running `make demo`
is never disturbed.

The dashboard needs a login: `stack.api_headers` carry an API token made with the CLI (for the JSON
API and CSV), and `dashboard_context(browser, stack)` opens a browser context already logged in as
an administrator (its session is written straight into the database; the passkey ceremonies
themselves are tested in test_passkeys.py). Dashboard pages live on `localhost`, not 127.0.0.1,
because passkeys and the session cookie are bound to a host name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.devstack import BIN, ROOT, apply_migrations, start_collector, start_site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-gpu"]
DOMAIN = "localhost"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_d1_file(state_dir: Path) -> Path:
    from analytics_941.local_d1 import local_d1_path

    return local_d1_path(project_dir=ROOT, state_dir=state_dir)


@dataclass
class Stack:
    collector_url: str
    site_url: str
    db_path: Path
    state_dir: Path
    env: dict[str, str]
    api_token: str = ""
    session_token: str = ""

    @property
    def dashboard_url(self) -> str:
        return f"{localhost(self.site_url)}/admin/analytics"

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"}


def localhost(url: str) -> str:
    """The same server addressed as localhost (WebAuthn and cookies need a host name)."""
    return url.replace("://127.0.0.1:", "://localhost:")


def cli(*args: str, env: dict[str, str]) -> str:
    """Run `analytics-941 ARGS` and return its last line of output."""
    done = subprocess.run([str(BIN / "analytics-941"), *args], cwd=ROOT,
                          env={**os.environ, **env}, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def admin_session(db_path: Path, *, name: str = "E2E admin") -> str:
    """Create an administrator with a live session in `db_path`; return the cookie value."""
    import sqlite3

    from analytics_941.auth.crypto import hash_token, new_id, new_secret

    token = new_secret("a941_s_")
    now = int(time.time() * 1000)
    user_id = new_id()
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO users (id, name, handle, is_admin, created_at) "
                     "VALUES (?, ?, ?, 1, ?)", (user_id, name, new_id(), now))
        conn.execute("INSERT INTO auth_sessions (token_hash, id, user_id, user_agent, created_at, "
                     "last_seen_at, expires_at) VALUES (?, ?, ?, 'e2e', ?, ?, ?)",
                     (hash_token(token), new_id(), user_id, now, now, now + 86_400_000))
    conn.close()
    return token


def dashboard_context(browser: Any, stack: Stack, **options: Any) -> Any:
    """A new browser context logged in to the stack's dashboard as an administrator."""
    context = browser.new_context(**options)
    context.add_cookies([{"name": "a941_session", "value": stack.session_token,
                          "url": stack.dashboard_url + "/", "httpOnly": True, "sameSite": "Lax"}])
    return context


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("stack")
    state = work / "state"
    apply_migrations(persist_to=state)
    db_path = local_d1_file(state)
    # The home database's file, and where wrangler keeps the others (DB_2: tests of two databases).
    env = {"ANALYTICS_941_SQLITE_PATH": str(db_path),
           "ANALYTICS_941_WRANGLER_STATE_DIR": str(state)}
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", DOMAIN, "--name", "E2E site",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, env={**os.environ, **env},
                   check=True, capture_output=True)
    api_token = cli("tokens", "create", "--site", DOMAIN, "--name", "e2e", env=env)
    session_token = admin_session(db_path)
    collector = start_collector(port=free_port(), log_dir=work, persist_to=state)
    try:
        # Tests poll the API while waiting for the collector: lift the per-token hourly limit.
        site = start_site(port=free_port(), log_dir=work,
                          env={**env, "ANALYTICS_941_COLLECTOR_URL": collector.url,
                               "ANALYTICS_941_API_RATE_LIMIT": "100000"})
        try:
            yield Stack(collector_url=collector.url, site_url=site.url, db_path=db_path,
                        state_dir=state, env=env, api_token=api_token,
                        session_token=session_token)
        finally:
            site.stop()
    finally:
        collector.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def wait_until(fetch: Callable[[], Any], done: Callable[[Any], bool] = bool, *,
               timeout: float = 20.0, message: str = "condition") -> Any:
    """Call `fetch` until `done(value)` holds and return that value; fail at the deadline with
    the last value seen.

    The collector flushes to D1 asynchronously (an alarm), so tests wait for the effect itself
    rather than sleeping a fixed time.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = fetch()
        if done(last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}; last value: {last!r}")
