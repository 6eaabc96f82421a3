"""Goals over 30 days at 1 M and 10 M events, next to their target (≤ 50 ms p95).

Three goals: the ``Signup`` event (the one custom event bench/datagen.py sends), the page goal
``/pricing/*`` (a wildcard) and the page goal ``/`` (exact; the most viewed page, the worst
case). Timed: the Goal conversions panel's batch (its ``event:goal`` breakdown, the built-in
reports and the candidate events: ``goal_panel``'s queries) and, under ``event:goal is Signup``,
the sources and pages panels (each row with its ``group_conversion_rate``). The statements are
exactly the dashboard's, on a copy of the query bench's dataset at one position
(bench/datasets.py) holding the three goals and their goal rollups (``rollups.goals``, computed
once into ``.bench/goals-*.sqlite``; the shared dataset is left as it is).

Each is timed twice in the same run, interleaved: reading raw events (``raw``: the goals under
other ids, so no goal rollup day names them, which is how reports read right after a goal
changes) and reading the goal rollups (``rolled``); the machine is shared, so compare the two
as a ratio, not with figures of other runs.

    BENCH_GOALS_SIZES=1000000 python bench/run.py goals

The 10 M dataset runs when it is there (the query bench generates it); below 10 M each also runs
over the last 300 days: about as many rows as 30 days hold at 10 M (a stand-in).

With ``BENCH_GOALS_BASELINE=<work tree of an older commit>`` (``git worktree add``), each rolled
statement set is timed instead against that commit's own statements for the same panel, in the
same run and interleaved (``before``, ``after``): a change's effect, read as a ratio. Each pair
also prints the ratio of the CPU time the statements took in this process, which other load on
the machine disturbs far less than wall time. ``BENCH_QUERY_RUNS`` sets the runs (default 7).
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.datasets import CACHE, POSITIONS, dataset, rolled_copy
from bench.query import RUNS, _site, timed
from bench.report import figure

TARGET_MS = 50.0
POSITIONS_BY_SIZE = {1_000_000: "15th", 10_000_000: "29th"}
GOALS = (("Signup", "event", "Signup"), ("Visit /pricing/*", "page", "/pricing/*"),
         ("Visit /", "page", "/"))
FILTERED_PANELS = ("sources", "pages")


def _goals(site_id: str, *, tag: str = "bench") -> tuple[Any, ...]:
    from analytics_941.goals import Goal

    return tuple(Goal(id=f"{tag}-{n}", site_id=site_id, name=name, kind=kind,  # type: ignore[arg-type]
                      target=target) for n, (name, kind, target) in enumerate(GOALS))


def goal_copy(source: Path, *, now_ms: int) -> Path:
    """A copy of ``source`` with the goal rollup tables (migration 0031), the bench's goals and
    their goal rollups for every rolled-up day: made once, then reused."""
    from analytics_941.rollups.goals import refresh_goal_rollups

    def prepare(conn: sqlite3.Connection) -> None:
        (site_id,) = conn.execute("SELECT id FROM sites").fetchone()
        conn.executemany(
            "INSERT OR REPLACE INTO goals (id, site_id, name, kind, target, created_at) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            [(g.id, site_id, g.name, g.kind, g.target) for g in _goals(site_id)])

    return rolled_copy(source, "goals", migrations={"goal_rollup_days": "0031_goal_rollups.sql"},
                       prepare=prepare, job=refresh_goal_rollups, what="goal rollups")


def panel_statements(site: Any, days: int, now: datetime, *, tag: str = "bench") -> list[Any]:
    """The statements of the goal panel's batch (its goals' ids start with ``tag``)."""
    from dataclasses import replace

    from analytics_941.runner import statements_for
    from analytics_941.web.dashboard.goal_panel import (
        candidates_query,
        goals_query,
        special_queries,
    )
    from analytics_941.web.dashboard.state import DashboardState

    state = replace(DashboardState.from_params(_period(days, now)), goals=_goals(site.id, tag=tag))
    panel = [*special_queries(site, state, now=now), candidates_query(site, state, now=now),
             goals_query(site, state, now=now)]
    return [s for q in panel for s in statements_for(q)]


def _period(days: int, now: datetime) -> list[tuple[str, str]]:
    if days == 30:
        return [("period", "30d")]
    from zoneinfo import ZoneInfo

    from bench.datagen import TIMEZONE

    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    return [("period", "custom"), ("from", (today - timedelta(days=days - 1)).isoformat()),
            ("to", today.isoformat())]


def goal_statements(site: Any, days: int, now: datetime, *, tag: str = "bench"
                    ) -> dict[str, Any]:
    """The statements of the goal panel's batch and of the goal-filtered panels, by name (the
    goals' ids start with ``tag``)."""
    from dataclasses import replace

    from analytics_941.runner import statements_for
    from analytics_941.web.dashboard.data import panel_query
    from analytics_941.web.dashboard.reports import PANELS
    from analytics_941.web.dashboard.state import DashboardState

    period = _period(days, now)
    out: dict[str, Any] = {"goal conversions panel": panel_statements(site, days, now, tag=tag)}
    for name, _kind, _target in GOALS:
        filtered = replace(DashboardState.from_params(
            [*period, ("f", f"is,event:goal,{name}")]), goals=_goals(site.id, tag=tag))
        for key in FILTERED_PANELS:
            (report,) = [p for p in PANELS if p.key == key]
            query = panel_query(site, filtered, report, now=now)
            assert "group_conversion_rate" in query.metrics
            out[f"{key} under goal {name}"] = statements_for(query)
    return out


