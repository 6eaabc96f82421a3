"""Start and stop the local stack: the collector in `wrangler dev` and a FastAPI site.

Shared by `make demo` (scripts/demo.py), the end-to-end tests and the benches, so all three run
the system the same way. Each server runs in its own process group: the venv's `node` is a small
Python launcher that does not forward signals, so only signalling the whole group stops the real
workerd children.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def tool_env(**extra: str) -> dict[str, str]:
    """The environment every child runs in: the venv first on PATH (Node 24), no telemetry."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["WRANGLER_SEND_METRICS"] = "false"
    env.setdefault("CI", "true")  # wrangler skips its interactive prompts
    env.update(extra)
    return env


def wrangler(args: Sequence[str], *, persist_to: Path | None = None) -> None:
    """Run one wrangler command to completion, raising with its output if it fails."""
    cmd = [str(BIN / "npx"), "--no-install", "wrangler", *args]
    if persist_to is not None:
        cmd += ["--persist-to", str(persist_to)]
    done = subprocess.run(cmd, cwd=ROOT, env=tool_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrangler {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def apply_migrations(*, persist_to: Path | None = None) -> None:
    """Apply migrations/ to the local D1 databases that `wrangler dev` uses (home DB and DB_2),
    then finish the table rebuilds they start: the cron's job on a deployment, which nothing
    runs locally."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from analytics_941.local_d1 import local_d1_path
    from analytics_941.rebuilds import rebuild_tables
    from analytics_941.sqlite_store import SqliteStore

    async def rebuild(path: Path) -> None:
        store = SqliteStore(path=path)
        while await rebuild_tables(store, now_ms=int(time.time() * 1000)):
            pass

    for binding in ("DB", "DB_2"):
        wrangler(["d1", "migrations", "apply", binding, "--local"], persist_to=persist_to)
        path = local_d1_path(project_dir=ROOT, state_dir=persist_to, binding=binding)
        # In a thread of its own: the caller may be running an event loop (Playwright's).
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, rebuild(path)).result()


@dataclass
class Server:
    """A running child server in its own process group."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after a grace period."""
        if self.process.poll() is not None:
            return
        for sig, grace in ((signal.SIGINT, 5.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        # The launcher may exit before its children: sweep the group once more.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def log(self) -> str:
        """What the server printed so far (for error messages)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _spawn(name: str, cmd: list[str], url: str, health: str, log_dir: Path,
           env: dict[str, str], timeout: float) -> Server:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log_file:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = Server(name=name, url=url, process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(url + health, timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # polling a starting server, not waiting for a result
    server.stop()
    raise RuntimeError(
        f"{name} did not answer {url + health} within {timeout:.0f}s:\n{server.log()}")


def start_collector(*, port: int, log_dir: Path, persist_to: Path | None = None,
                    timeout: float = 90.0, args: Sequence[str] = ()) -> Server:
    """Start the Worker in `wrangler dev` on 127.0.0.1:PORT and wait for /health. ``args`` are
    more of wrangler dev's options (``--var NAME:VALUE``, ``--test-scheduled``)."""
    cmd = [str(BIN / "npx"), "--no-install", "wrangler", "dev", "--ip", "127.0.0.1",
           "--port", str(port), "--show-interactive-dev-session=false", "--log-level", "warn",
           "--inspector-port", "0", *args]
    if persist_to is not None:
        cmd += ["--persist-to", str(persist_to)]
    # A development collector only: it takes the locations the demo traffic makes up from a
    # header (worker/src/collector/enrich/geo.ts); wrangler.toml, and so a deploy, lacks the var.
    cmd += ["--var", "SIMULATED_GEO:on"]
    return _spawn("collector", cmd, f"http://127.0.0.1:{port}", "/health", log_dir,
                  tool_env(), timeout)


def start_site(*, port: int, log_dir: Path, env: dict[str, str] | None = None,
               timeout: float = 30.0) -> Server:
    """Start the demo FastAPI site (examples/demo_site.py) with uvicorn on 127.0.0.1:PORT."""
    cmd = [sys.executable, "-m", "uvicorn", "examples.demo_site:app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning"]
    return _spawn("site", cmd, f"http://127.0.0.1:{port}", "/healthz", log_dir,
                  tool_env(**(env or {})), timeout)


@contextmanager
def running(*servers: Server) -> Iterator[None]:
    """Stop every server on the way out, whatever happened."""
    try:
        yield
    finally:
        for server in reversed(servers):
            server.stop()
