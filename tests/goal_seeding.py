"""Seeded data for goal tests: ``seeding.seed`` plus visits with blog pages, docs pages and
``Signup`` events with a ``plan`` property, and the goals the tests define.

Last 7 days of site s1 then hold 8 visitors (v1..v5 from ``seeding``, v8..v10 here).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from seeding import _ms, seed

# (session, visitor, day offset, source, [(clock, name, pathname, props)])
GOAL_VISITS = [
    ("H", "v8", -3, "Twitter", [
        ("10:00:00", "pageview", "/blog/a", None),
        ("10:01:00", "pageview", "/blog/a/b", None),
        ("10:02:00", "Signup", "/pricing", {"plan": "pro"}),
    ]),
    ("I", "v9", -3, "Google", [
        ("11:00:00", "pageview", "/blog/x", None),
        ("11:01:00", "Signup", "/pricing", {"plan": "free"}),
    ]),
    ("J", "v10", -2, "Twitter", [("12:00:00", "pageview", "/docs/x/y/edit", None)]),
]
VISITORS_7D = 8


def seed_goal_data(path: Path, *, today: date, timezone: str) -> Path:
    """``seeding.seed`` then ``GOAL_VISITS`` (events and their sessions) for site s1."""
    seed(path, today=today, timezone=timezone)
    tz = ZoneInfo(timezone)
    conn = sqlite3.connect(path)
    with conn:
        for session, visitor, day, source, events in GOAL_VISITS:
            stamps = [_ms(today, day, clock, tz) for clock, *_ in events]
            for i, ((_, name, pathname, props), ts) in enumerate(zip(events, stamps, strict=True)):
                conn.execute(
                    "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                    "pathname, source, country, device, props) "
                    "VALUES (?, 's1', ?, ?, ?, ?, 'example.com', ?, ?, 'US', 'Desktop', ?)",
                    (f"g{session}-{i}", ts, name, visitor, session, pathname, source,
                     json.dumps(props) if props else None),
                )
            views = sum(1 for e in events if e[1] == "pageview")
            conn.execute(
                "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
                "entry_page, exit_page, pageviews, events, duration_ms, is_bounce, source, "
                "country, device) VALUES (?, 's1', ?, ?, ?, 'example.com', ?, ?, ?, ?, ?, ?, ?, "
                "'US', 'Desktop')",
                (session, visitor, stamps[0], stamps[-1], events[0][2], events[-1][2], views,
                 len(events), stamps[-1] - stamps[0], int(len(events) == 1), source),
            )
    conn.close()
    return path