def _source(events: int, position: Any) -> Path | None:
    """The query bench's dataset, as it is (generated when missing below 10 M)."""
    first = position.today - timedelta(days=position.days - 1)
    path = CACHE / f"query-{events}-{position.today}-from-{first}.sqlite"
    if path.exists() and path.with_suffix(".json").exists():
        return path
    return None if events >= 10_000_000 else dataset(events, position)


def _timed(conn: sqlite3.Connection, statements: list[Any]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one run (SQLite runs in this process: its CPU time is what
    the statements cost, whatever else the machine runs)."""
    cpu = time.process_time()
    wall = timed(conn, statements)
    return wall, (time.process_time() - cpu) * 1000


def _interleaved(conn: sqlite3.Connection, label: str, sets: dict[str, list[Any]]) -> None:
    """Time the statement sets interleaved (first, second, first, …: the same load on each) and
    print each p95 against the target, then second / first of the medians, wall and CPU."""
    samples: dict[str, list[float]] = {kind: [] for kind in sets}
    cpus: dict[str, list[float]] = {kind: [] for kind in sets}
    for statements in sets.values():
        timed(conn, statements)  # warm the page cache
    for _ in range(RUNS):
        for kind, statements in sets.items():
            wall, cpu = _timed(conn, statements)
            samples[kind].append(wall)
            cpus[kind].append(cpu)
    p50s = {}
    for kind, values in samples.items():
        values.sort()
        p50s[kind] = statistics.median(values)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        figure(f"{label}, {kind} p95 (p50 {p50s[kind]:.0f})", p95, "ms", target=TARGET_MS)
    first, second = sets
    figure(f"{label}, {second} / {first} (p50, same run)",
           round(100 * p50s[second] / p50s[first], 1), "%")
    cpu = {kind: statistics.median(values) for kind, values in cpus.items()}
    figure(f"{label}, {second} / {first} (CPU p50 {cpu[first]:.1f} -> {cpu[second]:.1f} ms)",
           round(100 * cpu[second] / cpu[first], 1), "%")


def _baseline_statements(tree: Path, events: int, days: int) -> dict[str, Any]:
    """``goal_statements`` as the commit checked out in ``tree`` writes them (its own code, run
    in a child process), for the dataset of ``events`` events."""
    script = (
        "import json, sqlite3, sys\n"
        "from bench.datasets import POSITIONS\n"
        "from bench.goals import POSITIONS_BY_SIZE, goal_statements\n"
        "from bench.query import _site\n"
        "events, days, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]\n"
        "position = POSITIONS[POSITIONS_BY_SIZE.get(events, '15th')]\n"
        "site = _site(sqlite3.connect(f'file:{path}?mode=ro', uri=True))\n"
        "out = goal_statements(site, days, position.now)\n"
        "print(json.dumps({k: [[s, list(p)] for s, p in v] for k, v in out.items()}))\n"
    )
    position = POSITIONS[POSITIONS_BY_SIZE.get(events, "15th")]
    source = _source(events, position)
    assert source is not None, "the dataset the current statements run on"
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
    done = subprocess.run([sys.executable, "-c", script, str(events), str(days),
                           str(source.with_name(f"goals-{source.name}"))],
                          cwd=tree, env=env, check=True, capture_output=True, text=True)
    return {k: [(sql, params) for sql, params in v] for k, v in json.loads(done.stdout).items()}


def bench_goals() -> None:
    """Print each goal statement set's p95 per size against the target, read raw and from the
    goal rollups in the same run, and the ratio of the two."""
    sizes = [int(s) for s in os.environ.get("BENCH_GOALS_SIZES", "1000000,10000000").split(",")]
    for events in sizes:
        position = POSITIONS[POSITIONS_BY_SIZE.get(events, "15th")]
        source = _source(events, position)
        if source is None:
            print(f"{events // 1_000_000}M dataset not generated: skipped (the 300-day run "
                  "at 1 M stands in)", flush=True)
            continue
        path = goal_copy(source, now_ms=position.rollup_ms)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        site = _site(conn)
        label = f"{events // 1_000_000}M {position.name}"
        runs = [30] if events >= 10_000_000 else [30, 300]
        baseline = os.environ.get("BENCH_GOALS_BASELINE")
        for days in runs:
            if baseline:
                before = _baseline_statements(Path(baseline), events, days)
            else:
                before = goal_statements(site, days, position.now, tag="unlisted")
            for name, rolled in goal_statements(site, days, position.now).items():
                kinds = ("before", "after") if baseline else ("raw", "rolled")
                _interleaved(conn, f"{label} {days}d {name}",
                             dict(zip(kinds, (before[name], rolled), strict=True)))
        conn.close()
