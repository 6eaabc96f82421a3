"""`make bench`: print every performance figure next to its target.

Benches measure; tests assert. Figures that depend on the machine are printed as a ratio to a
baseline taken in the same run (a bare hello-world Worker in workerd), because these machines
are noisy. Select benches by name: `python bench/run.py tracker ingest`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bulk_ingest import bench_bulk_ingest
from bench.cron import bench_cron
from bench.export import bench_export
from bench.funnel import bench_funnel
from bench.goals import bench_goals
from bench.ingest import bench_ingest
from bench.journey import bench_journey
from bench.query import bench_query
from bench.realtime import bench_realtime
from bench.storage import bench_storage
from bench.tracker_size import bench_tracker_size

BENCHES: dict[str, Callable[[], None]] = {
    "tracker": bench_tracker_size,
    "ingest": bench_ingest,
    "query": bench_query,
    "funnel": bench_funnel,
    "journey": bench_journey,
    "goals": bench_goals,
    "storage": bench_storage,
    "realtime": bench_realtime,
    "cron": bench_cron,
    "export": bench_export,
    "bulk": bench_bulk_ingest,
}


def main(argv: list[str]) -> None:
    chosen = argv or list(BENCHES)
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown bench {unknown}; choose from {sorted(BENCHES)}")
    for name in chosen:
        print(f"\n== {name} ==", flush=True)
        BENCHES[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
