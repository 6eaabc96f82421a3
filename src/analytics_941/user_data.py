"""Erasure and access requests of an identified user (issue 17, docs/privacy.md).

D1 knows an identified user only by ``sessions.user_id`` / ``user_traits.user_id``: the keyed
hash of the id the site passed to ``identify()`` (``worker/src/site-do/user-hash.ts``). The
caller gets that hash from the collector (``user_hash_client``); this module finds the user's
visits by it and

* ``export_user``: returns their sessions, events, web vitals and traits (nobody else's rows);
* ``erase_user``: first has the site's Durable Object forget the user's live visits and rows
  still waiting for a flush (``forget``, the collector's ``/api/users/:site/forget``), so no
  flush writes them back afterwards; then deletes the rows, a bounded batch of visits at a
  time, each batch one transaction that also takes the visits' days out of the rollups (as a
  late row's trigger does: readers read those days raw, so the numbers are right at once), then
  recomputes every affected closed day with the cron's own statements
  (``rollups.days.rollup_day``). A day still open is left dirty for the cron, which computes it
  when it closes.

The plain id is never stored or logged: the audit log keeps the hash's first characters.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from .exceptions import AnalyticsError
from .periods import bounds_ms
from .rollups.days import GRACE_MS, SLOT_MS, rollup_day
from .sites import Site
from .store import Param, Row, Statement, Store

__all__ = [
    "MAX_USER_ID_LENGTH",
    "SESSIONS_PER_BATCH",
    "Erasure",
    "Forget",
    "UserIdRefused",
    "check_user_id",
    "checked_hash",
    "count_user",
    "erase_user",
    "export_user",
    "hash_prefix",
]

# The twin of MAX_USER_ID_LENGTH in user-hash.ts, in UTF-16 code units as JavaScript counts.
MAX_USER_ID_LENGTH = 256
# Visits per batch: the statements carry them as one JSON parameter, each a few dozen bytes.
SESSIONS_PER_BATCH = 100
_HASH = frozenset("0123456789abcdef")


class UserIdRefused(AnalyticsError):
    """An id that cannot be an ``identify()`` id (the collector would have refused it)."""


def check_user_id(user_id: str) -> str:
    """``user_id`` unchanged if the collector accepts it as an ``identify()`` id (the rules of
    ``userIdProblem`` in user-hash.ts); ``UserIdRefused`` with the reason otherwise."""
    units = len(user_id.encode("utf-16-le", "surrogatepass")) // 2
    if not user_id:
        raise UserIdRefused("the user id is empty")
    if units > MAX_USER_ID_LENGTH:
        raise UserIdRefused(f"the user id is longer than {MAX_USER_ID_LENGTH} characters")
    # A lone surrogate (an undecodable byte of a command line arrives as one) has no UTF-8.
    if any(0xD800 <= ord(c) <= 0xDFFF for c in user_id):
        raise UserIdRefused("the user id is not valid Unicode (a lone surrogate)")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in user_id):
        raise UserIdRefused("the user id holds a control character")
    return user_id


def hash_prefix(user_hash: str) -> str:
    """What the audit log and pages show of a user hash: enough to tell requests apart."""
    return user_hash[:12]


def checked_hash(user_hash: str) -> str:
    """``user_hash`` if it has a user hash's shape (64 lowercase hex), else ``UserIdRefused``."""
    if len(user_hash) != 64 or not set(user_hash) <= _HASH:
        raise UserIdRefused("a user hash is 64 hexadecimal characters")
    return user_hash


# The user's visits of one batch: JSON [[session id, started_at, ended_at], …] as ?2, the site
# as ?1. A visit's events lie between its start and end, so they are found by a range of the
# events primary key per visit, then by session id (events have no index on the session).
# CROSS JOIN keeps the visits outside and NOT INDEXED the primary key inside: left to itself,
# SQLite reads the site's whole events_path index instead.
_VISITS = (
    "SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS a, "
    "json_extract(value, '$[2]') AS b FROM json_each(?2)"
)
_OF_VISITS = (
    "FROM json_each(?2) AS v CROSS JOIN events AS e NOT INDEXED "
    "ON e.site_id = ?1 AND e.ts >= json_extract(v.value, '$[1]') "
    "AND e.ts <= json_extract(v.value, '$[2]') AND e.session_id = json_extract(v.value, '$[0]')"
)
_EVENTS_OF = f"SELECT e.ts, e.id {_OF_VISITS}"
_PATHS_OF = f"SELECT DISTINCT e.pathname {_OF_VISITS}"
_VISIT_IDS = "SELECT json_extract(value, '$[0]') FROM json_each(?2)"
# Whether any other visit's event names the path (through events_path, which holds the visit).
_VIEWED_ELSEWHERE = (
    "EXISTS (SELECT 1 FROM events AS o WHERE o.site_id = ?1 AND o.pathname = {} "
    f"AND o.session_id NOT IN ({_VISIT_IDS}))"
)


