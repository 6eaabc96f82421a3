"""``POST {mount}/api/v2/funnel``: a funnel through the Stats API's own parsing.

The body is a v2 query's period and filters plus the steps::

    {"site_id": "example.com", "date_range": "30d", "filters": [["is", "visit:source", ["Google"]]],
     "steps": [{"page": "/pricing*"}, {"goal": "Signup"}],
     "include": {"comparisons": {"mode": "previous_period"}}}

or ``"funnel": "NAME"`` (a saved funnel of the site) instead of ``steps``. It answers
``{"results": [one row per step], "meta", "query"}`` (``funnel_report``); refusals are 400
``{code, message}`` as for queries: ``invalid_steps`` (fewer than 2 or more than 8 steps, a bad
pattern, a goal the site lacks), ``invalid_funnel`` (no saved funnel of that name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..exceptions import QueryError
from ..funnel_report import run_funnel
from ..funnels import FunnelError, check_steps, get_funnel
from ..goals import list_goals
from ..sites import Site
from ..store import Store
from .api_body import mentions_goals, parse_api_body

__all__ = ["answer_funnel"]

_FIELDS = {"site_id", "date_range", "filters", "include", "comparison", "steps", "funnel"}


async def answer_funnel(home: Store, data: Store, body: Any, *, site: Site) -> dict[str, Any]:
    """The response body for a funnel request on ``site``: definitions (goals, saved funnels)
    from ``home``, events from ``data``. Raises ``QueryError`` naming the field."""
    if not isinstance(body, Mapping):
        raise QueryError(code="invalid_body", message="The request body must be a JSON object.")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise QueryError(code=f"invalid_{unknown[0]}",
                         message=f"{unknown[0]} is not a field of a funnel request. The fields "
                         f"are {', '.join(sorted(_FIELDS))}.")
    if ("steps" in body) == ("funnel" in body):
        raise QueryError(code="invalid_steps", message='Give steps (such as [{"page": '
                         '"/pricing*"}, {"goal": "Signup"}]) or the name of a saved funnel.')
    try:
        if "funnel" in body:
            saved = await get_funnel(home, site_id=site.id, name=str(body["funnel"]))
            if saved is None:
                raise QueryError(code="invalid_funnel",
                                 message=f"{site.domain} has no funnel named {body['funnel']!r}.")
            steps = saved.steps
        else:
            steps = check_steps(body["steps"] if isinstance(body["steps"], list) else "")
        goal_steps = any(step.kind == "goal" for step in steps)
        goals = (await list_goals(home, site_id=site.id)
                 if goal_steps or mentions_goals(body) else [])
        raw = {k: v for k, v in body.items() if k not in ("steps", "funnel")}
        query, _include = parse_api_body({**raw, "metrics": ["visitors"]}, site=site,
                                         goals=goals)
        result = await run_funnel(data, query, steps, goals=goals)
    except FunnelError as exc:
        raise QueryError(code="invalid_steps", message=str(exc)) from None
    first, last = query.period
    echo: dict[str, Any] = {
        "site_id": site.domain,
        "date_range": [first.isoformat(), last.isoformat()],
        "filters": query.model_dump(mode="json")["filters"],
        "steps": [step.to_json() for step in steps],
    }
    if "funnel" in body:
        echo["funnel"] = body["funnel"]
    return {**result, "query": echo}
