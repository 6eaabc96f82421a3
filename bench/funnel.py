"""A 4-step funnel over 30 days at 1 M and 10 M events, next to its target (≤ 500 ms p95).

Two funnels: from the home page (the most viewed page, so the most visits to follow: the worst
case), then a pricing page (``/pricing/*``), a docs page (``/docs/**``) and the ``Signup`` goal;
and from a pricing page, then a docs page, the home page and ``Signup``. Each unfiltered, and
as a funnel per source (``source is Google``). The statements are exactly ``sql.funnel``'s, each
timed two ways in one interleaved run:

* **saved**: the funnels saved, their closed days read from the funnel rollups (today raw), on a
  copy of the query bench's dataset holding them (made once into ``.bench/funnels-*.sqlite``:
  every rolled-up day's rows computed by the cron's own job);
* **ad hoc**: the same statements on the dataset as it is, which holds no funnel rows, so every
  day is read raw (an API call's funnel with steps no saved funnel has).

The dataset is the query bench's at one position (bench/datasets.py): by default the position
cached at each size (the 29th at 10 M, the 15th below), so the bench never generates a dataset
of its own (one at 10 M takes ~50 minutes).

    BENCH_FUNNEL_SIZES=10000000 python bench/run.py funnel
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.datagen import TIMEZONE
from bench.datasets import POSITIONS, dataset, rolled_copy
from bench.query import RUNS, _site, timed
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


def funnel_copy(source: Path) -> Path:
    """A copy of ``source`` with the bench's goal and funnels saved and their rollups for every
    rolled-up day: made once, then reused."""
    from analytics_941.rollups.funnels import refresh_funnel_rollups

    def prepare(conn: sqlite3.Connection) -> None:
        site = _site(conn)
        conn.execute("INSERT OR REPLACE INTO goals (id, site_id, name, kind, target, created_at) "
                     "VALUES ('bench-signup', ?, 'Signup', 'event', 'Signup', 0)", (site.id,))
        conn.executemany(
            "INSERT OR REPLACE INTO funnels (id, site_id, name, steps, created_at) "
            "VALUES (?, ?, ?, ?, 0)",
            # Ids as long as saved funnels' (22 characters): every row of theirs holds one.
            [(f"bench-funnel-{n:09d}", site.id, name, json.dumps([step_json(s) for s in steps]))
             for n, (name, steps) in enumerate(FUNNELS.items())])

    # The datasets predate the funnels table; the funnel rollups may be newer than them.
    return rolled_copy(source, "funnels",
                       migrations={"funnels": "0020_funnels.sql",
                                   "funnel_rollup_days": "0034_funnel_rollups.sql"},
                       prepare=prepare, job=refresh_funnel_rollups, what="funnel rollups")


def step_json(text: str) -> dict[str, str]:
    """A bench step (``/…`` or ``goal:…``) as the ``funnels.steps`` column spells it."""
    from analytics_941.funnels import parse_step

    return parse_step(text).to_json()


def bench_funnel() -> None:
    """Print the funnel's p95 per size and filter against the target: saved (rolled-up days)
    and ad hoc (raw), interleaved in one run."""
    sizes = [int(s) for s in os.environ.get("BENCH_FUNNEL_SIZES", "1000000,10000000").split(",")]
    for events in sizes:
        name = os.environ.get("BENCH_FUNNEL_POSITION") or CACHED.get(events, DEFAULT_POSITION)
        position = POSITIONS[name]
        source = dataset(events, position)
        raw = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        rolled = sqlite3.connect(f"file:{funnel_copy(source)}?mode=ro", uri=True)
        site = _site(raw)
        for funnel, steps in FUNNELS.items():
            for label, filters in FILTERS:
                saved = funnel_statements(site, steps, filters, position.now)
                adhoc = saved  # the dataset as it is holds no funnel rows: every day raw
                answers = [rolled.execute(*saved[0]).fetchall(),
                           raw.execute(*adhoc[0]).fetchall()]
                if answers[0] != answers[1]:
                    raise SystemExit(f"{funnel}, {label}: saved {answers[0]} != ad hoc "
                                     f"{answers[1]}")
                times: dict[str, list[float]] = {"saved": [], "ad hoc": []}
                for conn, statements in ((rolled, saved), (raw, adhoc)):
                    timed(conn, statements)  # warm the page cache
                for _ in range(RUNS):
                    times["saved"].append(timed(rolled, saved))
                    times["ad hoc"].append(timed(raw, adhoc))
                reached = "/".join(str(row[1]) for row in answers[0])
                for kind, values in times.items():
                    values.sort()
                    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
                    figure(f"{events // 1_000_000}M 30d 4-step funnel, {funnel}, {label}, {kind}"
                           f" p95 (p50 {statistics.median(values):.0f}; visitors {reached})",
                           p95, "ms", target=TARGET_MS)
        # What the rows cost: the budget issue 14 leaves is bytes per event, all in.
        (size,) = rolled.execute("SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                                 "('funnel_daily', 'funnel_rollup_days')").fetchone()
        (count,) = raw.execute("SELECT COUNT(*) FROM events").fetchone()
        figure(f"{events // 1_000_000}M funnel rollups of a saved 4-step funnel, a year "
               f"({size / 1024**2 / len(FUNNELS):.1f} MB each)", size / count / len(FUNNELS),
               "B/event")
        raw.close()
        rolled.close()