def _erase_statements(site_id: str, visits: list[Row], user_hash: str) -> list[Statement]:
    """One batch of visits out, in one transaction: their days marked dirty and unlisted first
    (what the triggers do for a late row), then web vitals, events and the sessions."""
    chunk = json.dumps([[v["id"], v["started_at"], v["ended_at"]] for v in visits])
    both: list[Param] = [site_id, chunk]
    return [
        (
            "INSERT OR IGNORE INTO rollup_dirty (site_id, slot) "
            f"SELECT ?1, ts / {SLOT_MS} FROM ({_EVENTS_OF}) "
            f"UNION SELECT ?1, a / {SLOT_MS} FROM ({_VISITS})",
            both,
        ),
        # Goal and journey rollups go with their days (first: they are found through
        # rollup_days). Their readers already skip a listing older than the day's, but not one
        # of the same ms.
        (
            "DELETE FROM goal_rollup_days WHERE site_id = ?1 AND day IN (SELECT day FROM "
            f"rollup_days WHERE site_id = ?1 AND EXISTS (SELECT 1 FROM ({_VISITS}) "
            "WHERE start_ms <= b AND end_ms > a))",
            both,
        ),
        (
            "DELETE FROM journey_rollup_days WHERE site_id = ?1 AND day IN (SELECT day FROM "
            f"rollup_days WHERE site_id = ?1 AND EXISTS (SELECT 1 FROM ({_VISITS}) "
            "WHERE start_ms <= b AND end_ms > a))",
            both,
        ),
        (
            f"DELETE FROM rollup_days WHERE site_id = ?1 AND EXISTS (SELECT 1 FROM ({_VISITS}) "
            "WHERE start_ms <= b AND end_ms > a)",
            both,
        ),
        # A path only these visits viewed must not outlive them: its latest title goes, and
        # its journey page number keeps its id (old journey rows name it) without its path.
        (
            "DELETE FROM page_titles WHERE site = ?1 AND path IN "
            f"(SELECT pathname FROM ({_PATHS_OF})) "
            f"AND NOT {_VIEWED_ELSEWHERE.format('page_titles.path')}",
            both,
        ),
        (
            "UPDATE journey_pages SET pathname = '(erased ' || id || ')' WHERE site_id = ?1 "
            f"AND pathname IN (SELECT pathname FROM ({_PATHS_OF})) "
            f"AND NOT {_VIEWED_ELSEWHERE.format('journey_pages.pathname')}",
            both,
        ),
        (f"DELETE FROM web_vitals WHERE site_id = ?1 AND (ts, event_id) IN ({_EVENTS_OF})", both),
        (f"DELETE FROM events WHERE site_id = ?1 AND (ts, id) IN ({_EVENTS_OF})", both),
        (
            "DELETE FROM sessions WHERE site_id = ?1 AND user_id = ?3 "
            f"AND id IN ({_VISIT_IDS})",
            [*both, user_hash],
        ),
    ]


async def _visits(store: Store, site_id: str, user_hash: str, *, columns: str = "id, "
                  "started_at, ended_at") -> list[Row]:
    return await store.execute(
        f"SELECT {columns} FROM sessions WHERE site_id = ? AND user_id = ? "
        "ORDER BY started_at, id",
        [site_id, user_hash],
    )


async def count_user(store: Store, *, site: Site, user_hash: str,
                     home: Store | None = None) -> tuple[int, int]:
    """How many visits and traits of ``user_hash`` the site holds (what an erasure would take)."""
    user_hash = checked_hash(user_hash)
    visits = await store.execute("SELECT COUNT(*) AS n FROM sessions WHERE site_id = ? AND "
                                 "user_id = ?", [site.id, user_hash])
    traits = 0
    for target in (store,) if home is None or home is store else (store, home):
        rows = await target.execute("SELECT COUNT(*) AS n FROM user_traits WHERE site = ? AND "
                                    "user_id = ?", [site.id, user_hash])
        traits += int(rows[0]["n"])
    return int(visits[0]["n"]), traits


class Forgot(Protocol):
    """What the collector's Durable Object forgot (``user_hash_client.Forgotten``)."""

    @property
    def sessions(self) -> int: ...


# An erasure's first step: the site's DO drops the user's live visits and waiting rows.
Forget = Callable[[str], Awaitable[Forgot]]


@dataclass(frozen=True, kw_only=True)
class Erasure:
    """What ``erase_user`` deleted and recomputed."""

    user: str
    sessions: int = 0
    events: int = 0
    traits: int = 0
    days: tuple[str, ...] = ()
    recomputed: tuple[str, ...] = ()
    left_to_cron: tuple[str, ...] = ()
    # Visits still going on that the collector dropped before the deletion.
    live_sessions: int = 0
    # Why the collector could not be asked to (None: it was, or no one asked it).
    collector_error: str | None = None

    def detail(self) -> dict[str, Any]:
        """The audit log's record of it (the hash prefix, never the id)."""
        detail: dict[str, Any] = {
            "user": hash_prefix(self.user), "sessions": self.sessions, "events": self.events,
            "traits": self.traits, "days": list(self.days), "live_sessions": self.live_sessions}
        if self.collector_error is not None:
            detail["collector_error"] = self.collector_error
        return detail

    def warning(self) -> str | None:
        """What to tell the person erasing when the collector could not be asked."""
        if self.collector_error is None:
            return None
        return (f"{self.collector_error} A visit of this user still going on, or rows waiting "
                "in the collector, may be stored again: run the erasure again later.")


