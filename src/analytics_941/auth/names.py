"""Names people type: display names, passkey, API token and share-link names.

They end up in pages and in the CLI's tab-separated tables, where a tab, a line break or an ANSI
escape sequence would forge columns, rows or colours. So they are refused when they hold a
character that can move or rewrite what is shown (``unsafe_chars``: controls, line and
paragraph separators, lone surrogates, bidirectional controls).
"""

from __future__ import annotations

from ..unsafe_chars import unsafe_char
from .errors import AuthError

__all__ = ["check_name"]


def check_name(value: str, *, what: str, max_len: int, default: str) -> str:
    """``value`` stripped and cut to ``max_len`` (``default`` when empty); ``AuthError`` (400,
    ``invalid_name``) when it holds a control character."""
    if any(unsafe_char(char) for char in value.strip()):
        raise AuthError(
            code="invalid_name",
            message=f"{what} may not contain control characters (tabs, line breaks, "
                    "escape sequences or text-direction overrides).",
        )
    return value.strip()[:max_len] or default
