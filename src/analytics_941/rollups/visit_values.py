"""The visit dimensions some rollups are kept per value of (saved funnels' rows, busy pages'
journey rows), and the one filter such rows answer.

A visit's value is what a filter on the dimension tests on its ``sessions`` row, so the rows of
a value count exactly the visits that filter keeps. Only one case-sensitive ``is`` of one value
is answered from them: with two values a visitor whose visits of a day had both would count
twice, and any other filter reads raw events.
"""

from __future__ import annotations

from ..filters import Condition
from ..query import Query
from ..sql.columns import filter_sql_target
from ..sql.params import Params

__all__ = ["VISIT_VALUE_DIMENSIONS", "rolled_filter", "visit_value_sql"]

VISIT_VALUE_DIMENSIONS = ("source", "channel", "country", "device", "browser", "os")


def visit_value_sql(dim: str) -> str:
    """The expression of ``dim``'s value on a ``sessions`` row (its columns unqualified)."""
    value = filter_sql_target(dim, table="sessions", params=Params())
    assert value is not None and "?" not in value, "a column of the visit, no parameter"
    return value


def rolled_filter(query: Query) -> tuple[str, str] | None:
    """The dimension and value whose rows answer ``query``'s filters (``('', '')`` for none),
    or None when only raw events can (the module docstring)."""
    if not query.filters:
        return "", ""
    (node, *rest) = query.filters
    if rest or not isinstance(node, Condition) or node.op != "is" or not node.case_sensitive:
        return None
    if len(node.values) != 1 or node.dimension not in VISIT_VALUE_DIMENSIONS:
        return None
    return node.dimension, node.values[0]
