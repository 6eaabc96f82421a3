"""Wildcard patterns as GLOB patterns that match literally apart from ``*``."""

from __future__ import annotations

__all__ = ["GLOB_BYTES", "glob_fits", "glob_pattern", "wildcard_tail"]

# D1 refuses a LIKE or GLOB pattern longer than this many bytes ("LIKE or GLOB pattern too
# complex"); SQLite's own default is 50,000.
GLOB_BYTES = 50


def glob_pattern(pattern: str) -> str:
    """Translate a wildcard pattern (``*`` = anything) into a GLOB pattern matching literally."""
    out = []
    for char in pattern:
        if char == "[":
            out.append("[[]")
        elif char == "?":
            out.append("[?]")
        else:
            out.append(char)
    return "".join(out)


def glob_fits(pattern: str) -> bool:
    """Whether ``pattern`` (a GLOB pattern) is short enough for D1."""
    return len(pattern.encode("utf-8", "surrogatepass")) <= GLOB_BYTES


def wildcard_tail(pattern: str) -> str:
    """The GLOB pattern of a page pattern (``*`` and ``**``) from its first ``*`` on, ``**`` as
    ``*``: the part matched as a GLOB, whose length D1 limits ('' without a ``*``)."""
    star = pattern.find("*")
    return "" if star < 0 else glob_pattern(pattern[star:].replace("**", "*"))
