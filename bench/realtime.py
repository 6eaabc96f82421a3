"""Realtime latency: event accepted by the collector -> delta on a dashboard's WebSocket.

The collector bundle runs in workerd on a direct loopback socket (as in bench/ingest.py); a Node
client (bench/realtime.mjs) holds the realtime socket and POSTs pageviews open-loop at a steady
rate, each with its own path, and times each POST until the pushed delta naming its path. The
latency includes the HTTP ingest itself, the DO's group commit and the ≤ 100 ms coalescing window.
It runs at a steady 100 events/s and at a burst of 1,000 events/s into one site, each against its
own target (``BENCH_REALTIME_RATES``, e.g. ``100``, picks some).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from analytics_941.realtime import realtime_token
from analytics_941.settings import DEV_SECRET
from bench.ingest import BENCH_DIR, _serve, _stop, prepare_collector
from bench.report import figure
from scripts.devstack import BIN, ROOT, tool_env

DOMAIN = "realtime.example"
# Events/s -> (events sent, p95 target in ms).
RATES = {100: (1_000, 100.0), 1_000: (5_000, 250.0)}
CHOSEN = [int(r) for r in os.environ.get("BENCH_REALTIME_RATES", "100,1000").split(",") if r]


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(rate: int, events: int, port: int = 18788) -> dict[str, float]:
    """Serve the collector, run the client, return p50/p95/max and counts."""
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as tmp:
        bundle, persist, _db = prepare_collector(Path(tmp), site_id="rt", domain=DOMAIN,
                                                 rate_limit_visitor=0)
        collector = _serve(bundle, port, persist)
        try:
            token = realtime_token(DOMAIN, DEV_SECRET, ttl=300)
            out = subprocess.run(
                [str(BIN / "node"), str(BENCH_DIR / "realtime.mjs"), f"http://127.0.0.1:{port}",
                 DOMAIN, token, str(events), str(rate)],
                cwd=ROOT, env=tool_env(), capture_output=True, text=True, check=True, timeout=300,
            ).stdout
        finally:
            _stop(collector)
    result = json.loads(out.strip().splitlines()[-1])
    latencies: list[float] = result["latencies"]
    by_count: list[float] = result["countLatencies"]
    return {
        "counted_p95": _percentile(by_count, 95) if len(by_count) > 1 else float("nan"),
        "events": len(latencies),
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 95),
        "max": max(latencies),
        "missing": result["missing"],
        "rejected": result["rejected"],
        "uncounted": events - result["rejected"] - result["counted"],
        "full_feeds": result["fullFeeds"],
    }


def bench_realtime() -> None:
    """Print event -> WebSocket message latency next to the target, at each rate."""
    for rate in CHOSEN:
        events, target = RATES[rate]
        m = measure(rate, events)
        figure(f"realtime deltas timed ({rate} events/s, {events} sent)", m["events"], "events")
        figure(f"realtime event -> socket p50 ({rate}/s)", m["p50"], "ms")
        figure(f"realtime event -> socket p95 ({rate}/s, events named)", m["p95"], "ms")
        # Every event, timed by the minute bars' counts (a feed names at most 20 a delta).
        figure(f"realtime event -> counted p95 ({rate}/s, every event)", m["counted_p95"], "ms",
               target=target)
        figure(f"realtime event -> socket max ({rate}/s)", m["max"], "ms")
        # A delta's feed names at most 20 events: after a stall, a burst leaves some unnamed (its
        # counts still hold them, but their latency is not timed). Lost would be an accepted
        # event the minute bars never count.
        figure("events no feed named (full feeds after a stall)", m["missing"], "events")
        figure("deltas with a full feed", m["full_feeds"], "deltas")
        figure("accepted events the realtime counts miss", m["uncounted"], "events", target=0)
        figure("rejected events", m["rejected"], "events", target=0)
