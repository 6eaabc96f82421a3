"""Web vitals for a seeded database (tests/seeding.py): one ``web_vitals`` row per pageview but
every fifth, with values spread over Google's three ratings, and the nearest-rank 75th
percentile computed in Python (what sql/vitals.py must answer)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

COLUMNS = ("lcp_ms", "inp_ms", "cls_e4", "fcp_ms", "ttfb_ms")


def _values(i: int) -> tuple[int | None, ...]:
    # Deterministic spreads: LCP 900..5 100 ms, INP only where the visitor interacted.
    return (
        900 + (i * 700) % 4300,
        None if i % 3 == 0 else 40 + (i * 90) % 700,
        (i * 450) % 3200,
        500 + (i * 400) % 3100,
        60 + (i * 170) % 2000,
    )


def seed_vitals(path: Path, *, site: str = "s1") -> int:
    """Add web vitals to ``site``'s pageviews in ``path``; returns the rows added."""
    with sqlite3.connect(path) as conn:
        views = conn.execute(
            "SELECT site_id, ts, id FROM events WHERE site_id = ? AND name = 'pageview' "
            "ORDER BY ts, id", (site,)).fetchall()
        rows = [(s, ts, i, *_values(n)) for n, (s, ts, i) in enumerate(views) if n % 5 != 4]
        conn.executemany(
            f"INSERT INTO web_vitals (site_id, ts, event_id, {', '.join(COLUMNS)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return len(rows)


def p75(values: list[float]) -> float | None:
    """The nearest-rank 75th percentile: the smallest value with 75 % at or below it."""
    ordered = sorted(values)
    return ordered[math.ceil(0.75 * len(ordered)) - 1] if ordered else None
