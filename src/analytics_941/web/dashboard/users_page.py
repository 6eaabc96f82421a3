"""The Users page: what opt-in identity and new-vs-returning visitors show (docs/users.md).

Identified users, returning users, retention by week cohort, the declared traits and the users
with the most visits come from ``sql.users`` (raw sessions: cross-day facts no daily rollup
holds); new vs returning *visits* come through the one query path (``visit:returning``), so the
page and the dashboard's Returning tab agree. A user is shown by the first characters of the
keyed hash of their id, never the whole hash; trait values are visitor-controlled text, shown
escaped like paths.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...cache import cache_for
from ...resolve import resolve_filters
from ...runner import run_queries
from ...sites import Site
from ...sql.users import cohort_weeks, retention_sql, summary_sql, top_users_sql, traits_sql
from ...store import Row, Store
from .state import DashboardState

__all__ = ["Cohort", "TopUser", "TraitValues", "UsersPage", "load_users_page", "short_id"]

SHORT_ID = 8
HEAT_LEVELS = 5


def short_id(user_id: str) -> str:
    """The first characters of a user's keyed hash: enough to tell the top users apart."""
    return f"{user_id[:SHORT_ID]}…" if len(user_id) > SHORT_ID else user_id


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _heat(percent: float) -> int:
    """A cell's shade, 0 (none) to HEAT_LEVELS (all of the cohort)."""
    return 0 if percent <= 0 else min(HEAT_LEVELS, 1 + int(percent * HEAT_LEVELS / 100.0001))


@dataclass(frozen=True, kw_only=True)
class Cohort:
    """The users first seen in the week starting ``week``: how many, and per week after it
    (0 = that week) the share and number who visited; None past the period's end."""

    week: str
    users: int
    cells: list[tuple[float, int, int] | None]  # (percent, users, heat level)


@dataclass(frozen=True, kw_only=True)
class TraitValues:
    """One declared trait among the period's identified users: its commonest values."""

    key: str
    values: list[tuple[str, int, float]]  # (value, users, percent of identified users)
    not_set: int


@dataclass(frozen=True, kw_only=True)
class TopUser:
    short: str
    visits: int
    pageviews: int
    first_seen: str
    last_seen: str
    traits: list[tuple[str, str]]


@dataclass(kw_only=True)
class UsersPage:
    """What the Users page shows; ``identity``/``returning`` say which switches are on."""

    identity: bool
    returning: bool
    visits: int = 0
    identified_visits: int = 0
    users: int = 0
    new_users: int = 0
    returning_users: int = 0
    weeks: int = 0
    cohorts: list[Cohort] = field(default_factory=list)
    traits: list[TraitValues] = field(default_factory=list)
    top: list[TopUser] = field(default_factory=list)
    # New vs returning visits (the query path): label -> (visitors, visits).
    split: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def identified_share(self) -> float | None:
        return _share(self.identified_visits, self.visits)

    @property
    def returning_share(self) -> float | None:
        """Returning users among identified users."""
        return _share(self.returning_users, self.users)

    @property
    def returning_visits_share(self) -> float | None:
        """Returning visits among the visits known to be new or returning."""
        new, back = self.split.get("New", (0, 0))[1], self.split.get("Returning", (0, 0))[1]
        return _share(back, new + back)

    def as_json(self) -> dict[str, Any]:
        """The page as the JSON endpoint answers it (shortened ids, as shown)."""
        data = asdict(self)
        data |= {"identified_share": self.identified_share,
                 "returning_share": self.returning_share,
                 "returning_visits_share": self.returning_visits_share}
        return data


def _day(ms: Any, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(int(ms) / 1000, UTC).astimezone(tz).date().isoformat()


def _cohorts(rows: list[Row], weeks: list[tuple[date, date]]) -> list[Cohort]:
    sizes = {int(r["cohort"]): int(r["users"]) for r in rows if int(r["k"]) == -1}
    seen = {(int(r["cohort"]), int(r["k"])): int(r["users"]) for r in rows if int(r["k"]) >= 0}
    cohorts = []
    for index, size in sorted(sizes.items()):
        cells: list[tuple[float, int, int] | None] = []
        for k in range(len(weeks)):
            if index + k >= len(weeks):
                cells.append(None)
                continue
            users = seen.get((index, k), 0)
            percent = round(100 * users / size, 1)
            cells.append((percent, users, _heat(percent)))
        cohorts.append(Cohort(week=weeks[index][0].isoformat(), users=size, cells=cells))
    return cohorts


def _traits(rows: list[Row], keys: tuple[str, ...], users: int) -> list[TraitValues]:
    found: dict[str, list[Row]] = {}
    for r in rows:
        found.setdefault(str(r["key"]), []).append(r)
    result = []
    for key in keys:
        got = found.get(key, [])
        with_key = int(got[0]["with_key"]) if got else 0
        values = [(str(r["value"]), int(r["users"]), _share(int(r["users"]), users) or 0.0)
                  for r in got]
        result.append(TraitValues(key=key, values=values, not_set=max(users - with_key, 0)))
    return result


def _top(rows: list[Row], tz: ZoneInfo) -> list[TopUser]:
    top = []
    for r in rows:
        traits = json.loads(str(r["traits"])) if r["traits"] else {}
        top.append(TopUser(
            short=short_id(str(r["user_id"])), visits=int(r["visits"]),
            pageviews=int(r["pageviews"] or 0), first_seen=_day(r["first_seen"], tz),
            last_seen=_day(r["last_seen"], tz),
            traits=sorted((str(k), str(v)) for k, v in traits.items())))
    return top


async def _split(store: Store, site: Site, state: DashboardState) -> dict[str, tuple[int, int]]:
    query = state.query(site, metrics=("visitors", "visits"), dimensions=("returning",),
                        compare=False, limit=10)
    (result,) = await run_queries(store, [query], cache=cache_for(store))
    return {str(r["dimensions"][0]): (int(r["metrics"][0]), int(r["metrics"][1]))
            for r in result["results"]}


async def load_users_page(store: Store, *, site: Site, state: DashboardState) -> UsersPage:
    """The page's data under ``state`` (period, filters); nothing is read for a switch that is
    off."""
    page = UsersPage(identity=site.identity_enabled, returning=site.returning_enabled)
    if page.returning:
        page.split = await _split(store, site, state)
    if not page.identity:
        return page
    query = await resolve_filters(store, state.query(site, metrics=("visits",), compare=False))
    period = query.period
    weeks = cohort_weeks(period)
    keys = site.identity_traits
    statements = [summary_sql(query, period=period), retention_sql(query, weeks=weeks),
                  top_users_sql(query, period=period, keys=keys)]
    if keys:
        statements.append(traits_sql(query, period=period, keys=keys))
    summary, retention, top, *traits = await store.batch(statements)
    row = summary[0]
    page.visits, page.identified_visits = int(row["visits"]), int(row["identified_visits"])
    page.users, page.new_users = int(row["users"]), int(row["new_users"])
    page.returning_users = int(row["returning_users"])
    page.weeks = len(weeks)
    page.cohorts = _cohorts(retention, weeks)
    page.top = _top(top, query.zone)
    page.traits = _traits(traits[0] if traits else [], keys, page.users)
    return page
