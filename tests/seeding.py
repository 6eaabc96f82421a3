"""Known test data: a schema'd SQLite file with a fixed pattern of sessions and events.

The pattern is laid out relative to a site-local "today" so the same rows serve fixed-date tests
(golden numbers, DST edges) and tests against the real clock (the dashboard). Expected numbers for
the last 7 days are in ``EXPECTED_7D``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_PATH = "/blog/<script>alert(1)</script>"


@contextmanager
def rows_hidden(path: Path, table: str) -> Iterator[None]:
    """``table``'s rows set aside while the block runs (a rollup's listing: every day then reads
    raw), and put back after it. ``table`` is a name the test writes."""
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE hidden AS SELECT * FROM {table}")
        conn.execute(f"DELETE FROM {table}")
    try:
        yield
    finally:
        with sqlite3.connect(path) as conn:
            conn.execute(f"INSERT INTO {table} SELECT * FROM hidden")
            conn.execute("DROP TABLE hidden")


def insert_site(conn: sqlite3.Connection, *, timezone: str = "UTC") -> None:
    """Site ``s1`` (example.com) in ``timezone``: the site ``insert_visit`` writes to."""
    conn.execute("INSERT INTO sites (id, domain, name, timezone, created_at) "
                 "VALUES ('s1', 'example.com', 'Example', ?, 0)", (timezone,))


def insert_visit(conn: sqlite3.Connection, *, session: str, country: str, started_at: int,
                 ended_at: int, events: list[tuple[str, int, str, str]]) -> None:
    """One visit of site ``s1`` (visitor ``u<session>``): its ``events``, each ``(id suffix, ts,
    name, pathname)``, and its sessions row, whose entry and exit are its first and last
    pageviews in time order (ties by name, then path)."""
    for suffix, ts, name, page in events:
        conn.execute(
            "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
            "pathname, country) VALUES (?, 's1', ?, ?, ?, ?, 'example.com', ?, ?)",
            (f"{session}-{suffix}", ts, name, f"u{session}", session, page, country))
    views = [page for _, _, name, page in sorted(events, key=lambda e: (e[1], e[2], e[3], e[0]))
             if name == "pageview"]
    conn.execute(
        "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
        "entry_page, exit_page, pageviews, events, country) "
        "VALUES (?, 's1', ?, ?, ?, 'example.com', ?, ?, ?, ?, ?)",
        (session, f"u{session}", started_at, ended_at, views[0], views[-1],
         len(views), len(events), country))


def apply_schema(path: Path) -> Path:
    """Create ``path`` with the project's schema.sql applied."""
    with sqlite3.connect(path) as conn:
        conn.executescript((ROOT / "schema.sql").read_text())
    conn.close()
    return path


@dataclass
class Visit:
    session: str
    visitor: str
    day: int  # offset from today
    events: list[tuple[str, str, str]]  # (local HH:MM:SS, event name, pathname)
    duration_s: int
    source: str | None
    country: str
    device: str
    site: str = "s1"
    # (utm_source, utm_medium, utm_campaign, utm_term, utm_content) of the landing page
    utm: tuple[str, str, str, str, str] | None = None


VISITS = [
    Visit(
        "A",
        "v1",
        -6,
        [
            ("10:00:00", "pageview", "/"),
            ("10:01:00", "pageview", "/pricing"),
            ("10:02:00", "signup", "/pricing"),
        ],
        120,
        "Google",
        "US",
        "Desktop",
        utm=("google", "cpc", "spring-sale", "privacy analytics", "ad-b"),
    ),
    # 23:30 local: in a UTC-5 zone that is the next UTC day, yet it belongs to day -6.
    Visit("B", "v2", -6, [("23:30:00", "pageview", "/")], 0, None, "CA", "Mobile"),
    Visit(
        "C",
        "v3",
        -2,
        [("23:30:00", "pageview", HOSTILE_PATH)],
        0,
        "news.ycombinator.com",
        "DE",
        "Desktop",
    ),
    Visit("D", "v4", -1, [("00:30:00", "pageview", "/")], 0, "Google", "US", "Mobile"),
    Visit(
        "E",
        "v5",
        0,
        [
            ("09:00:00", "pageview", "/"),
            ("09:00:30", "pageview", "/pricing"),
            ("09:01:00", "pageview", "/"),
        ],
        60,
        "Google",
        "US",
        "Desktop",
    ),
    # Outside a 7-day range: 23:59 local the day before it starts.
    Visit("F", "v6", -7, [("23:59:00", "pageview", "/old")], 0, "Google", "US", "Desktop"),
    # Another site's visit inside the range: must never leak into s1's numbers.
    Visit("G", "v7", 0, [("09:00:00", "pageview", "/")], 10, "Google", "US", "Desktop", site="s2"),
]

# Last 7 days (today-6 .. today) for site s1.
EXPECTED_7D = {
    "visitors": 5,
    "visits": 5,
    "pageviews": 8,
    "bounce_rate": 60,
    "visit_duration": 36,
}
EXPECTED_DAYS_7D = [(2, 3), (0, 0), (0, 0), (0, 0), (1, 1), (1, 1), (1, 3)]  # (visitors, pageviews)


def _ms(today: date, offset: int, clock: str, tz: ZoneInfo) -> int:
    day = today + timedelta(days=offset)
    local = datetime.combine(day, time.fromisoformat(clock), tzinfo=tz)
    return int(local.timestamp() * 1000)


def seed(
    path: Path, *, today: date, timezone: str, schema: Callable[[Path], Path] = apply_schema
) -> Path:
    """Apply the schema to ``path`` (``schema``: another way to make it, e.g. older migrations)
    and insert sites s1 (example.com) and s2 plus ``VISITS``."""
    schema(path)
    tz = ZoneInfo(timezone)
    conn = sqlite3.connect(path)
    with conn:
        for site_id, domain in (("s1", "example.com"), ("s2", "other.org")):
            conn.execute(
                "INSERT INTO sites (id, domain, name, domains, timezone, created_at) "
                "VALUES (?, ?, ?, ?, ?, 0)",
                (site_id, domain, domain, json.dumps([domain]), timezone),
            )
        for n, visit in enumerate(VISITS):
            stamps = [_ms(today, visit.day, clock, tz) for clock, _, _ in visit.events]
            pageviews = sum(1 for _, name, _ in visit.events if name == "pageview")
            for i, ((_, name, path_), ts) in enumerate(zip(visit.events, stamps, strict=True)):
                conn.execute(
                    "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                    "pathname, source, country, device, utm_source, utm_medium, utm_campaign, "
                    "utm_term, utm_content) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        f"e{n}-{i}",
                        visit.site,
                        ts,
                        name,
                        visit.visitor,
                        visit.session,
                        "example.com",
                        path_,
                        visit.source,
                        visit.country,
                        visit.device,
                        *(visit.utm or (None,) * 5),
                    ),
                )
            conn.execute(
                "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
                "entry_page, exit_page, pageviews, events, duration_ms, is_bounce, source, "
                "country, device, utm_source, utm_medium, utm_campaign, utm_term, utm_content) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    visit.session,
                    visit.site,
                    visit.visitor,
                    stamps[0],
                    stamps[-1],
                    "example.com",
                    visit.events[0][2],
                    visit.events[-1][2],
                    pageviews,
                    len(visit.events),
                    visit.duration_s * 1000,
                    int(pageviews == 1 and len(visit.events) == 1),
                    visit.source,
                    visit.country,
                    visit.device,
                    *(visit.utm or (None,) * 5),
                ),
            )
    conn.close()
    return path
