"""Names people type: display names, passkey, API token and share-link names.

They end up in pages (escaped by Jinja) and in the CLI's tab-separated tables, where a tab, a
line break or an ANSI escape sequence would forge columns, rows or colours. So they are refused
when they hold a character that can move or rewrite terminal output:

- ``Cc`` (C0 and C1 controls, DEL): tabs, line breaks, ESC of ANSI sequences, carriage returns.
- ``Zl``/``Zp`` (U+2028, U+2029): line breaks in many editors and log viewers.
- ``Cs``: lone surrogates, which are not text at all (and break UTF-8 encoders).
- The bidirectional controls (U+061C, U+200E/F, U+202A-E, U+2066-9): they reorder what follows
  them on the line, so a name could make later columns read differently ("Trojan Source").

Other format characters (``Cf``) stay allowed: zero-width joiners and non-joiners are part of
emoji sequences and of names in Persian or Indic scripts, and tag characters of flag emoji. They
are invisible but cannot move or rewrite anything else on the line.
"""

from __future__ import annotations

import unicodedata

from .errors import AuthError

__all__ = ["BIDI_CONTROLS", "check_name", "unsafe_char"]

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def unsafe_char(char: str) -> bool:
    """True for a character that can forge terminal output (see the module docstring)."""
    return char in BIDI_CONTROLS or unicodedata.category(char) in _UNSAFE_CATEGORIES


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
