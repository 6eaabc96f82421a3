"""Wildcard patterns as GLOB patterns that match literally apart from ``*``."""

from __future__ import annotations

__all__ = ["glob_pattern"]


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
