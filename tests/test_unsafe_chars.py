"""The one description of characters never shown raw: its character class is exactly the
categories it names, and a page shows each as a stand-in."""

from __future__ import annotations

import sys
import unicodedata

from analytics_941.unsafe_chars import BIDI_CONTROLS, unsafe_char, visible


def test_the_class_is_exactly_the_named_categories() -> None:
    categories = {"Cc", "Cs", "Zl", "Zp"}
    wrong = [hex(code) for code in range(sys.maxunicode + 1)
             if unsafe_char(chr(code)) != (chr(code) in BIDI_CONTROLS
                                           or unicodedata.category(chr(code)) in categories)]
    assert wrong == []


def test_visible_stand_ins() -> None:
    assert visible("/a\x1b[31mb\x01\x7f") == "/a\u241b[31mb\u2401\u2421"
    assert visible("/\u202etxt.exe\u2028\ud800") == "/\ufffdtxt.exe\ufffd\ufffd"
    assert visible("tab\tand\nline") == "tab\tand\nline"
    plain = "/blog/\u00e9t\u00e9 \U0001f600 \u200d"
    assert visible(plain) is plain
