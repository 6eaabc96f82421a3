"""Ingestion throughput: accepted events/s, p50/p99 latency, and proof that none were lost.

The collector bundle (`wrangler deploy --dry-run`) runs in workerd through Miniflare's API on a
direct socket — `wrangler dev`'s proxy costs ~25x and would measure the proxy. In the same run a
bare hello-world Worker gives the machine's ceiling, so the figure is read as a ratio. After the
load, the bench waits for the Durable Objects' outboxes to drain and counts the rows in D1.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.report import figure
from scripts.devstack import BIN, ROOT, apply_migrations, tool_env, wrangler

BENCH_DIR = Path(__file__).resolve().parent
DOMAIN = "bench.example"
SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
BASELINE_SECONDS = int(os.environ.get("BENCH_BASELINE_SECONDS", "15"))
TARGET_EVENTS_S = 2000
TARGET_P99_MS = 100


def _serve(bundle: Path, port: int, *persist: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [str(BIN / "node"), str(BENCH_DIR / "serve-bundle.mjs"), str(bundle), str(port),
         *map(str, persist)],
        cwd=ROOT, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.HTTPError as error:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"workerd exited: {output}") from error
            time.sleep(0.2)
    raise RuntimeError("workerd did not start")


def _stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


def _wrk(url: str, seconds: int, script: Path | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True,
                         env={**os.environ, "BENCH_DOMAIN": DOMAIN}).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for line in re.findall(r"^FIRST_REJECTION (.*)$", out, re.MULTILINE)[:1]:
        print(f"  first rejected answer: {line[:200]}", flush=True)
    for key, value in re.findall(r"^([A-Z0-9_]+) ([\d.]+)$", out, re.MULTILINE):
        figures[key] = float(value)
    return figures


def bench_ingest() -> None:
    """Run the hello-world baseline and the collector under the same load; print figures."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        wrangler(["deploy", "--dry-run", "--outdir", str(work / "bundle")])
        bundle = work / "bundle" / "index.js"
        state = work / "state"
        apply_migrations(persist_to=state)
        d1_dir = state / "v3" / "d1"
        db_file = next((d1_dir / "miniflare-D1DatabaseObject").glob("[0-9a-f]*.sqlite"))
        with sqlite3.connect(db_file) as db:
            db.execute("INSERT INTO sites (id, domain, name, domains, timezone, created_at) "
                       "VALUES ('bench', ?, 'Bench', json_array(?), 'UTC', 0)", (DOMAIN, DOMAIN))

        port = 18787
        hello = _serve(BENCH_DIR / "hello.mjs", port)
        try:
            baseline = _wrk(f"http://127.0.0.1:{port}/", BASELINE_SECONDS)
        finally:
            _stop(hello)

        collector = _serve(bundle, port, state / "v3")
        try:
            load = _wrk(f"http://127.0.0.1:{port}/api/event", SECONDS, BENCH_DIR / "ingest.lua")
            accepted = int(load["ACCEPTED"])
            stored = 0
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with sqlite3.connect(db_file) as db:
                    stored = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
                if stored >= accepted:
                    break
                time.sleep(1)
        finally:
            _stop(collector)

    events_s = accepted / SECONDS
    figure("hello-world workerd", baseline["rps"], "req/s")
    figure("collector accepted events", events_s, "events/s", target=TARGET_EVENTS_S,
           higher_is_better=True)
    figure("collector / hello-world", 100 * events_s / baseline["rps"], "%")
    figure("collector p50 latency", load["P50_MS"], "ms")
    figure("collector p99 latency", load["P99_MS"], "ms", target=TARGET_P99_MS)
    figure("rejected (non-202) responses", load["REJECTED"], "requests", target=0)
    figure("events in D1 after the drain", stored, "events")
    # wrk stops counting at the deadline; requests in flight then are stored but not counted, so
    # D1 may hold a few more rows than were counted as accepted — never fewer.
    figure("accepted events missing from D1", max(0, accepted - stored), "events", target=0)
