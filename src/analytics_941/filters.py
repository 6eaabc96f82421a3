"""Filters as a small tree: conditions combined with ``and`` / ``or`` / ``not``.

The wire form is Plausible's Stats API v2::

    ["is", "visit:country", ["DE", "FR"]]
    ["contains", "event:page", ["/blog"], {"case_sensitive": false}]
    ["and", [["is", "visit:device", ["Mobile"]], ["not", ["matches", "event:page", ["/docs/*"]]]]]

A list of top-level filters means "all of them". ``matches`` takes a wildcard pattern: ``*``
stands for any run of characters (Plausible's ``matches_wildcard``; regular expressions are not
offered, SQLite has none built in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast, get_args

__all__ = [
    "MAX_FILTER_LEAVES",
    "Condition",
    "Connective",
    "FilterNode",
    "FilterOp",
    "Negation",
    "filter_leaves",
    "filter_to_json",
    "parse_filters",
]

FilterOp: TypeAlias = Literal[
    "is", "is_not", "contains", "contains_not", "matches", "matches_not"
]
FILTER_OPS: tuple[str, ...] = get_args(FilterOp)
_OP_ALIASES = {"matches_wildcard": "matches", "matches_wildcard_not": "matches_not"}
# Each condition binds one JSON parameter per side (plus a subquery's bounds); D1 allows 100.
MAX_FILTER_LEAVES = 12
MAX_VALUES = 1000
MAX_VALUE_LENGTH = 2000
MAX_DEPTH = 4


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One test of a dimension against a list of values (any value may match)."""

    op: FilterOp
    dimension: str
    values: tuple[str, ...]
    case_sensitive: bool = True


@dataclass(frozen=True, kw_only=True)
class Connective:
    """All (``and``) or any (``or``) of the children."""

    op: Literal["and", "or"]
    children: tuple[FilterNode, ...]


@dataclass(frozen=True, kw_only=True)
class Negation:
    """The child does not hold."""

    child: FilterNode


FilterNode: TypeAlias = Condition | Connective | Negation


def _parse(raw: Any, *, at: str, depth: int, canonical: Callable[[str], str]) -> FilterNode:
    if isinstance(raw, Condition | Connective | Negation):
        return raw
    if not isinstance(raw, list | tuple) or not raw or not isinstance(raw[0], str):
        raise ValueError(f"{at}: expected [operator, ...]")
    if depth > MAX_DEPTH:
        raise ValueError(f"{at}: filters nest at most {MAX_DEPTH} levels deep")
    op = _OP_ALIASES.get(raw[0], raw[0])
    if op in ("and", "or"):
        if len(raw) != 2 or not isinstance(raw[1], list | tuple) or not raw[1]:
            raise ValueError(f"{at}: expected [{op!r}, [filter, ...]]")
        children = tuple(
            _parse(child, at=f"{at}.{i}", depth=depth + 1, canonical=canonical)
            for i, child in enumerate(raw[1])
        )
        return Connective(op=cast(Literal["and", "or"], op), children=children)
    if op == "not":
        if len(raw) != 2:
            raise ValueError(f"{at}: expected ['not', filter]")
        return Negation(child=_parse(raw[1], at=f"{at}.1", depth=depth + 1, canonical=canonical))
    if op not in FILTER_OPS:
        raise ValueError(f"{at}: unknown operator {raw[0]!r}")
    if len(raw) not in (3, 4) or not isinstance(raw[1], str):
        raise ValueError(f"{at}: expected [{op!r}, dimension, [value, ...]]")
    try:
        dimension = canonical(raw[1])
    except ValueError as exc:
        raise ValueError(f"{at}: {exc}") from None
    if dimension.startswith("time:"):
        raise ValueError(f"{at}: filter on the date range, not on {dimension}")
    values = raw[2]
    if not isinstance(values, list | tuple) or not values:
        raise ValueError(f"{at}: a filter needs a non-empty list of values")
    if len(values) > MAX_VALUES:
        raise ValueError(f"{at}: at most {MAX_VALUES} values")
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{at}: values must be strings")
    texts = tuple(str(v) for v in values)
    if any(len(v) > MAX_VALUE_LENGTH for v in texts):
        raise ValueError(f"{at}: a value is longer than {MAX_VALUE_LENGTH} characters")
    modifiers = raw[3] if len(raw) == 4 else {}
    if not isinstance(modifiers, dict) or set(modifiers) - {"case_sensitive"}:
        raise ValueError(f"{at}: the only modifier is {{'case_sensitive': bool}}")
    case_sensitive = modifiers.get("case_sensitive", True)
    if not isinstance(case_sensitive, bool):
        raise ValueError(f"{at}: case_sensitive must be true or false")
    return Condition(
        op=cast(FilterOp, op), dimension=dimension, values=texts, case_sensitive=case_sensitive
    )


def parse_filters(raw: Any, *, canonical: Callable[[str], str]) -> tuple[FilterNode, ...]:
    """Parse the wire form into nodes; ``canonical`` maps dimension names (or raises)."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise ValueError("expected a list of filters")
    return tuple(
        _parse(item, at=str(i), depth=1, canonical=canonical) for i, item in enumerate(raw)
    )


def filter_leaves(nodes: tuple[FilterNode, ...]) -> list[Condition]:
    """Every condition in the tree, in order."""
    leaves: list[Condition] = []
    stack: list[FilterNode] = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if isinstance(node, Condition):
            leaves.append(node)
        elif isinstance(node, Negation):
            stack.append(node.child)
        else:
            stack.extend(reversed(node.children))
    return leaves


def filter_to_json(node: FilterNode) -> list[Any]:
    """The wire form of ``node`` (our dimension names)."""
    if isinstance(node, Condition):
        out: list[Any] = [node.op, node.dimension, list(node.values)]
        if not node.case_sensitive:
            out.append({"case_sensitive": False})
        return out
    if isinstance(node, Negation):
        return ["not", filter_to_json(node.child)]
    return [node.op, [filter_to_json(child) for child in node.children]]
