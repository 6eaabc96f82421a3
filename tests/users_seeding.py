"""Known identified visits for the Users view (opt-in identity, migration 0027): six users over
four weeks in Europe/Berlin, a user first seen before the period, a Monday-00:30 visit that UTC
would put in the week before, declared and undeclared traits (one hostile), and anonymous visits.

The expected numbers for the period 2026-02-16 (a Monday) .. 2026-03-11 are spelled out in
tests/test_users.py.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = "Europe/Berlin"
HOSTILE = '<img src=x onerror="alert(1)">'
FIRST, LAST = "2026-02-16", "2026-03-11"


def uid(name: str) -> str:
    """A user's id as the collector stores it: a hex keyed hash (here a plain SHA-256)."""
    return hashlib.sha256(name.encode()).hexdigest()


# user -> [(local "YYYY-MM-DD HH:MM", country, pageviews)]
VISITS: dict[str | None, list[tuple[str, str, int]]] = {
    "old": [("2026-01-10 12:00", "DE", 1), ("2026-02-17 12:00", "US", 2),
            ("2026-03-10 12:00", "DE", 1)],
    "a": [("2026-02-16 09:00", "US", 3), ("2026-02-24 09:00", "US", 1),
          ("2026-03-03 09:00", "US", 2)],
    "b": [("2026-02-18 10:00", "US", 1)],
    "c": [("2026-02-25 08:00", "US", 1), ("2026-02-25 20:00", "US", 4),
          ("2026-03-10 18:00", "DE", 1)],
    # Monday 00:30 in Berlin is Sunday 23:30 UTC: the week of 03-09 here.
    "d": [("2026-03-09 00:30", "US", 1)],
    "e": [("2026-03-04 11:00", "US", 1), ("2026-03-05 11:00", "US", 2)],
    None: [("2026-02-20 12:00", "US", 1), ("2026-03-01 12:00", "US", 1),
           ("2026-03-11 12:00", "US", 1)],
}
TRAITS = [("a", "plan", "pro"), ("a", "lang", "de"), ("a", "email", "a@example.com"),
          ("b", "plan", "free"), ("c", "plan", "pro"), ("d", "plan", HOSTILE),
          ("old", "plan", "pro")]


def seed_users(db: Path, *, site: str = "s1", traits: tuple[str, ...] = ("plan", "lang"),
               identity: bool = True, returning: bool = False) -> None:
    """Add the visits above to ``db`` (schema applied, site ``site`` present)."""
    zone = ZoneInfo(TZ)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sites SET identity_enabled = ?, identity_traits = ?, "
                     "returning_enabled = ?, timezone = ? WHERE id = ?",
                     (int(identity), json.dumps(list(traits)), int(returning), TZ, site))
        n = 0
        for user, visits in VISITS.items():
            for i, (when, country, pageviews) in enumerate(visits):
                n += 1
                # New vs returning as the tracker reports it: a user's first visit is new.
                back = None if not returning or user is None else int(i > 0)
                start = int(datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
                            .timestamp() * 1000)
                conn.execute(
                    "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, "
                    "hostname, entry_page, exit_page, pageviews, events, country, user_id, "
                    "is_returning) "
                    "VALUES (?, ?, ?, ?, ?, 'example.com', '/', '/', ?, ?, ?, ?, ?)",
                    (f"u-{n}", site, f"vis-{n}", start, start + 60_000, pageviews, pageviews,
                     country, uid(user) if user else None, back))
                for p in range(pageviews):
                    conn.execute(
                        "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, "
                        "hostname, pathname, country) VALUES (?, ?, ?, 'pageview', ?, ?, "
                        "'example.com', '/', ?)",
                        (f"ue-{n}-{p}", site, start + p, f"vis-{n}", f"u-{n}", country))
        conn.executemany("INSERT INTO user_traits (site, user_id, key, value, ts) "
                         "VALUES (?, ?, ?, ?, 1)",
                         [(site, uid(u), k, v) for u, k, v in TRAITS])
    conn.close()
