"""Characters that must never be shown raw, wherever a visitor's or a user's text is shown.

- ``Cc`` (C0 and C1 controls, DEL): tabs, line breaks, ESC of ANSI sequences, carriage returns.
- ``Zl``/``Zp`` (U+2028, U+2029): line breaks in many editors and log viewers.
- ``Cs``: lone surrogates, which are not text at all (and break UTF-8 encoders).
- The bidirectional controls (U+061C, U+200E/F, U+202A-E, U+2066-9): they reorder what follows
  them on the line, so a value could make later columns read differently ("Trojan Source").

Other format characters (``Cf``) are fine: zero-width joiners and non-joiners are part of emoji
sequences and of names in Persian or Indic scripts, and tag characters of flag emoji. They are
invisible but cannot move or rewrite anything else on the line.

Names people type are refused when they hold one (``auth.names``), the CLI prints them as
escapes (``cli.cell``), pages show them as visible stand-ins (``visible``), and the Worker's mails
and alerts put a space in their place (``worker/src/unsafe-chars.ts``, generated from ``UNSAFE``).
"""

from __future__ import annotations

import re

__all__ = ["BIDI_CONTROLS", "UNSAFE", "unsafe_char", "visible"]

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# The categories above as one character class (tests/test_unsafe_chars.py checks it against
# unicodedata for every code point).
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
    + "".join(sorted(BIDI_CONTROLS)) + "]"
)
# In a page, tabs and line breaks are only white space.
_SHOWN_AS_SPACE = frozenset("\t\n\r")


def unsafe_char(char: str) -> bool:
    """True for a character that can forge or reorder what is shown (see the module docstring)."""
    return UNSAFE.fullmatch(char) is not None


def _stand_in(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHOWN_AS_SPACE:
        return char
    code = ord(char)
    # C0 controls and DEL have pictures of their own (U+2400-U+2421): ␛ for ESC.
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


def visible(text: str) -> str:
    """``text`` as a page shows it: each unsafe character (tabs and line breaks aside, which HTML
    shows as white space) as its control picture (C0, DEL) or U+FFFD."""
    return UNSAFE.sub(_stand_in, text)
