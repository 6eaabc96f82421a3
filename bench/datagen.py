"""Synthetic analytics data with realistic shapes, written straight into a SQLite file.

Visits are generated per local day (weekday and daily-cycle seasonality, slow growth), each with
a power-law landing page and source, a country / region / city, a device mix with matching
browsers, OSes and screens, a geometric number of pageviews (about 45 % bounce), engaged time
and scroll depth, and a few custom events. Rows go in with the real schema (schema.sql, so the
rollup triggers run too), then closed days are rolled up with the same statements the Worker's
cron runs. Ids have the shapes the Worker writes (15-character event and session ids, 11-character
visitor hashes, a 10-character site id), so the bytes on disk are the real ones.

    python -m bench.datagen /tmp/bench.sqlite --events 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# Ten lowercase letters and digits, as sites.add_site makes them.
SITE_ID = "b3nch7x2qk"
# The shape of the generated rows (ids, columns): cached datasets of another shape are made again.
SHAPE = 5
DOMAIN = "bench.example"
TIMEZONE = "Europe/Berlin"

_EVENT_COLUMNS = (
    "id, site_id, ts, name, visitor_id, session_id, hostname, pathname, referrer, source, "
    "channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content, country, region, city, "
    "device, browser, browser_version, os, os_version, screen, props, revenue, engaged_ms, "
    "scroll_depth, timezone"
)
_SESSION_COLUMNS = (
    "id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page, pageviews, "
    "events, duration_ms, is_bounce, referrer, source, channel, utm_source, utm_medium, "
    "utm_campaign, utm_term, utm_content, country, region, city, device, browser, "
    "browser_version, os, os_version, screen, timezone"
)


# The ids' alphabet and shapes of worker/src/ids.ts and worker/src/site-do/visitor-hash.ts.
ID_ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def _digits(value: int, count: int) -> str:
    return "".join(ID_ALPHABET[(value >> (6 * i)) & 63] for i in reversed(range(count)))


def _time_id(rng: random.Random, ts: int) -> str:
    """An event or session id for Unix-ms ``ts``: 8 characters of time, 7 random."""
    return _digits(ts, 8) + _digits(rng.getrandbits(42), 7)


def _visitor_hash(rng: random.Random) -> str:
    """A visitor hash: 11 characters of the ids' alphabet."""
    return _digits(rng.getrandbits(66), 11)


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (k**s) for k in range(1, n + 1)]


class _World:
    """The fixed vocabularies and their weights, drawn once per dataset."""

    def __init__(self, rng: random.Random) -> None:
        sections = ["blog", "docs", "pricing", "features", "guides", "changelog", "about", "jobs"]
        self.pages = ["/"] + [
            f"/{rng.choice(sections)}/{rng.randrange(10**6):06x}-{n}" for n in range(1999)
        ]
        self.page_w = _zipf_weights(len(self.pages))
        named = [("Google", "Organic Search"), ("Bing", "Organic Search"),
                 ("DuckDuckGo", "Organic Search"), ("Twitter", "Organic Social"),
                 ("Facebook", "Organic Social"), ("Reddit", "Organic Social"),
                 ("LinkedIn", "Organic Social"), ("news.ycombinator.com", "Referral"),
                 ("Newsletter", "Email"), ("ChatGPT", "AI Assistants")]
        named += [(f"site{n}.example", "Referral") for n in range(290)]
        self.sources: list[tuple[str | None, str]] = [(None, "Direct"), *named]
        self.source_w = [40.0] + [60 * w for w in _zipf_weights(len(named), 1.3)]
        self.countries = ["US", "DE", "GB", "FR", "IN", "CA", "NL", "BR", "JP", "ES", "IT",
                          "PL", "SE", "AU", "CH"] + [f"{chr(65 + a)}{chr(65 + b)}"
                                                     for a in range(20) for b in range(5)]
        self.country_w = _zipf_weights(len(self.countries), 1.2)
        self.devices = [("desktop", 55), ("mobile", 40), ("tablet", 5)]
        self.browsers = {
            "desktop": [("Chrome", "Windows", 50), ("Safari", "macOS", 20),
                        ("Firefox", "Windows", 12), ("Edge", "Windows", 10),
                        ("Chrome", "Linux", 8)],
            "mobile": [("Chrome", "Android", 50), ("Safari", "iOS", 45),
                       ("Samsung Internet", "Android", 5)],
            "tablet": [("Safari", "iOS", 70), ("Chrome", "Android", 30)],
        }
        self.screens = {"desktop": ["desktop", "laptop"], "mobile": ["mobile"],
                        "tablet": ["tablet"]}
        self.campaigns = ["spring_sale", "launch", "newsletter_42", "retargeting", "webinar"]
        self.hours_w = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 7, 7, 6, 6, 5, 4, 3, 2, 1]


