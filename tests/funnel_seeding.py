"""Seeded data for funnel tests: ``goal_seeding.seed_goal_data`` plus visits through a shop
(``/shop`` → ``/cart`` → ``/checkout/*`` → the ``Purchase`` event), none of whose pages the
other seeds use. The funnel of those four steps, over the last 7 days, reads:

=====  ========  ================================  ==========================
step   visitors  visits                            median time to next step
=====  ========  ================================  ==========================
1      5         K, L, M, N, P                     120 s (K 120, L 60, P 240)
2      3         K, L, P                           150 s (K 180, L 120)
3      2         K, L                              60 s (K)
4      1         K                                 —
=====  ========  ================================  ==========================

M sees /cart before /shop (out of order); N sees /shop only, and its visitor goes on to the
cart, checkout and a purchase in a later visit O, which counts for nothing (no /shop in it); L
sees /checkout/pay/x first (two segments: not ``/checkout/*``); P goes /shop, /cart, /shop,
/cart (the first /cart after the first /shop counts). R is in the previous 7 days.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from goal_seeding import seed_goal_data
from seeding import _ms

FUNNEL_STEPS = ["page:/shop", "page:/cart", "page:/checkout/*", "goal:Purchase"]
# (session, visitor, day offset, source, device, [(clock, name, pathname)])
FUNNEL_VISITS = [
    ("K", "v20", -1, "Twitter", "Desktop", [
        ("10:00:00", "pageview", "/shop"), ("10:01:00", "pageview", "/about"),
        ("10:02:00", "pageview", "/cart"), ("10:05:00", "pageview", "/checkout/pay"),
        ("10:06:00", "Purchase", "/checkout/pay"),
    ]),
    ("L", "v21", -1, "Google", "Mobile", [
        ("09:00:00", "pageview", "/shop"), ("09:01:00", "pageview", "/cart"),
        ("09:02:00", "pageview", "/checkout/pay/x"), ("09:03:00", "pageview", "/checkout/pay"),
    ]),
    ("M", "v22", -2, "Google", "Desktop", [
        ("08:00:00", "pageview", "/cart"), ("08:01:00", "pageview", "/shop"),
    ]),
    ("N", "v23", -2, "Twitter", "Desktop", [("14:00:00", "pageview", "/shop")]),
    ("O", "v23", -2, "Twitter", "Desktop", [
        ("16:00:00", "pageview", "/cart"), ("16:01:00", "pageview", "/checkout/pay"),
        ("16:02:00", "Purchase", "/checkout/pay"),
    ]),
    ("P", "v24", -3, "Twitter", "Mobile", [
        ("11:00:00", "pageview", "/shop"), ("11:04:00", "pageview", "/cart"),
        ("11:05:00", "pageview", "/shop"), ("11:06:00", "pageview", "/cart"),
    ]),
    ("R", "v25", -10, "Google", "Desktop", [
        ("11:00:00", "pageview", "/shop"), ("11:00:30", "pageview", "/cart"),
    ]),
]


def seed_funnel_data(path: Path, *, today: date, timezone: str) -> Path:
    """``seed_goal_data`` then ``FUNNEL_VISITS`` (events and their sessions) for site s1."""
    seed_goal_data(path, today=today, timezone=timezone)
    tz = ZoneInfo(timezone)
    conn = sqlite3.connect(path)
    with conn:
        for session, visitor, day, source, device, events in FUNNEL_VISITS:
            stamps = [_ms(today, day, clock, tz) for clock, *_ in events]
            for i, ((_, name, pathname), ts) in enumerate(zip(events, stamps, strict=True)):
                conn.execute(
                    "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                    "pathname, source, country, device, props) "
                    "VALUES (?, 's1', ?, ?, ?, ?, 'example.com', ?, ?, 'US', ?, ?)",
                    (f"f{session}-{i}", ts, name, visitor, session, pathname, source, device,
                     json.dumps({"total": "10"}) if name == "Purchase" else None),
                )
            views = sum(1 for e in events if e[1] == "pageview")
            conn.execute(
                "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
                "entry_page, exit_page, pageviews, events, duration_ms, is_bounce, source, "
                "country, device) VALUES (?, 's1', ?, ?, ?, 'example.com', ?, ?, ?, ?, ?, ?, ?, "
                "'US', ?)",
                (session, visitor, stamps[0], stamps[-1], events[0][2], events[-1][2], views,
                 len(events), stamps[-1] - stamps[0], int(len(events) == 1), source, device),
            )
    conn.close()
    return path


# The random visits' pages: two-segment and deeper paths for the wildcards.
RANDOM_PAGES = ["/", "/shop", "/cart", "/checkout/pay", "/checkout/pay/x", "/docs/a", "/docs/a/b",
                "/about"]
VISITS = 1500


def _events(rng: random.Random, start: int) -> list[tuple[int, str, str, str | None]]:
    """One visit's events: (ts, name, pathname, props)."""
    out: list[tuple[int, str, str, str | None]] = []
    ts = start
    for _ in range(rng.randint(1, 12)):
        ts += rng.choice([0, 0, 1, 500, 60_000, 240_000])  # 0: the same millisecond
        page = rng.choice(RANDOM_PAGES[:6] if rng.random() < 0.8 else RANDOM_PAGES)
        roll = rng.random()
        if roll < 0.12:
            out.append((ts, "Purchase", page, json.dumps({"total": "10"})))
        elif roll < 0.2:
            plan = rng.choice(["pro", "free"])
            out.append((ts, "Signup", page, json.dumps({"plan": plan})))
        else:
            out.append((ts, "pageview", page, None))
    return out


def seed_random_visits(path: Path, period: tuple[int, int]) -> None:
    """VISITS random visits of site s1 over ``period`` (ids ``z…``): the tricky cases of
    test_funnels_oracle.py's docstring, many times over."""
    rng = random.Random(941)  # noqa: S311 - a fixed draw of test data, not a secret
    start, end = period
    conn = sqlite3.connect(path)
    with conn:
        for n in range(VISITS):
            visitor = f"zv{rng.randint(0, VISITS // 3)}"  # some visitors come back
            source = rng.choice(["Google", "Twitter", None])
            # Some visits begin an hour before the period: their earlier events do not count.
            begin = rng.randint(start - 3_600_000, end - 3_600_000)
            events = _events(rng, begin)
            for i, (ts, name, page, props) in enumerate(events):
                conn.execute(
                    "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                    "pathname, source, props) VALUES (?, 's1', ?, ?, ?, ?, 'example.com', ?, ?, ?)",
                    (f"z{n}-{i}", ts, name, visitor, f"z{n}", page, source, props))
            conn.execute(
                "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
                "entry_page, exit_page, source) VALUES (?, 's1', ?, ?, ?, 'example.com', ?, ?, ?)",
                (f"z{n}", visitor, events[0][0], events[-1][0], events[0][2], events[-1][2],
                 source))
    conn.close()
