"""A 4-step funnel over 30 days at 1 M and 10 M events, next to its target (≤ 500 ms p95).

The funnel reads raw events (order within a visit needs them). Two funnels: from the home page
(the most viewed page, so the most visits to follow: the worst case), then a pricing page
(``/pricing/*``), a docs page (``/docs/**``) and the ``Signup`` goal; and from a pricing page,
then a docs page, the home page and ``Signup``. Each unfiltered, and as a funnel per source
(``source is Google``). The statements are exactly ``sql.funnel``'s, on the
query bench's dataset at one position (bench/datasets.py; a funnel reads no rollups, so the
position hardly matters): by default the position cached at each size (the 29th at 10 M, the
15th below), so the bench never generates a dataset of its own (one at 10 M takes ~50 minutes).

    BENCH_FUNNEL_SIZES=10000000 python bench/run.py funnel

Below 10 M, each funnel also runs over the dataset's last 300 days: about as many rows as 30
days hold at 10 M (a stand-in when the 10 M dataset is not generated; visits per day differ).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.datagen import TIMEZONE
from bench.datasets import POSITIONS, dataset
from bench.query import _p50_p95, _site
from bench.report import figure

TARGET_MS = 500.0
# The positions whose datasets are cached (the 10 M dataset exists at the 29th only, the 1 M one
# at the 15th); BENCH_FUNNEL_POSITION names another for every size.
CACHED = {10_000_000: "29th"}
DEFAULT_POSITION = "15th"
FUNNELS = {"home first": ["/", "/pricing/*", "/docs/**", "goal:Signup"],
           "pricing first": ["/pricing/*", "/docs/**", "/", "goal:Signup"]}
FILTERS: tuple[tuple[str, list[Any]], ...] = (
    ("unfiltered", []), ("source=Google", [["is", "visit:source", ["Google"]]]))


def funnel_statements(site: Any, steps: list[str], filters: list[Any], now: Any, *,
                      days: int = 30) -> list[Any]:
    """The statement of a funnel of ``steps`` over the last ``days`` under ``filters``."""
    from analytics_941.funnels import check_steps, step_goals
    from analytics_941.goals import Goal
    from analytics_941.query import parse_query
    from analytics_941.sql.funnel import funnel_sql

    signup = Goal(id="bench-signup", site_id=site.id, name="Signup", kind="event",
                  target="Signup")
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    first = today - timedelta(days=days - 1)
    query = parse_query({"site_id": site.id, "date_range": [first.isoformat(), today.isoformat()],
                         "metrics": ["visitors"], "filters": filters}, timezone=TIMEZONE,
                        now=now, goals=[signup])
    matched = step_goals(check_steps(steps), [signup])
    return [funnel_sql(query, matched, period=query.period)]


def bench_funnel() -> None:
    """Print the funnel's p95 per size and filter against the target."""
    sizes = [int(s) for s in os.environ.get("BENCH_FUNNEL_SIZES", "1000000,10000000").split(",")]
    for events in sizes:
        name = os.environ.get("BENCH_FUNNEL_POSITION") or CACHED.get(events, DEFAULT_POSITION)
        position = POSITIONS[name]
        conn = sqlite3.connect(f"file:{dataset(events, position)}?mode=ro", uri=True)
        site = _site(conn)
        runs = [(30, name, filters) for name, filters in FILTERS]
        if events < 10_000_000:
            runs.append((300, "unfiltered", []))
        for funnel, steps in FUNNELS.items():
            for days, name, filters in runs:
                statements = funnel_statements(site, steps, filters, position.now, days=days)
                (rows,) = [conn.execute(sql, params).fetchall() for sql, params in statements]
                p50, p95 = _p50_p95(conn, statements)
                reached = "/".join(str(row[1]) for row in rows)
                figure(f"{events // 1_000_000}M {days}d 4-step funnel, {funnel}, {name} p95 "
                       f"(p50 {p50:.0f}; visitors {reached})", p95, "ms", target=TARGET_MS)
        conn.close()