def _sessions_for_day(
    rng: random.Random, world: _World, *, day: date, tz: ZoneInfo, visits: int
) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]]]]:
    base = int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)
    end_of_day = int(
        datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).timestamp()
        * 1000
    )
    hours = rng.choices(range(24), weights=world.hours_w, k=visits)
    entries = rng.choices(world.pages, weights=world.page_w, k=visits)
    sources = rng.choices(world.sources, weights=world.source_w, k=visits)
    countries = rng.choices(world.countries, weights=world.country_w, k=visits)
    visitors: list[str] = []
    for n in range(visits):
        # One visitor in five comes back the same day (same daily hash, a new visit).
        if visitors and rng.random() < 0.2:
            visitor = rng.choice(visitors)
        else:
            visitor = _visitor_hash(rng)
            visitors.append(visitor)
        device = rng.choices([d for d, _ in world.devices], [w for _, w in world.devices])[0]
        combos = world.browsers[device]
        browser, os_name, _w = rng.choices(combos, [w for *_, w in combos])[0]
        source, channel = sources[n]
        campaign = rng.choice(world.campaigns) if rng.random() < 0.08 else None
        country = countries[n]
        region = f"{country}-{rng.randrange(1, 6)}"
        city = f"{country} City {rng.randrange(1, 9)}"
        attribution = (
            f"https://{source.lower()}/" if source else None, source, channel,
            source.lower() if campaign and source else None, "cpc" if campaign else None,
            campaign, None, None, country, region, city, device, browser,
            str(rng.randrange(100, 130)), os_name, str(rng.randrange(10, 18)),
            rng.choice(world.screens[device]),
        )
        # Bounces: ~45 % of visits see one page; the rest a geometric number more.
        pageviews = 1
        if rng.random() > 0.45:
            pageviews = 2
            while rng.random() < 0.55 and pageviews < 30:
                pageviews += 1
        ts = base + hours[n] * 3_600_000 + rng.randrange(3_600_000)
        ts = min(ts, end_of_day - 60_000)
        sid = _time_id(rng, ts)
        path = entries[n]
        events: list[tuple[object, ...]] = []
        started, engaged_total = ts, 0
        interacted = False
        for _ in range(pageviews):
            engaged = int(rng.expovariate(1 / 40_000)) if rng.random() < 0.85 else None
            scroll = rng.randrange(10, 101) if engaged is not None else None
            events.append((_time_id(rng, ts), SITE_ID, ts, "pageview", visitor, sid, DOMAIN, path,
                           *attribution[:2], attribution[2], *attribution[3:], None, None,
                           engaged, scroll, "Europe/Berlin"))
            engaged_total += engaged or 0
            if rng.random() < 0.03:
                interacted = True
                props = json.dumps({"plan": rng.choice(["free", "pro", "team"])})
                at = ts + 5_000
                events.append((_time_id(rng, at), SITE_ID, at, "Signup", visitor, sid, DOMAIN,
                               path, *attribution, props, None, None, None, "Europe/Berlin"))
            ts += rng.randrange(5_000, 240_000)
            path = rng.choices(world.pages, weights=world.page_w)[0]
        last = events[-1][2]
        assert isinstance(last, int)
        # Most one-page visits leave quickly; the engaged ones (10 s or more) are not bounces.
        quick = engaged_total < 10_000 or rng.random() < 0.7
        bounce = int(pageviews == 1 and not interacted and quick)
        if bounce:
            engaged_total = min(engaged_total, 9_000)
        session = (sid, SITE_ID, visitor, started, last, DOMAIN, events[0][7],
                   events[-1][7], pageviews, len(events), last - started + engaged_total // 4,
                   bounce, *attribution, "Europe/Berlin")
        yield session, events


