"""The filter builder: the choices its form offers and the values it suggests as one types.

The form (fetched when the builder first opens) sends ``filter_op``, ``filter_dimension`` and
``filter_value`` (``state``: folded into the state's filters). Suggestions are the dimension's
top values under the rest of the state, from the same report query the details view runs, so
they are values that would match.
"""

from __future__ import annotations

from typing import Any

from ...cache import ResultCache
from ...goals import Goal
from ...query import GOAL_DIMENSION
from ...runner import run_queries
from ...sites import Site
from ...store import Store
from .data import OP_LABELS, report_query
from .reports import REPORTS, Report
from .state import DashboardState

__all__ = ["GOAL_REPORT", "SUGGESTIONS", "builder_choices", "goal_suggestions", "report_for",
           "suggestions"]

SUGGESTIONS = 20
# The operators offered, in the order a person reaches for them.
_OPS = ("is", "is_not", "contains", "contains_not", "matches_wildcard", "matches_wildcard_not")
# The builder's name for the goals' suggestions: goals are the site's settings, not a report.
GOAL_REPORT = "goals"


def report_for(dimension: str) -> Report | None:
    """The report that breaks down ``dimension`` (its suggestions come from it)."""
    return next((r for r in REPORTS.values() if r.dimension == dimension), None)


def builder_choices(state: DashboardState, base: str) -> dict[str, Any]:
    """The builder form's context: dimensions (dimension, label, the report suggesting its
    values), operators (op, label) and the state's own parameters, kept as hidden fields."""
    return {
        "base_url": base,
        "builder_dimensions": [
            *((r.dimension, r.label, r.key) for r in REPORTS.values()),
            (GOAL_DIMENSION, "Goal", GOAL_REPORT),
        ],
        "builder_ops": [(op, OP_LABELS[op]) for op in _OPS],
        "builder_params": state.params(),
    }


async def suggestions(
    store: Store,
    *,
    site: Site,
    state: DashboardState,
    report: Report,
    search: str,
    cache: ResultCache | None,
) -> list[str]:
    """Up to ``SUGGESTIONS`` values of ``report``'s dimension containing ``search`` (any case),
    most visitors first, under ``state`` (its period and filters)."""
    query = report_query(site, state, report, limit=SUGGESTIONS, search=search,
                         metrics=("visitors",), compare=False)
    (result,) = await run_queries(store, [query], cache=cache)
    return [str(item["dimensions"][0]) for item in result["results"]]


def goal_suggestions(goals: tuple[Goal, ...], search: str) -> list[str]:
    """The names of the site's goals containing ``search`` (any case)."""
    return [g.name for g in goals if search.lower() in g.name.lower()][:SUGGESTIONS]
