"""Filters as a small tree: conditions combined with ``and`` / ``or`` / ``not``.

The wire form is Plausible's Stats API v2::

    ["is", "visit:country", ["DE", "FR"]]
    ["contains", "event:page", ["/blog"], {"case_sensitive": false}]
    ["and", [["is", "visit:device", ["Mobile"]], ["not", ["matches", "event:page", ["^/docs/"]]]]]
    ["has_done", ["is", "event:goal", ["Signup"]]]

A list of top-level filters means "all of them". ``has_done`` / ``has_not_done`` (Plausible's
behavioural filters) keep the events and visits of the visits in which an event matching their
filter happened (or did not). ``matches`` / ``matches_not`` take regular expressions (RE2 syntax,
found anywhere in the value, as Plausible's): SQLite has no REGEXP, so the runner first reads the
dimension's values in the period and turns such a condition into an ``is`` / ``is_not`` of the
values that match (``resolve``). ``matches_wildcard`` / ``matches_wildcard_not`` take a pattern
where ``*`` stands for any run of characters, matched by SQLite's GLOB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias, cast, get_args

from .plausible_values import view_for
from .regex import compile_pattern
from .sql.glob import GLOB_BYTES, glob_fits, glob_pattern

__all__ = [
    "FILTER_OPS",
    "MAX_FILTER_CHARS",
    "MAX_FILTER_LEAVES",
    "MAX_VALUES",
    "MAX_VALUE_LENGTH",
    "REGEX_OPS",
    "Behaviour",
    "Condition",
    "Connective",
    "FilterNode",
    "FilterOp",
    "Negation",
    "filter_leaves",
    "filter_to_json",
    "make_condition",
    "parse_filters",
]

FilterOp: TypeAlias = Literal[
    "is", "is_not", "contains", "contains_not", "matches", "matches_not", "matches_wildcard",
    "matches_wildcard_not",
]
FILTER_OPS: tuple[str, ...] = get_args(FilterOp)
# Regular expressions: answered through the values they match (``resolve``), never in SQL.
REGEX_OPS = frozenset({"matches", "matches_not"})
# The one set of filter limits every entry point shares (the API, the dashboard's URL, the CSV
# export and share links all go through ``parse_filters``); docs/security.md lists them.
# Each condition binds one JSON parameter per side (plus a subquery's bounds); D1 allows 100.
MAX_FILTER_LEAVES = 12
# A long list of pages or codes fits in one condition (it binds as ONE JSON parameter); the total
# below bounds what a list may weigh.
MAX_VALUES = 1000
# A long URL path or campaign name fits.
MAX_VALUE_LENGTH = 2000
# All values of all conditions together: what SQLite must compare against every row. 12 x 1,000
# x 2,000 characters took seconds per query and slowed every other site on the same database.
MAX_FILTER_CHARS = 16_000
MAX_DEPTH = 4


class _Budget:
    """What is left of ``MAX_FILTER_LEAVES`` and ``MAX_FILTER_CHARS`` while parsing one tree.

    Checked while parsing, so an oversized tree is refused after at most one condition's work.
    """

    def __init__(self) -> None:
        self.leaves = MAX_FILTER_LEAVES
        self.chars = MAX_FILTER_CHARS

    def spend(self, at: str, values: tuple[str, ...]) -> None:
        self.leaves -= 1
        if self.leaves < 0:
            raise ValueError(f"{at}: at most {MAX_FILTER_LEAVES} conditions")
        self.chars -= sum(len(v) for v in values)
        if self.chars < 0:
            raise ValueError(f"{at}: filter values total at most {MAX_FILTER_CHARS} characters")


def _is_text(value: str) -> bool:
    """False for a string holding a lone UTF-16 surrogate (invalid Unicode, e.g. ``"\\ud800"`` in
    JSON): SQLite cannot bind it, and no stored value could equal it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One test of a dimension against a list of values (any value may match)."""

    op: FilterOp
    dimension: str
    values: tuple[str, ...]
    case_sensitive: bool = True
    # The dimension's name as the client wrote it when that name shows other values than ours
    # (``visit:device``: ``Mobile``, not ``mobile``; ``plausible_values``).
    shown_as: str = ""


@dataclass(frozen=True, kw_only=True)
class Connective:
    """All (``and``) or any (``or``) of the children."""

    op: Literal["and", "or"]
    children: tuple[FilterNode, ...]


@dataclass(frozen=True, kw_only=True)
class Negation:
    """The child does not hold."""

    child: FilterNode


@dataclass(frozen=True, kw_only=True)
class Behaviour:
    """The visit did (``has_done``) or did not (``has_not_done``) have an event for which the
    child holds."""

    op: Literal["has_done", "has_not_done"]
    child: FilterNode


FilterNode: TypeAlias = Condition | Connective | Negation | Behaviour


def _parse(
    raw: Any, *, at: str, depth: int, canonical: Callable[[str], str], budget: _Budget
) -> FilterNode:
    if isinstance(raw, Condition):
        budget.spend(at, raw.values)
        return raw
    if isinstance(raw, Connective | Negation | Behaviour):
        for leaf in filter_leaves((raw,)):
            budget.spend(at, leaf.values)
        return raw
    if not isinstance(raw, list | tuple) or not raw or not isinstance(raw[0], str):
        raise ValueError(f"{at}: expected [operator, ...]")
    if not _is_text(raw[0]) or len(raw[0]) > 64:
        raise ValueError(f"{at}: unknown operator")
    if depth > MAX_DEPTH:
        raise ValueError(f"{at}: filters nest at most {MAX_DEPTH} levels deep")
    op = raw[0]
    if op in ("and", "or"):
        if len(raw) != 2 or not isinstance(raw[1], list | tuple) or not raw[1]:
            raise ValueError(f"{at}: expected [{op!r}, [filter, ...]]")
        children = tuple(
            _parse(child, at=f"{at}.{i}", depth=depth + 1, canonical=canonical, budget=budget)
            for i, child in enumerate(raw[1])
        )
        return Connective(op=cast(Literal["and", "or"], op), children=children)
    if op == "not":
        if len(raw) != 2:
            raise ValueError(f"{at}: expected ['not', filter]")
        child = _parse(raw[1], at=f"{at}.1", depth=depth + 1, canonical=canonical, budget=budget)
        return Negation(child=child)
    if op in ("has_done", "has_not_done"):
        if len(raw) != 2:
            raise ValueError(f"{at}: expected [{op!r}, filter]")
        child = _parse(raw[1], at=f"{at}.1", depth=depth + 1, canonical=canonical, budget=budget)
        return Behaviour(op=cast(Literal["has_done", "has_not_done"], op), child=child)
    if op not in FILTER_OPS:
        raise ValueError(f"{at}: unknown operator {raw[0]!r}")
    if len(raw) not in (3, 4) or not isinstance(raw[1], str):
        raise ValueError(f"{at}: expected [{op!r}, dimension, [value, ...]]")
    try:
        condition = make_condition(op, raw[1], raw[2], canonical=canonical)
    except ValueError as exc:
        raise ValueError(f"{at}: {exc}") from None
    budget.spend(at, condition.values)
    modifiers = raw[3] if len(raw) == 4 else {}
    if not isinstance(modifiers, dict) or set(modifiers) - {"case_sensitive"}:
        raise ValueError(f"{at}: the only modifier is {{'case_sensitive': bool}}")
    case_sensitive = modifiers.get("case_sensitive", True)
    if not isinstance(case_sensitive, bool):
        raise ValueError(f"{at}: case_sensitive must be true or false")
    return replace(condition, case_sensitive=case_sensitive)


def make_condition(
    op: str,
    dimension: str,
    values: Any,
    *,
    canonical: Callable[[str], str],
    case_sensitive: bool = True,
) -> Condition:
    """One condition, checked as the wire form's are: operator, dimension, value limits.

    The one home of these checks: the API's filters and the dashboard's ``f=`` parameters both
    come through here. Raises ``ValueError`` saying what is wrong (without the filter's index).
    """
    if op not in FILTER_OPS:
        raise ValueError(f"unknown operator {op!r}")
    if not _is_text(dimension) or len(dimension) > 128:
        raise ValueError("unknown dimension")
    raw_name, dimension = dimension, canonical(dimension)
    if dimension.startswith("time:"):
        raise ValueError(f"filter on the date range, not on {dimension}")
    if not isinstance(values, list | tuple) or not values:
        raise ValueError("a filter needs a non-empty list of values")
    if len(values) > MAX_VALUES:
        raise ValueError(f"at most {MAX_VALUES} values")
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
        raise ValueError("values must be strings")
    texts = tuple(str(v) for v in values)
    if any(len(v) > MAX_VALUE_LENGTH for v in texts):
        raise ValueError(f"a value is longer than {MAX_VALUE_LENGTH} characters")
    if not all(_is_text(v) for v in texts):
        raise ValueError("a value is not valid Unicode (a lone surrogate)")
    if op in REGEX_OPS:
        for text in texts:
            compile_pattern(text)  # raises ValueError naming what RE2 refuses
    if op in ("matches_wildcard", "matches_wildcard_not") and not all(
            glob_fits(glob_pattern(text)) for text in texts):
        raise ValueError(f"a wildcard pattern is longer than the database matches: at most "
                         f"{GLOB_BYTES} bytes")
    if raw_name == "visit:city" and any(text.strip().isdigit() for text in texts):
        # Plausible's GeoNames ids: Cloudflare gives the collector city names only, so an id
        # would match nothing; say so rather than answer 0 (docs/api.md).
        raise ValueError("visit:city holds city names here, not GeoNames ids: filter on the "
                         "name, such as [\"is\", \"visit:city_name\", [\"Tallinn\"]]")
    return Condition(
        op=cast(FilterOp, op), dimension=dimension, values=texts, case_sensitive=case_sensitive,
        shown_as=raw_name if view_for(raw_name) is not None else "",
    )


def parse_filters(raw: Any, *, canonical: Callable[[str], str]) -> tuple[FilterNode, ...]:
    """Parse the wire form into nodes; ``canonical`` maps dimension names (or raises)."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise ValueError("expected a list of filters")
    if len(raw) > MAX_FILTER_LEAVES:
        raise ValueError(f"at most {MAX_FILTER_LEAVES} conditions")
    budget = _Budget()
    return tuple(
        _parse(item, at=str(i), depth=1, canonical=canonical, budget=budget)
        for i, item in enumerate(raw)
    )


def filter_leaves(nodes: tuple[FilterNode, ...]) -> list[Condition]:
    """Every condition in the tree, in order."""
    leaves: list[Condition] = []
    stack: list[FilterNode] = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if isinstance(node, Condition):
            leaves.append(node)
        elif isinstance(node, Negation | Behaviour):
            stack.append(node.child)
        else:
            stack.extend(reversed(node.children))
    return leaves


def filter_to_json(node: FilterNode) -> list[Any]:
    """The wire form of ``node``, with each dimension named as the client named it (a Plausible
    name keeps its meaning: Plausible's values)."""
    if isinstance(node, Condition):
        out: list[Any] = [node.op, node.shown_as or node.dimension, list(node.values)]
        if not node.case_sensitive:
            out.append({"case_sensitive": False})
        return out
    if isinstance(node, Negation):
        return ["not", filter_to_json(node.child)]
    if isinstance(node, Behaviour):
        return [node.op, filter_to_json(node.child)]
    return [node.op, [filter_to_json(child) for child in node.children]]