def generate(path: Path, *, events: int, today: date, days: int = 366, seed: int = 941,
             rollups: bool = True) -> dict[str, float]:
    """Write about ``events`` events over the ``days`` days ending ``today`` into a new file,
    and roll up the days closed by ``today``'s 02:00."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    world = _World(rng)
    tz = ZoneInfo(TIMEZONE)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
    conn.executescript((ROOT / "schema.sql").read_text())
    first = today - timedelta(days=days - 1)
    created = int(datetime(first.year, first.month, first.day, tzinfo=tz).timestamp() * 1000)
    conn.execute(
        "INSERT INTO sites (id, domain, name, domains, timezone, created_at) "
        "VALUES (?, ?, 'Bench', ?, ?, ?)",
        (SITE_ID, DOMAIN, json.dumps([DOMAIN]), TIMEZONE, created),
    )
    # ~2.3 events per visit; weekday traffic 30 % above weekends, +50 % growth over the period.
    weights = [(1.3 if (first + timedelta(days=d)).weekday() < 5 else 1.0) * (1 + 0.5 * d / days)
               for d in range(days)]
    scale = events / 2.3 / sum(weights)
    started = time.perf_counter()
    total_events = 0
    for d in range(days):
        day = first + timedelta(days=d)
        visits = max(1, int(weights[d] * scale))
        sessions, rows = [], []
        for session, evs in _sessions_for_day(rng, world, day=day, tz=tz,
                                              visits=visits):
            sessions.append(session)
            rows.extend(evs)
        # In time order, as the collector writes them: time-ordered keys append to the B-trees.
        rows.sort(key=lambda row: (row[2], row[0]))
        sessions.sort(key=lambda row: (row[3], row[0]))
        conn.executemany(f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES "
                         f"({', '.join('?' * 30)})", rows)
        conn.executemany(f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES "
                         f"({', '.join('?' * 30)})", sessions)
        total_events += len(rows)
    conn.commit()
    conn.close()
    figures = {"events": float(total_events), "load_s": time.perf_counter() - started}
    if rollups:
        started = time.perf_counter()
        asyncio.run(_rollup_all(path, today=today, tz=tz))
        figures["rollup_s"] = time.perf_counter() - started
    return figures


async def _rollup_all(path: Path, *, today: date, tz: ZoneInfo) -> None:
    now = datetime.combine(today, datetime.min.time(), tzinfo=tz) + timedelta(hours=2)
    await drain_rollups(path, now_ms=int(now.astimezone(UTC).timestamp() * 1000))


async def drain_rollups(path: Path, *, now_ms: int) -> tuple[int, int]:
    """Run the cron's rollup steps until nothing is left: the days, then the months of the
    rollups per frequent filter value, then the pruning of old days' rows per filter value, then
    the table rebuilds a migration started. Returns (days, months) computed."""
    from analytics_941 import SqliteStore
    from analytics_941.rebuilds import rebuild_tables
    from analytics_941.rollups.frequent import refresh_frequent_months
    from analytics_941.rollups.jobs import refresh_rollups
    from analytics_941.rollups.journeys import refresh_journey_rollups
    from analytics_941.rollups.prune import prune_days

    store = SqliteStore(path=path)
    days = months = 0
    while done := await refresh_rollups(store, now_ms=now_ms, max_days=400, max_months=0):
        days += len(done)
    while done_months := await refresh_frequent_months(store, now_ms=now_ms):
        months += len(done_months)
    # A run takes a bounded number of days' journey rows: all of them here (migration 0033).
    while await refresh_journey_rollups(store):
        pass
    while await prune_days(store, now_ms=now_ms):
        pass
    while await rebuild_tables(store, now_ms=now_ms):
        pass
    return days, months


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 7, 15),
                        help="the last day of data (fixed, so two runs write the same file)")
    args = parser.parse_args()
    print(generate(args.path, events=args.events, days=args.days, today=args.today))


if __name__ == "__main__":
    main()
