"""Imported history as one more arm of a side: which rows of ``imported_daily`` a query can use,
and the SQL reading them (docs/imports.md).

Imported rows are daily aggregates per one dimension, so they answer a query only when it is
broken down by at most one of those dimensions and filtered on that dimension alone (Plausible's
rule, ``unsupported_query`` otherwise), in buckets of a day or more (``unsupported_interval``).
The two event properties Plausible exports (``url``, ``path``) are kept per event name and answer
a query filtered to one of the events they belong to.
They are read for the units (local days) where the site has no native data: no raw event and no
rolled-up totals row that day, so a day is never counted twice.
"""

from __future__ import annotations

from ..filters import Behaviour, Condition, Connective, FilterNode, Negation, filter_leaves
from ..imports_csv import IMPORTED_DIMENSIONS, IMPORTED_PROPS, prop_dim
from ..imports_csv import PARTS as IMPORTED_PARTS
from ..query import CONVERSION_METRICS, GOAL_DIMENSION, PROP_PREFIX, Query
from .params import Params
from .vitals import VITALS_METRICS
from .where import value_filters_sql

__all__ = ["IMPORTS_WARNINGS", "imported_arm", "imported_ctes", "imports_choice", "imports_meta"]

# Plausible's meta.imports_warning for each skip reason it words.
IMPORTS_WARNINGS = {
    "unsupported_query": "Imported stats are not included in the results because imported data "
    "holds no combination of these dimensions, filters or metrics. See docs/imports.md.",
    "unsupported_interval": "Imported stats are not included because the time dimension is "
    "finer than a day.",
}


def _plain(nodes: tuple[FilterNode, ...]) -> bool:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Behaviour):
            return False
        if isinstance(node, Connective):
            stack.extend(node.children)
        elif isinstance(node, Negation):
            stack.append(node.child)
    return True


def _named_event(query: Query) -> tuple[Condition, str] | None:
    """The query's one condition naming its event, and that event's name: a top-level, case-
    sensitive ``is`` of one value on ``event:name``, or on ``event:goal`` for a goal that is that
    custom event (any properties). None when the filters name events otherwise."""
    named = [leaf for leaf in filter_leaves(query.filters)
             if leaf.dimension in ("event:name", GOAL_DIMENSION)]
    top = [node for node in query.filters if isinstance(node, Condition) and node in named]
    found = top[0] if len(named) == 1 and top else None
    if found is None or found.op != "is" or len(found.values) != 1 or not found.case_sensitive:
        return None
    if found.dimension == "event:name":
        return found, found.values[0]
    goal = next((g for g in query.goals if g.name == found.values[0]), None)
    if goal is None or goal.kind != "event" or goal.prop_key:
        return None
    return found, goal.target


def _prop_dim(query: Query, named: set[str]) -> str | None:
    """The imported rows of an ``event:props:url`` / ``path`` query (Plausible's rule: filtered
    to one of the events those properties are exported for, and on nothing else)."""
    props = {d for d in named if d.startswith(PROP_PREFIX)}
    event = _named_event(query)
    if len(props) != 1 or event is None or len(named - props) != 1 \
            or set(query.non_time_dimensions) - props:
        return None
    key = next(iter(props)).removeprefix(PROP_PREFIX)
    if event[1] not in IMPORTED_PROPS.get(key, ()):
        return None
    return prop_dim(key, event[1])


def imports_choice(query: Query) -> tuple[str | None, str | None]:
    """(the ``imported_daily.dim`` whose rows answer ``query``, or None; the skip reason, or
    None). Both None when imports are not asked for."""
    if not query.include_imports:
        return None, None
    if query.interval == "hour":
        return None, "unsupported_interval"
    dims = query.non_time_dimensions
    leaves = filter_leaves(query.filters)
    unusable = (
        not _plain(query.filters) or len(dims) > 1
        or any(m in CONVERSION_METRICS or m in VITALS_METRICS for m in query.metrics)
    )
    named = {leaf.dimension for leaf in leaves} | set(dims)
    prop = None if unusable else _prop_dim(query, named)
    if prop is not None:
        return prop, None
    if unusable or query.uses_goals or len(named) > 1 or not named <= IMPORTED_DIMENSIONS:
        return None, "unsupported_query"
    return (next(iter(named)) if named else ""), None


def imports_meta(query: Query) -> dict[str, object]:
    """Plausible's ``meta`` keys about imports, for a query that asked for them."""
    if not query.include_imports:
        return {}
    dim, reason = imports_choice(query)
    meta: dict[str, object] = {"imports_included": dim is not None}
    if reason is not None:
        meta["imports_skip_reason"] = reason
        meta["imports_warning"] = IMPORTS_WARNINGS[reason]
    return meta


def imported_ctes(*, prefix: str, site: str) -> list[str]:
    """``<prefix>_imp``: the units with no native data, which imported rows may answer."""
    return [
        f"{prefix}_imp AS (SELECT b.i AS i FROM {prefix}_units AS b WHERE NOT EXISTS "
        f"(SELECT 1 FROM events AS e WHERE e.site_id = {site} AND e.ts >= b.start_ms "
        f"AND e.ts < b.end_ms) AND NOT EXISTS (SELECT 1 FROM rollup_daily AS r "
        f"WHERE r.site_id = {site} AND r.dim = '' AND r.day = b.day))"
    ]


def imported_arm(
    query: Query,
    *,
    prefix: str,
    dim: str,
    aliases: list[str],
    parts: list[str],
    site: str,
    params: Params,
) -> str:
    """The arm of imported rows: ``u, t, <aliases>, <parts>`` per unit, like the rollup arms.

    Parts imports cannot hold (engaged time, scroll depth) are 0, so ratios over them are the
    native rows' alone.
    """
    select = ["b.i AS u", "b.t AS t", *(f"r.value AS {alias}" for alias in aliases)]
    select += [f"r.{p} AS {p}" if p in IMPORTED_PARTS else f"0 AS {p}" for p in parts]
    done = f"SELECT id FROM imports WHERE site_id = {site} AND status = 'done'"
    # Most sites import nothing: asked once, before the units are tested for native data (two
    # seeks per unit, 5-10 % of a 12-month panel at 10 M events).
    sql = (
        f"SELECT {', '.join(select)} FROM {prefix}_units AS b JOIN imported_daily AS r "
        f"ON r.site_id = {site} AND r.dim = {params.ref(dim)} AND r.day = b.day "
        f"WHERE EXISTS ({done}) AND b.i IN (SELECT i FROM {prefix}_imp) "
        f"AND r.import_id IN ({done})"
    )
    # A property's rows are already those of its event: the event's name is in ``dim``.
    event = _named_event(query) if dim.startswith(PROP_PREFIX) else None
    filters = tuple(node for node in query.filters if event is None or node is not event[0])
    if filters:
        sql += " AND " + value_filters_sql(filters, expression="r.value", params=params)
    return sql
