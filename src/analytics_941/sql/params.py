"""Bound parameters for one statement, numbered (``?1``, ``?2``…) and deduplicated.

Numbering lets the same value (the site id, a period bound) appear in several subqueries while
counting once against D1's 100-parameter limit.
"""

from __future__ import annotations

from ..exceptions import QueryError
from ..store import Param

__all__ = ["MAX_PARAMS", "Params"]

MAX_PARAMS = 100


class Params:
    """An ordered, deduplicated list of parameter values; ``ref`` returns the ``?N`` to use."""

    def __init__(self) -> None:
        self.values: list[Param] = []
        self._index: dict[tuple[type, Param], int] = {}

    def ref(self, value: Param) -> str:
        """Return the placeholder for ``value``, adding it on first use."""
        key = (type(value), value)
        if key not in self._index:
            self.values.append(value)
            self._index[key] = len(self.values)
        return f"?{self._index[key]}"

    def check(self) -> list[Param]:
        """Return the values, or raise ``QueryError`` past D1's limit."""
        if len(self.values) > MAX_PARAMS:
            raise QueryError(
                code="invalid_filters",
                message=f"filters: the query needs {len(self.values)} parameters, "
                f"D1 allows {MAX_PARAMS}",
            )
        return self.values
