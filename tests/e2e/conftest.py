"""The real stack for end-to-end tests: the collector in `wrangler dev` (workerd + local D1), the
demo FastAPI site with the dashboard mounted, and headless Debian Chromium driven by Playwright.

Each test session gets its own wrangler state folder and free ports, so a running `make demo`
is never disturbed.
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

    @property
    def dashboard_url(self) -> str:
        return f"{self.site_url}/admin/analytics"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("stack")
    state = work / "state"
    apply_migrations(persist_to=state)
    db_path = local_d1_file(state)
    env = {"ANALYTICS_941_SQLITE_PATH": str(db_path)}
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", DOMAIN, "--name", "E2E site",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, env={**os.environ, **env},
                   check=True, capture_output=True)
    collector = start_collector(port=free_port(), log_dir=work, persist_to=state)
    try:
        site = start_site(port=free_port(), log_dir=work,
                          env={**env, "ANALYTICS_941_COLLECTOR_URL": collector.url})
        try:
            yield Stack(collector_url=collector.url, site_url=site.url, db_path=db_path)
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
