"""The one identifier allowlist: each dimension's SQL expression on ``events`` and ``sessions``,
made from the dimensions' description (``dimensions.py``).

Missing values get a label (``Direct / None``, ``(none)``…) so rows can be joined and filtered on
them (NULL never equals NULL) and shown as is. A dimension an entire table lacks has ``None``
there: ``entry_page`` and ``exit_page`` exist only per visit; ``event:name`` and properties only
per event.

On ``sessions`` the ``page`` *dimension* means the entry page: visits, bounce rate and duration
"of a page" describe the visits that landed on it (Plausible's convention). As a *filter*, ``page``
keeps the visits that viewed a matching page (see ``where``): ``FILTERED_BY_VIEWS``.

The planner (``sql.plan``) asks these facts (``on_table``, ``SESSION_ONLY``,
``FILTERED_BY_VIEWS``) rather than the SQL; the expressions below are made from the same facts.
"""

from __future__ import annotations

import json

from ..dimensions import DIMENSIONS as DESCRIBED
from ..query import GOAL_DIMENSION, PROP_PREFIX
from .goals import GOAL_NAME
from .params import Params
from .props import PROPS

__all__ = [
    "COLUMNS",
    "FILTERED_BY_VIEWS",
    "LOOKED_UP",
    "SESSION_ONLY",
    "dimension_sql",
    "filter_sql_target",
    "on_table",
]


def _expression(column: str | None, missing: str | None,
                labels: tuple[tuple[int, str], ...] = ()) -> str | None:
    if column is None or missing is None:
        return column
    assert "'" not in missing + "".join(w for _v, w in labels), "inlined into SQL as a literal"
    if labels:
        # An integer flag shown as words (``Dimension.labels``).
        whens = " ".join(f"WHEN {int(v)} THEN '{w}'" for v, w in labels)
        return f"(CASE {column} {whens} ELSE '{missing}' END)"
    return f"COALESCE({column}, '{missing}')"


# dimension -> (events expression, sessions expression); None = not on that table.
COLUMNS: dict[str, tuple[str | None, str | None]] = {
    d.name: (_expression(d.lookup or d.events, d.missing),
             _expression(d.sessions, d.missing, d.labels))
    for d in DESCRIBED
}
# Dimensions read through a lookup at query time (``Dimension.lookup``): never rolled up.
LOOKED_UP = frozenset(d.name for d in DESCRIBED if d.lookup)


def on_table(name: str, table: str) -> bool:
    """Whether ``table`` ("events"/"sessions") has the dimension ``name``; properties and goals
    are per event only."""
    if name.startswith(PROP_PREFIX) or name == GOAL_DIMENSION:
        return table == "events"
    events, sessions = COLUMNS[name]
    return (events if table == "events" else sessions) is not None


SESSION_ONLY = frozenset(d for d in COLUMNS if not on_table(d, "events"))
# Dimensions whose filter on visits keeps the visits that *viewed* a matching value (tested on
# their events), not the visits grouped under it (the entry page).
FILTERED_BY_VIEWS = frozenset(d.name for d in DESCRIBED if d.viewed)
assert all(on_table(d, "events") for d in FILTERED_BY_VIEWS), "tested on the visit's events"


def _prop_sql(name: str, params: Params) -> str:
    key = name.removeprefix(PROP_PREFIX)
    # The key goes into a JSON path as a bound parameter, quoted so dots stay part of the key.
    return f"COALESCE(json_extract({PROPS}, {params.ref('$.' + json.dumps(key))}), '(none)')"


def dimension_sql(name: str, *, table: str, params: Params) -> str | None:
    """The expression grouping ``table`` ("events"/"sessions") by ``name``; None if it has none."""
    if not on_table(name, table):
        return None
    if name.startswith(PROP_PREFIX):
        return _prop_sql(name, params)
    if name == GOAL_DIMENSION:
        # Read from the goals the raw arm joins (``sql.goals.goal_join``).
        return GOAL_NAME
    events, sessions = COLUMNS[name]
    return events if table == "events" else sessions


def filter_sql_target(name: str, *, table: str, params: Params) -> str | None:
    """The expression a *filter* on ``name`` tests on ``table``; None means "ask the other table".

    Dimensions in ``FILTERED_BY_VIEWS`` filter sessions through their events (the visits that
    viewed a matching page), not through the column that groups them (the entry page).
    """
    if name in FILTERED_BY_VIEWS and table == "sessions":
        return None
    return dimension_sql(name, table=table, params=params)
