"""Regular expressions from API clients, run with RE2 (``google-re2``, BSD-3-Clause): linear time
in the text whatever the pattern, so no pattern can backtrack for ever. RE2's syntax is the one
Plausible documents for ``matches`` (no backreferences, no look-around); a pattern RE2 refuses is
the client's error, reported as such."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import re2  # type: ignore[import-untyped]

__all__ = ["MAX_PROGRAM_MEMORY", "compile_pattern"]

# RE2 caps the memory a compiled program and its DFA cache may take; a pattern past it is refused
# (at compile) or falls back to a slower but still linear matcher.
MAX_PROGRAM_MEMORY = 8 << 20


def compile_pattern(pattern: str, *, case_sensitive: bool = True) -> Callable[[str], bool]:
    """A test "does ``pattern`` occur in the text" (unanchored, as Plausible's ``matches``), or
    ``ValueError`` saying why RE2 refuses the pattern."""
    options: Any = re2.Options()
    options.case_sensitive = case_sensitive
    options.max_mem = MAX_PROGRAM_MEMORY
    options.log_errors = False
    try:
        compiled = re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"{pattern!r} is not a regular expression RE2 accepts: {reason}") from None

    def search(text: str) -> bool:
        return compiled.search(text) is not None

    return search