async def erase_user(store: Store, *, site: Site, user_hash: str, now_ms: int,
                     home: Store | None = None, recompute_limit: int | None = None,
                     forget: Forget | None = None) -> Erasure:
    """Delete every visit, event, web vitals row and trait of ``user_hash`` on ``site`` from
    ``store`` (the site's data database; traits from ``home`` too when it is another), then
    recompute the rollups of the affected days that have closed: the latest
    ``recompute_limit`` of them (None: all). A day is about a second's work at 5,000 events a
    day, so a web request bounds it; the rest stay dirty for the cron and are read raw until
    then, with the right numbers either way.

    ``forget`` (the collector's, ``UserHashClient.forget``) runs first, so nothing the
    collector still holds of the user is written to D1 after the deletion. When it fails the
    rows are deleted all the same, and ``Erasure.collector_error`` says why."""
    user_hash = checked_hash(user_hash)
    live, problem = 0, None
    if forget is not None:
        try:
            live = (await forget(user_hash)).sessions
        except AnalyticsError as exc:
            problem = str(exc)
    tz = ZoneInfo(site.timezone)
    visits = await _visits(store, site.id, user_hash)
    events = 0
    days: set[date] = set()
    for at in range(0, len(visits), SESSIONS_PER_BATCH):
        chunk = visits[at : at + SESSIONS_PER_BATCH]
        spans = json.dumps([[v["id"], v["started_at"], v["ended_at"]] for v in chunk])
        # Every event's time and every visit's start: the days whose numbers change.
        stamps = await store.execute(
            f"SELECT ts, 1 AS event FROM ({_EVENTS_OF}) UNION ALL SELECT a, 0 FROM ({_VISITS})",
            [site.id, spans])
        days |= {datetime.fromtimestamp(int(r["ts"]) / 1000, tz).date() for r in stamps}
        events += sum(int(r["event"]) for r in stamps)
        await store.batch(_erase_statements(site.id, chunk, user_hash))
    traits = 0
    for target in (store,) if home is None or home is store else (store, home):
        rows = await target.execute(
            "DELETE FROM user_traits WHERE site = ? AND user_id = ? RETURNING key",
            [site.id, user_hash])
        traits += len(rows)
    closed = [d for d in sorted(days) if bounds_ms(d, d, tz=tz)[1] + GRACE_MS <= now_ms]
    chosen = closed if recompute_limit is None else closed[len(closed) - recompute_limit :]
    for day in chosen:
        await rollup_day(store, site_id=site.id, day=day, tz=tz, now_ms=now_ms)
    recomputed = [d.isoformat() for d in chosen]
    waiting = [d.isoformat() for d in sorted(days) if d not in chosen]
    return Erasure(user=user_hash, sessions=len(visits), events=events, traits=traits,
                   days=tuple(sorted(d.isoformat() for d in days)),
                   recomputed=tuple(recomputed), left_to_cron=tuple(waiting),
                   live_sessions=live, collector_error=problem)


async def export_user(store: Store, *, site: Site, user_hash: str,
                      home: Store | None = None) -> dict[str, Any]:
    """The rows of ``user_hash`` on ``site`` as one JSON-ready object: its visits (every
    column), their events and web vitals, and its traits."""
    user_hash = checked_hash(user_hash)
    sessions = await _visits(store, site.id, user_hash, columns="*")
    events: list[Row] = []
    vitals: list[Row] = []
    for at in range(0, len(sessions), SESSIONS_PER_BATCH):
        chunk = sessions[at : at + SESSIONS_PER_BATCH]
        spans: list[Param] = [site.id, json.dumps([[s["id"], s["started_at"], s["ended_at"]]
                                                   for s in chunk])]
        found, measured = await store.batch([
            (f"SELECT e.* FROM ({_EVENTS_OF}) AS k JOIN events AS e ON e.site_id = ?1 "
             "AND e.ts = k.ts AND e.id = k.id ORDER BY e.ts, e.id", spans),
            (f"SELECT w.* FROM ({_EVENTS_OF}) AS k JOIN web_vitals AS w ON w.site_id = ?1 "
             "AND w.ts = k.ts AND w.event_id = k.id ORDER BY w.ts, w.event_id", spans),
        ])
        events += found
        vitals += measured
    traits: dict[str, Row] = {}
    for source in (store,) if home is None or home is store else (home, store):
        for row in await source.execute(
            "SELECT key, value, ts FROM user_traits WHERE site = ? AND user_id = ? ORDER BY key",
            [site.id, user_hash],
        ):
            traits[str(row["key"])] = row
    return {
        "site": site.domain,
        "user_id": user_hash,
        "sessions": sessions,
        "events": events,
        "web_vitals": vitals,
        "traits": sorted(traits.values(), key=lambda row: str(row["key"])),
    }
