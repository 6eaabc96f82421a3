"""Bulk ingestion throughput: events/s through ``POST /api/ingest/bulk`` next to the browser
path's (``/api/event``, bench/ingest.lua) on the same collector in the same run, as a ratio.

The collector bundle runs in workerd as in bench/ingest.py. Both paths are driven by the same
Python client (httpx, a few threads; wrk is not everywhere): the browser path one event per
request, the bulk path batches of 1,000 events, each its own IP, page and idempotency key.
The browser figure here is therefore the client's, lower than bench/ingest.py's wrk figure;
the ratio is what this bench is for. The site's own per-minute limit is lifted for the run (both
paths count against it: docs/bulk-ingestion.md). After the load the bench waits for the
outboxes to drain and checks that every accepted bulk event is in D1 exactly once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from analytics_941.auth.crypto import hash_token
from bench.ingest import DOMAIN, _serve, _stop, prepare_collector
from bench.report import figure

SECONDS = int(os.environ.get("BENCH_BULK_SECONDS", "20"))
BATCH = 1000
THREADS = 4
SECRET = "a941_t_bench-bulk-ingestion-token"  # noqa: S105 (a bench's local token)
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36")
# The bulk path should carry many times the browser path's events per second: one request
# (one token check, one DO call per site, one storage commit) carries up to 1,000 events.
TARGET_RATIO = 3


def _batch(thread: int, n: int) -> bytes:
    now = int(time.time() * 1000)
    events = [{
        "name": "pageview", "url": f"https://{DOMAIN}/bulk/{thread}-{n}-{i}", "domain": DOMAIN,
        "timestamp": now - 60_000 + i, "ip": f"10.{thread}.{(i >> 8) & 255}.{i & 255}",
        "user_agent": UA, "idempotency_key": f"{thread}-{n}-{i}",
    } for i in range(BATCH)]
    return json.dumps({"events": events}).encode()


def _send(url: str, thread: int, stop: float, counts: dict[str, int],
          lock: threading.Lock) -> None:
    headers = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
    n = 0
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < stop:
            n += 1
            answer = client.post(url, content=_batch(thread, n), headers=headers)
            outcomes = [r["outcome"] for r in answer.json()["results"]] if (
                answer.status_code == 202) else ["http_" + str(answer.status_code)] * BATCH
            with lock:
                for outcome in outcomes:
                    counts[outcome] = counts.get(outcome, 0) + 1


def _browse(url: str, thread: int, stop: float, counts: dict[str, int],
            lock: threading.Lock) -> None:
    n = 0
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < stop:
            n += 1
            body = json.dumps({"n": "pageview", "u": f"https://{DOMAIN}/web/{thread}-{n}",
                               "d": DOMAIN})
            answer = client.post(url, content=body, headers={
                "Content-Type": "text/plain", "User-Agent": UA,
                "X-Forwarded-For": f"10.{100 + thread}.{(n >> 8) & 255}.{n & 255}"})
            ok = answer.status_code == 202 and "X-941-Dropped" not in answer.headers
            with lock:
                counts["accepted" if ok else "other"] = counts.get(
                    "accepted" if ok else "other", 0) + 1


def _run(target: object, url: str, counts: dict[str, int]) -> float:
    """Run ``target`` from THREADS threads for SECONDS; return the seconds it took."""
    lock = threading.Lock()
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        for thread in range(THREADS):
            pool.submit(target, url, thread, started + SECONDS, counts, lock)  # type: ignore[arg-type]
    return time.monotonic() - started


def bench_bulk_ingest() -> None:
    """Run the browser path and the bulk path on one collector; print events/s and the ratio."""
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        bundle, persist, db_file = prepare_collector(Path(tmp), site_id="bench", domain=DOMAIN)
        with sqlite3.connect(db_file) as db:
            db.execute("UPDATE sites SET rate_limit_site = 100000000 WHERE id = 'bench'")
            db.execute("INSERT INTO api_tokens (id, token_hash, prefix, name, site_ids, scopes, "
                       "created_at) VALUES ('bench', ?, 'a941_t_bench', 'bench', '[\"bench\"]', "
                       "'[\"ingest\"]', 0)", (hash_token(SECRET),))
        db.close()
        port = 18788
        collector = _serve(bundle, port, persist)
        try:
            browser: dict[str, int] = {}
            browser_elapsed = _run(_browse, f"http://127.0.0.1:{port}/api/event", browser)
            counts: dict[str, int] = {}
            elapsed = _run(_send, f"http://127.0.0.1:{port}/api/ingest/bulk", counts)
            accepted = counts.get("accepted", 0)
            stored = duplicates = -1
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with sqlite3.connect(db_file) as db:
                    stored, distinct = db.execute(
                        "SELECT COUNT(*), COUNT(DISTINCT pathname) FROM events "
                        "WHERE pathname LIKE '/bulk/%'").fetchone()
                db.close()
                duplicates = stored - distinct
                if stored >= accepted:
                    break
                time.sleep(1.5)
        finally:
            _stop(collector)

    browser_s = browser.get("accepted", 0) / browser_elapsed
    bulk_s = accepted / elapsed
    figure("browser path accepted events", browser_s, "events/s")
    figure("bulk path accepted events (1,000 a request)", bulk_s, "events/s")
    figure("bulk / browser", bulk_s / browser_s, "x", target=TARGET_RATIO, higher_is_better=True)
    others = {k: v for k, v in counts.items() if k != "accepted"}
    figure("bulk events not accepted", sum(others.values()), "events", target=0)
    if others:
        print(f"  outcomes: {others}", flush=True)
    figure("accepted bulk events missing from D1", max(0, accepted - stored), "events", target=0)
    figure("bulk events stored more than once", duplicates, "rows", target=0)
