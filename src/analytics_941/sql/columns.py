"""The one identifier allowlist: each dimension's SQL expression on ``events`` and ``sessions``.

Missing values get a label (``Direct / None``, ``(none)``…) so rows can be joined and filtered on
them (NULL never equals NULL) and shown as is. A dimension an entire table lacks has ``None``
there: ``entry_page`` and ``exit_page`` exist only per visit; ``event:name`` and properties only
per event.

On ``sessions`` the ``page`` *dimension* means the entry page: visits, bounce rate and duration
"of a page" describe the visits that landed on it (Plausible's convention). As a *filter*, ``page``
keeps the visits that viewed a matching page (see ``where``).
"""

from __future__ import annotations

import json

from ..query import DIMENSIONS, PROP_PREFIX
from .params import Params

__all__ = ["COLUMNS", "SESSION_ONLY", "dimension_sql", "filter_sql_target"]


def _labelled(column: str, label: str) -> tuple[str, str]:
    expression = f"COALESCE({column}, '{label}')"
    return expression, expression


# dimension -> (events expression, sessions expression); None = not on that table.
COLUMNS: dict[str, tuple[str | None, str | None]] = {
    "page": ("pathname", "entry_page"),
    "entry_page": (None, "entry_page"),
    "exit_page": (None, "exit_page"),
    "hostname": ("hostname", "hostname"),
    "source": _labelled("source", "Direct / None"),
    "channel": _labelled("channel", "Direct"),
    "referrer": _labelled("referrer", "Direct / None"),
    **{
        f"utm_{k}": _labelled(f"utm_{k}", "(none)")
        for k in ("source", "medium", "campaign", "term", "content")
    },
    **{
        k: _labelled(k, "Unknown")
        for k in ("country", "region", "city", "device", "browser", "browser_version", "os")
    },
    **{k: _labelled(k, "Unknown") for k in ("os_version", "screen")},
    "event:name": ("name", None),
}
assert set(COLUMNS) == set(DIMENSIONS), "query.DIMENSIONS and sql.columns.COLUMNS disagree"

SESSION_ONLY = frozenset(d for d, (e, _s) in COLUMNS.items() if e is None)


def _prop_sql(name: str, params: Params) -> str:
    key = name.removeprefix(PROP_PREFIX)
    # The key goes into a JSON path as a bound parameter, quoted so dots stay part of the key.
    return f"COALESCE(json_extract(props, {params.ref('$.' + json.dumps(key))}), '(none)')"


def dimension_sql(name: str, *, table: str, params: Params) -> str | None:
    """The expression grouping ``table`` ("events"/"sessions") by ``name``; None if it has none."""
    if name.startswith(PROP_PREFIX):
        return _prop_sql(name, params) if table == "events" else None
    events, sessions = COLUMNS[name]
    return events if table == "events" else sessions


def filter_sql_target(name: str, *, table: str, params: Params) -> str | None:
    """The expression a *filter* on ``name`` tests on ``table``; None means "ask the other table".

    ``page`` filters sessions through their events (the visits that viewed a matching page), not
    through the entry page.
    """
    if name == "page" and table == "sessions":
        return None
    return dimension_sql(name, table=table, params=params)
