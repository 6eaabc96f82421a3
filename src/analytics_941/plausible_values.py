"""Plausible's values for Plausible's dimension names, mapped at the API's edge.

The collector stores what its parsers give (``desktop``, ``macOS``, a referrer's whole URL, a
country's ISO code); Plausible's Stats API answers ``Desktop``, ``Mac``, ``t.co/abc``,
``Germany``. Stored rows are left as they are: a query naming a dimension the Plausible way
(``visit:device``, ``visit:country_name``) shows its values Plausible's way in results and
matches its filter values against them, case-sensitively as Plausible does. Our own names
(``device``, ``country``) keep the stored values, as the dashboard uses them.

Each ``View`` maps a stored value to the shown one; ``stored_for`` inverts it where the map is a
table (so an ``is`` filter needs no look-up); other filters on a view are answered through the
values they match (``resolve``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

__all__ = ["VIEWS", "View", "present_result", "view_for"]

_DATA: dict[str, Any] = json.loads(
    files(__package__).joinpath("plausible_values.json").read_text("utf-8")
)
# ISO 3166-1 alpha-2 -> English name (CLDR, written by scripts/country_names.mjs).
_COUNTRIES: dict[str, str] = json.loads(
    files(__package__).joinpath("country_names.json").read_text("utf-8")
)
_DIRECT = "Direct / None"


@dataclass(frozen=True)
class View:
    """How one Plausible dimension shows stored values: ``table`` maps some stored values (any
    other reads as itself), or ``shown`` computes it (no inverse then)."""

    table: Mapping[str, str] | None = None
    shown: Callable[[str], str] | None = None

    def show(self, value: str) -> str:
        """The value as Plausible shows it."""
        if self.shown is not None:
            return self.shown(value)
        assert self.table is not None
        return self.table.get(value, value)

    def stored_for(self, value: str) -> set[str] | None:
        """Every stored value shown as ``value``; None when the view cannot be inverted."""
        if self.table is None:
            return None
        # Only what the table maps to it when it maps anything (one value keeps a lone ``is`` on
        # the rollups per filter value); else the value itself, as an unmapped stored value reads
        # as itself. A stored spelling the table maps (``mobile``) is not a Plausible value: no
        # rows, as Plausible (the dashboard's own filters use our names and stored values).
        found = {stored for stored, shown in self.table.items() if shown == value}
        return found or ({value} if value not in self.table else set())


def _referrer(value: str) -> str:
    """``https://www.t.co/abc/?x=1`` reads ``t.co/abc``: Plausible's referrer, without scheme,
    ``www.``, query or a trailing slash."""
    if value == _DIRECT or "://" not in value:
        return value
    parts = urlsplit(value)
    host = parts.hostname or ""
    host = host.removeprefix("www.")
    return (host + parts.path).rstrip("/") or value


VIEWS: dict[str, View] = {
    "visit:device": View(table=_DATA["device"]),
    "visit:os": View(table=_DATA["os"]),
    "visit:browser": View(table=_DATA["browser"]),
    "visit:os_version": View(table=_DATA["not_set"]),
    "visit:browser_version": View(table=_DATA["not_set"]),
    "visit:country_name": View(table=_COUNTRIES),
    "visit:referrer": View(shown=_referrer),
    **{f"visit:utm_{key}": View(table=_DATA["not_set"])
       for key in ("source", "medium", "campaign", "term", "content")},
}


def view_for(name: str) -> View | None:
    """The view of the dimension a client named ``name`` (None: values as stored)."""
    return VIEWS.get(name)


def present_result(result: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    """``result`` (the runner's, left untouched: it may be cached) with each row's dimension
    values shown as the client's dimension ``names`` show them."""
    views = [view_for(name) for name in names]
    if not any(views):
        return dict(result)

    def shown(values: list[Any]) -> list[Any]:
        return [
            view.show(value) if view is not None and isinstance(value, str) else value
            for view, value in zip(views, values, strict=False)
        ]

    rows = []
    for row in result["results"]:
        row = {**row, "dimensions": shown(row["dimensions"])}
        if "comparison" in row:
            row["comparison"] = {**row["comparison"],
                                 "dimensions": shown(row["comparison"]["dimensions"])}
        rows.append(row)
    return {**result, "results": rows}
