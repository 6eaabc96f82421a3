"""Seeded data for revenue and ecommerce tests: ``seeding.seed`` plus six shop visits on site s1
sending ``Product view``, ``Add to cart``, ``Begin checkout`` and ``Purchase`` with a ``product``
prop, purchases in EUR and one in USD.

Last 7 days then hold 11 visitors (v1..v5 from ``seeding``, v11..v16 here). Expected numbers:

- purchases 3 (K, M, N), 3 purchasing visitors; EUR revenue 50.50 (20 + 30.50), average 25.25;
  USD 15.00 apart (N);
- visits with an add to cart 5 (K, L, M, N, P), 2 without a purchase (L, P): abandonment 40 %;
- checkout steps: product view 6, add to cart 5, begin checkout 4, purchase 3;
- products: Mug 2 views, 2 adds, 1 purchase, €20; Tee 2, 2, 2, €30.50 + $15; Cap 2, 1, 0;
- time to purchase within the visit: 360 s, 600 s, 180 s: median 360 s.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from seeding import _ms, seed

PV, ADD, CHECKOUT, BUY = "Product view", "Add to cart", "Begin checkout", "Purchase"
# (session, visitor, day offset, source, [(clock, name, pathname, product, (amount, currency))])
SHOP_VISITS = [
    ("K", "v11", -3, "Google", [
        ("09:00:00", "pageview", "/shop", None, None),
        ("09:01:00", PV, "/shop/mug", "Mug", None),
        ("09:02:00", ADD, "/shop/mug", "Mug", None),
        ("09:04:00", CHECKOUT, "/checkout", None, None),
        ("09:06:00", BUY, "/checkout", "Mug", (20, "EUR")),
    ]),
    ("L", "v12", -3, "Twitter", [
        ("10:00:00", "pageview", "/shop", None, None),
        ("10:01:00", PV, "/shop/mug", "Mug", None),
        ("10:03:00", ADD, "/shop/mug", "Mug", None),
    ]),
    ("M", "v13", -2, "Google", [
        ("10:00:00", "pageview", "/shop", None, None),
        ("10:02:00", PV, "/shop/tee", "Tee", None),
        ("10:03:00", ADD, "/shop/tee", "Tee", None),
        ("10:05:00", CHECKOUT, "/checkout", None, None),
        ("10:10:00", BUY, "/checkout", "Tee", (30.5, "EUR")),
    ]),
    ("N", "v14", -2, None, [
        ("11:00:00", PV, "/shop/tee", "Tee", None),
        ("11:01:00", ADD, "/shop/tee", "Tee", None),
        ("11:02:00", CHECKOUT, "/checkout", None, None),
        ("11:03:00", BUY, "/checkout", "Tee", (15, "USD")),
    ]),
    ("O", "v15", -1, "Twitter", [("12:00:00", PV, "/shop/cap", "Cap", None)]),
    ("P", "v16", -1, "Google", [
        ("13:00:00", PV, "/shop/cap", "Cap", None),
        ("13:01:00", ADD, "/shop/cap", "Cap", None),
        ("13:02:00", CHECKOUT, "/checkout", None, None),
    ]),
]
VISITORS_7D = 11


def seed_shop_data(path: Path, *, today: date, timezone: str) -> Path:
    """``seeding.seed`` then ``SHOP_VISITS`` (events and their sessions) for site s1."""
    seed(path, today=today, timezone=timezone)
    tz = ZoneInfo(timezone)
    conn = sqlite3.connect(path)
    with conn:
        for session, visitor, day, source, events in SHOP_VISITS:
            stamps = [_ms(today, day, clock, tz) for clock, *_ in events]
            for i, ((_, name, pathname, product, money), ts) in enumerate(
                zip(events, stamps, strict=True)
            ):
                amount, currency = money or (None, None)
                conn.execute(
                    "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                    "pathname, source, country, device, props, revenue, revenue_currency) "
                    "VALUES (?, 's1', ?, ?, ?, ?, 'example.com', ?, ?, 'DE', 'Desktop', ?, ?, ?)",
                    (f"shop{session}-{i}", ts, name, visitor, session, pathname, source,
                     json.dumps({"product": product}) if product else None, amount, currency),
                )
            views = sum(1 for e in events if e[1] == "pageview")
            conn.execute(
                "INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, "
                "entry_page, exit_page, pageviews, events, duration_ms, is_bounce, source, "
                "country, device) VALUES (?, 's1', ?, ?, ?, 'example.com', ?, ?, ?, ?, ?, 0, ?, "
                "'DE', 'Desktop')",
                (session, visitor, stamps[0], stamps[-1], events[0][2], events[-1][2], views,
                 len(events), stamps[-1] - stamps[0], source),
            )
    conn.close()
    return path
