"""The Goal conversions panel: per goal its converting visitors, conversions and conversion rate,
and the custom events that are no goal yet (each can be made one from the panel).

The panel loads on its own once scrolled into view (keeping the dashboard's first load small),
in one batch: the ``event:goal`` breakdown (under the whole state, goal filter included: then
only the goals it names) and the ``event:name`` breakdown of the period without filters (what
the site sends at all). A site without goals runs only the second.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ...cache import ResultCache
from ...goals import MAX_GOALS, Goal
from ...query import GOAL_DIMENSION, Query
from ...runner import run_queries
from ...sites import Site
from ...store import Store
from .site_goals import read_goals
from .state import DashboardState

__all__ = [
    "CANDIDATES",
    "GOAL_METRICS",
    "GoalPanel",
    "GoalRow",
    "candidates_query",
    "goal_panel",
    "goals_query",
    "load_goal_panel",
]

GOAL_METRICS = ("visitors", "events", "conversion_rate")
# Custom events offered as goals: the most sent first, a few.
CANDIDATES = 5
_CANDIDATE_ROWS = 50


@dataclass(frozen=True, kw_only=True)
class GoalRow:
    """One goal as shown: unique conversions, total conversions, conversion rate (percent), bar
    width and the URL filtering the dashboard by it (or removing that filter when it is on)."""

    name: str
    visitors: int
    events: int
    conversion_rate: float
    pct: int
    url: str
    active: bool = False


@dataclass(frozen=True, kw_only=True)
class GoalPanel:
    """The panel: its goal rows (every goal, none converting reads 0), and the custom events
    sent in the period that no goal counts yet."""

    has_goals: bool
    rows: list[GoalRow] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)


def goals_query(site: Site, state: DashboardState, *, now: datetime | None = None,
                limit: int = MAX_GOALS) -> Query:
    """The ``event:goal`` breakdown under ``state`` (which carries the site's goals)."""
    return state.query(site, metrics=GOAL_METRICS, dimensions=[GOAL_DIMENSION], compare=False,
                       limit=limit, now=now)


def candidates_query(site: Site, state: DashboardState, *, now: datetime | None = None) -> Query:
    """The events sent in the period, any filter left out: the names a goal could count."""
    plain = replace(state, filters=(), goals=())
    return plain.query(site, metrics=("visitors",), dimensions=["event:name"], compare=False,
                       limit=_CANDIDATE_ROWS, now=now)


def _is_goal(name: str, goals: tuple[Goal, ...]) -> bool:
    return any(g.kind == "event" and g.target == name and not g.prop_key for g in goals)


def goal_panel(
    state: DashboardState,
    *,
    base: str,
    goals_result: dict[str, Any] | None,
    candidates_result: dict[str, Any] | None,
) -> GoalPanel:
    """Shape the two results (either None when not run) for ``_goals_panel.html``."""
    goals = state.goals
    active = state.goal_filter
    found = {
        str(r["dimensions"][0]): r["metrics"]
        for r in (goals_result or {}).get("results", [])
    }
    # A goal filter shows the goals it names; otherwise every goal, those without a conversion
    # as 0 (the breakdown leaves them out).
    names = list(found) if state.uses_goals else [
        *found, *sorted(g.name for g in goals if g.name not in found)
    ]
    top = max((found[n][0] for n in found), default=0) or 1
    rows = []
    for name in names:
        visitors, events, rate = found.get(name, (0, 0, 0.0))
        on = name == active
        # Clicking the goal the dashboard is filtered by takes that filter off.
        target = (state.without_dimension(GOAL_DIMENSION) if on
                  else state.with_filter("is", GOAL_DIMENSION, name))
        rows.append(GoalRow(name=name, visitors=int(visitors), events=int(events),
                            conversion_rate=float(rate or 0), pct=round(100 * visitors / top),
                            url=target.url(base), active=on))
    candidates = [
        str(r["dimensions"][0]) for r in (candidates_result or {}).get("results", [])
        if str(r["dimensions"][0]) != "pageview" and not _is_goal(str(r["dimensions"][0]), goals)
    ][:CANDIDATES]
    return GoalPanel(has_goals=bool(goals), rows=rows, candidates=candidates)


async def load_goal_panel(
    store: Store,
    *,
    site: Site,
    state: DashboardState,
    base: str,
    cache: ResultCache | None = None,
    home: Store | None = None,
    with_candidates: bool = True,
    now: datetime | None = None,
) -> GoalPanel:
    """The panel for ``state``: the site's goals read from ``home`` (default ``store``), then one
    batch on ``store``. ``with_candidates``: also the events no goal counts yet."""
    state = replace(state, goals=await read_goals(store if home is None else home, site.id))
    queries = [candidates_query(site, state, now=now)] if with_candidates else []
    if state.goals:
        queries.append(goals_query(site, state, now=now))
    results = await run_queries(store, queries, cache=cache) if queries else []
    return goal_panel(
        state, base=base,
        goals_result=results[-1] if state.goals else None,
        candidates_result=results[0] if with_candidates else None,
    )
