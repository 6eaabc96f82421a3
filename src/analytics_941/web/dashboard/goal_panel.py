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
from ...filters import Condition
from ...goals import MAX_GOALS, Goal
from ...query import GOAL_DIMENSION, Query
from ...runner import run_batch
from ...sites import Site
from ...sql.goal_currencies import other_currencies_statement
from ...sql.revenue import money
from ...store import Row, Statement, Store
from .site_goals import read_goals
from .state import DashboardState

__all__ = [
    "CANDIDATES",
    "GOAL_METRICS",
    "REVENUE_GOAL_METRICS",
    "SPECIAL_REPORTS",
    "GoalPanel",
    "GoalRow",
    "Special",
    "candidates_query",
    "goal_panel",
    "goals_query",
    "load_goal_panel",
    "special_queries",
    "specials",
]

GOAL_METRICS = ("visitors", "events", "conversion_rate")
# With a revenue goal: each goal's revenue in its currency (sql/revenue.py).
REVENUE_GOAL_METRICS = (*GOAL_METRICS, "total_revenue", "average_revenue")
# The events the tracker's features send, each a built-in report broken down by its props:
# (title, event name, props, column label). Names as worker/tracker/script.js sends them.
SPECIAL_REPORTS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("Outbound links", "Outbound Link: Click", ("url",), "Link"),
    ("File downloads", "File Download", ("url",), "File"),
    ("404 pages", "404", ("path",), "Page"),
    ("Form submissions", "Form: Submission", ("form", "path"), "Form on page"),
)
SPECIAL_ROWS = 5
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
    # Revenue goals only: total and average in the goal's currency, formatted (``long``).
    revenue: str = ""
    average_revenue: str = ""


@dataclass(frozen=True, kw_only=True)
class Special:
    """A built-in report: its most frequent values with visitors and events."""

    title: str
    label: str
    rows: list[tuple[str, int, int]]


@dataclass(frozen=True, kw_only=True)
class GoalPanel:
    """The panel: its goal rows (every goal, none converting reads 0), and the custom events
    sent in the period that no goal counts yet."""

    has_goals: bool
    has_revenue: bool = False
    # Revenue goals' conversions paid in another currency (or none), apart: "Purchase: $15.00".
    other_revenue: list[str] = field(default_factory=list)
    rows: list[GoalRow] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    specials: list[Special] = field(default_factory=list)


def goals_query(site: Site, state: DashboardState, *, now: datetime | None = None,
                limit: int = MAX_GOALS) -> Query:
    """The ``event:goal`` breakdown under ``state`` (which carries the site's goals), with
    revenue when a goal has a currency."""
    money = any(goal.currency for goal in state.goals)
    return state.query(site, metrics=REVENUE_GOAL_METRICS if money else GOAL_METRICS,
                       dimensions=[GOAL_DIMENSION], compare=False, limit=limit, now=now)


def candidates_query(site: Site, state: DashboardState, *, now: datetime | None = None) -> Query:
    """The custom events sent in the period, any filter left out: the names a goal could count.

    Pageviews are filtered out in SQL, not after: the raw days (today) then count distinct
    visitors over their few custom events, not over every pageview (the rollups answer the
    same filter on their ``event:name`` rows)."""
    plain = replace(state, filters=(), goals=()).with_filter("is_not", "event:name", "pageview")
    return plain.query(site, metrics=("visitors",), dimensions=["event:name"], compare=False,
                       limit=_CANDIDATE_ROWS, now=now)


def special_queries(site: Site, state: DashboardState, *,
                    now: datetime | None = None) -> list[Query]:
    """One breakdown per built-in report, under the state's filters but not its goal."""
    plain = replace(state.without_dimension(GOAL_DIMENSION), goals=())
    return [
        plain.query(site, metrics=("visitors", "events"),
                    dimensions=[f"event:props:{prop}" for prop in props],
                    search=Condition(op="is", dimension="event:name", values=(name,)),
                    compare=False, limit=SPECIAL_ROWS, now=now)
        for _title, name, props, _label in SPECIAL_REPORTS
    ]


def specials(results: list[dict[str, Any]]) -> list[Special]:
    """The built-in reports that have rows, in ``SPECIAL_REPORTS`` order."""
    out = []
    for (title, _name, _props, label), result in zip(SPECIAL_REPORTS, results, strict=True):
        rows = [(" · ".join(str(v) for v in r["dimensions"]), int(r["metrics"][0] or 0),
                 int(r["metrics"][1] or 0)) for r in result["results"]]
        if rows:
            out.append(Special(title=title, label=label, rows=rows))
    return out


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
        visitors, events, rate, *money = found.get(name, (0, 0, 0.0))
        on = name == active
        # Clicking the goal the dashboard is filtered by takes that filter off.
        target = (state.without_dimension(GOAL_DIMENSION) if on
                  else state.with_filter("is", GOAL_DIMENSION, name))
        rows.append(GoalRow(name=name, visitors=int(visitors), events=int(events),
                            conversion_rate=float(rate or 0), pct=round(100 * visitors / top),
                            url=target.url(base), active=on,
                            revenue=_long(money[0] if money else None),
                            average_revenue=_long(money[1] if money else None)))
    candidates = [
        str(r["dimensions"][0]) for r in (candidates_result or {}).get("results", [])
        if str(r["dimensions"][0]) != "pageview" and not _is_goal(str(r["dimensions"][0]), goals)
    ][:CANDIDATES]
    return GoalPanel(has_goals=bool(goals), rows=rows, candidates=candidates,
                     has_revenue=any(goal.currency for goal in goals))


def _long(value: Any) -> str:
    """A revenue value's long form (``€1,234.56``); '' for none."""
    return str(value["long"]) if isinstance(value, dict) else ""


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
    queries = special_queries(site, state, now=now)
    if with_candidates:
        queries.append(candidates_query(site, state, now=now))
    if state.goals:
        queries.append(goals_query(site, state, now=now))
    extra: list[Statement] = []
    if any(goal.currency for goal in state.goals):
        # Never added to a goal's total: listed apart (one more statement, revenue goals only,
        # in the same batch: one round trip on D1).
        query = goals_query(site, state, now=now)
        extra.append(other_currencies_statement(query, state.goals, period=query.period))
    results, rowsets = await run_batch(store, queries, extra=extra, cache=cache)
    other = [_apart(row) for rows in rowsets for row in rows]
    shown = len(SPECIAL_REPORTS)
    panel = goal_panel(
        state, base=base,
        goals_result=results[-1] if state.goals else None,
        candidates_result=results[shown] if with_candidates else None,
    )
    return replace(panel, specials=specials(results[:shown]), other_revenue=other)


def _apart(row: Row) -> str:
    currency = row["currency"]
    amount = money(row["amount"], str(currency)) if currency else None
    text = str(amount["long"]) if amount else f"{float(row['amount']):,.2f} without a currency"
    return f"{row['goal']}: {text} ({int(row['orders'])})"
