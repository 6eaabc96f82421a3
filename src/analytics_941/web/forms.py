"""Reading ``application/x-www-form-urlencoded`` bodies without extra dependencies."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

__all__ = ["Form", "read_form"]


class Form:
    """A parsed form: ``get`` for one value, ``all`` for repeated fields, ``flag`` for boxes."""

    def __init__(self, data: dict[str, list[str]]) -> None:
        self._data = data

    def get(self, name: str, default: str = "") -> str:
        """The first value of ``name`` (stripped), or ``default``."""
        values = self._data.get(name)
        return values[0].strip() if values else default

    def all(self, name: str) -> list[str]:
        """Every value of ``name``."""
        return [v.strip() for v in self._data.get(name, [])]

    def flag(self, name: str) -> bool:
        """True when a checkbox ``name`` was ticked."""
        return name in self._data


async def read_form(request: Request) -> Form:
    """Parse the request body as a URL-encoded form (at most 64 KB)."""
    body = await request.body()
    return Form(parse_qs(body[:65536].decode("utf-8", "replace"), keep_blank_values=True))
